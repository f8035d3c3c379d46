//! The scorecard's goals and purchases per day (schema v18).

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_analytics::scorecard::{DaySales, Goal, GoalSpec};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{Money, Timestamp};
use rapport_store::{GoalRecord, ScorecardStore, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row};

/// The goal columns in `record`'s order, then `$rest`: static SQL, as sqlx wants it.
macro_rules! goals_sql {
    ($rest:literal) => {
        concat!(
            "SELECT id, metric, target, period, owner, direction, at_risk_margin,
                    created_at, updated_at, created_by FROM scorecard_goals ",
            $rest
        )
    };
}

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("goal {id}"))
}

fn record(r: &Row<'_>) -> rusqlite::Result<StoreResult<GoalRecord>> {
    let spec = GoalSpec {
        metric: r.get(1)?,
        target: Some(r.get(2)?),
        period: Some(r.get(3)?),
        owner: r.get(4)?,
        direction: Some(r.get(5)?),
        at_risk_margin: Some(r.get(6)?),
    };
    let (id, created_at, updated_at, created_by) =
        (r.get(0)?, from_micros(r.get(7)?), from_micros(r.get(8)?), r.get(9)?);
    Ok(spec
        .check()
        .map(|goal| GoalRecord { id, goal, created_at, updated_at, created_by })
        .map_err(|e| StoreError::Invalid(format!("stored goal {id}: {e}"))))
}

fn one(c: &Connection, id: i64) -> StoreResult<GoalRecord> {
    let mut stmt = c.prepare_cached(goals_sql!("WHERE id = ?1")).map_err(db_err)?;
    stmt.query_row([id], record).optional().map_err(db_err)?.ok_or_else(|| missing(id))?
}

fn all(c: &Connection) -> StoreResult<Vec<GoalRecord>> {
    let mut stmt = c.prepare_cached(goals_sql!("ORDER BY id")).map_err(db_err)?;
    let rows = stmt.query_map([], record).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)?).collect()
}

fn sales(c: &Connection) -> StoreResult<Vec<DaySales>> {
    // `day` is the UTC day the store computed at ingest; summing per day in SQL leaves a few
    // thousand rows for Rust to bucket into months or quarters.
    let mut stmt = c
        .prepare_cached(
            "SELECT day, COUNT(*), SUM(total_e4) FROM orders
              WHERE status = 'purchase' GROUP BY day ORDER BY day",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(DaySales {
                day: r.get(0)?,
                orders: r.get::<_, i64>(1)? as u64,
                revenue: Money::from_e4(r.get(2)?),
            })
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

#[async_trait]
impl ScorecardStore for SqliteStore {
    async fn goals(&self) -> StoreResult<Vec<GoalRecord>> {
        self.read(all).await
    }

    async fn goal(&self, id: i64) -> StoreResult<GoalRecord> {
        self.read(move |c| one(c, id)).await
    }

    async fn create_goal(
        &self,
        goal: &Goal,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<GoalRecord> {
        let (g, by) = (goal.clone(), by.map(str::to_string));
        self.write(false, move |tx| {
            tx.execute(
                "INSERT INTO scorecard_goals (metric, target, period, owner, direction,
                        at_risk_margin, created_at, updated_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
                (
                    g.metric.name(),
                    g.target,
                    g.period.name(),
                    &g.owner,
                    g.direction.name(),
                    g.at_risk_margin,
                    to_micros(at),
                    &by,
                ),
            )
            .map_err(db_err)?;
            one(tx, tx.last_insert_rowid())
        })
        .await
    }

    async fn update_goal(&self, id: i64, goal: &Goal, at: Timestamp) -> StoreResult<GoalRecord> {
        let g = goal.clone();
        self.write(false, move |tx| {
            let n = tx
                .execute(
                    "UPDATE scorecard_goals SET metric = ?2, target = ?3, period = ?4, owner = ?5,
                            direction = ?6, at_risk_margin = ?7, updated_at = ?8 WHERE id = ?1",
                    (
                        id,
                        g.metric.name(),
                        g.target,
                        g.period.name(),
                        &g.owner,
                        g.direction.name(),
                        g.at_risk_margin,
                        to_micros(at),
                    ),
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(missing(id));
            }
            one(tx, id)
        })
        .await
    }

    async fn delete_goal(&self, id: i64) -> StoreResult<()> {
        self.write(false, move |tx| {
            match tx.execute("DELETE FROM scorecard_goals WHERE id = ?1", [id]).map_err(db_err)? {
                0 => Err(missing(id)),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn sales_by_day(&self) -> StoreResult<Vec<DaySales>> {
        self.read(sales).await
    }
}

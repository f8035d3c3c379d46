//! The scorecard's goals and purchases per day (schema v18): the [`ScorecardStore`] of
//! [`PgStore`]. Goals touch no summary, so writes do not take the writer lock.

use crate::{PgStore, db_err, get};
use async_trait::async_trait;
use rapport_analytics::scorecard::{DaySales, Goal, GoalSpec};
use rapport_core::{Money, Timestamp};
use rapport_store::{GoalRecord, ScorecardStore, StoreError, StoreResult};
use sqlx::postgres::PgRow;

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

fn record(r: &PgRow) -> StoreResult<GoalRecord> {
    let id: i64 = get(r, 0)?;
    let spec = GoalSpec {
        metric: get(r, 1)?,
        target: Some(get(r, 2)?),
        period: Some(get(r, 3)?),
        owner: get(r, 4)?,
        direction: Some(get(r, 5)?),
        at_risk_margin: Some(get(r, 6)?),
    };
    let goal = spec.check().map_err(|e| StoreError::Invalid(format!("stored goal {id}: {e}")))?;
    Ok(GoalRecord {
        id,
        goal,
        created_at: get(r, 7)?,
        updated_at: get(r, 8)?,
        created_by: get(r, 9)?,
    })
}

/// The checked owner cannot hold a control character; who created it is checked here, as
/// PostgreSQL text cannot hold NUL.
fn nul_free(by: Option<&str>) -> StoreResult<()> {
    match by {
        Some(b) if b.contains('\0') => {
            Err(StoreError::Invalid("a NUL character in created_by".into()))
        }
        _ => Ok(()),
    }
}

impl PgStore {
    async fn goal_row(&self, id: i64) -> StoreResult<GoalRecord> {
        let row = sqlx::query(goals_sql!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        record(&row.ok_or_else(|| missing(id))?)
    }
}

#[async_trait]
impl ScorecardStore for PgStore {
    async fn goals(&self) -> StoreResult<Vec<GoalRecord>> {
        let rows =
            sqlx::query(goals_sql!("ORDER BY id")).fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(record).collect()
    }

    async fn goal(&self, id: i64) -> StoreResult<GoalRecord> {
        self.goal_row(id).await
    }

    async fn create_goal(
        &self,
        goal: &Goal,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<GoalRecord> {
        nul_free(by)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO scorecard_goals (metric, target, period, owner, direction,
                    at_risk_margin, created_at, updated_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
        )
        .bind(goal.metric.name())
        .bind(goal.target)
        .bind(goal.period.name())
        .bind(&goal.owner)
        .bind(goal.direction.name())
        .bind(goal.at_risk_margin)
        .bind(at)
        .bind(by)
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        self.goal_row(id).await
    }

    async fn update_goal(&self, id: i64, goal: &Goal, at: Timestamp) -> StoreResult<GoalRecord> {
        let done = sqlx::query(
            "UPDATE scorecard_goals SET metric = $2, target = $3, period = $4, owner = $5,
                    direction = $6, at_risk_margin = $7, updated_at = $8 WHERE id = $1",
        )
        .bind(id)
        .bind(goal.metric.name())
        .bind(goal.target)
        .bind(goal.period.name())
        .bind(&goal.owner)
        .bind(goal.direction.name())
        .bind(goal.at_risk_margin)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(missing(id));
        }
        self.goal_row(id).await
    }

    async fn delete_goal(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM scorecard_goals WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db_err)?;
        match done.rows_affected() {
            0 => Err(missing(id)),
            _ => Ok(()),
        }
    }

    async fn sales_by_day(&self) -> StoreResult<Vec<DaySales>> {
        // `day` is the UTC day the store computed at ingest; summing per day in SQL leaves a
        // few thousand rows for Rust to bucket into months or quarters.
        let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT day, COUNT(*), SUM(total_e4)::BIGINT FROM orders
              WHERE status = 'purchase' GROUP BY day ORDER BY day",
        )
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let days = rows.into_iter().map(|(day, orders, e4)| DaySales {
            day,
            orders: orders as u64,
            revenue: Money::from_e4(e4),
        });
        Ok(days.collect())
    }
}

//! Journey definitions and the reads of their computation (schema v14).

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_analytics::journey::{JourneySpec, StageDef};
use rapport_core::Timestamp;
use rapport_core::value::{from_micros, to_micros};
use rapport_store::{
    CustomerTime, JourneyRecord, JourneyStore, NegativeFeedback, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row};

const RECORD: &str = "SELECT id, name, description, stages, segment, created_at, updated_at,
       created_by FROM journeys";

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("journey {id}"))
}

fn stages_json(spec: &JourneySpec) -> StoreResult<String> {
    serde_json::to_string(&spec.stages).map_err(StoreError::other)
}

fn record(r: &Row<'_>) -> rusqlite::Result<JourneyRecord> {
    let stages: String = r.get(3)?;
    let stages: Vec<StageDef> = serde_json::from_str(&stages).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(JourneyRecord {
        id: r.get(0)?,
        spec: JourneySpec { name: r.get(1)?, description: r.get(2)?, stages, segment: r.get(4)? },
        created_at: from_micros(r.get(5)?),
        updated_at: from_micros(r.get(6)?),
        created_by: r.get(7)?,
    })
}

fn one(c: &Connection, id: i64) -> StoreResult<JourneyRecord> {
    let mut stmt = c.prepare_cached(&format!("{RECORD} WHERE id = ?1")).map_err(db_err)?;
    stmt.query_row([id], record).optional().map_err(db_err)?.ok_or_else(|| missing(id))
}

/// (customer, time) rows of a query, in its order.
fn times(c: &Connection, sql: &str, name: Option<&str>) -> StoreResult<Vec<CustomerTime>> {
    let mut stmt = c.prepare_cached(sql).map_err(db_err)?;
    let map = |r: &Row<'_>| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?));
    let rows = match name {
        Some(n) => stmt.query_map([n], map),
        None => stmt.query_map([], map),
    }
    .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

fn negative(c: &Connection, below: f64) -> StoreResult<Vec<NegativeFeedback>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT f.customer_id, f.created_at, f.text, f.sentiment_e4, t.label
               FROM feedback f LEFT JOIN themes t ON t.id = f.theme
              WHERE f.sentiment_e4 < ?1 AND f.text IS NOT NULL AND f.duplicate_of IS NULL
              ORDER BY f.created_at, f.id",
        )
        .map_err(db_err)?;
    let threshold = (below * 10_000.0).ceil() as i64;
    let rows = stmt
        .query_map([threshold], |r| {
            Ok(NegativeFeedback {
                customer: r.get(0)?,
                at: from_micros(r.get(1)?),
                text: r.get(2)?,
                sentiment: r.get::<_, i64>(3)? as f64 / 10_000.0,
                theme: r.get(4)?,
            })
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

#[async_trait]
impl JourneyStore for SqliteStore {
    async fn create_journey(
        &self,
        spec: &JourneySpec,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<JourneyRecord> {
        let (spec, by, stages) = (spec.clone(), by.map(str::to_string), stages_json(spec)?);
        self.write(false, move |tx| {
            tx.execute(
                "INSERT INTO journeys (name, description, stages, segment, created_at, updated_at,
                                       created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                (&spec.name, &spec.description, &stages, &spec.segment, to_micros(at), &by),
            )
            .map_err(db_err)?;
            one(tx, tx.last_insert_rowid())
        })
        .await
    }

    async fn journeys(&self) -> StoreResult<Vec<JourneyRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!("{RECORD} ORDER BY id")).map_err(db_err)?;
            let rows = stmt.query_map([], record).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn journey(&self, id: i64) -> StoreResult<JourneyRecord> {
        self.read(move |c| one(c, id)).await
    }

    async fn update_journey(
        &self,
        id: i64,
        spec: &JourneySpec,
        at: Timestamp,
    ) -> StoreResult<JourneyRecord> {
        let (spec, stages) = (spec.clone(), stages_json(spec)?);
        self.write(false, move |tx| {
            let n = tx
                .execute(
                    "UPDATE journeys SET name = ?2, description = ?3, stages = ?4, segment = ?5,
                            updated_at = ?6 WHERE id = ?1",
                    (id, &spec.name, &spec.description, &stages, &spec.segment, to_micros(at)),
                )
                .map_err(db_err)?;
            if n == 0 {
                return Err(missing(id));
            }
            one(tx, id)
        })
        .await
    }

    async fn delete_journey(&self, id: i64) -> StoreResult<()> {
        self.write(false, move |tx| {
            match tx.execute("DELETE FROM journeys WHERE id = ?1", [id]).map_err(db_err)? {
                0 => Err(missing(id)),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn stage_event_times(&self, name: &str) -> StoreResult<Vec<CustomerTime>> {
        let name = name.to_string();
        self.read(move |c| {
            let sql = "SELECT customer_id, at FROM events INDEXED BY events_name_customer
                        WHERE name = ?1 ORDER BY customer_id, at";
            times(c, sql, Some(&name))
        })
        .await
    }

    async fn purchase_times(&self) -> StoreResult<Vec<CustomerTime>> {
        self.read(|c| {
            let sql = "SELECT customer_id, placed_at FROM orders INDEXED BY orders_purchase_times
                        WHERE status = 'purchase' ORDER BY customer_id, placed_at";
            times(c, sql, None)
        })
        .await
    }

    async fn negative_feedback(&self, below: f64) -> StoreResult<Vec<NegativeFeedback>> {
        self.read(move |c| negative(c, below)).await
    }
}

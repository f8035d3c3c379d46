//! Journey definitions and the reads of their computation (schema v14): the [`JourneyStore`]
//! of [`PgStore`]. Definitions touch no summary, so writes do not take the writer lock.

use crate::{PgStore, db_err, get};
use async_trait::async_trait;
use rapport_analytics::journey::JourneySpec;
use rapport_core::Timestamp;
use rapport_core::value::to_micros;
use rapport_store::{
    CustomerTime, JourneyRecord, JourneyStore, NegativeFeedback, StoreError, StoreResult,
};
use sqlx::postgres::PgRow;

const RECORD: &str = "SELECT id, name, description, stages, segment, created_at, updated_at,
       created_by FROM journeys";

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("journey {id}"))
}

/// The stages as JSON, after checking that no text PostgreSQL cannot hold (NUL) is stored.
fn stages_json(spec: &JourneySpec, by: Option<&str>) -> StoreResult<String> {
    let texts = [Some(spec.name.as_str()), Some(&spec.description), spec.segment.as_deref(), by];
    if texts.into_iter().flatten().any(|t| t.contains('\0')) {
        return Err(StoreError::Invalid("a journey's text contains a NUL character".into()));
    }
    serde_json::to_string(&spec.stages).map_err(StoreError::other)
}

fn record(r: &PgRow) -> StoreResult<JourneyRecord> {
    let stages: String = get(r, 3)?;
    let stages = serde_json::from_str(&stages)
        .map_err(|e| StoreError::Invalid(format!("stored journey stages: {e}")))?;
    Ok(JourneyRecord {
        id: get(r, 0)?,
        spec: JourneySpec {
            name: get(r, 1)?,
            description: get(r, 2)?,
            stages,
            segment: get(r, 4)?,
        },
        created_at: get(r, 5)?,
        updated_at: get(r, 6)?,
        created_by: get(r, 7)?,
    })
}

impl PgStore {
    async fn journey_row(&self, id: i64) -> StoreResult<JourneyRecord> {
        let sql = format!("{RECORD} WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db_err)?;
        record(&row.ok_or_else(|| missing(id))?)
    }

    async fn times(&self, sql: &'static str, name: Option<&str>) -> StoreResult<Vec<CustomerTime>> {
        let rows: Vec<(i64, Timestamp)> =
            sqlx::query_as(sql).bind(name).fetch_all(self.pool()).await.map_err(db_err)?;
        Ok(rows.into_iter().map(|(c, at)| (c, to_micros(at))).collect())
    }
}

#[async_trait]
impl JourneyStore for PgStore {
    async fn create_journey(
        &self,
        spec: &JourneySpec,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<JourneyRecord> {
        let stages = stages_json(spec, by)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO journeys (name, description, stages, segment, created_at, updated_at,
                                   created_by) VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id",
        )
        .bind(&spec.name)
        .bind(&spec.description)
        .bind(stages)
        .bind(&spec.segment)
        .bind(at)
        .bind(by)
        .fetch_one(self.pool())
        .await
        .map_err(db_err)?;
        self.journey_row(id).await
    }

    async fn journeys(&self) -> StoreResult<Vec<JourneyRecord>> {
        let sql = format!("{RECORD} ORDER BY id");
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(self.pool()).await.map_err(db_err)?;
        rows.iter().map(record).collect()
    }

    async fn journey(&self, id: i64) -> StoreResult<JourneyRecord> {
        self.journey_row(id).await
    }

    async fn update_journey(
        &self,
        id: i64,
        spec: &JourneySpec,
        at: Timestamp,
    ) -> StoreResult<JourneyRecord> {
        let stages = stages_json(spec, None)?;
        let done = sqlx::query(
            "UPDATE journeys SET name = $2, description = $3, stages = $4, segment = $5,
                    updated_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(&spec.name)
        .bind(&spec.description)
        .bind(stages)
        .bind(&spec.segment)
        .bind(at)
        .execute(self.pool())
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(missing(id));
        }
        self.journey_row(id).await
    }

    async fn delete_journey(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM journeys WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db_err)?;
        match done.rows_affected() {
            0 => Err(missing(id)),
            _ => Ok(()),
        }
    }

    async fn stage_event_times(&self, name: &str) -> StoreResult<Vec<CustomerTime>> {
        let sql = "SELECT customer_id, at FROM events WHERE name = $1 ORDER BY customer_id, at";
        self.times(sql, Some(name)).await
    }

    async fn purchase_times(&self) -> StoreResult<Vec<CustomerTime>> {
        // `$1` is unused (always NULL): one helper binds the same way for both reads.
        let sql = "SELECT customer_id, placed_at FROM orders
                    WHERE status = 'purchase' AND $1::text IS NULL ORDER BY customer_id, placed_at";
        self.times(sql, None).await
    }

    async fn negative_feedback(&self, below: f64) -> StoreResult<Vec<NegativeFeedback>> {
        let threshold = (below * 10_000.0).ceil() as i32;
        let rows: Vec<(i64, Timestamp, String, i32, Option<String>)> = sqlx::query_as(
            "SELECT f.customer_id, f.created_at, f.text, f.sentiment_e4, t.label
               FROM feedback f LEFT JOIN themes t ON t.id = f.theme
              WHERE f.sentiment_e4 < $1 AND f.text IS NOT NULL AND f.duplicate_of IS NULL
              ORDER BY f.created_at, f.id",
        )
        .bind(threshold)
        .fetch_all(self.pool())
        .await
        .map_err(db_err)?;
        let out = rows.into_iter().map(|(customer, at, text, s, theme)| NegativeFeedback {
            customer,
            at,
            text,
            sentiment: f64::from(s) / 10_000.0,
            theme,
        });
        Ok(out.collect())
    }
}

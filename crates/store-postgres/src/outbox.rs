//! The outbox (schema v10). A claim is one `UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP
//! LOCKED)`: concurrent workers each take a different row and never wait on each other.
//! Claims and status changes write without the writer lock (they touch no summaries); marking
//! a message sent writes an interaction, so it takes the lock like any batch.

use crate::read::parse;
use crate::{PgStore, activity, db_err, ext_id, finish, get, nul_check};
use async_trait::async_trait;
use rapport_core::{FieldError, Timestamp};
use rapport_store::{
    ABANDONED, IngestOptions, NewMessage, OutboxChannel, OutboxCounts, OutboxMessage, OutboxQuery,
    OutboxStatus, OutboxStore, RowOutcome, StoreError, StoreResult, Unsent,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

const COLUMNS: &str = "o.id, o.dedupe_key, c.external_id, o.channel, o.recipient, o.source,
    o.subject, o.body, o.html, o.topic, o.status, o.attempts, o.next_attempt_at, o.claimed_at,
    o.sent_at, o.last_error, o.created_at";

fn message_from_row(r: &PgRow) -> StoreResult<OutboxMessage> {
    Ok(OutboxMessage {
        id: get(r, 0)?,
        dedupe_key: get(r, 1)?,
        customer: ext_id(get(r, 2)?)?,
        channel: parse(r, 3, OutboxChannel::parse, "outbox channel")?,
        recipient: get(r, 4)?,
        source: get(r, 5)?,
        subject: get(r, 6)?,
        body: get(r, 7)?,
        html: get(r, 8)?,
        topic: get(r, 9)?,
        status: parse(r, 10, OutboxStatus::parse, "outbox status")?,
        attempts: get(r, 11)?,
        next_attempt_at: get(r, 12)?,
        claimed_at: get(r, 13)?,
        sent_at: get(r, 14)?,
        last_error: get(r, 15)?,
        created_at: get(r, 16)?,
    })
}

pub(crate) fn invalid(m: &NewMessage) -> Option<FieldError> {
    m.invalid_field().or_else(|| {
        nul_check([
            ("dedupe_key", Some(m.dedupe_key.as_str())),
            ("recipient", Some(m.recipient.as_str())),
            ("source", m.source.as_deref()),
            ("subject", Some(m.subject.as_str())),
            ("body", Some(m.body.as_str())),
            ("html", m.html.as_deref()),
            ("topic", Some(m.topic.as_str())),
        ])
    })
}

async fn enqueue_one(
    c: &mut PgConnection,
    m: &NewMessage,
    now: Timestamp,
) -> StoreResult<RowOutcome> {
    if let Some(e) = invalid(m) {
        return Ok(RowOutcome::Rejected(e));
    }
    let inserted = sqlx::query(
        "INSERT INTO outbox (dedupe_key, customer_id, channel, recipient, source, subject,
                             body, html, topic, next_attempt_at, created_at)
         SELECT $1, c.id, $3, $4, $5, $6, $7, $8, $9, $10, $10
           FROM customers c WHERE c.external_id = $2
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&m.dedupe_key)
    .bind(m.customer.as_str())
    .bind(m.channel.as_str())
    .bind(m.recipient.trim())
    .bind(m.source.as_deref())
    .bind(&m.subject)
    .bind(&m.body)
    .bind(m.html.as_deref())
    .bind(&m.topic)
    .bind(now)
    .execute(&mut *c)
    .await
    .map_err(db_err)?
    .rows_affected();
    if inserted == 1 {
        return Ok(RowOutcome::Inserted);
    }
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM outbox WHERE dedupe_key = $1)")
            .bind(&m.dedupe_key)
            .fetch_one(&mut *c)
            .await
            .map_err(db_err)?;
    Ok(match exists {
        true => RowOutcome::Unchanged,
        false => RowOutcome::Rejected(FieldError::new(
            "customer",
            format!("no customer '{}'", m.customer),
        )),
    })
}

async fn one(c: &mut PgConnection, id: i64, lock: bool) -> StoreResult<OutboxMessage> {
    let lock = if lock { " FOR UPDATE OF o" } else { "" };
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox o JOIN customers c ON c.id = o.customer_id WHERE o.id = $1{lock}"
    );
    let row =
        sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *c).await.map_err(db_err)?;
    row.as_ref()
        .map(message_from_row)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("outbox message {id}")))
}

/// The message, locked, which must be `sending` (claimed): anything else is a `Conflict`.
async fn sending(c: &mut PgConnection, id: i64) -> StoreResult<OutboxMessage> {
    let m = one(c, id, true).await?;
    if m.status != OutboxStatus::Sending {
        return Err(StoreError::Conflict(format!(
            "outbox message {id} is {}, not sending",
            m.status
        )));
    }
    Ok(m)
}

#[async_trait]
impl OutboxStore for PgStore {
    async fn enqueue(
        &self,
        messages: Vec<NewMessage>,
        now: Timestamp,
    ) -> StoreResult<Vec<RowOutcome>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut out = Vec::with_capacity(messages.len());
        for m in &messages {
            out.push(enqueue_one(&mut tx, m, now).await?);
        }
        finish(tx, false).await?;
        Ok(out)
    }

    async fn claim_next(&self, now: Timestamp) -> StoreResult<Option<OutboxMessage>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = $1
              WHERE id = (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $1
                           ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let out = match id {
            Some(id) => Some(one(&mut tx, id, false).await?),
            None => None,
        };
        finish(tx, false).await?;
        Ok(out)
    }

    async fn mark_sent(&self, id: i64, at: Timestamp) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let m = sending(&mut tx, id).await?;
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $2, last_error = NULL WHERE id = $1",
        )
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let it = m.sent_interaction(at);
        let outcome = activity::interactions(&mut tx, &[it], &IngestOptions::default()).await?;
        if let Some(RowOutcome::Rejected(e)) = outcome.into_iter().next() {
            return Err(StoreError::Invalid(e.to_string()));
        }
        finish(tx, false).await
    }

    async fn mark_unsent(&self, id: i64, how: Unsent) -> StoreResult<OutboxStatus> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sending(&mut tx, id).await?;
        let (status, next, error) = match &how {
            Unsent::RetryAt(at, e) => (OutboxStatus::Queued, Some(*at), e),
            Unsent::Failed(e) => (OutboxStatus::Failed, None, e),
            Unsent::Unknown(e) => (OutboxStatus::Unknown, None, e),
        };
        sqlx::query(
            "UPDATE outbox SET status = $2, next_attempt_at = COALESCE($3, next_attempt_at),
                    last_error = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(status.as_str())
        .bind(next)
        .bind(error.replace('\0', ""))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        finish(tx, false).await?;
        Ok(status)
    }

    async fn recover_abandoned(&self, claimed_before: Timestamp) -> StoreResult<u64> {
        let r = sqlx::query(
            "UPDATE outbox SET status = 'unknown', last_error = $2
              WHERE status = 'sending' AND claimed_at < $1",
        )
        .bind(claimed_before)
        .bind(ABANDONED)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(r.rows_affected())
    }

    async fn requeue(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let m = one(&mut tx, id, true).await?;
        if !matches!(m.status, OutboxStatus::Unknown | OutboxStatus::Failed) {
            return Err(StoreError::Conflict(format!(
                "outbox message {id} is {}; only unknown or failed messages can be requeued",
                m.status
            )));
        }
        sqlx::query("UPDATE outbox SET status = 'queued', next_attempt_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        finish(tx, false).await
    }

    async fn outbox_counts(&self, topic: Option<&str>) -> StoreResult<OutboxCounts> {
        let rows = sqlx::query(
            "SELECT status, COUNT(*) FROM outbox WHERE $1::text IS NULL OR topic = $1
              GROUP BY status",
        )
        .bind(topic)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out = OutboxCounts::default();
        for r in &rows {
            out.add(parse(r, 0, OutboxStatus::parse, "outbox status")?, get(r, 1)?);
        }
        Ok(out)
    }

    async fn outbox_messages(&self, q: &OutboxQuery) -> StoreResult<Vec<OutboxMessage>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM outbox o JOIN customers c ON c.id = o.customer_id
              WHERE ($1::text IS NULL OR o.topic = $1) AND ($2::text IS NULL OR o.status = $2)
              ORDER BY o.id DESC LIMIT $3"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(q.topic.as_deref())
            .bind(q.status.map(|s| s.as_str()))
            .bind(q.limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(message_from_row).collect()
    }
}

//! The outbox (schema v10). SQLite has one writer, so a claim (select the oldest due row,
//! mark it `sending`) in one write transaction is atomic against every other worker.

use crate::{SqliteStore, activity, db_err};
use async_trait::async_trait;
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, FieldError, Timestamp};
use rapport_store::{
    ABANDONED, IngestOptions, NewMessage, OutboxChannel, OutboxCounts, OutboxMessage, OutboxQuery,
    OutboxStatus, OutboxStore, RowOutcome, StoreError, StoreResult, Unsent,
};
use rusqlite::{Connection, OptionalExtension, Transaction};

const COLUMNS: &str = "o.id, o.dedupe_key, c.external_id, o.channel, o.recipient, o.source,
    o.subject, o.body, o.html, o.topic, o.status, o.attempts, o.next_attempt_at, o.claimed_at,
    o.sent_at, o.last_error, o.created_at";

fn stored(what: &str, reason: String) -> StoreError {
    StoreError::Invalid(format!("stored {what}: {reason}"))
}

fn message_from_row(r: &rusqlite::Row<'_>) -> StoreResult<OutboxMessage> {
    let get_err = |e| db_err(e);
    let text = |i| r.get::<_, String>(i).map_err(get_err);
    Ok(OutboxMessage {
        id: r.get(0).map_err(db_err)?,
        dedupe_key: text(1)?,
        customer: ExternalId::parse(&text(2)?).map_err(|e| stored("external id", e))?,
        channel: OutboxChannel::parse(&text(3)?).map_err(|e| stored("channel", e))?,
        recipient: text(4)?,
        source: r.get(5).map_err(db_err)?,
        subject: text(6)?,
        body: text(7)?,
        html: r.get(8).map_err(db_err)?,
        topic: text(9)?,
        status: OutboxStatus::parse(&text(10)?).map_err(|e| stored("status", e))?,
        attempts: r.get(11).map_err(db_err)?,
        next_attempt_at: from_micros(r.get(12).map_err(db_err)?),
        claimed_at: r.get::<_, Option<i64>>(13).map_err(db_err)?.map(from_micros),
        sent_at: r.get::<_, Option<i64>>(14).map_err(db_err)?.map(from_micros),
        last_error: r.get(15).map_err(db_err)?,
        created_at: from_micros(r.get(16).map_err(db_err)?),
    })
}

pub(crate) fn enqueue(
    tx: &Transaction<'_>,
    msgs: &[NewMessage],
    now: i64,
) -> StoreResult<Vec<RowOutcome>> {
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO outbox (dedupe_key, customer_id, channel, recipient, source, subject,
                                 body, html, topic, next_attempt_at, created_at)
             SELECT ?1, c.id, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10
               FROM customers c WHERE c.external_id = ?2
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .map_err(db_err)?;
    let mut exists =
        tx.prepare_cached("SELECT 1 FROM outbox WHERE dedupe_key = ?1").map_err(db_err)?;
    let mut out = Vec::with_capacity(msgs.len());
    for m in msgs {
        if let Some(e) = m.invalid_field() {
            out.push(RowOutcome::Rejected(e));
            continue;
        }
        let params = (
            &m.dedupe_key,
            m.customer.as_str(),
            m.channel.as_str(),
            m.recipient.trim(),
            m.source.as_deref(),
            &m.subject,
            &m.body,
            m.html.as_deref(),
            &m.topic,
            now,
        );
        out.push(if insert.execute(params).map_err(db_err)? == 1 {
            RowOutcome::Inserted
        } else if exists.exists([&m.dedupe_key]).map_err(db_err)? {
            RowOutcome::Unchanged
        } else {
            RowOutcome::Rejected(FieldError::new(
                "customer",
                format!("no customer '{}'", m.customer),
            ))
        });
    }
    Ok(out)
}

fn one(c: &Connection, id: i64) -> StoreResult<Option<OutboxMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox o JOIN customers c ON c.id = o.customer_id WHERE o.id = ?1"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let mut rows = stmt.query([id]).map_err(db_err)?;
    rows.next().map_err(db_err)?.map(message_from_row).transpose()
}

fn claim_next(tx: &Transaction<'_>, now: i64) -> StoreResult<Option<OutboxMessage>> {
    let id: Option<i64> = tx
        .prepare_cached(
            "SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1
              ORDER BY next_attempt_at, id LIMIT 1",
        )
        .map_err(db_err)?
        .query_row([now], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    let Some(id) = id else { return Ok(None) };
    tx.prepare_cached(
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = ?2
          WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute((id, now))
    .map_err(db_err)?;
    one(tx, id)
}

/// The message, which must be `sending` (claimed): anything else is a `Conflict`.
fn sending(tx: &Transaction<'_>, id: i64) -> StoreResult<OutboxMessage> {
    let m = one(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("outbox message {id}")))?;
    if m.status != OutboxStatus::Sending {
        return Err(StoreError::Conflict(format!(
            "outbox message {id} is {}, not sending",
            m.status
        )));
    }
    Ok(m)
}

fn mark_sent(tx: &Transaction<'_>, id: i64, at: Timestamp) -> StoreResult<()> {
    let m = sending(tx, id)?;
    tx.prepare_cached(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute((id, to_micros(at)))
    .map_err(db_err)?;
    let it = m.sent_interaction(at);
    match activity::interactions(tx, &[it], &IngestOptions::default())?.pop() {
        Some(RowOutcome::Rejected(e)) => Err(StoreError::Invalid(e.to_string())),
        _ => Ok(()),
    }
}

fn mark_unsent(tx: &Transaction<'_>, id: i64, how: &Unsent) -> StoreResult<OutboxStatus> {
    sending(tx, id)?;
    let (status, next, error) = match how {
        Unsent::RetryAt(at, e) => (OutboxStatus::Queued, Some(to_micros(*at)), e),
        Unsent::Failed(e) => (OutboxStatus::Failed, None, e),
        Unsent::Unknown(e) => (OutboxStatus::Unknown, None, e),
    };
    tx.prepare_cached(
        "UPDATE outbox SET status = ?2, next_attempt_at = COALESCE(?3, next_attempt_at),
                last_error = ?4 WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute((id, status.as_str(), next, error))
    .map_err(db_err)?;
    Ok(status)
}

fn recover(tx: &Transaction<'_>, before: i64) -> StoreResult<u64> {
    let n = tx
        .prepare_cached(
            "UPDATE outbox SET status = 'unknown', last_error = ?2
              WHERE status = 'sending' AND claimed_at < ?1",
        )
        .map_err(db_err)?
        .execute((before, ABANDONED))
        .map_err(db_err)?;
    Ok(n as u64)
}

fn requeue(tx: &Transaction<'_>, id: i64, now: i64) -> StoreResult<()> {
    let status: Option<String> = tx
        .query_row("SELECT status FROM outbox WHERE id = ?1", [id], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    match status.as_deref() {
        None => Err(StoreError::NotFound(format!("outbox message {id}"))),
        Some("unknown" | "failed") => {
            tx.execute(
                "UPDATE outbox SET status = 'queued', next_attempt_at = ?2 WHERE id = ?1",
                (id, now),
            )
            .map_err(db_err)?;
            Ok(())
        }
        Some(s) => Err(StoreError::Conflict(format!(
            "outbox message {id} is {s}; only unknown or failed messages can be requeued"
        ))),
    }
}

fn counts(c: &Connection, topic: Option<&str>) -> StoreResult<OutboxCounts> {
    let mut stmt = c
        .prepare_cached(
            "SELECT status, COUNT(*) FROM outbox WHERE ?1 IS NULL OR topic = ?1 GROUP BY status",
        )
        .map_err(db_err)?;
    let mut rows = stmt.query([topic]).map_err(db_err)?;
    let mut out = OutboxCounts::default();
    while let Some(r) = rows.next().map_err(db_err)? {
        let status: String = r.get(0).map_err(db_err)?;
        let status = OutboxStatus::parse(&status).map_err(|e| stored("status", e))?;
        out.add(status, r.get(1).map_err(db_err)?);
    }
    Ok(out)
}

fn messages(c: &Connection, q: &OutboxQuery) -> StoreResult<Vec<OutboxMessage>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM outbox o JOIN customers c ON c.id = o.customer_id
          WHERE (?1 IS NULL OR o.topic = ?1) AND (?2 IS NULL OR o.status = ?2)
          ORDER BY o.id DESC LIMIT ?3"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let status = q.status.map(|s| s.as_str());
    let mut rows = stmt.query((q.topic.as_deref(), status, q.limit as i64)).map_err(db_err)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(db_err)? {
        out.push(message_from_row(r)?);
    }
    Ok(out)
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn enqueue(
        &self,
        messages: Vec<NewMessage>,
        now: Timestamp,
    ) -> StoreResult<Vec<RowOutcome>> {
        self.write(false, move |tx| enqueue(tx, &messages, to_micros(now))).await
    }

    async fn claim_next(&self, now: Timestamp) -> StoreResult<Option<OutboxMessage>> {
        self.write(false, move |tx| claim_next(tx, to_micros(now))).await
    }

    async fn mark_sent(&self, id: i64, at: Timestamp) -> StoreResult<()> {
        self.write(false, move |tx| mark_sent(tx, id, at)).await
    }

    async fn mark_unsent(&self, id: i64, how: Unsent) -> StoreResult<OutboxStatus> {
        self.write(false, move |tx| mark_unsent(tx, id, &how)).await
    }

    async fn recover_abandoned(&self, claimed_before: Timestamp) -> StoreResult<u64> {
        self.write(false, move |tx| recover(tx, to_micros(claimed_before))).await
    }

    async fn requeue(&self, id: i64, now: Timestamp) -> StoreResult<()> {
        self.write(false, move |tx| requeue(tx, id, to_micros(now))).await
    }

    async fn outbox_counts(&self, topic: Option<&str>) -> StoreResult<OutboxCounts> {
        let topic = topic.map(str::to_string);
        self.read(move |c| counts(c, topic.as_deref())).await
    }

    async fn outbox_messages(&self, q: &OutboxQuery) -> StoreResult<Vec<OutboxMessage>> {
        let q = q.clone();
        self.read(move |c| messages(c, &q)).await
    }
}

//! Campaigns (schema v17): the [`CampaignStore`] of [`PgStore`]. A launch writes its audience
//! and its messages set-based (`unnest`), a chunk of rows per statement, in one transaction.

use crate::outbox::invalid;
use crate::{PgStore, db_err, get};
use async_trait::async_trait;
use rapport_core::campaign::{Arm, Campaign};
use rapport_core::{FieldError, Timestamp};
use rapport_store::{
    AudienceCounts, CampaignStore, Launch, NewMessage, RecipientOutcome, RowOutcome, StoreError,
    StoreResult, StoredCampaign,
};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;
use std::collections::HashSet;

/// Rows per statement in a launch.
const CHUNK: usize = 10_000;

macro_rules! campaign_where {
    ($rest:literal) => {
        concat!("SELECT id, spec, created_at, sent_at, counts FROM campaigns ", $rest)
    };
}

fn stored(r: &PgRow) -> StoreResult<StoredCampaign> {
    let spec: String = get(r, 1)?;
    let counts: Option<String> = get(r, 4)?;
    let counts: Option<AudienceCounts> =
        counts.map(|c| serde_json::from_str(&c)).transpose().map_err(StoreError::other)?;
    Ok(StoredCampaign {
        id: get(r, 0)?,
        campaign: serde_json::from_str(&spec).map_err(StoreError::other)?,
        created_at: get(r, 2)?,
        sent_at: get(r, 3)?,
        counts,
    })
}

async fn one(c: &mut PgConnection, id: i64) -> StoreResult<StoredCampaign> {
    let row = sqlx::query(campaign_where!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("campaign {id}")))?;
    stored(&row)
}

async fn recipients(c: &mut PgConnection, id: i64, l: &Launch) -> StoreResult<()> {
    for chunk in l.recipients.chunks(CHUNK) {
        let customers: Vec<i64> = chunk.iter().map(|r| r.customer).collect();
        let arms: Vec<&str> = chunk.iter().map(|r| r.arm.as_str()).collect();
        let segments: Vec<Option<&str>> = chunk.iter().map(|r| r.segment.as_deref()).collect();
        let clv: Vec<Option<i64>> =
            chunk.iter().map(|r| r.clv_before.map(|v| (v * 1e4).round() as i64)).collect();
        sqlx::query(
            "INSERT INTO campaign_recipients (campaign_id, customer_id, arm, segment, clv_before_e4)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[])",
        )
        .bind(id)
        .bind(customers)
        .bind(arms)
        .bind(segments)
        .bind(clv)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// Queues messages as the outbox's `enqueue` does (same outcomes), a chunk per statement.
async fn enqueue(
    c: &mut PgConnection,
    msgs: &[NewMessage],
    now: Timestamp,
) -> StoreResult<Vec<RowOutcome>> {
    let mut out = Vec::with_capacity(msgs.len());
    for chunk in msgs.chunks(CHUNK) {
        let ok: Vec<&NewMessage> = chunk.iter().filter(|m| invalid(m).is_none()).collect();
        let col = |f: fn(&NewMessage) -> Option<&str>| ok.iter().map(|m| f(m)).collect::<Vec<_>>();
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO outbox (dedupe_key, customer_id, channel, recipient, source, subject,
                                 body, html, topic, next_attempt_at, created_at)
             SELECT m.k, c.id, m.ch, btrim(m.r), m.src, m.s, m.b, m.h, m.t, $10, $10
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::text[], $9::text[])
                    AS m(k, cust, ch, r, src, s, b, h, t)
               JOIN customers c ON c.external_id = m.cust
             ON CONFLICT (dedupe_key) DO NOTHING
             RETURNING dedupe_key",
        )
        .bind(col(|m| Some(m.dedupe_key.as_str())))
        .bind(col(|m| Some(m.customer.as_str())))
        .bind(col(|m| Some(m.channel.as_str())))
        .bind(col(|m| Some(m.recipient.as_str())))
        .bind(col(|m| m.source.as_deref()))
        .bind(col(|m| Some(m.subject.as_str())))
        .bind(col(|m| Some(m.body.as_str())))
        .bind(col(|m| m.html.as_deref()))
        .bind(col(|m| Some(m.topic.as_str())))
        .bind(now)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        let inserted: HashSet<String> = inserted.into_iter().collect();
        let rest: Vec<&str> =
            ok.iter().map(|m| m.dedupe_key.as_str()).filter(|k| !inserted.contains(*k)).collect();
        let queued: HashSet<String> =
            sqlx::query_scalar("SELECT dedupe_key FROM outbox WHERE dedupe_key = ANY($1)")
                .bind(&rest)
                .fetch_all(&mut *c)
                .await
                .map_err(db_err)?
                .into_iter()
                .collect();
        out.extend(chunk.iter().map(|m| match invalid(m) {
            Some(e) => RowOutcome::Rejected(e),
            None if inserted.contains(&m.dedupe_key) => RowOutcome::Inserted,
            None if queued.contains(&m.dedupe_key) => RowOutcome::Unchanged,
            None => RowOutcome::Rejected(FieldError::new(
                "customer",
                format!("no customer '{}'", m.customer),
            )),
        }));
    }
    Ok(out)
}

const OUTCOMES: &str = "
    SELECT r.customer_id, r.arm, r.segment, r.clv_before_e4,
           (SELECT COUNT(*) FROM orders o
             WHERE o.customer_id = r.customer_id AND o.status = 'purchase'
               AND o.placed_at >= $2 AND o.placed_at < $3),
           (SELECT COALESCE(SUM(o.total_e4), 0)::bigint FROM orders o
             WHERE o.customer_id = r.customer_id AND o.status = 'purchase'
               AND o.placed_at >= $2 AND o.placed_at < $3),
           EXISTS (SELECT 1 FROM events e
             WHERE e.customer_id = r.customer_id AND e.at >= $2 AND e.at < $3)
      FROM campaign_recipients r
     WHERE r.campaign_id = $1";

fn outcome(r: &PgRow) -> StoreResult<RecipientOutcome> {
    let arm: String = get(r, 1)?;
    let purchases: i64 = get(r, 4)?;
    let revenue: i64 = get(r, 5)?;
    Ok(RecipientOutcome {
        customer: get(r, 0)?,
        arm: Arm::parse(&arm).map_err(|m| StoreError::Invalid(format!("stored arm: {m}")))?,
        segment: get(r, 2)?,
        clv_before: get::<Option<i64>>(r, 3)?.map(|v| v as f64 / 1e4),
        purchases: purchases as u32,
        revenue: revenue as f64 / 1e4,
        active: purchases > 0 || get::<bool>(r, 6)?,
    })
}

#[async_trait]
impl CampaignStore for PgStore {
    async fn create_campaign(&self, c: &Campaign, now: Timestamp) -> StoreResult<i64> {
        let spec = serde_json::to_string(c).map_err(StoreError::other)?;
        sqlx::query_scalar("INSERT INTO campaigns (spec, created_at) VALUES ($1, $2) RETURNING id")
            .bind(spec)
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn campaigns(&self) -> StoreResult<Vec<StoredCampaign>> {
        let rows = sqlx::query(campaign_where!("ORDER BY id DESC"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(stored).collect()
    }

    async fn campaign(&self, id: i64) -> StoreResult<StoredCampaign> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        one(&mut c, id).await
    }

    async fn delete_campaign(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let deleted = sqlx::query("DELETE FROM campaigns WHERE id = $1 AND sent_at IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if deleted == 0 {
            one(&mut tx, id).await?; // NotFound for an unknown id
            return Err(StoreError::Conflict(format!("campaign {id} was sent; it stays")));
        }
        tx.commit().await.map_err(db_err)
    }

    async fn launch_campaign(
        &self,
        id: i64,
        l: Launch,
        at: Timestamp,
    ) -> StoreResult<Vec<RowOutcome>> {
        let counts = serde_json::to_string(&l.counts).map_err(StoreError::other)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let marked = sqlx::query(
            "UPDATE campaigns SET sent_at = $2, counts = $3 WHERE id = $1 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(at)
        .bind(counts)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if marked == 0 {
            one(&mut tx, id).await?;
            return Err(StoreError::Conflict(format!("campaign {id} was already sent")));
        }
        recipients(&mut tx, id, &l).await?;
        let out = enqueue(&mut tx, &l.messages, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn campaign_outcomes(&self, id: i64) -> StoreResult<Vec<RecipientOutcome>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let campaign = one(&mut c, id).await?;
        let (Some(from), Some(until)) = (campaign.sent_at, campaign.window_end()) else {
            return Ok(Vec::new());
        };
        let rows = sqlx::query(OUTCOMES)
            .bind(id)
            .bind(from)
            .bind(until)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        rows.iter().map(outcome).collect()
    }
}

//! Campaigns (schema v17): the [`CampaignStore`] of [`SqliteStore`].

use crate::outbox::enqueue;
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_core::campaign::{Arm, Campaign};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{Money, Timestamp};
use rapport_store::{
    AudienceCounts, CampaignStore, Launch, RecipientOutcome, RowOutcome, StoreError, StoreResult,
    StoredCampaign,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction};

const CAMPAIGN: &str = "SELECT id, spec, created_at, sent_at, counts FROM campaigns";

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn stored(r: &Row<'_>) -> rusqlite::Result<StoredCampaign> {
    let spec: String = r.get(1)?;
    let campaign: Campaign = serde_json::from_str(&spec).map_err(conversion)?;
    let counts: Option<String> = r.get(4)?;
    let counts: Option<AudienceCounts> =
        counts.map(|c| serde_json::from_str(&c)).transpose().map_err(conversion)?;
    Ok(StoredCampaign {
        id: r.get(0)?,
        campaign,
        created_at: from_micros(r.get(2)?),
        sent_at: r.get::<_, Option<i64>>(3)?.map(from_micros),
        counts,
    })
}

fn one(c: &Connection, id: i64) -> StoreResult<StoredCampaign> {
    c.prepare_cached(&format!("{CAMPAIGN} WHERE id = ?1"))
        .map_err(db_err)?
        .query_row([id], stored)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("campaign {id}")))
}

fn launch(tx: &Transaction<'_>, id: i64, l: &Launch, at: i64) -> StoreResult<Vec<RowOutcome>> {
    let counts = serde_json::to_string(&l.counts).map_err(StoreError::other)?;
    let marked = tx
        .execute(
            "UPDATE campaigns SET sent_at = ?2, counts = ?3 WHERE id = ?1 AND sent_at IS NULL",
            (id, at, counts),
        )
        .map_err(db_err)?;
    if marked == 0 {
        one(tx, id)?; // NotFound for an unknown id
        return Err(StoreError::Conflict(format!("campaign {id} was already sent")));
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO campaign_recipients (campaign_id, customer_id, arm, segment, clv_before_e4)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(db_err)?;
    for r in &l.recipients {
        let clv = r.clv_before.map(|v| (v * 1e4).round() as i64);
        insert.execute((id, r.customer, r.arm.as_str(), &r.segment, clv)).map_err(db_err)?;
    }
    enqueue(tx, &l.messages, at)
}

fn outcome(r: &Row<'_>) -> rusqlite::Result<RecipientOutcome> {
    let arm: String = r.get(1)?;
    let arm = Arm::parse(&arm).map_err(|m| conversion(std::io::Error::other(m)))?;
    let revenue = Money::from_e4(r.get(5)?);
    Ok(RecipientOutcome {
        customer: r.get(0)?,
        arm,
        segment: r.get(2)?,
        clv_before: r.get::<_, Option<i64>>(3)?.map(|v| v as f64 / 1e4),
        purchases: r.get(4)?,
        revenue: revenue.to_f64(),
        active: r.get::<_, i64>(4)? > 0 || r.get::<_, bool>(6)?,
    })
}

// Correlated subqueries walk each member's slice of the (customer, placed_at) purchase index
// and the (customer, at) event index, so the cost follows the audience, not the tables.
const OUTCOMES: &str = "
    SELECT r.customer_id, r.arm, r.segment, r.clv_before_e4,
           (SELECT COUNT(*) FROM orders o
             WHERE o.customer_id = r.customer_id AND o.status = 'purchase'
               AND o.placed_at >= ?2 AND o.placed_at < ?3),
           (SELECT IFNULL(SUM(o.total_e4), 0) FROM orders o
             WHERE o.customer_id = r.customer_id AND o.status = 'purchase'
               AND o.placed_at >= ?2 AND o.placed_at < ?3),
           EXISTS (SELECT 1 FROM events e
             WHERE e.customer_id = r.customer_id AND e.at >= ?2 AND e.at < ?3)
      FROM campaign_recipients r
     WHERE r.campaign_id = ?1";

fn outcomes(c: &Connection, id: i64) -> StoreResult<Vec<RecipientOutcome>> {
    let campaign = one(c, id)?;
    let (Some(from), Some(until)) = (campaign.sent_at, campaign.window_end()) else {
        return Ok(Vec::new());
    };
    let mut stmt = c.prepare_cached(OUTCOMES).map_err(db_err)?;
    let rows = stmt.query_map((id, to_micros(from), to_micros(until)), outcome).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

#[async_trait]
impl CampaignStore for SqliteStore {
    async fn create_campaign(&self, c: &Campaign, now: Timestamp) -> StoreResult<i64> {
        let spec = serde_json::to_string(c).map_err(StoreError::other)?;
        self.write(false, move |tx| {
            tx.execute(
                "INSERT INTO campaigns (spec, created_at) VALUES (?1, ?2)",
                (spec, to_micros(now)),
            )
            .map_err(db_err)?;
            Ok(tx.last_insert_rowid())
        })
        .await
    }

    async fn campaigns(&self) -> StoreResult<Vec<StoredCampaign>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{CAMPAIGN} ORDER BY id DESC")).map_err(db_err)?;
            let rows = stmt.query_map([], stored).map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)
        })
        .await
    }

    async fn campaign(&self, id: i64) -> StoreResult<StoredCampaign> {
        self.read(move |c| one(c, id)).await
    }

    async fn delete_campaign(&self, id: i64) -> StoreResult<()> {
        self.write(false, move |tx| {
            if one(tx, id)?.sent_at.is_some() {
                return Err(StoreError::Conflict(format!("campaign {id} was sent; it stays")));
            }
            tx.execute("DELETE FROM campaigns WHERE id = ?1", [id]).map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn launch_campaign(
        &self,
        id: i64,
        l: Launch,
        at: Timestamp,
    ) -> StoreResult<Vec<RowOutcome>> {
        self.write(false, move |tx| launch(tx, id, &l, to_micros(at))).await
    }

    async fn campaign_outcomes(&self, id: i64) -> StoreResult<Vec<RecipientOutcome>> {
        self.read(move |c| outcomes(c, id)).await
    }
}

//! Ideas, their evidence, requesters and status history (schema v9): the [`IdeaStore`] of
//! [`PgStore`]. Writes touch no summary, so they do not take the writer lock; a status change
//! locks its idea's row (`FOR UPDATE`), so two racing changes cannot start from one status.

use crate::{PgStore, db_err, ext_id, get};
use async_trait::async_trait;
use rapport_core::idea::{Idea, IdeaKind, IdeaStatus, Rice};
use rapport_core::{ExternalId, Money, Timestamp};
use rapport_store::{
    Actor, EventUsage, Evidence, IdeaDetail, IdeaRecord, IdeaStore, Requester, StatusChange,
    StoreError, StoreResult,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("idea {id}"))
}

fn status(s: &str) -> StoreResult<IdeaStatus> {
    IdeaStatus::parse(s).map_err(|r| StoreError::Invalid(format!("stored idea status: {r}")))
}

/// PostgreSQL text cannot hold NUL; ideas are parsed free of it, notes are checked here.
fn no_nul(field: &str, v: Option<&str>) -> StoreResult<()> {
    match v.is_some_and(|s| s.contains('\0')) {
        true => Err(StoreError::Invalid(format!("{field} contains a NUL character"))),
        false => Ok(()),
    }
}

const RECORD: &str = "SELECT i.id, i.title, i.description, i.kind, i.status, i.reach, i.impact,
       i.confidence, i.effort, i.events, i.created_at, i.updated_at, i.created_by,
       (SELECT COUNT(*) FROM idea_evidence l WHERE l.idea_id = i.id),
       (SELECT COUNT(*) FROM (
           SELECT f.customer_id FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
            WHERE l.idea_id = i.id
           UNION SELECT r.customer_id FROM idea_requesters r WHERE r.idea_id = i.id) u)
  FROM ideas i
 WHERE ($1::text IS NULL OR i.status = $1) AND ($2::bigint IS NULL OR i.id = $2)
 ORDER BY i.id";

fn record(r: &PgRow) -> StoreResult<IdeaRecord> {
    let kind: String = get(r, 3)?;
    let events: String = get(r, 9)?;
    Ok(IdeaRecord {
        id: get(r, 0)?,
        idea: Idea {
            title: get(r, 1)?,
            description: get(r, 2)?,
            kind: if kind == "improve" { IdeaKind::Improve } else { IdeaKind::New },
            rice: Rice {
                reach: get::<Option<i64>>(r, 5)?.map(|v| v as u32),
                impact: get(r, 6)?,
                confidence: get::<Option<i64>>(r, 7)?.map(|v| v as u8),
                effort: get(r, 8)?,
            },
            events: serde_json::from_str(&events).unwrap_or_default(),
        },
        status: status(&get::<String>(r, 4)?)?,
        created_at: get(r, 10)?,
        updated_at: get(r, 11)?,
        created_by: get(r, 12)?,
        evidence: get(r, 13)?,
        requesters: get(r, 14)?,
    })
}

async fn records(
    c: &mut PgConnection,
    st: Option<IdeaStatus>,
    id: Option<i64>,
) -> StoreResult<Vec<IdeaRecord>> {
    let rows = sqlx::query(RECORD)
        .bind(st.map(|s| s.as_str()))
        .bind(id)
        .fetch_all(c)
        .await
        .map_err(db_err)?;
    rows.iter().map(record).collect()
}

fn events_json(idea: &Idea) -> String {
    serde_json::to_string(&idea.events).expect("strings serialise")
}

async fn exists(c: &mut PgConnection, id: i64) -> StoreResult<()> {
    sqlx::query_scalar::<_, i32>("SELECT 1 FROM ideas WHERE id = $1")
        .bind(id)
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .map(|_| ())
        .ok_or_else(|| missing(id))
}

async fn key_of(
    c: &mut PgConnection,
    table: &str,
    what: &str,
    ext: &ExternalId,
) -> StoreResult<i64> {
    let sql = format!("SELECT id FROM {table} WHERE external_id = $1");
    sqlx::query_scalar(AssertSqlSafe(sql))
        .bind(ext.as_str())
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("{what} '{ext}'")))
}

async fn evidence(c: &mut PgConnection, id: i64) -> StoreResult<Vec<Evidence>> {
    let rows = sqlx::query(
        "SELECT f.external_id, c.external_id, c.name, f.source, f.text, f.rating,
                f.sentiment_e4, f.created_at, l.linked_at, l.linked_by
           FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
           JOIN customers c ON c.id = f.customer_id
          WHERE l.idea_id = $1 ORDER BY f.created_at DESC, f.id DESC",
    )
    .bind(id)
    .fetch_all(c)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(Evidence {
                feedback: ext_id(get(r, 0)?)?,
                customer: ext_id(get(r, 1)?)?,
                customer_name: get(r, 2)?,
                source: get(r, 3)?,
                text: get(r, 4)?,
                rating: get(r, 5)?,
                sentiment: get::<Option<i32>>(r, 6)?.map(|s| f64::from(s) / 1e4),
                created_at: get(r, 7)?,
                linked_at: get(r, 8)?,
                linked_by: get(r, 9)?,
            })
        })
        .collect()
}

async fn history(c: &mut PgConnection, id: i64) -> StoreResult<Vec<StatusChange>> {
    let rows = sqlx::query(
        "SELECT from_status, to_status, at, changed_by FROM idea_status_changes
          WHERE idea_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(c)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok(StatusChange {
                from: status(&get::<String>(r, 0)?)?,
                to: status(&get::<String>(r, 1)?)?,
                at: get(r, 2)?,
                by: get(r, 3)?,
            })
        })
        .collect()
}

/// Every ask (a linked item, or a hand-added customer) grouped per idea and customer.
const REQUESTERS: &str = "WITH asks AS (
    SELECT l.idea_id, f.customer_id, f.created_at AS at, f.id AS item, f.sentiment_e4 AS mood,
           NULL::text AS note, NULL::text AS added_by, false AS added
      FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
     WHERE $1::bigint IS NULL OR l.idea_id = $1
    UNION ALL
    SELECT r.idea_id, r.customer_id, r.added_at, NULL, NULL, r.note, r.added_by, true
      FROM idea_requesters r WHERE $1::bigint IS NULL OR r.idea_id = $1)
SELECT a.idea_id, c.id, c.external_id, c.name, c.email, MAX(COALESCE(s.purchase_value_e4, 0)),
       MIN(a.at), MAX(a.at), COUNT(a.item), AVG(a.mood)::float8, bool_or(a.added),
       MAX(a.note), MAX(a.added_by),
       (SELECT f.source FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
         WHERE l.idea_id = a.idea_id AND f.customer_id = c.id
         ORDER BY f.created_at, f.id LIMIT 1)
  FROM asks a JOIN customers c ON c.id = a.customer_id
  LEFT JOIN customer_summaries s ON s.customer_id = c.id
 GROUP BY a.idea_id, c.id
 ORDER BY a.idea_id, MIN(a.at), c.id";

async fn requesters(c: &mut PgConnection, id: Option<i64>) -> StoreResult<Vec<(i64, Requester)>> {
    let rows = sqlx::query(REQUESTERS).bind(id).fetch_all(c).await.map_err(db_err)?;
    rows.iter()
        .map(|r| {
            Ok((
                get(r, 0)?,
                Requester {
                    key: get(r, 1)?,
                    customer: ext_id(get(r, 2)?)?,
                    name: get(r, 3)?,
                    email: get(r, 4)?,
                    revenue: Money::from_e4(get(r, 5)?),
                    first_requested_at: get(r, 6)?,
                    last_requested_at: get(r, 7)?,
                    feedback: get(r, 8)?,
                    sentiment: get::<Option<f64>>(r, 9)?.map(|s| s / 1e4),
                    added: get(r, 10)?,
                    note: get(r, 11)?,
                    added_by: get(r, 12)?,
                    via: get(r, 13)?,
                },
            ))
        })
        .collect()
}

async fn set_status(
    c: &mut PgConnection,
    id: i64,
    to: IdeaStatus,
    who: &Actor,
) -> StoreResult<StatusChange> {
    let from: String = sqlx::query_scalar("SELECT status FROM ideas WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| missing(id))?;
    let from = status(&from)?;
    from.check_move(to).map_err(StoreError::Invalid)?;
    sqlx::query("UPDATE ideas SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(to.as_str())
        .bind(who.at)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    sqlx::query(
        "INSERT INTO idea_status_changes (idea_id, from_status, to_status, at, changed_by)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(who.at)
    .bind(&who.by)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(StatusChange { from, to, at: who.at, by: who.by.clone() })
}

#[async_trait]
impl IdeaStore for PgStore {
    async fn create_idea(&self, idea: &Idea, who: &Actor) -> StoreResult<i64> {
        no_nul("created_by", who.by.as_deref())?;
        let r = &idea.rice;
        sqlx::query_scalar(
            "INSERT INTO ideas (title, description, kind, reach, impact, confidence, effort,
                                events, created_at, updated_at, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) RETURNING id",
        )
        .bind(&idea.title)
        .bind(&idea.description)
        .bind(idea.kind.as_str())
        .bind(r.reach.map(i64::from))
        .bind(r.impact)
        .bind(r.confidence.map(i64::from))
        .bind(r.effort)
        .bind(events_json(idea))
        .bind(who.at)
        .bind(&who.by)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn update_idea(&self, id: i64, idea: &Idea, who: &Actor) -> StoreResult<()> {
        let r = &idea.rice;
        let done = sqlx::query(
            "UPDATE ideas SET title = $2, description = $3, kind = $4, reach = $5, impact = $6,
                    confidence = $7, effort = $8, events = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(&idea.title)
        .bind(&idea.description)
        .bind(idea.kind.as_str())
        .bind(r.reach.map(i64::from))
        .bind(r.impact)
        .bind(r.confidence.map(i64::from))
        .bind(r.effort)
        .bind(events_json(idea))
        .bind(who.at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 { Err(missing(id)) } else { Ok(()) }
    }

    async fn ideas(&self, status: Option<IdeaStatus>) -> StoreResult<Vec<IdeaRecord>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        records(&mut c, status, None).await
    }

    async fn idea(&self, id: i64) -> StoreResult<IdeaDetail> {
        // One snapshot for the four reads.
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let record = records(&mut tx, None, Some(id)).await?.pop().ok_or_else(|| missing(id))?;
        let detail = IdeaDetail {
            record,
            evidence: evidence(&mut tx, id).await?,
            requesters: requesters(&mut tx, Some(id)).await?.into_iter().map(|(_, r)| r).collect(),
            history: history(&mut tx, id).await?,
        };
        tx.commit().await.map_err(db_err)?;
        Ok(detail)
    }

    async fn link_feedback(
        &self,
        id: i64,
        feedback: &ExternalId,
        who: &Actor,
    ) -> StoreResult<bool> {
        no_nul("linked_by", who.by.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        exists(&mut tx, id).await?;
        let item = key_of(&mut tx, "feedback", "feedback item", feedback).await?;
        let done = sqlx::query(
            "INSERT INTO idea_feedback (idea_id, feedback_id, linked_at, linked_by)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(item)
        .bind(who.at)
        .bind(&who.by)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn unlink_feedback(&self, id: i64, feedback: &ExternalId) -> StoreResult<()> {
        let done = sqlx::query(
            "DELETE FROM idea_feedback WHERE idea_id = $1
                AND feedback_id = (SELECT id FROM feedback WHERE external_id = $2)",
        )
        .bind(id)
        .bind(feedback.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        match done.rows_affected() {
            0 => {
                Err(StoreError::NotFound(format!("feedback item '{feedback}' linked to idea {id}")))
            }
            _ => Ok(()),
        }
    }

    async fn add_requester(
        &self,
        id: i64,
        customer: &ExternalId,
        note: Option<&str>,
        who: &Actor,
    ) -> StoreResult<bool> {
        no_nul("note", note)?;
        no_nul("added_by", who.by.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        exists(&mut tx, id).await?;
        let key = key_of(&mut tx, "customers", "customer", customer).await?;
        // `xmax = 0` tells an inserted row from an updated one. A second add replaces the note
        // and who added, and keeps the first time they asked.
        let inserted: bool = sqlx::query_scalar(
            "INSERT INTO idea_requesters (idea_id, customer_id, note, added_by, added_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (idea_id, customer_id) DO UPDATE SET note = $3, added_by = $4
             RETURNING xmax = 0",
        )
        .bind(id)
        .bind(key)
        .bind(note)
        .bind(&who.by)
        .bind(who.at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(inserted)
    }

    async fn remove_requester(&self, id: i64, customer: &ExternalId) -> StoreResult<()> {
        let done = sqlx::query(
            "DELETE FROM idea_requesters WHERE idea_id = $1
                AND customer_id = (SELECT id FROM customers WHERE external_id = $2)",
        )
        .bind(id)
        .bind(customer.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        match done.rows_affected() {
            0 => Err(StoreError::NotFound(format!("customer '{customer}' added to idea {id}"))),
            _ => Ok(()),
        }
    }

    async fn set_idea_status(
        &self,
        id: i64,
        to: IdeaStatus,
        who: &Actor,
    ) -> StoreResult<StatusChange> {
        no_nul("changed_by", who.by.as_deref())?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let change = set_status(&mut tx, id, to, who).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(change)
    }

    async fn idea_requesters(&self, id: Option<i64>) -> StoreResult<Vec<(i64, Requester)>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        requesters(&mut c, id).await
    }

    async fn event_usage(&self, events: &[String], since: Timestamp) -> StoreResult<EventUsage> {
        // Customers active in the window: their summary keeps their last event.
        let active: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM customer_summaries WHERE last_event_at >= $1")
                .bind(since)
                .fetch_one(&self.pool)
                .await
                .map_err(db_err)?;
        let counts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT n.name, (SELECT COUNT(DISTINCT e.customer_id) FROM events e
                              WHERE e.name = n.name AND e.at >= $2)
               FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i) ORDER BY n.i",
        )
        .bind(events)
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(EventUsage { active, events: counts })
    }
}

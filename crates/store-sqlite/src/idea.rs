//! Ideas, their evidence, requesters and status history (schema v9).

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_core::idea::{Idea, IdeaKind, IdeaStatus, Rice};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Money};
use rapport_store::{
    Actor, EventUsage, Evidence, IdeaDetail, IdeaRecord, IdeaStore, Requester, StatusChange,
    StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction};

fn ext(s: String) -> rusqlite::Result<ExternalId> {
    ExternalId::parse(&s).map_err(|r| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, r.into())
    })
}

fn status(s: String) -> rusqlite::Result<IdeaStatus> {
    IdeaStatus::parse(&s).map_err(|r| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, r.into())
    })
}

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("idea {id}"))
}

/// The idea's columns, then its evidence and requester counts. Requesters are the distinct
/// customers of its linked feedback and of its hand-added requesters.
const RECORD: &str = "SELECT i.id, i.title, i.description, i.kind, i.status, i.reach, i.impact,
       i.confidence, i.effort, i.events, i.created_at, i.updated_at, i.created_by,
       (SELECT COUNT(*) FROM idea_evidence l WHERE l.idea_id = i.id),
       (SELECT COUNT(*) FROM (
           SELECT f.customer_id FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
            WHERE l.idea_id = i.id
           UNION SELECT r.customer_id FROM idea_requesters r WHERE r.idea_id = i.id))
  FROM ideas i";

fn record(r: &Row<'_>) -> rusqlite::Result<IdeaRecord> {
    let kind: String = r.get(3)?;
    let events: String = r.get(9)?;
    Ok(IdeaRecord {
        id: r.get(0)?,
        idea: Idea {
            title: r.get(1)?,
            description: r.get(2)?,
            kind: if kind == "improve" { IdeaKind::Improve } else { IdeaKind::New },
            rice: Rice {
                reach: r.get::<_, Option<i64>>(5)?.map(|v| v as u32),
                impact: r.get(6)?,
                confidence: r.get::<_, Option<i64>>(7)?.map(|v| v as u8),
                effort: r.get(8)?,
            },
            events: serde_json::from_str(&events).unwrap_or_default(),
        },
        status: status(r.get(4)?)?,
        created_at: from_micros(r.get(10)?),
        updated_at: from_micros(r.get(11)?),
        created_by: r.get(12)?,
        evidence: r.get(13)?,
        requesters: r.get(14)?,
    })
}

fn records(
    c: &Connection,
    st: Option<IdeaStatus>,
    id: Option<i64>,
) -> StoreResult<Vec<IdeaRecord>> {
    let sql = format!(
        "{RECORD} WHERE (?1 IS NULL OR i.status = ?1) AND (?2 IS NULL OR i.id = ?2) ORDER BY i.id"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map((st.map(|s| s.as_str()), id), record).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

fn events_json(idea: &Idea) -> String {
    serde_json::to_string(&idea.events).expect("strings serialise")
}

fn create(tx: &Transaction<'_>, idea: &Idea, who: &Actor) -> StoreResult<i64> {
    let r = &idea.rice;
    tx.execute(
        "INSERT INTO ideas (title, description, kind, reach, impact, confidence, effort, events,
                            created_at, updated_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)",
        rusqlite::params![
            idea.title,
            idea.description,
            idea.kind.as_str(),
            r.reach,
            r.impact,
            r.confidence,
            r.effort,
            events_json(idea),
            to_micros(who.at),
            who.by
        ],
    )
    .map_err(db_err)?;
    Ok(tx.last_insert_rowid())
}

fn update(tx: &Transaction<'_>, id: i64, idea: &Idea, who: &Actor) -> StoreResult<()> {
    let r = &idea.rice;
    let n = tx
        .execute(
            "UPDATE ideas SET title = ?2, description = ?3, kind = ?4, reach = ?5, impact = ?6,
                    confidence = ?7, effort = ?8, events = ?9, updated_at = ?10 WHERE id = ?1",
            rusqlite::params![
                id,
                idea.title,
                idea.description,
                idea.kind.as_str(),
                r.reach,
                r.impact,
                r.confidence,
                r.effort,
                events_json(idea),
                to_micros(who.at)
            ],
        )
        .map_err(db_err)?;
    if n == 0 { Err(missing(id)) } else { Ok(()) }
}

fn exists(c: &Connection, id: i64) -> StoreResult<()> {
    c.prepare_cached("SELECT 1 FROM ideas WHERE id = ?1")
        .map_err(db_err)?
        .query_row([id], |_| Ok(()))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| missing(id))
}

fn key_of(c: &Connection, table: &str, what: &str, ext: &ExternalId) -> StoreResult<i64> {
    c.prepare_cached(&format!("SELECT id FROM {table} WHERE external_id = ?1"))
        .map_err(db_err)?
        .query_row([ext.as_str()], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("{what} '{ext}'")))
}

fn link(tx: &Transaction<'_>, id: i64, feedback: &ExternalId, who: &Actor) -> StoreResult<bool> {
    exists(tx, id)?;
    let item = key_of(tx, "feedback", "feedback item", feedback)?;
    let n = tx
        .execute(
            "INSERT INTO idea_feedback (idea_id, feedback_id, linked_at, linked_by)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            (id, item, to_micros(who.at), &who.by),
        )
        .map_err(db_err)?;
    Ok(n == 1)
}

fn unlink(tx: &Transaction<'_>, id: i64, feedback: &ExternalId) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM idea_feedback WHERE idea_id = ?1
                AND feedback_id = (SELECT id FROM feedback WHERE external_id = ?2)",
            (id, feedback.as_str()),
        )
        .map_err(db_err)?;
    match n {
        0 => Err(StoreError::NotFound(format!("feedback item '{feedback}' linked to idea {id}"))),
        _ => Ok(()),
    }
}

fn add_requester(
    tx: &Transaction<'_>,
    id: i64,
    customer: &ExternalId,
    note: Option<&str>,
    who: &Actor,
) -> StoreResult<bool> {
    exists(tx, id)?;
    let key = key_of(tx, "customers", "customer", customer)?;
    let before: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM idea_requesters WHERE idea_id = ?1 AND customer_id = ?2",
            (id, key),
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    // A second add replaces the note and who added, and keeps the first time they asked.
    tx.execute(
        "INSERT INTO idea_requesters (idea_id, customer_id, note, added_by, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (idea_id, customer_id) DO UPDATE SET note = ?3, added_by = ?4",
        (id, key, note, &who.by, to_micros(who.at)),
    )
    .map_err(db_err)?;
    Ok(before.is_none())
}

fn remove_requester(tx: &Transaction<'_>, id: i64, customer: &ExternalId) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM idea_requesters WHERE idea_id = ?1
                AND customer_id = (SELECT id FROM customers WHERE external_id = ?2)",
            (id, customer.as_str()),
        )
        .map_err(db_err)?;
    match n {
        0 => Err(StoreError::NotFound(format!("customer '{customer}' added to idea {id}"))),
        _ => Ok(()),
    }
}

fn set_status(
    tx: &Transaction<'_>,
    id: i64,
    to: IdeaStatus,
    who: &Actor,
) -> StoreResult<StatusChange> {
    let from: String = tx
        .query_row("SELECT status FROM ideas WHERE id = ?1", [id], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| missing(id))?;
    let from = IdeaStatus::parse(&from).map_err(StoreError::Invalid)?;
    from.check_move(to).map_err(StoreError::Invalid)?;
    let at = to_micros(who.at);
    tx.execute(
        "UPDATE ideas SET status = ?2, updated_at = ?3 WHERE id = ?1",
        (id, to.as_str(), at),
    )
    .map_err(db_err)?;
    tx.execute(
        "INSERT INTO idea_status_changes (idea_id, from_status, to_status, at, changed_by)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        (id, from.as_str(), to.as_str(), at, &who.by),
    )
    .map_err(db_err)?;
    Ok(StatusChange { from, to, at: who.at, by: who.by.clone() })
}

fn evidence(c: &Connection, id: i64) -> StoreResult<Vec<Evidence>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT f.external_id, c.external_id, c.name, f.source, f.text, f.rating,
                    f.sentiment_e4, f.created_at, l.linked_at, l.linked_by
               FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
               JOIN customers c ON c.id = f.customer_id
              WHERE l.idea_id = ?1 ORDER BY f.created_at DESC, f.id DESC",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(Evidence {
                feedback: ext(r.get(0)?)?,
                customer: ext(r.get(1)?)?,
                customer_name: r.get(2)?,
                source: r.get(3)?,
                text: r.get(4)?,
                rating: r.get(5)?,
                sentiment: r.get::<_, Option<i64>>(6)?.map(|s| s as f64 / 1e4),
                created_at: from_micros(r.get(7)?),
                linked_at: from_micros(r.get(8)?),
                linked_by: r.get(9)?,
            })
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

fn history(c: &Connection, id: i64) -> StoreResult<Vec<StatusChange>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT from_status, to_status, at, changed_by FROM idea_status_changes
              WHERE idea_id = ?1 ORDER BY id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok(StatusChange {
                from: status(r.get(0)?)?,
                to: status(r.get(1)?)?,
                at: from_micros(r.get(2)?),
                by: r.get(3)?,
            })
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

/// Every ask (a linked item, or a hand-added customer) grouped per idea and customer.
const REQUESTERS: &str = "WITH asks AS (
    SELECT l.idea_id, f.customer_id, f.created_at AS at, f.id AS item, f.sentiment_e4 AS mood,
           NULL AS note, NULL AS added_by, 0 AS added
      FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
     WHERE ?1 IS NULL OR l.idea_id = ?1
    UNION ALL
    SELECT r.idea_id, r.customer_id, r.added_at, NULL, NULL, r.note, r.added_by, 1
      FROM idea_requesters r WHERE ?1 IS NULL OR r.idea_id = ?1)
SELECT a.idea_id, c.id, c.external_id, c.name, c.email, MAX(COALESCE(s.purchase_value_e4, 0)),
       MIN(a.at), MAX(a.at), COUNT(a.item), AVG(a.mood), MAX(a.added), MAX(a.note),
       MAX(a.added_by),
       (SELECT f.source FROM idea_evidence l JOIN feedback f ON f.id = l.feedback_id
         WHERE l.idea_id = a.idea_id AND f.customer_id = c.id
         ORDER BY f.created_at, f.id LIMIT 1)
  FROM asks a JOIN customers c ON c.id = a.customer_id
  LEFT JOIN customer_summaries s ON s.customer_id = c.id
 GROUP BY a.idea_id, c.id
 ORDER BY a.idea_id, MIN(a.at), c.id";

fn requesters(c: &Connection, id: Option<i64>) -> StoreResult<Vec<(i64, Requester)>> {
    let mut stmt = c.prepare_cached(REQUESTERS).map_err(db_err)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((
                r.get(0)?,
                Requester {
                    key: r.get(1)?,
                    customer: ext(r.get(2)?)?,
                    name: r.get(3)?,
                    email: r.get(4)?,
                    revenue: Money::from_e4(r.get(5)?),
                    first_requested_at: from_micros(r.get(6)?),
                    last_requested_at: from_micros(r.get(7)?),
                    feedback: r.get(8)?,
                    sentiment: r.get::<_, Option<f64>>(9)?.map(|s| s / 1e4),
                    added: r.get::<_, i64>(10)? == 1,
                    note: r.get(11)?,
                    added_by: r.get(12)?,
                    via: r.get(13)?,
                },
            ))
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

fn detail(c: &Connection, id: i64) -> StoreResult<IdeaDetail> {
    let record = records(c, None, Some(id))?.pop().ok_or_else(|| missing(id))?;
    Ok(IdeaDetail {
        record,
        evidence: evidence(c, id)?,
        requesters: requesters(c, Some(id))?.into_iter().map(|(_, r)| r).collect(),
        history: history(c, id)?,
    })
}

fn event_usage(c: &Connection, events: &[String], since: i64) -> StoreResult<EventUsage> {
    // Customers active in the window: their summary keeps their last event.
    let active = c
        .prepare_cached("SELECT COUNT(*) FROM customer_summaries WHERE last_event_at >= ?1")
        .map_err(db_err)?
        .query_row([since], |r| r.get(0))
        .map_err(db_err)?;
    let mut stmt = c
        .prepare_cached(
            "SELECT COUNT(DISTINCT customer_id) FROM events INDEXED BY events_name_at
              WHERE name = ?1 AND at >= ?2",
        )
        .map_err(db_err)?;
    let mut out = EventUsage { active, events: Vec::new() };
    for e in events {
        let n: i64 = stmt.query_row((e, since), |r| r.get(0)).map_err(db_err)?;
        out.events.push((e.clone(), n));
    }
    Ok(out)
}

#[async_trait]
impl IdeaStore for SqliteStore {
    async fn create_idea(&self, idea: &Idea, who: &Actor) -> StoreResult<i64> {
        let (idea, who) = (idea.clone(), who.clone());
        self.write(false, move |tx| create(tx, &idea, &who)).await
    }

    async fn update_idea(&self, id: i64, idea: &Idea, who: &Actor) -> StoreResult<()> {
        let (idea, who) = (idea.clone(), who.clone());
        self.write(false, move |tx| update(tx, id, &idea, &who)).await
    }

    async fn ideas(&self, status: Option<IdeaStatus>) -> StoreResult<Vec<IdeaRecord>> {
        self.read(move |c| records(c, status, None)).await
    }

    async fn idea(&self, id: i64) -> StoreResult<IdeaDetail> {
        self.read(move |c| detail(c, id)).await
    }

    async fn link_feedback(
        &self,
        id: i64,
        feedback: &ExternalId,
        who: &Actor,
    ) -> StoreResult<bool> {
        let (f, who) = (feedback.clone(), who.clone());
        self.write(false, move |tx| link(tx, id, &f, &who)).await
    }

    async fn unlink_feedback(&self, id: i64, feedback: &ExternalId) -> StoreResult<()> {
        let f = feedback.clone();
        self.write(false, move |tx| unlink(tx, id, &f)).await
    }

    async fn add_requester(
        &self,
        id: i64,
        customer: &ExternalId,
        note: Option<&str>,
        who: &Actor,
    ) -> StoreResult<bool> {
        let (c, note, who) = (customer.clone(), note.map(str::to_string), who.clone());
        self.write(false, move |tx| add_requester(tx, id, &c, note.as_deref(), &who)).await
    }

    async fn remove_requester(&self, id: i64, customer: &ExternalId) -> StoreResult<()> {
        let c = customer.clone();
        self.write(false, move |tx| remove_requester(tx, id, &c)).await
    }

    async fn set_idea_status(
        &self,
        id: i64,
        to: IdeaStatus,
        who: &Actor,
    ) -> StoreResult<StatusChange> {
        let who = who.clone();
        self.write(false, move |tx| set_status(tx, id, to, &who)).await
    }

    async fn idea_requesters(&self, id: Option<i64>) -> StoreResult<Vec<(i64, Requester)>> {
        self.read(move |c| requesters(c, id)).await
    }

    async fn event_usage(
        &self,
        events: &[String],
        since: rapport_core::Timestamp,
    ) -> StoreResult<EventUsage> {
        let events = events.to_vec();
        self.read(move |c| event_usage(c, &events, to_micros(since))).await
    }
}

//! The feedback inbox (schema v8): the filtered list in inbox-key order, triage, merged
//! near-duplicates, stored themes and materialised segments.

use crate::read::{conv, ext};
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_analytics::themes::Theme;
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{
    FeedbackText, InboxDetail, InboxItem, InboxQuery, InboxStore, ListPage, StoreError,
    StoreResult, StoredThemes, ThemeVolume, Triage,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, Transaction};

/// The inbox key of row `f`: its creation minute above 34 bits of id (the indexed expression).
const KEY: &str = "(((f.created_at / 60000000) << 34) + f.id)";
const ID_MASK: i64 = (1 << rapport_store::INBOX_KEY_ID_BITS) - 1;

fn select(from: &str) -> String {
    format!(
        "SELECT {KEY}, f.external_id, c.external_id, c.name, f.source, f.text, f.rating,
                f.created_at, f.sentiment_e4, f.status, f.theme, t.label, d.external_id,
                (SELECT COUNT(*) FROM feedback m WHERE m.duplicate_of = f.id)
         FROM {from}
         JOIN customers c ON c.id = f.customer_id
         LEFT JOIN themes t ON t.id = f.theme
         LEFT JOIN feedback d ON d.id = f.duplicate_of"
    )
}

fn item(r: &Row<'_>) -> rusqlite::Result<InboxItem> {
    let micros = |i| r.get::<_, i64>(i).map(from_micros);
    Ok(InboxItem {
        key: r.get(0)?,
        id: ext(r, 1)?,
        customer: ext(r, 2)?,
        customer_name: r.get(3)?,
        source: r.get(4)?,
        text: r.get(5)?,
        rating: r.get(6)?,
        created_at: micros(7)?,
        sentiment: r.get::<_, Option<i64>>(8)?.map(|s| s as f64 / 10_000.0),
        status: Triage::parse(&r.get::<_, String>(9)?).map_err(conv)?,
        theme: r.get(10)?,
        theme_label: r.get(11)?,
        duplicate_of: r
            .get::<_, Option<String>>(12)?
            .map(|s| ExternalId::parse(&s))
            .transpose()
            .map_err(conv)?,
        merged: r.get(13)?,
    })
}

/// The conditions of the query's filters on `f`, with their arguments.
fn conditions(q: &InboxQuery, after: Option<i64>) -> (Vec<String>, Vec<Value>) {
    let (mut conds, mut args) = (Vec::new(), Vec::<Value>::new());
    let mut push = |cond: String, arg: Option<Value>| {
        conds.push(cond);
        args.extend(arg);
    };
    if !q.words.is_empty() {
        // Each word quoted: a word alone, never FTS5 query syntax.
        let quoted: Vec<String> = q.words.iter().map(|w| format!("\"{w}\"")).collect();
        push("feedback_fts MATCH ?".into(), Some(Value::Text(quoted.join(" "))));
    }
    if let Some(k) = after {
        push(format!("{KEY} < ?"), Some(Value::Integer(k)));
    }
    if !q.include_merged {
        push("f.duplicate_of IS NULL".into(), None);
    }
    if !q.sources.is_empty() {
        let marks = vec!["?"; q.sources.len()].join(", ");
        conds.push(format!("f.source IN ({marks})"));
        args.extend(q.sources.iter().map(|s| Value::Text(s.clone())));
    }
    let mut push = |cond: String, arg: Option<Value>| {
        conds.push(cond);
        args.extend(arg);
    };
    if let Some(s) = q.status {
        push("f.status = ?".into(), Some(Value::Text(s.as_str().into())));
    }
    if let Some(b) = q.sentiment {
        let (lo, hi) = b.bounds_e4();
        push(format!("f.sentiment_e4 BETWEEN {lo} AND {hi}"), None);
    }
    if let Some(t) = &q.theme {
        push("f.theme = ?".into(), Some(Value::Text(t.clone())));
    }
    if let Some(s) = &q.segment {
        push(
            "EXISTS (SELECT 1 FROM segment_members m WHERE m.segment = ? AND m.customer_id = f.customer_id)".into(),
            Some(Value::Text(s.clone())),
        );
    }
    if let Some(c) = &q.customer {
        push(
            "f.customer_id = (SELECT id FROM customers WHERE external_id = ?)".into(),
            Some(Value::Text(c.as_str().into())),
        );
    }
    if let Some(t) = q.from {
        push("f.created_at >= ?".into(), Some(Value::Integer(to_micros(t))));
    }
    if let Some(t) = q.to {
        push("f.created_at < ?".into(), Some(Value::Integer(to_micros(t))));
    }
    (conds, args)
}

fn inbox(c: &Connection, q: &InboxQuery) -> StoreResult<ListPage<InboxItem>> {
    let (conds, mut args) = conditions(q, q.after_key()?);
    // A search walks the full-text index, whose row ids are inbox keys, newest first; a list
    // without one walks the inbox-key index.
    let (from, order) = if q.words.is_empty() {
        ("feedback f".to_string(), format!("{KEY} DESC"))
    } else {
        (
            format!("feedback_fts JOIN feedback f ON f.id = (feedback_fts.rowid & {ID_MASK})"),
            "feedback_fts.rowid DESC".to_string(),
        )
    };
    let where_ =
        if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let sql = format!("{} {where_} ORDER BY {order} LIMIT ?", select(&from));
    args.push(Value::Integer(q.limit as i64 + 1));
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), item).map_err(db_err)?;
    Ok(q.page(rows.collect::<Result<_, _>>().map_err(db_err)?))
}

fn key_of(c: &Connection, id: &ExternalId) -> StoreResult<(i64, Option<i64>)> {
    c.prepare_cached("SELECT id, duplicate_of FROM feedback WHERE external_id = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("feedback '{id}'")))
}

fn by_key(c: &Connection, key: i64) -> StoreResult<Option<InboxItem>> {
    c.prepare_cached(&format!("{} WHERE f.id = ?1", select("feedback f")))
        .map_err(db_err)?
        .query_row([key], item)
        .optional()
        .map_err(db_err)
}

fn detail(c: &Connection, id: &ExternalId) -> StoreResult<InboxDetail> {
    let (key, _) = key_of(c, id)?;
    let one = by_key(c, key)?.ok_or_else(|| StoreError::NotFound(format!("feedback '{id}'")))?;
    let sql = format!("{} WHERE f.duplicate_of = ?1 ORDER BY {KEY} DESC", select("feedback f"));
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let merged = stmt.query_map([key], item).map_err(db_err)?;
    Ok(InboxDetail { item: one, merged: merged.collect::<Result<_, _>>().map_err(db_err)? })
}

fn set_triage(tx: &Transaction<'_>, ids: &[ExternalId], status: Triage) -> StoreResult<usize> {
    let keys: Vec<i64> =
        ids.iter().map(|id| key_of(tx, id).map(|k| k.0)).collect::<Result<_, _>>()?;
    let mut stmt = tx
        .prepare_cached("UPDATE feedback SET status = ?2 WHERE id = ?1 AND status <> ?2")
        .map_err(db_err)?;
    keys.iter().try_fold(0, |n, k| Ok(n + stmt.execute((k, status.as_str())).map_err(db_err)?))
}

fn merge(tx: &Transaction<'_>, ids: &[ExternalId], into: &ExternalId) -> StoreResult<usize> {
    let (target, parent) = key_of(tx, into)?;
    let primary = parent.unwrap_or(target);
    let mut n = 0;
    for id in ids {
        let (key, _) = key_of(tx, id)?;
        if key == primary {
            return Err(StoreError::Invalid(format!(
                "feedback '{id}' cannot be merged into itself"
            )));
        }
        n += tx
            .execute(
                "UPDATE feedback SET duplicate_of = ?2 WHERE id = ?1 AND duplicate_of IS NOT ?2",
                (key, primary),
            )
            .map_err(db_err)?;
        tx.execute("UPDATE feedback SET duplicate_of = ?2 WHERE duplicate_of = ?1", (key, primary))
            .map_err(db_err)?;
    }
    Ok(n)
}

fn texts(c: &Connection, after: i64, limit: usize) -> StoreResult<Vec<FeedbackText>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT id, external_id, text, created_at, theme FROM feedback
             WHERE id > ?1 AND text IS NOT NULL AND text <> '' ORDER BY id LIMIT ?2",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map((after, limit as i64), |r| {
            Ok(FeedbackText {
                key: r.get(0)?,
                id: ext(r, 1)?,
                text: r.get(2)?,
                created_at: from_micros(r.get(3)?),
                theme: r.get(4)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

fn state(c: &Connection, name: &str) -> StoreResult<Option<i64>> {
    c.query_row("SELECT value FROM analysis_state WHERE name = ?1", [name], |r| r.get(0))
        .optional()
        .map_err(db_err)
}

fn stored_themes(c: &Connection) -> StoreResult<StoredThemes> {
    let mut stmt =
        c.prepare_cached("SELECT definition FROM themes ORDER BY position").map_err(db_err)?;
    let defs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db_err)?;
    let themes = defs
        .map(|d| serde_json::from_str::<Theme>(&d.map_err(db_err)?).map_err(StoreError::other))
        .collect::<StoreResult<_>>()?;
    let computed_at = state(c, "themes_at")?.map(from_micros);
    Ok(StoredThemes { themes, computed_at, through: state(c, "themes_through")?.unwrap_or(0) })
}

fn save_themes(
    tx: &Transaction<'_>,
    themes: Option<Vec<Theme>>,
    assignments: &[(i64, Option<String>)],
    through: i64,
    at: i64,
) -> StoreResult<()> {
    if let Some(themes) = themes {
        tx.execute("DELETE FROM themes", []).map_err(db_err)?;
        let mut ins = tx
            .prepare_cached(
                "INSERT INTO themes (id, position, label, definition) VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(db_err)?;
        for (i, t) in themes.iter().enumerate() {
            let def = serde_json::to_string(t).map_err(StoreError::other)?;
            ins.execute((t.id.to_string(), i as i64, &t.label, def)).map_err(db_err)?;
        }
        set_state(tx, "themes_at", at)?;
    }
    let mut upd = tx
        .prepare_cached("UPDATE feedback SET theme = ?2 WHERE id = ?1 AND theme IS NOT ?2")
        .map_err(db_err)?;
    for (key, theme) in assignments {
        upd.execute((key, theme)).map_err(db_err)?;
    }
    set_state(tx, "themes_through", through)
}

fn set_state(tx: &Transaction<'_>, name: &str, value: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO analysis_state (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )
    .map(drop)
    .map_err(db_err)
}

fn theme_volumes(c: &Connection, since: i64) -> StoreResult<Vec<ThemeVolume>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT theme, (created_at / 86400000000 + 3) / 7, COUNT(*), COUNT(sentiment_e4),
                    COALESCE(SUM(sentiment_e4), 0), COALESCE(SUM(sentiment_e4 <= -500), 0)
             FROM feedback WHERE theme IS NOT NULL AND duplicate_of IS NULL AND created_at >= ?1
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(db_err)?;
    let mut out: Vec<ThemeVolume> = Vec::new();
    for row in rows {
        let (theme, week, n, scored, sum, neg): (String, i64, i64, i64, i64, i64) =
            row.map_err(db_err)?;
        if out.last().is_none_or(|v| v.theme != theme) {
            out.push(ThemeVolume {
                theme,
                items: 0,
                scored: 0,
                sentiment_sum: 0.0,
                negative: 0,
                weeks: Vec::new(),
            });
        }
        let v = out.last_mut().expect("pushed above");
        v.items += n;
        v.scored += scored;
        v.sentiment_sum += sum as f64 / 10_000.0;
        v.negative += neg;
        v.weeks.push((week * 7 - 3, n));
    }
    Ok(out)
}

fn set_members(tx: &Transaction<'_>, segment: &str, customers: &[i64]) -> StoreResult<()> {
    tx.execute("DELETE FROM segment_members WHERE segment = ?1", [segment]).map_err(db_err)?;
    let mut ins = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO segment_members (segment, customer_id) VALUES (?1, ?2)",
        )
        .map_err(db_err)?;
    for c in customers {
        ins.execute((segment, c)).map_err(db_err)?;
    }
    Ok(())
}

fn segments(c: &Connection) -> StoreResult<Vec<(String, i64)>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT segment, COUNT(*) FROM segment_members GROUP BY segment ORDER BY segment",
        )
        .map_err(db_err)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

#[async_trait]
impl InboxStore for SqliteStore {
    async fn inbox(&self, q: &InboxQuery) -> StoreResult<ListPage<InboxItem>> {
        let q = q.clone();
        self.read(move |c| inbox(c, &q)).await
    }

    async fn inbox_item(&self, id: &ExternalId) -> StoreResult<InboxDetail> {
        let id = id.clone();
        self.read(move |c| detail(c, &id)).await
    }

    async fn inbox_items(&self, keys: &[i64]) -> StoreResult<Vec<InboxItem>> {
        let keys = keys.to_vec();
        self.read(move |c| keys.iter().filter_map(|&k| by_key(c, k).transpose()).collect()).await
    }

    async fn set_triage(&self, ids: &[ExternalId], status: Triage) -> StoreResult<usize> {
        let ids = ids.to_vec();
        self.write(false, move |tx| set_triage(tx, &ids, status)).await
    }

    async fn merge_feedback(&self, ids: &[ExternalId], into: &ExternalId) -> StoreResult<usize> {
        let (ids, into) = (ids.to_vec(), into.clone());
        self.write(false, move |tx| merge(tx, &ids, &into)).await
    }

    async fn unmerge_feedback(&self, id: &ExternalId) -> StoreResult<()> {
        let id = id.clone();
        self.write(false, move |tx| {
            let (key, _) = key_of(tx, &id)?;
            tx.execute("UPDATE feedback SET duplicate_of = NULL WHERE id = ?1", [key])
                .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn feedback_texts(&self, after: i64, limit: usize) -> StoreResult<Vec<FeedbackText>> {
        self.read(move |c| texts(c, after, limit)).await
    }

    async fn stored_themes(&self) -> StoreResult<StoredThemes> {
        self.read(stored_themes).await
    }

    async fn save_themes(
        &self,
        themes: Option<Vec<Theme>>,
        assignments: Vec<(i64, Option<String>)>,
        through: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        let at = to_micros(at);
        self.write(false, move |tx| save_themes(tx, themes, &assignments, through, at)).await
    }

    async fn theme_volumes(&self, since: Timestamp) -> StoreResult<Vec<ThemeVolume>> {
        let since = to_micros(since);
        self.read(move |c| theme_volumes(c, since)).await
    }

    async fn set_segment_members(&self, segment: &str, customers: Vec<i64>) -> StoreResult<()> {
        let segment = segment.to_string();
        self.write(false, move |tx| set_members(tx, &segment, &customers)).await
    }

    async fn segments(&self) -> StoreResult<Vec<(String, i64)>> {
        self.read(segments).await
    }
}

//! The feedback inbox (schema v8): the [`InboxStore`] of [`PgStore`]. The list is one
//! statement in inbox-key order; with a search the planner picks between walking that index
//! and testing each row (common words) and the GIN index then a sort (rare ones).

use crate::{PgStore, db_err, ext_id, finish, get};
use async_trait::async_trait;
use rapport_analytics::themes::Theme;
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{
    FeedbackText, InboxDetail, InboxItem, InboxQuery, InboxStore, ListPage, StoreError,
    StoreResult, StoredThemes, ThemeVolume, Triage,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Postgres, QueryBuilder};

const SELECT: &str = "SELECT f.inbox_key, f.external_id, c.external_id, c.name, f.source, f.text,
        f.rating::int4, f.created_at, f.sentiment_e4, f.status, f.theme, t.label, d.external_id,
        (SELECT COUNT(*) FROM feedback m WHERE m.duplicate_of = f.id)
     FROM feedback f
     JOIN customers c ON c.id = f.customer_id
     LEFT JOIN themes t ON t.id = f.theme
     LEFT JOIN feedback d ON d.id = f.duplicate_of";

fn item(r: &PgRow) -> StoreResult<InboxItem> {
    Ok(InboxItem {
        key: get(r, 0)?,
        id: ext_id(get(r, 1)?)?,
        customer: ext_id(get(r, 2)?)?,
        customer_name: get(r, 3)?,
        source: get(r, 4)?,
        text: get(r, 5)?,
        rating: get(r, 6)?,
        created_at: get(r, 7)?,
        sentiment: get::<Option<i32>>(r, 8)?.map(|s| f64::from(s) / 10_000.0),
        status: Triage::parse(&get::<String>(r, 9)?).map_err(StoreError::Invalid)?,
        theme: get(r, 10)?,
        theme_label: get(r, 11)?,
        duplicate_of: get::<Option<String>>(r, 12)?.map(ext_id).transpose()?,
        merged: get(r, 13)?,
    })
}

/// Appends the filters of `q` (and the page position) as a WHERE clause.
fn push_filters(b: &mut QueryBuilder<Postgres>, q: &InboxQuery, after: Option<i64>) {
    let mut sep = " WHERE ";
    let mut next = |b: &mut QueryBuilder<Postgres>, sql: &str| {
        b.push(sep).push(sql);
        sep = " AND ";
    };
    if !q.words.is_empty() {
        // Letters and digits only, so each quoted word is a plain lexeme.
        let query: Vec<String> = q.words.iter().map(|w| format!("'{w}'")).collect();
        next(b, "f.search @@ to_tsquery('simple', ");
        b.push_bind(query.join(" & ")).push(")");
    }
    if let Some(k) = after {
        next(b, "f.inbox_key < ");
        b.push_bind(k);
    }
    if !q.include_merged {
        next(b, "f.duplicate_of IS NULL");
    }
    if !q.sources.is_empty() {
        next(b, "f.source = ANY(");
        b.push_bind(q.sources.clone()).push(")");
    }
    if let Some(s) = q.status {
        next(b, "f.status = ");
        b.push_bind(s.as_str());
    }
    if let Some(band) = q.sentiment {
        let (lo, hi) = band.bounds_e4();
        next(b, &format!("f.sentiment_e4 BETWEEN {lo} AND {hi}"));
    }
    if let Some(t) = &q.theme {
        next(b, "f.theme = ");
        b.push_bind(t.clone());
    }
    if let Some(s) = &q.segment {
        next(
            b,
            "EXISTS (SELECT 1 FROM segment_members m WHERE m.customer_id = f.customer_id AND m.segment = ",
        );
        b.push_bind(s.clone()).push(")");
    }
    if let Some(c) = &q.customer {
        next(b, "f.customer_id = (SELECT id FROM customers WHERE external_id = ");
        b.push_bind(c.to_string()).push(")");
    }
    if let Some(t) = q.from {
        next(b, "f.created_at >= ");
        b.push_bind(t);
    }
    if let Some(t) = q.to {
        next(b, "f.created_at < ");
        b.push_bind(t);
    }
}

async fn key_of(c: &mut PgConnection, id: &ExternalId) -> StoreResult<(i64, Option<i64>)> {
    let row = sqlx::query("SELECT id, duplicate_of FROM feedback WHERE external_id = $1")
        .bind(id.as_str())
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("feedback '{id}'")))?;
    Ok((get(&row, 0)?, get(&row, 1)?))
}

async fn merge(c: &mut PgConnection, ids: &[ExternalId], into: &ExternalId) -> StoreResult<usize> {
    let (target, parent) = key_of(c, into).await?;
    let primary = parent.unwrap_or(target);
    let mut n = 0;
    for id in ids {
        let (key, _) = key_of(c, id).await?;
        if key == primary {
            return Err(StoreError::Invalid(format!(
                "feedback '{id}' cannot be merged into itself"
            )));
        }
        n += sqlx::query("UPDATE feedback SET duplicate_of = $2 WHERE id = $1 AND duplicate_of IS DISTINCT FROM $2")
            .bind(key)
            .bind(primary)
            .execute(&mut *c)
            .await
            .map_err(db_err)?
            .rows_affected() as usize;
        sqlx::query("UPDATE feedback SET duplicate_of = $2 WHERE duplicate_of = $1")
            .bind(key)
            .bind(primary)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    Ok(n)
}

async fn state(pool: &sqlx::PgPool, name: &str) -> StoreResult<Option<i64>> {
    sqlx::query_scalar("SELECT value FROM analysis_state WHERE name = $1")
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(db_err)
}

async fn set_state(c: &mut PgConnection, name: &str, value: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO analysis_state (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )
    .bind(name)
    .bind(value)
    .execute(c)
    .await
    .map(drop)
    .map_err(db_err)
}

async fn replace_themes(c: &mut PgConnection, themes: &[Theme]) -> StoreResult<()> {
    sqlx::query("DELETE FROM themes").execute(&mut *c).await.map_err(db_err)?;
    let defs = themes
        .iter()
        .map(serde_json::to_string)
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::other)?;
    sqlx::query(
        "INSERT INTO themes (id, position, label, definition)
         SELECT * FROM unnest($1::text[], $2::int4[], $3::text[], $4::text[])",
    )
    .bind(themes.iter().map(|t| t.id.to_string()).collect::<Vec<_>>())
    .bind((0..themes.len() as i32).collect::<Vec<_>>())
    .bind(themes.iter().map(|t| t.label.clone()).collect::<Vec<_>>())
    .bind(defs)
    .execute(c)
    .await
    .map(drop)
    .map_err(db_err)
}

#[async_trait]
impl InboxStore for PgStore {
    async fn inbox(&self, q: &InboxQuery) -> StoreResult<ListPage<InboxItem>> {
        let mut b = QueryBuilder::new(SELECT);
        push_filters(&mut b, q, q.after_key()?);
        b.push(" ORDER BY f.inbox_key DESC LIMIT ").push_bind(q.limit as i64 + 1);
        let rows = b.build().fetch_all(&self.pool).await.map_err(db_err)?;
        Ok(q.page(rows.iter().map(item).collect::<StoreResult<_>>()?))
    }

    async fn inbox_item(&self, id: &ExternalId) -> StoreResult<InboxDetail> {
        let missing = || StoreError::NotFound(format!("feedback '{id}'"));
        let sql = format!("{SELECT} WHERE f.external_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or_else(missing)?;
        let item = item(&row)?;
        let sql = format!(
            "{SELECT} WHERE f.duplicate_of = (SELECT id FROM feedback WHERE external_id = $1)
             ORDER BY f.inbox_key DESC"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(InboxDetail { item, merged: rows.iter().map(self::item).collect::<StoreResult<_>>()? })
    }

    async fn inbox_items(&self, keys: &[i64]) -> StoreResult<Vec<InboxItem>> {
        let sql = format!(
            "{SELECT} JOIN unnest($1::int8[]) WITH ORDINALITY k(id, n) ON k.id = f.id ORDER BY k.n"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(keys.to_vec())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(item).collect()
    }

    async fn set_triage(&self, ids: &[ExternalId], status: Triage) -> StoreResult<usize> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let mut n = 0;
        for id in ids {
            let (key, _) = key_of(&mut tx, id).await?;
            n += sqlx::query("UPDATE feedback SET status = $2 WHERE id = $1 AND status <> $2")
                .bind(key)
                .bind(status.as_str())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?
                .rows_affected() as usize;
        }
        finish(tx, false).await?;
        Ok(n)
    }

    async fn merge_feedback(&self, ids: &[ExternalId], into: &ExternalId) -> StoreResult<usize> {
        let mut tx = self.begin().await?;
        let n = merge(&mut tx, ids, into).await?;
        finish(tx, false).await?;
        Ok(n)
    }

    async fn unmerge_feedback(&self, id: &ExternalId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let (key, _) = key_of(&mut tx, id).await?;
        sqlx::query("UPDATE feedback SET duplicate_of = NULL WHERE id = $1")
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        finish(tx, false).await
    }

    async fn feedback_texts(&self, after: i64, limit: usize) -> StoreResult<Vec<FeedbackText>> {
        let rows = sqlx::query(
            "SELECT id, external_id, text, created_at, theme FROM feedback
             WHERE id > $1 AND text IS NOT NULL AND text <> '' ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(FeedbackText {
                    key: get(r, 0)?,
                    id: ext_id(get(r, 1)?)?,
                    text: get(r, 2)?,
                    created_at: get(r, 3)?,
                    theme: get(r, 4)?,
                })
            })
            .collect()
    }

    async fn stored_themes(&self) -> StoreResult<StoredThemes> {
        let defs: Vec<String> =
            sqlx::query_scalar("SELECT definition FROM themes ORDER BY position")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        let themes = defs
            .iter()
            .map(|d| serde_json::from_str::<Theme>(d).map_err(StoreError::other))
            .collect::<StoreResult<_>>()?;
        let computed_at =
            state(&self.pool, "themes_at").await?.map(rapport_core::value::from_micros);
        let through = state(&self.pool, "themes_through").await?.unwrap_or(0);
        Ok(StoredThemes { themes, computed_at, through })
    }

    async fn save_themes(
        &self,
        themes: Option<Vec<Theme>>,
        assignments: Vec<(i64, Option<String>)>,
        through: i64,
        at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        if let Some(themes) = themes {
            replace_themes(&mut tx, &themes).await?;
            set_state(&mut tx, "themes_at", rapport_core::value::to_micros(at)).await?;
        }
        let (keys, ids): (Vec<i64>, Vec<Option<String>>) = assignments.into_iter().unzip();
        sqlx::query(
            "UPDATE feedback f SET theme = a.theme
             FROM unnest($1::int8[], $2::text[]) a(id, theme)
             WHERE f.id = a.id AND f.theme IS DISTINCT FROM a.theme",
        )
        .bind(keys)
        .bind(ids)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        set_state(&mut tx, "themes_through", through).await?;
        finish(tx, false).await
    }

    async fn theme_volumes(&self, since: Timestamp) -> StoreResult<Vec<ThemeVolume>> {
        let rows = sqlx::query(
            "SELECT theme, floor((floor(extract(epoch FROM created_at) / 86400) + 3) / 7)::int8,
                    COUNT(*), COUNT(sentiment_e4), COALESCE(SUM(sentiment_e4), 0)::int8,
                    COUNT(*) FILTER (WHERE sentiment_e4 <= -500)
             FROM feedback WHERE theme IS NOT NULL AND duplicate_of IS NULL AND created_at >= $1
             GROUP BY 1, 2 ORDER BY 1, 2",
        )
        .bind(since)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut out: Vec<ThemeVolume> = Vec::new();
        for r in &rows {
            let theme: String = get(r, 0)?;
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
            let (week, n): (i64, i64) = (get(r, 1)?, get(r, 2)?);
            v.items += n;
            v.scored += get::<i64>(r, 3)?;
            v.sentiment_sum += get::<i64>(r, 4)? as f64 / 10_000.0;
            v.negative += get::<i64>(r, 5)?;
            v.weeks.push((week * 7 - 3, n));
        }
        Ok(out)
    }

    async fn set_segment_members(&self, segment: &str, customers: Vec<i64>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM segment_members WHERE segment = $1")
            .bind(segment)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO segment_members (segment, customer_id)
             SELECT $1, c FROM unnest($2::int8[]) c ON CONFLICT DO NOTHING",
        )
        .bind(segment)
        .bind(customers)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        finish(tx, false).await
    }

    async fn segments(&self) -> StoreResult<Vec<(String, i64)>> {
        sqlx::query_as(
            "SELECT segment, COUNT(*) FROM segment_members GROUP BY segment ORDER BY segment",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }
}

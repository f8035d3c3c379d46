//! Saved segments, their members and size history (schema v12): the [`SegmentStore`] of
//! [`PgStore`]. A refresh locks its segment's row (`FOR UPDATE`), so two concurrent refreshes
//! of one segment take turns and each records a difference against the other's members.

use crate::{PgStore, db_err, finish, get};
use async_trait::async_trait;
use rapport_core::Timestamp;
use rapport_store::{
    EventTime, Page, SavedSegment, SegmentSpec, SegmentStore, SizePoint, StoreError, StoreResult,
    diff_sorted, members_name,
};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool};

const SEGMENT: &str = "SELECT slug, name, expression, description, created_at, updated_at,
       created_by, refreshed_at, size FROM saved_segments";

fn segment(r: &PgRow) -> StoreResult<SavedSegment> {
    Ok(SavedSegment {
        slug: get(r, 0)?,
        spec: SegmentSpec { name: get(r, 1)?, expression: get(r, 2)?, description: get(r, 3)? },
        created_at: get(r, 4)?,
        updated_at: get(r, 5)?,
        created_by: get(r, 6)?,
        refreshed_at: get(r, 7)?,
        size: get(r, 8)?,
    })
}

fn missing(slug: &str) -> StoreError {
    StoreError::NotFound(format!("segment {slug}"))
}

/// PostgreSQL text cannot hold NUL.
fn no_nul(s: &SegmentSpec) -> StoreResult<()> {
    let fields =
        [("name", &s.name), ("expression", &s.expression), ("description", &s.description)];
    match fields.iter().find(|(_, v)| v.contains('\0')) {
        Some((f, _)) => Err(StoreError::Invalid(format!("{f} contains a NUL character"))),
        None => Ok(()),
    }
}

async fn one(c: &mut PgConnection, slug: &str, lock: bool) -> StoreResult<SavedSegment> {
    let sql = format!("{SEGMENT} WHERE slug = $1{}", if lock { " FOR UPDATE" } else { "" });
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(slug)
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    row.as_ref().map(segment).transpose()?.ok_or_else(|| missing(slug))
}

async fn member_keys(c: &mut PgConnection, name: &str) -> StoreResult<Vec<i64>> {
    sqlx::query_scalar(
        "SELECT customer_id FROM segment_members WHERE segment = $1 ORDER BY customer_id",
    )
    .bind(name)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)
}

/// Writes only the difference, set-based.
async fn refresh(
    c: &mut PgConnection,
    slug: &str,
    mut members: Vec<i64>,
    at: Timestamp,
) -> StoreResult<SizePoint> {
    one(c, slug, true).await?;
    members.sort_unstable();
    members.dedup();
    let name = members_name(slug);
    let old = member_keys(c, &name).await?;
    let (entered, left) = diff_sorted(&old, &members);
    sqlx::query("DELETE FROM segment_members WHERE segment = $1 AND customer_id = ANY($2)")
        .bind(&name)
        .bind(&left)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    // Customers erased since the filter ran are skipped rather than failing the refresh.
    let added = sqlx::query(
        "INSERT INTO segment_members (segment, customer_id)
         SELECT $1, c.id FROM customers c WHERE c.id = ANY($2) ON CONFLICT DO NOTHING",
    )
    .bind(&name)
    .bind(&entered)
    .execute(&mut *c)
    .await
    .map_err(db_err)?
    .rows_affected() as i64;
    let size = (old.len() - left.len()) as i64 + added;
    let point = SizePoint { at, size, entered: added, left: left.len() as i64 };
    sqlx::query(
        "INSERT INTO segment_sizes (slug, at, size, entered, \"left\") VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (slug, at) DO UPDATE SET size = excluded.size,
             entered = excluded.entered, \"left\" = excluded.\"left\"",
    )
    .bind(slug)
    .bind(at)
    .bind(point.size)
    .bind(point.entered)
    .bind(point.left)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    sqlx::query("UPDATE saved_segments SET refreshed_at = $2, size = $3 WHERE slug = $1")
        .bind(slug)
        .bind(at)
        .bind(size)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(point)
}

#[async_trait]
impl SegmentStore for PgStore {
    async fn create_segment(
        &self,
        slug: &str,
        spec: &SegmentSpec,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<SavedSegment> {
        no_nul(spec)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH s AS (INSERT INTO saved_segments (slug, name, expression, description,
                 created_at, updated_at, created_by) VALUES ($1, $2, $3, $4, $5, $5, $6)
                 ON CONFLICT (slug) DO NOTHING RETURNING *)
             {}",
            SEGMENT.replace("saved_segments", "s")
        )))
        .bind(slug)
        .bind(&spec.name)
        .bind(&spec.expression)
        .bind(&spec.description)
        .bind(at)
        .bind(by)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        match row {
            Some(r) => segment(&r),
            None => Err(StoreError::Conflict(format!("a segment '{slug}' exists already"))),
        }
    }

    async fn saved_segments(&self) -> StoreResult<Vec<SavedSegment>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SEGMENT} ORDER BY name, slug")))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(segment).collect()
    }

    async fn saved_segment(&self, slug: &str) -> StoreResult<SavedSegment> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        one(&mut c, slug, false).await
    }

    async fn update_segment(
        &self,
        slug: &str,
        spec: &SegmentSpec,
        at: Timestamp,
    ) -> StoreResult<SavedSegment> {
        no_nul(spec)?;
        let n = sqlx::query(
            "UPDATE saved_segments SET name = $2, expression = $3, description = $4,
                 updated_at = $5 WHERE slug = $1",
        )
        .bind(slug)
        .bind(&spec.name)
        .bind(&spec.expression)
        .bind(&spec.description)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        if n == 0 {
            return Err(missing(slug));
        }
        self.saved_segment(slug).await
    }

    async fn delete_segment(&self, slug: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("DELETE FROM segment_members WHERE segment = $1")
            .bind(members_name(slug))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let n = sqlx::query("DELETE FROM saved_segments WHERE slug = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if n == 0 {
            return Err(missing(slug));
        }
        finish(tx, false).await
    }

    async fn refresh_segment(
        &self,
        slug: &str,
        members: Vec<i64>,
        at: Timestamp,
    ) -> StoreResult<SizePoint> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let point = refresh(&mut tx, slug, members, at).await?;
        finish(tx, false).await?;
        Ok(point)
    }

    async fn segment_history(&self, slug: &str) -> StoreResult<Vec<SizePoint>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        one(&mut c, slug, false).await?;
        let rows: Vec<(Timestamp, i64, i64, i64)> = sqlx::query_as(
            "SELECT at, size, entered, \"left\" FROM segment_sizes WHERE slug = $1 ORDER BY at",
        )
        .bind(slug)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(at, size, entered, left)| SizePoint { at, size, entered, left })
            .collect())
    }

    async fn segment_member_keys(
        &self,
        slug: &str,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<i64>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        one(&mut c, slug, false).await?;
        let limit = limit.max(1);
        let mut items: Vec<i64> = sqlx::query_scalar(
            "SELECT customer_id FROM segment_members WHERE segment = $1 AND customer_id > $2
              ORDER BY customer_id LIMIT $3",
        )
        .bind(members_name(slug))
        .bind(after.unwrap_or(i64::MIN))
        .bind(limit as i64 + 1)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            *items.last().expect("limit > 0")
        });
        Ok(Page { items, next })
    }
}

/// Every event of the names, from the `(name, at, customer_id)` index, one query for all.
pub(crate) async fn event_times(pool: &PgPool, names: &[String]) -> StoreResult<Vec<EventTime>> {
    let rows: Vec<(i64, i32, Timestamp)> = sqlx::query_as(
        "SELECT e.customer_id, (n.i - 1)::int4, e.at
           FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
           JOIN events e ON e.name = n.name",
    )
    .bind(names)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|(customer, i, at)| EventTime { customer, name: i as u32, at })
        .collect())
}

//! Saved segments, their members and size history (schema v12).

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_core::Timestamp;
use rapport_core::value::{from_micros, to_micros};
use rapport_store::{
    Page, SavedSegment, SegmentSpec, SegmentStore, SizePoint, StoreError, StoreResult, members_name,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction};

const SEGMENT: &str = "SELECT slug, name, expression, description, created_at, updated_at,
       created_by, refreshed_at, size FROM saved_segments";

fn segment(r: &Row<'_>) -> rusqlite::Result<SavedSegment> {
    Ok(SavedSegment {
        slug: r.get(0)?,
        spec: SegmentSpec { name: r.get(1)?, expression: r.get(2)?, description: r.get(3)? },
        created_at: from_micros(r.get(4)?),
        updated_at: from_micros(r.get(5)?),
        created_by: r.get(6)?,
        refreshed_at: r.get::<_, Option<i64>>(7)?.map(from_micros),
        size: r.get(8)?,
    })
}

fn missing(slug: &str) -> StoreError {
    StoreError::NotFound(format!("segment {slug}"))
}

fn one(c: &Connection, slug: &str) -> StoreResult<SavedSegment> {
    c.prepare_cached(&format!("{SEGMENT} WHERE slug = ?1"))
        .map_err(db_err)?
        .query_row([slug], segment)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| missing(slug))
}

fn all(c: &Connection) -> StoreResult<Vec<SavedSegment>> {
    let mut stmt = c.prepare_cached(&format!("{SEGMENT} ORDER BY name, slug")).map_err(db_err)?;
    let rows = stmt.query_map([], segment).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

fn create(
    tx: &Transaction<'_>,
    slug: &str,
    s: &SegmentSpec,
    by: Option<&str>,
    at: i64,
) -> StoreResult<SavedSegment> {
    let n = tx
        .execute(
            "INSERT INTO saved_segments (slug, name, expression, description, created_at,
                 updated_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
             ON CONFLICT (slug) DO NOTHING",
            (slug, &s.name, &s.expression, &s.description, at, by),
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!("a segment '{slug}' exists already")));
    }
    one(tx, slug)
}

fn update(tx: &Transaction<'_>, slug: &str, s: &SegmentSpec, at: i64) -> StoreResult<SavedSegment> {
    let n = tx
        .execute(
            "UPDATE saved_segments SET name = ?2, expression = ?3, description = ?4,
                 updated_at = ?5 WHERE slug = ?1",
            (slug, &s.name, &s.expression, &s.description, at),
        )
        .map_err(db_err)?;
    if n == 0 {
        return Err(missing(slug));
    }
    one(tx, slug)
}

fn delete(tx: &Transaction<'_>, slug: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM segment_members WHERE segment = ?1", [members_name(slug)])
        .map_err(db_err)?;
    if tx.execute("DELETE FROM saved_segments WHERE slug = ?1", [slug]).map_err(db_err)? == 0 {
        return Err(missing(slug));
    }
    Ok(())
}

/// The stored members, ascending.
fn member_keys(c: &Connection, name: &str) -> StoreResult<Vec<i64>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT customer_id FROM segment_members WHERE segment = ?1 ORDER BY customer_id",
        )
        .map_err(db_err)?;
    let rows = stmt.query_map([name], |r| r.get(0)).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

/// Writes only the difference: a daily refresh of a large segment changes few members.
fn refresh(
    tx: &Transaction<'_>,
    slug: &str,
    mut members: Vec<i64>,
    at: i64,
) -> StoreResult<SizePoint> {
    one(tx, slug)?;
    members.sort_unstable();
    members.dedup();
    let name = members_name(slug);
    let old = member_keys(tx, &name)?;
    let (entered, left) = rapport_store::diff_sorted(&old, &members);
    let mut del = tx
        .prepare_cached("DELETE FROM segment_members WHERE segment = ?1 AND customer_id = ?2")
        .map_err(db_err)?;
    for k in &left {
        del.execute((&name, k)).map_err(db_err)?;
    }
    // Customers erased since the filter ran are skipped rather than failing the refresh.
    let mut ins = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO segment_members (segment, customer_id)
             SELECT ?1, id FROM customers WHERE id = ?2",
        )
        .map_err(db_err)?;
    let mut added = 0i64;
    for k in &entered {
        added += ins.execute((&name, k)).map_err(db_err)? as i64;
    }
    let size = (old.len() - left.len()) as i64 + added;
    let point = SizePoint { at: from_micros(at), size, entered: added, left: left.len() as i64 };
    tx.execute(
        "INSERT INTO segment_sizes (slug, at, size, entered, \"left\") VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (slug, at) DO UPDATE SET size = excluded.size,
             entered = excluded.entered, \"left\" = excluded.\"left\"",
        (slug, at, point.size, point.entered, point.left),
    )
    .map_err(db_err)?;
    tx.execute(
        "UPDATE saved_segments SET refreshed_at = ?2, size = ?3 WHERE slug = ?1",
        (slug, at, size),
    )
    .map_err(db_err)?;
    Ok(point)
}

fn history(c: &Connection, slug: &str) -> StoreResult<Vec<SizePoint>> {
    one(c, slug)?;
    let mut stmt = c
        .prepare_cached(
            "SELECT at, size, entered, \"left\" FROM segment_sizes WHERE slug = ?1 ORDER BY at",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([slug], |r| {
            Ok(SizePoint {
                at: from_micros(r.get(0)?),
                size: r.get(1)?,
                entered: r.get(2)?,
                left: r.get(3)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

fn page(c: &Connection, slug: &str, after: Option<i64>, limit: usize) -> StoreResult<Page<i64>> {
    one(c, slug)?;
    let mut stmt = c
        .prepare_cached(
            "SELECT customer_id FROM segment_members WHERE segment = ?1 AND customer_id > ?2
              ORDER BY customer_id LIMIT ?3",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map((members_name(slug), after.unwrap_or(i64::MIN), limit as i64 + 1), |r| r.get(0))
        .map_err(db_err)?;
    let mut items: Vec<i64> = rows.collect::<Result<_, _>>().map_err(db_err)?;
    let next = (items.len() > limit).then(|| {
        items.truncate(limit);
        *items.last().expect("limit > 0")
    });
    Ok(Page { items, next })
}

#[async_trait]
impl SegmentStore for SqliteStore {
    async fn create_segment(
        &self,
        slug: &str,
        spec: &SegmentSpec,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<SavedSegment> {
        let (slug, spec, by) = (slug.to_string(), spec.clone(), by.map(str::to_string));
        let at = to_micros(at);
        self.write(false, move |tx| create(tx, &slug, &spec, by.as_deref(), at)).await
    }

    async fn saved_segments(&self) -> StoreResult<Vec<SavedSegment>> {
        self.read(all).await
    }

    async fn saved_segment(&self, slug: &str) -> StoreResult<SavedSegment> {
        let slug = slug.to_string();
        self.read(move |c| one(c, &slug)).await
    }

    async fn update_segment(
        &self,
        slug: &str,
        spec: &SegmentSpec,
        at: Timestamp,
    ) -> StoreResult<SavedSegment> {
        let (slug, spec, at) = (slug.to_string(), spec.clone(), to_micros(at));
        self.write(false, move |tx| update(tx, &slug, &spec, at)).await
    }

    async fn delete_segment(&self, slug: &str) -> StoreResult<()> {
        let slug = slug.to_string();
        self.write(false, move |tx| delete(tx, &slug)).await
    }

    async fn refresh_segment(
        &self,
        slug: &str,
        members: Vec<i64>,
        at: Timestamp,
    ) -> StoreResult<SizePoint> {
        let (slug, at) = (slug.to_string(), to_micros(at));
        self.write(false, move |tx| refresh(tx, &slug, members, at)).await
    }

    async fn segment_history(&self, slug: &str) -> StoreResult<Vec<SizePoint>> {
        let slug = slug.to_string();
        self.read(move |c| history(c, &slug)).await
    }

    async fn segment_member_keys(
        &self,
        slug: &str,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<i64>> {
        let slug = slug.to_string();
        self.read(move |c| page(c, &slug, after, limit.max(1))).await
    }
}

/// Every event of the names, from the `(name, at, customer_id)` index.
pub(crate) fn event_times(
    c: &Connection,
    names: &[String],
) -> StoreResult<Vec<rapport_store::EventTime>> {
    let mut out = Vec::new();
    let mut stmt =
        c.prepare_cached("SELECT customer_id, at FROM events WHERE name = ?1").map_err(db_err)?;
    for (i, name) in names.iter().enumerate() {
        let rows = stmt
            .query_map([name], |r| {
                Ok(rapport_store::EventTime {
                    customer: r.get(0)?,
                    name: i as u32,
                    at: from_micros(r.get(1)?),
                })
            })
            .map_err(db_err)?;
        for r in rows {
            out.push(r.map_err(db_err)?);
        }
    }
    Ok(out)
}

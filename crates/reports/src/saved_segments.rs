//! Saved segments: a definition checked before it is stored, and members materialised.
//!
//! Refreshing every saved segment reads the customers once ([`keyed_frame`] with the events
//! of all their filters) and evaluates each filter on that frame: at a million customers the
//! read is what costs, the evaluation of one filter a few milliseconds.

use crate::segments::{KeyedFrame, Needs, keyed_frame};
use crate::{ReportError, ReportResult};
use rapport_analytics::segment::{CustomerFrame, compile};
use rapport_core::Timestamp;
use rapport_core::filter::{Field, Filter, parse};
use rapport_store::{Backend, SavedSegment, SegmentSpec, SizePoint, StoreError, slugify};
use serde::Serialize;

/// Slugs that name pages and routes beside the segments' own (`/segments/preview`).
const RESERVED: &[&str] = &["preview", "new"];

/// Longest name a segment may have.
pub const NAME_MAX: usize = 100;

/// Checks a definition: a name, and a filter that parses and type-checks. The filter's error
/// (with its caret) is the reason.
pub fn check(spec: &SegmentSpec) -> ReportResult<Filter> {
    let name = spec.name.trim();
    if name.is_empty() {
        return Err(ReportError::Invalid { field: "name", reason: "must not be empty".into() });
    }
    if name.chars().count() > NAME_MAX {
        let reason = format!("is longer than {NAME_MAX} characters");
        return Err(ReportError::Invalid { field: "name", reason });
    }
    parse(&spec.expression)
        .map_err(|e| ReportError::Invalid { field: "expression", reason: e.to_string() })
}

/// Whether `text` is written as a saved segment's slug (lower-case letters, digits and single
/// hyphens): no filter is, as a filter compares a field or calls a function.
pub fn is_slug(text: &str) -> bool {
    let text = text.trim();
    slugify(text).as_deref() == Some(text)
}

/// A segment written either way: a saved segment's slug (its filter as stored now) or a filter
/// expression. Errors name `field`.
pub async fn resolve(db: &dyn Backend, text: &str, field: &'static str) -> ReportResult<Filter> {
    let text = text.trim();
    if !is_slug(text) {
        return parse(text).map_err(|e| ReportError::Invalid { field, reason: e.to_string() });
    }
    match db.saved_segment(text).await {
        Ok(saved) => check(&saved.spec),
        Err(StoreError::NotFound(_)) => Err(ReportError::Invalid {
            field,
            reason: format!(
                "there is no saved segment '{text}' (a filter compares a field, e.g. revenue > 500)"
            ),
        }),
        Err(e) => Err(e.into()),
    }
}

/// How many customers a filter selects, with the first few of them.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub count: usize,
    pub customers: usize,
    pub share: f64,
    /// What the filter names that no customer has (an event nobody did, say).
    pub warnings: Vec<String>,
    pub sample: Vec<Member>,
}

/// A member as a preview lists them.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
}

/// Evaluates a filter on a frame at `now`, listing up to `limit` members.
pub fn preview(frame: &CustomerFrame, filter: &Filter, now: Timestamp, limit: usize) -> Preview {
    let plan = compile(filter, &frame.schema());
    let members = plan.eval(frame, now);
    let count = members.count();
    let text = |f, row| frame.text(f, row).map(str::to_string);
    Preview {
        count,
        customers: frame.len(),
        share: if frame.is_empty() { 0.0 } else { count as f64 / frame.len() as f64 },
        warnings: plan.warnings().iter().map(|w| w.to_string()).collect(),
        sample: members
            .ones()
            .take(limit)
            .map(|row| Member {
                id: frame.id(row).to_string(),
                name: text(Field::Name, row),
                email: text(Field::Email, row),
                country: text(Field::Country, row),
            })
            .collect(),
    }
}

/// The outcome of one segment's refresh.
#[derive(Debug, Clone, Serialize)]
pub struct Refreshed {
    pub slug: String,
    pub name: String,
    /// The refresh, or none when it failed.
    pub point: Option<SizePoint>,
    /// Why it failed (a filter that no longer checks, say).
    pub error: Option<String>,
}

/// The keys of the customers a filter selects on a frame at `now`.
pub fn members(kf: &KeyedFrame, filter: &Filter, now: Timestamp) -> Vec<i64> {
    let plan = compile(filter, &kf.frame.schema());
    plan.eval(&kf.frame, now).ones().filter_map(|row| kf.keys[row]).collect()
}

/// Stores a new segment (under `slug`, or one made from its name) and materialises its
/// members at once.
pub async fn create(
    db: &dyn Backend,
    slug: Option<&str>,
    spec: &SegmentSpec,
    by: Option<&str>,
    now: Timestamp,
) -> ReportResult<(SavedSegment, SizePoint)> {
    let filter = check(spec)?;
    let slug = match slug {
        Some(s) if RESERVED.contains(&s) => {
            let reason = format!("'{s}' is reserved; choose another");
            return Err(ReportError::Invalid { field: "slug", reason });
        }
        Some(s) => slugify(s).filter(|x| x == s).ok_or_else(|| ReportError::Invalid {
            field: "slug",
            reason: format!("'{s}' is not lower-case letters, digits and single dashes"),
        })?,
        None => slugify(&spec.name)
            .map(|s| if RESERVED.contains(&s.as_str()) { format!("{s}-segment") } else { s })
            .ok_or_else(|| ReportError::Invalid {
                field: "name",
                reason: "needs a letter or digit".into(),
            })?,
    };
    let spec = SegmentSpec { name: spec.name.trim().to_string(), ..spec.clone() };
    let made = db.create_segment(&slug, &spec, by, now).await?;
    let point = refresh_one(db, &made.slug, &filter, now).await?;
    Ok((db.saved_segment(&made.slug).await?, point))
}

/// Replaces a segment's definition and materialises its members again.
pub async fn update(
    db: &dyn Backend,
    slug: &str,
    spec: &SegmentSpec,
    now: Timestamp,
) -> ReportResult<(SavedSegment, SizePoint)> {
    let filter = check(spec)?;
    let spec = SegmentSpec { name: spec.name.trim().to_string(), ..spec.clone() };
    db.update_segment(slug, &spec, now).await?;
    let point = refresh_one(db, slug, &filter, now).await?;
    Ok((db.saved_segment(slug).await?, point))
}

async fn refresh_one(
    db: &dyn Backend,
    slug: &str,
    filter: &Filter,
    now: Timestamp,
) -> ReportResult<SizePoint> {
    let kf = keyed_frame(db, &Needs::of(filter)).await?;
    Ok(db.refresh_segment(slug, members(&kf, filter, now), now).await?)
}

/// Refreshes the saved segments (all, or those of `only`) on one read of the customers. A
/// segment whose filter no longer checks is reported and left as it was; the others go on.
pub async fn refresh(
    db: &dyn Backend,
    only: Option<&[String]>,
    now: Timestamp,
) -> ReportResult<Vec<Refreshed>> {
    let mut segments = db.saved_segments().await?;
    if let Some(only) = only {
        for slug in only {
            if !segments.iter().any(|s| &s.slug == slug) {
                return Err(StoreError::NotFound(format!("segment {slug}")).into());
            }
        }
        segments.retain(|s| only.contains(&s.slug));
    }
    let kf = match segments.is_empty() {
        true => KeyedFrame::default(),
        false => keyed_frame(db, &needs(&segments)).await?,
    };
    refresh_on(db, &kf, segments, now).await
}

/// What a frame must hold for these segments' filters (those that check).
pub fn needs(segments: &[SavedSegment]) -> Needs {
    segments
        .iter()
        .filter_map(|s| check(&s.spec).ok())
        .fold(Needs::default(), |needs, f| needs.union(Needs::of(&f)))
}

/// Refreshes these segments on a frame read with (at least) their [`needs`].
pub async fn refresh_on(
    db: &dyn Backend,
    kf: &KeyedFrame,
    segments: Vec<SavedSegment>,
    now: Timestamp,
) -> ReportResult<Vec<Refreshed>> {
    let mut out = Vec::with_capacity(segments.len());
    for s in segments {
        let (point, error) = match check(&s.spec) {
            Ok(f) => (Some(db.refresh_segment(&s.slug, members(kf, &f, now), now).await?), None),
            Err(e) => (None, Some(e.to_string())),
        };
        out.push(Refreshed { slug: s.slug, name: s.spec.name, point, error });
    }
    Ok(out)
}

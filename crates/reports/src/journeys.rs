//! Journey maps over a stored company: each stage condition resolved through store reads
//! (event and purchase times from their indexes, survey responses, filter members), the
//! customers' latest NPS/CSAT/CES and feedback sentiment, their negative feedback with its
//! theme, then `rapport_analytics::journey::compute`. An optional segment (the journey's own,
//! or one given for this computation; a filter or a saved segment's slug) restricts the map to
//! that segment's customers.
//!
//! Customers are numbered by their position in key order, and times from the store are turned
//! into compact per-customer arrays once; the computation itself is a single pass.

use crate::{ReportError, ReportResult, all_summaries, saved_segments, segments};
use rapport_analytics::journey::{
    Complaint, Condition, JourneyInput, JourneyMap, JourneySpec, Met, Occurrences, StageResult,
    SurveySource,
};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{Backend, CustomerTime, NegativeFeedback, Rating, Store, SummaryRow};
use serde::Serialize;
use std::collections::HashMap;

/// Feedback below this sentiment (VADER compound) is a complaint: VADER's own threshold for
/// "negative".
pub const NEGATIVE: f64 = -0.05;

/// A quote of a customer who dropped before a stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quote {
    pub customer: ExternalId,
    pub name: Option<String>,
    pub text: String,
    pub theme: Option<String>,
    pub at: Timestamp,
}

/// One stage of the map with its definition and quotes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    #[serde(flatten)]
    pub result: StageResult,
    /// The conditions as written (`event:site_visit | purchase>=2`).
    pub conditions: String,
    pub quotes: Vec<Quote>,
}

/// A computed journey map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyReport {
    /// The filter the map was restricted to, if any.
    pub segment: Option<String>,
    pub population: u64,
    pub stages: Vec<StageReport>,
}

/// Checks a definition: names, the number of stages, the conditions, and that every filter
/// expression (the segment's and the filter conditions') parses; either may instead be a
/// saved segment's slug.
pub fn check(spec: &JourneySpec) -> ReportResult<()> {
    spec.check().map_err(|reason| ReportError::Invalid { field: "stages", reason })?;
    // A segment (or a filter condition) may name a saved segment by slug; whether it exists
    // is known when computing.
    for expr in spec.filters().filter(|e| !saved_segments::is_slug(e)) {
        rapport_core::filter::parse(expr)
            .map_err(|e| ReportError::Invalid { field: "segment", reason: e.to_string() })?;
    }
    Ok(())
}

/// The map of `spec`, restricted to `segment` when given (else to the journey's own segment),
/// filters evaluated at `now`.
pub async fn journey(
    store: &dyn Backend,
    spec: &JourneySpec,
    segment: Option<&str>,
    now: Timestamp,
) -> ReportResult<JourneyReport> {
    check(spec)?;
    let segment = segment.or(spec.segment.as_deref()).filter(|s| !s.trim().is_empty());
    // Every read at once: at ten million events the event reads are most of the time, and
    // the store serves them on separate connections.
    let keys = source_keys(spec);
    let sources = futures_util::future::try_join_all(keys.iter().map(|(_, c)| fetch(store, c)));
    let ratings = futures_util::future::try_join_all(
        ["nps", "csat", "ces"]
            .map(|s| async move { Ok::<_, ReportError>(store.ratings(s).await?) }),
    );
    let (customers, sources, ratings, sentiment, negative) = tokio::try_join!(
        all_summaries(store),
        sources,
        ratings,
        async { Ok(store.feedback_sentiment(from_micros(EVER)).await?) },
        async { Ok(store.negative_feedback(NEGATIVE).await?) },
    )?;
    let index = KeyIndex::new(&customers);
    let n = customers.len();
    let mut input = JourneyInput {
        customers: n,
        names: spec.stages.iter().map(|s| s.name.clone()).collect(),
        sources: sources.into_iter().map(|rows| Occurrences::new(n, index.rows(rows))).collect(),
        ..JourneyInput::default()
    };
    for stage in &spec.stages {
        let mut met = Vec::with_capacity(stage.conditions.len());
        for c in &stage.conditions {
            met.push(match c {
                Condition::Filter { expr } => {
                    Met::Members(members(store, expr, &customers, now).await?)
                }
                _ => {
                    let source =
                        keys.iter().position(|(k, _)| *k == key(c)).expect("every key was read");
                    Met::Times { source, min_count: min_count(c) }
                }
            });
        }
        input.stages.push(met);
    }
    if let Some(expr) = segment {
        input.population = Some(members(store, expr, &customers, now).await?);
    }
    satisfaction(&index, ratings, sentiment, &mut input);
    input.complaints = complaints(&index, negative);
    let map = rapport_analytics::journey::compute(&input);
    Ok(report(spec, segment, map, &customers))
}

/// 0001-01-01: before any feedback, so the sentiment of all of it.
const EVER: i64 = -62_135_596_800_000_000;

/// Customer keys to positions: a dense table, as the stores number customers from 1 up.
struct KeyIndex {
    dense: Vec<u32>,
}

impl KeyIndex {
    fn new(customers: &[SummaryRow]) -> KeyIndex {
        let max = customers.iter().map(|c| c.key).max().unwrap_or(0).max(0) as usize;
        let mut dense = vec![u32::MAX; max + 1];
        for (i, c) in customers.iter().enumerate() {
            if let Ok(k) = usize::try_from(c.key) {
                dense[k] = i as u32;
            }
        }
        KeyIndex { dense }
    }

    fn get(&self, key: i64) -> Option<u32> {
        let i = *self.dense.get(usize::try_from(key).ok()?)?;
        (i != u32::MAX).then_some(i)
    }

    /// Rows in key order stay in position order, so the arrays are built without a sort.
    fn rows(&self, rows: Vec<CustomerTime>) -> Vec<(u32, i64)> {
        rows.into_iter().filter_map(|(k, t)| Some((self.get(k)?, t))).collect()
    }
}

/// What identifies a condition's time source: conditions differing only in their count
/// share one read.
fn key(c: &Condition) -> String {
    match c {
        Condition::Event { name, .. } => format!("event:{name}"),
        Condition::Purchase { .. } => "purchase".into(),
        Condition::Survey { .. } | Condition::Filter { .. } => c.to_string(),
    }
}

fn min_count(c: &Condition) -> u32 {
    match c {
        Condition::Event { min_count, .. } | Condition::Purchase { min_count } => *min_count,
        Condition::Survey { .. } | Condition::Filter { .. } => 1,
    }
}

/// The distinct time sources of a journey's conditions, in order of first use.
fn source_keys(spec: &JourneySpec) -> Vec<(String, &Condition)> {
    let mut out: Vec<(String, &Condition)> = Vec::new();
    for c in spec.stages.iter().flat_map(|s| &s.conditions) {
        let k = key(c);
        if !matches!(c, Condition::Filter { .. }) && !out.iter().any(|(o, _)| *o == k) {
            out.push((k, c));
        }
    }
    out
}

/// The (customer key, time) rows of one time source.
async fn fetch(store: &dyn Backend, c: &Condition) -> ReportResult<Vec<CustomerTime>> {
    Ok(match c {
        Condition::Event { name, .. } => store.stage_event_times(name).await?,
        Condition::Purchase { .. } => store.purchase_times().await?,
        Condition::Survey { source, min_rating } => {
            survey_times(store, *source, *min_rating).await?
        }
        Condition::Filter { .. } => Vec::new(),
    })
}

/// The times of the responses of a survey source, rated at least `min_rating` when given.
async fn survey_times(
    store: &dyn Backend,
    source: SurveySource,
    min_rating: Option<i16>,
) -> ReportResult<Vec<CustomerTime>> {
    let mut rows = Vec::new();
    for s in source.sources() {
        for r in store.ratings(s).await? {
            if min_rating.is_none_or(|m| r.rating >= m) {
                rows.push((r.customer, to_micros(r.at)));
            }
        }
    }
    // Responses come in no particular order; the arrays want (customer, time).
    rows.sort_unstable();
    Ok(rows)
}

/// Which customers (by position) a filter selects at `now`.
async fn members(
    store: &dyn Backend,
    expr: &str,
    customers: &[SummaryRow],
    now: Timestamp,
) -> ReportResult<Vec<bool>> {
    let filter = saved_segments::resolve(store, expr, "segment").await?;
    let store: &dyn Store = store;
    let selected = segments::members(store, &filter, now).await?;
    let position: HashMap<&ExternalId, usize> =
        customers.iter().enumerate().map(|(i, c)| (&c.id, i)).collect();
    let mut out = vec![false; customers.len()];
    for id in &selected {
        if let Some(&i) = position.get(id) {
            out[i] = true;
        }
    }
    Ok(out)
}

/// Each customer's latest NPS, CSAT and CES rating and mean feedback sentiment.
fn satisfaction(
    index: &KeyIndex,
    ratings: Vec<Vec<Rating>>,
    sentiment: Vec<(i64, f64, u32)>,
    input: &mut JourneyInput,
) {
    let n = input.customers;
    let mut columns = ratings.into_iter().map(|rows| {
        let mut latest: Vec<Option<(Timestamp, i16)>> = vec![None; n];
        for r in rows {
            let Some(i) = index.get(r.customer) else { continue };
            let slot = &mut latest[i as usize];
            if slot.is_none_or(|(at, _)| r.at >= at) {
                *slot = Some((r.at, r.rating));
            }
        }
        latest.into_iter().map(|l| l.map(|(_, r)| r)).collect::<Vec<_>>()
    });
    input.nps = columns.next().unwrap_or_default();
    input.csat = columns.next().unwrap_or_default();
    input.ces = columns.next().unwrap_or_default();
    input.sentiment = vec![None; n];
    for (key, mean, _) in sentiment {
        if let Some(i) = index.get(key) {
            input.sentiment[i as usize] = Some(mean as f32);
        }
    }
}

fn complaints(index: &KeyIndex, rows: Vec<NegativeFeedback>) -> Vec<Complaint> {
    let out = rows.into_iter().filter_map(|f| {
        let customer = index.get(f.customer)?;
        Some(Complaint { customer, at: to_micros(f.at), theme: f.theme, text: f.text })
    });
    out.collect()
}

fn report(
    spec: &JourneySpec,
    segment: Option<&str>,
    map: JourneyMap,
    customers: &[SummaryRow],
) -> JourneyReport {
    let stages = map
        .stages
        .into_iter()
        .zip(&spec.stages)
        .map(|(mut result, def)| {
            let quotes = std::mem::take(&mut result.quotes)
                .into_iter()
                .filter_map(|q| {
                    let c = customers.get(q.customer as usize)?;
                    let at = from_micros(q.at);
                    Some(Quote {
                        customer: c.id.clone(),
                        name: c.name.clone(),
                        text: q.text,
                        theme: q.theme,
                        at,
                    })
                })
                .collect();
            StageReport { result, conditions: def.conditions_text(), quotes }
        })
        .collect();
    JourneyReport { segment: segment.map(str::to_string), population: map.population, stages }
}

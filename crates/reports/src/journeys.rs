//! Journey maps over a stored company: each stage condition resolved through store reads
//! (event and purchase times from their indexes, survey responses, filter members), the
//! customers' latest NPS/CSAT/CES and feedback sentiment, their negative feedback with its
//! theme, then `rapport_analytics::journey::compute`. An optional filter (the journey's own
//! segment, or one given for this computation) restricts the map to that segment's customers.
//!
//! Customers are numbered by their position in key order, and times from the store are turned
//! into compact per-customer arrays once; the computation itself is a single pass.

use crate::{ReportError, ReportResult, all_summaries, segments};
use rapport_analytics::journey::{
    Complaint, Condition, JourneyInput, JourneyMap, JourneySpec, Met, Occurrences, StageResult,
    SurveySource,
};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{Backend, CustomerTime, Store, SummaryRow};
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
/// expression (the segment's and the filter conditions') parses.
pub fn check(spec: &JourneySpec) -> ReportResult<()> {
    spec.check().map_err(|reason| ReportError::Invalid { field: "stages", reason })?;
    for expr in spec.filters() {
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
    let customers = all_summaries(store).await?;
    let index = KeyIndex::new(&customers);
    let mut input = JourneyInput {
        customers: customers.len(),
        names: spec.stages.iter().map(|s| s.name.clone()).collect(),
        ..JourneyInput::default()
    };
    let mut sources = Sources::default();
    for stage in &spec.stages {
        let mut met = Vec::with_capacity(stage.conditions.len());
        for c in &stage.conditions {
            met.push(resolve(store, c, &index, &customers, &mut sources, now).await?);
        }
        input.stages.push(met);
    }
    input.sources = sources.list;
    if let Some(expr) = segment {
        input.population = Some(members(store, expr, &customers, now).await?);
    }
    satisfaction(store, &index, &mut input).await?;
    input.complaints = complaints(store, &index).await?;
    let map = rapport_analytics::journey::compute(&input);
    Ok(report(spec, segment, map, &customers))
}

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

/// Time sources read once each, however many conditions use them.
#[derive(Default)]
struct Sources {
    list: Vec<Occurrences>,
    by_name: HashMap<String, usize>,
}

async fn resolve(
    store: &dyn Backend,
    c: &Condition,
    index: &KeyIndex,
    customers: &[SummaryRow],
    sources: &mut Sources,
    now: Timestamp,
) -> ReportResult<Met> {
    let (key, min_count) = match c {
        Condition::Filter { expr } => {
            return Ok(Met::Members(members(store, expr, customers, now).await?));
        }
        Condition::Event { name, min_count } => (format!("event:{name}"), *min_count),
        Condition::Purchase { min_count } => ("purchase".to_string(), *min_count),
        Condition::Survey { .. } => (c.to_string(), 1),
    };
    if let Some(&source) = sources.by_name.get(&key) {
        return Ok(Met::Times { source, min_count });
    }
    let rows = match c {
        Condition::Event { name, .. } => index.rows(store.event_times(name).await?),
        Condition::Purchase { .. } => index.rows(store.purchase_times().await?),
        Condition::Survey { source, min_rating } => {
            survey_times(store, index, *source, *min_rating).await?
        }
        Condition::Filter { .. } => unreachable!("returned above"),
    };
    sources.list.push(Occurrences::new(customers.len(), rows));
    sources.by_name.insert(key, sources.list.len() - 1);
    Ok(Met::Times { source: sources.list.len() - 1, min_count })
}

/// The times of the responses of a survey source, rated at least `min_rating` when given.
async fn survey_times(
    store: &dyn Backend,
    index: &KeyIndex,
    source: SurveySource,
    min_rating: Option<i16>,
) -> ReportResult<Vec<(u32, i64)>> {
    let mut rows = Vec::new();
    for s in source.sources() {
        for r in store.ratings(s).await? {
            if min_rating.is_none_or(|m| r.rating >= m) {
                rows.extend(index.get(r.customer).map(|i| (i, to_micros(r.at))));
            }
        }
    }
    Ok(rows)
}

/// Which customers (by position) a filter selects at `now`.
async fn members(
    store: &dyn Backend,
    expr: &str,
    customers: &[SummaryRow],
    now: Timestamp,
) -> ReportResult<Vec<bool>> {
    let filter = rapport_core::filter::parse(expr)
        .map_err(|e| ReportError::Invalid { field: "segment", reason: e.to_string() })?;
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
async fn satisfaction(
    store: &dyn Backend,
    index: &KeyIndex,
    input: &mut JourneyInput,
) -> ReportResult<()> {
    let n = input.customers;
    let mut columns = Vec::with_capacity(3);
    for source in ["nps", "csat", "ces"] {
        let mut latest: Vec<Option<(Timestamp, i16)>> = vec![None; n];
        for r in store.ratings(source).await? {
            let Some(i) = index.get(r.customer) else { continue };
            let slot = &mut latest[i as usize];
            if slot.is_none_or(|(at, _)| r.at >= at) {
                *slot = Some((r.at, r.rating));
            }
        }
        columns.push(latest.into_iter().map(|l| l.map(|(_, r)| r)).collect());
    }
    let [nps, csat, ces]: [Vec<Option<i16>>; 3] =
        columns.try_into().expect("three sources were read");
    (input.nps, input.csat, input.ces) = (nps, csat, ces);
    input.sentiment = vec![None; n];
    let since = from_micros(-62_135_596_800_000_000); // 0001-01-01: all of it
    for (key, mean, _) in store.feedback_sentiment(since).await? {
        if let Some(i) = index.get(key) {
            input.sentiment[i as usize] = Some(mean as f32);
        }
    }
    Ok(())
}

async fn complaints(store: &dyn Backend, index: &KeyIndex) -> ReportResult<Vec<Complaint>> {
    let rows = store.negative_feedback(NEGATIVE).await?;
    let out = rows.into_iter().filter_map(|f| {
        Some(Complaint {
            customer: index.get(f.customer)?,
            at: to_micros(f.at),
            theme: f.theme,
            text: f.text,
        })
    });
    Ok(out.collect())
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

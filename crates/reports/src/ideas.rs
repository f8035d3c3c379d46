//! Ideas ranked by priority ([`rapport_analytics::priority`]), with RICE beside the score, and
//! the top ideas of each RFM segment.
//!
//! A requester's value is their revenue (from their summary) and their predicted value (the
//! health report's BG/NBD and Gamma-Gamma, 52 weeks, 10% a year); their segment is their RFM
//! segment. Both need every customer's summary, so they are computed once into a
//! [`CustomerModel`], which the server shares through its report cache and the CLI computes per
//! run; ranking itself reads only the requesters and the usage of the related events.
//!
//! Segment weights are parameters with defaults in code ([`SegmentWeights::default`]), set
//! per request (`segment_weight_NAME=X` in the API, `--segment-weight NAME=X` in the CLI), as
//! the health score's weights are: a weighting is a question asked of the data, not a setting
//! of the installation, and the page shows the weights it used.

use crate::{ReportError, ReportResult, health, rfm};
use chrono::{Duration, Utc};
use rapport_analytics::priority::{self, Priority, Usage};
use rapport_analytics::rfm::Segment;
use rapport_core::Timestamp;
use rapport_core::idea::{IdeaKind, IdeaStatus};
use rapport_store::{Backend, IdeaDetail, IdeaRecord, Requester, Store};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Weights of the RFM segments; a segment not listed weighs 1.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentWeights(pub BTreeMap<Segment, f64>);

impl Default for SegmentWeights {
    /// Customers the business most wants to keep count more: the best (champions, loyal) and
    /// the valuable ones slipping away (cannot lose them, at risk); lapsed ones count less.
    fn default() -> Self {
        use Segment::*;
        SegmentWeights(BTreeMap::from([
            (Champions, 1.5),
            (Loyal, 1.3),
            (CannotLoseThem, 1.5),
            (AtRisk, 1.3),
            (PotentialLoyalists, 1.1),
            (AboutToSleep, 0.9),
            (Hibernating, 0.8),
            (Lost, 0.7),
        ]))
    }
}

impl SegmentWeights {
    pub fn of(&self, s: Segment) -> f64 {
        self.0.get(&s).copied().unwrap_or(1.0)
    }

    /// Sets one weight from `NAME=X` (or name and value apart); 0–10.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), String> {
        let segment = Segment::parse(name)?;
        let w: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|w: &f64| (0.0..=10.0).contains(w))
            .ok_or_else(|| format!("'{value}' is not a weight from 0 to 10"))?;
        self.0.insert(segment, w);
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct Params {
    /// Requests' ages are measured at this time (default: now).
    pub now: Option<Timestamp>,
    /// Only ideas with this status (default: all).
    pub status: Option<IdeaStatus>,
    pub weights: SegmentWeights,
    pub priority: priority::Params,
    /// Related events count as used within this many days.
    pub usage_days: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            now: None,
            status: None,
            weights: SegmentWeights::default(),
            priority: priority::Params::default(),
            usage_days: 90,
        }
    }
}

/// What the ranking needs to know of every customer: predicted value and RFM segment.
#[derive(Debug, Clone, Default)]
pub struct CustomerModel {
    pub predicted: HashMap<i64, f64>,
    pub segment: HashMap<i64, Segment>,
}

/// Computes the model from every customer's summary (seconds at a million customers).
pub async fn customer_model(store: &dyn Store) -> ReportResult<CustomerModel> {
    let predicted = health::predicted_values(store, 52, 0.1).await?;
    let segment = match rfm::score(store, None).await {
        Ok(s) => s
            .customers
            .iter()
            .zip(&s.rfm)
            .filter_map(|(c, r)| Some((c.key, r.as_ref()?.segment)))
            .collect(),
        Err(ReportError::NoData(_)) => HashMap::new(),
        Err(e) => return Err(e),
    };
    Ok(CustomerModel { predicted, segment })
}

/// An idea with its priority and RICE.
#[derive(Debug, Clone, Serialize)]
pub struct RankedIdea {
    /// 1 for the highest score.
    pub rank: usize,
    #[serde(flatten)]
    pub idea: IdeaRecord,
    pub score: f64,
    pub priority: Priority,
    /// reach × impact × confidence / effort (the inputs are under `rice`).
    #[serde(rename = "rice_score")]
    pub rice: Option<f64>,
    pub usage: Option<Usage>,
}

/// Ideas by score, highest first (ties: RICE, then oldest).
pub async fn rank(
    store: &dyn Backend,
    model: &CustomerModel,
    p: &Params,
) -> ReportResult<Vec<RankedIdea>> {
    let ideas = store.ideas(p.status).await?;
    let mut asks: HashMap<i64, Vec<Requester>> = HashMap::new();
    for (idea, r) in store.idea_requesters(None).await? {
        asks.entry(idea).or_default().push(r);
    }
    let usage = usage_of(store, &ideas, p).await?;
    let ranked = ideas.into_iter().map(|idea| {
        let rs = asks.remove(&idea.id).unwrap_or_default();
        scored(idea, &rs, &usage, model, p)
    });
    Ok(ordered(ranked.collect()))
}

/// One idea with everything its page shows, and its priority explained (`rank` is 0: it is
/// not compared with others here).
pub async fn explain(
    store: &dyn Backend,
    model: &CustomerModel,
    id: i64,
    p: &Params,
) -> ReportResult<(IdeaDetail, RankedIdea)> {
    let detail = store.idea(id).await?;
    let usage = usage_of(store, std::slice::from_ref(&detail.record), p).await?;
    let ranked = scored(detail.record.clone(), &detail.requesters, &usage, model, p);
    Ok((detail, ranked))
}

/// The top open ideas of one segment, by the priority its own requesters give them.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentIdeas {
    pub segment: Segment,
    pub weight: f64,
    /// Distinct customers of the segment who asked for any open idea.
    pub customers: usize,
    pub ideas: Vec<RankedIdea>,
}

/// For every segment with requesters, its `top` open ideas ranked on its requesters only.
pub async fn by_segment(
    store: &dyn Backend,
    model: &CustomerModel,
    p: &Params,
    top: usize,
) -> ReportResult<Vec<SegmentIdeas>> {
    let ideas: Vec<IdeaRecord> =
        store.ideas(None).await?.into_iter().filter(|i| i.status.is_open()).collect();
    let requesters = store.idea_requesters(None).await?;
    let usage = usage_of(store, &ideas, p).await?;
    let mut out = Vec::new();
    for segment in Segment::ALL {
        let mut asks: HashMap<i64, Vec<Requester>> = HashMap::new();
        for (idea, r) in &requesters {
            if model.segment.get(&r.key) == Some(&segment) {
                asks.entry(*idea).or_default().push(r.clone());
            }
        }
        let customers = {
            let mut keys: Vec<i64> = asks.values().flatten().map(|r| r.key).collect();
            keys.sort_unstable();
            keys.dedup();
            keys.len()
        };
        let ranked: Vec<RankedIdea> = ideas
            .iter()
            .filter_map(|i| {
                let rs = asks.get(&i.id)?;
                Some(scored(i.clone(), rs, &usage, model, p))
            })
            .collect();
        if ranked.is_empty() {
            continue;
        }
        let mut ranked = ordered(ranked);
        ranked.truncate(top);
        out.push(SegmentIdeas { segment, weight: p.weights.of(segment), customers, ideas: ranked });
    }
    Ok(out)
}

fn now(p: &Params) -> Timestamp {
    p.now.unwrap_or_else(Utc::now)
}

/// Usage of every related event of the improve ideas among `ideas`, read once.
async fn usage_of(
    store: &dyn Backend,
    ideas: &[IdeaRecord],
    p: &Params,
) -> ReportResult<(u64, HashMap<String, u64>)> {
    let mut names: Vec<String> = ideas
        .iter()
        .filter(|i| i.idea.kind == IdeaKind::Improve)
        .flat_map(|i| i.idea.events.iter().cloned())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok((0, HashMap::new()));
    }
    let since = now(p) - Duration::days(i64::from(p.usage_days));
    let u = store.event_usage(&names, since).await?;
    let counts = u.events.into_iter().map(|(e, n)| (e, n.max(0) as u64)).collect();
    Ok((u.active.max(0) as u64, counts))
}

fn scored(
    idea: IdeaRecord,
    requesters: &[Requester],
    (active, counts): &(u64, HashMap<String, u64>),
    model: &CustomerModel,
    p: &Params,
) -> RankedIdea {
    let inputs: Vec<priority::Requester> =
        requesters.iter().map(|r| requester(r, model, &p.weights)).collect();
    let usage =
        (idea.idea.kind == IdeaKind::Improve && !idea.idea.events.is_empty()).then(|| Usage {
            active: *active,
            events: idea
                .idea
                .events
                .iter()
                .map(|e| (e.clone(), counts.get(e).copied().unwrap_or(0)))
                .collect(),
            window_days: p.usage_days,
        });
    let priority = priority::score(idea.idea.kind, &inputs, usage.as_ref(), now(p), &p.priority);
    RankedIdea {
        rank: 0,
        score: priority.score,
        rice: idea.idea.rice.score(),
        priority,
        usage,
        idea,
    }
}

fn requester(r: &Requester, model: &CustomerModel, w: &SegmentWeights) -> priority::Requester {
    let segment = model.segment.get(&r.key).copied();
    priority::Requester {
        revenue: r.revenue.to_f64(),
        predicted_clv: model.predicted.get(&r.key).copied().unwrap_or(0.0),
        segment: segment.map(|s| s.as_str().replace('_', " ")),
        segment_weight: segment.map_or(1.0, |s| w.of(s)),
        requested_at: r.last_requested_at,
        sentiment: r.sentiment,
    }
}

fn ordered(mut ranked: Vec<RankedIdea>) -> Vec<RankedIdea> {
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.rice.unwrap_or(-1.0).total_cmp(&a.rice.unwrap_or(-1.0)))
            .then(a.idea.id.cmp(&b.idea.id))
    });
    for (i, r) in ranked.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    ranked
}

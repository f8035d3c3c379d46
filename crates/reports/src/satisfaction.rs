//! NPS, CSAT and CES: overall, per period, and per RFM segment or within one.

use crate::ReportResult;
use rapport_analytics::rfm::Segment;
use rapport_analytics::satisfaction::{self, Estimate, Period, PeriodEstimate, Scale};
use rapport_store::{Rating, Store};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Params {
    pub scale: Scale,
    /// The feedback source whose ratings count (default: the scale's name, `nps`...).
    pub source: Option<String>,
    pub period: Period,
    /// Only the customers of this RFM segment (as of the day after the last purchase).
    pub segment: Option<Segment>,
    /// Adds the score of each RFM segment.
    pub by_segment: bool,
}

impl Params {
    pub fn new(scale: Scale) -> Params {
        Params { scale, source: None, period: Period::Month, segment: None, by_segment: false }
    }
}

/// The default feedback source of a scale.
pub fn default_source(scale: Scale) -> &'static str {
    match scale {
        Scale::Nps => "nps",
        Scale::Csat => "csat",
        Scale::Ces => "ces",
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SegmentEstimate {
    pub segment: Segment,
    #[serde(flatten)]
    pub estimate: Estimate,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scale: Scale,
    pub source: String,
    pub segment: Option<Segment>,
    /// Ratings of the source outside the scale (a 9 under CSAT), not counted.
    pub outside_scale: u64,
    pub overall: Option<Estimate>,
    pub periods: Vec<PeriodEstimate>,
    /// With `by_segment`: one line per RFM segment with responses (customers who never bought
    /// have no segment and are in no line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_segment: Option<Vec<SegmentEstimate>>,
}

pub async fn report(store: &dyn Store, p: &Params) -> ReportResult<Report> {
    let source = p.source.clone().unwrap_or_else(|| default_source(p.scale).to_string());
    let mut ratings = store.ratings(&source).await?;
    let outside_scale = ratings.iter().filter(|r| !p.scale.accepts(r.rating)).count() as u64;
    let segments = if p.segment.is_some() || p.by_segment {
        Some(segment_of_customer(store).await?)
    } else {
        None
    };
    if let (Some(want), Some(of)) = (p.segment, &segments) {
        ratings.retain(|r| of.get(&r.customer) == Some(&want));
    }
    let pairs: Vec<_> = ratings.iter().map(|r| (r.at, r.rating)).collect();
    let by_segment = segments.filter(|_| p.by_segment).map(|of| {
        let grouped = ratings.iter().filter_map(|r| Some((*of.get(&r.customer)?, r.rating)));
        satisfaction::by_group(p.scale, grouped)
            .into_iter()
            .map(|(segment, estimate)| SegmentEstimate { segment, estimate })
            .collect()
    });
    Ok(Report {
        scale: p.scale,
        source,
        segment: p.segment,
        outside_scale,
        overall: satisfaction::estimate(p.scale, ratings.iter().map(|r: &Rating| r.rating)),
        periods: satisfaction::trend(p.scale, &pairs, p.period),
        by_segment,
    })
}

/// Each buyer's RFM segment by store key.
async fn segment_of_customer(store: &dyn Store) -> ReportResult<HashMap<i64, Segment>> {
    let scored = crate::rfm::score(store, None).await?;
    Ok(scored
        .customers
        .iter()
        .zip(&scored.rfm)
        .filter_map(|(c, r)| Some((c.key, r.as_ref()?.segment)))
        .collect())
}

//! RFM per customer and per named segment, from the summaries alone.

use crate::{Dated, ReportError, ReportResult, all_summaries};
use chrono::NaiveDate;
use rapport_analytics::rfm::{self, Rfm, Segment};
use rapport_core::{CustomerSummary, ExternalId, Money};
use rapport_store::{Store, SummaryRow};
use serde::Serialize;

/// Every customer's summary with its RFM (none for customers who never purchased).
pub struct Scored {
    pub as_of: NaiveDate,
    pub customers: Vec<SummaryRow>,
    pub rfm: Vec<Option<Rfm>>,
}

/// Scores every customer as of `as_of` (default: the day after the last purchase).
pub async fn score(store: &dyn Store, as_of: Option<NaiveDate>) -> ReportResult<Scored> {
    let customers = all_summaries(store).await?;
    let as_of = match as_of {
        Some(d) => d,
        None => rfm::default_as_of(customers.iter().map(|c| &c.summary))
            .ok_or(ReportError::NoData("purchases"))?,
    };
    let summaries: Vec<&CustomerSummary> = customers.iter().map(|c| &c.summary).collect();
    let rfm = rfm::rfm(&summaries, as_of);
    Ok(Scored { as_of, customers, rfm })
}

/// One named segment's size and figures.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentRow {
    pub segment: Segment,
    pub customers: u64,
    /// Share of all buyers.
    pub share: f64,
    pub mean_recency_days: f64,
    pub mean_frequency: f64,
    /// Total purchase value of the segment's customers.
    #[serde(serialize_with = "rfm::decimal")]
    pub monetary: Money,
}

/// Buyers per named segment, every segment listed (empty ones with zeros).
pub async fn segments(
    store: &dyn Store,
    as_of: Option<NaiveDate>,
) -> ReportResult<Dated<Vec<SegmentRow>>> {
    let scored = score(store, as_of).await?;
    Ok(Dated { as_of: scored.as_of, rows: segment_rows(&scored.rfm) })
}

pub fn segment_rows(scores: &[Option<Rfm>]) -> Vec<SegmentRow> {
    let buyers = scores.iter().flatten().count().max(1) as f64;
    Segment::ALL
        .iter()
        .map(|seg| {
            let members: Vec<&Rfm> =
                scores.iter().flatten().filter(|r| r.segment == *seg).collect();
            let n = members.len().max(1) as f64;
            SegmentRow {
                segment: *seg,
                customers: members.len() as u64,
                share: members.len() as f64 / buyers,
                // fold from +0.0: an empty f64 sum is −0.0, which would print as "-0".
                mean_recency_days: members.iter().fold(0.0, |a, r| a + r.recency_days as f64) / n,
                mean_frequency: members.iter().fold(0.0, |a, r| a + r.frequency as f64) / n,
                monetary: members.iter().map(|r| r.monetary).sum(),
            }
        })
        .collect()
}

/// One buyer's RFM.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRfm {
    #[serde(rename = "customer_external_id")]
    pub customer: ExternalId,
    #[serde(flatten)]
    pub rfm: Rfm,
}

/// Every buyer's RFM, in customer order.
pub async fn customers(
    store: &dyn Store,
    as_of: Option<NaiveDate>,
) -> ReportResult<Dated<Vec<CustomerRfm>>> {
    let scored = score(store, as_of).await?;
    let rows = scored
        .customers
        .into_iter()
        .zip(scored.rfm)
        .filter_map(|(c, r)| Some(CustomerRfm { customer: c.id, rfm: r? }))
        .collect();
    Ok(Dated { as_of: scored.as_of, rows })
}

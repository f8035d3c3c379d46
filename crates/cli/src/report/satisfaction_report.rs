//! `rapport report nps|csat|ces`: satisfaction scores with intervals, per period, within one RFM
//! segment or per segment.

use super::{ReportFormat, emit};
use anyhow::Result;
use clap::{Args, ValueEnum};
use rapport_analytics::rfm::Segment;
use rapport_analytics::satisfaction::{self, Estimate};
use rapport_reports::satisfaction::{Params, report as compute};
use rapport_store::Store;

#[derive(Args)]
pub struct SatisfactionArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// One row per period, from the first response to the last.
    #[arg(long, value_enum, default_value = "month")]
    period: PeriodArg,
    /// The feedback source whose ratings count (default: the report's name).
    #[arg(long)]
    source: Option<String>,
    /// Only the customers of one RFM segment (champions, loyal, at_risk, ...).
    #[arg(long, value_parser = Segment::parse)]
    segment: Option<Segment>,
    /// Adds one row per RFM segment (the table lists it after the periods).
    #[arg(long)]
    by_segment: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum PeriodArg {
    Day,
    Week,
    Month,
    Quarter,
}

impl From<PeriodArg> for satisfaction::Period {
    fn from(p: PeriodArg) -> Self {
        match p {
            PeriodArg::Day => satisfaction::Period::Day,
            PeriodArg::Week => satisfaction::Period::Week,
            PeriodArg::Month => satisfaction::Period::Month,
            PeriodArg::Quarter => satisfaction::Period::Quarter,
        }
    }
}

/// The score over all responses and per period. Ratings outside the scale (a 9 under CSAT) are
/// not counted, and how many were left out is said.
pub async fn report(
    store: &dyn Store,
    scale: satisfaction::Scale,
    o: &SatisfactionArgs,
) -> Result<()> {
    let params = Params {
        scale,
        source: o.source.clone(),
        period: o.period.into(),
        segment: o.segment,
        by_segment: o.by_segment,
    };
    let out = compute(store, &params).await?;
    if out.outside_scale > 0 {
        let (lo, hi) = scale.range();
        eprintln!(
            "note: {} ratings of source '{}' are outside {lo}-{hi} and not counted",
            out.outside_scale, out.source
        );
    }
    let cells = |label: String, e: Option<&Estimate>| match e {
        Some(e) => vec![
            label,
            format!("{:.1}", e.score),
            format!("{:.1}", e.low),
            format!("{:.1}", e.high),
            e.responses.to_string(),
        ],
        None => vec![label, String::new(), String::new(), String::new(), "0".into()],
    };
    if o.by_segment && o.format == ReportFormat::Csv {
        // CSV holds one table: with --by-segment, the segments' rows.
        let rows = out
            .by_segment
            .iter()
            .flatten()
            .map(|s| cells(s.segment.as_str().to_string(), Some(&s.estimate)))
            .collect();
        return emit(o.format, &out, &["segment", "score", "low_95", "high_95", "responses"], rows);
    }
    let mut rows: Vec<Vec<String>> =
        out.periods.iter().map(|p| cells(p.start.to_string(), p.estimate.as_ref())).collect();
    if o.format == ReportFormat::Table {
        rows.push(cells("all".into(), out.overall.as_ref()));
        for s in out.by_segment.iter().flatten() {
            rows.push(cells(format!("segment {}", s.segment.as_str()), Some(&s.estimate)));
        }
    }
    let header = ["period", "score", "low_95", "high_95", "responses"];
    emit(o.format, &out, &header, rows)
}

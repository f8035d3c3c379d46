//! `rapport report nps|csat|ces`: satisfaction scores with intervals, per period.

use super::{ReportFormat, emit};
use anyhow::Result;
use clap::{Args, ValueEnum};
use rapport_analytics::satisfaction;
use rapport_store::Store;
use serde::Serialize;

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
    default_source: &str,
    o: &SatisfactionArgs,
) -> Result<()> {
    let source = o.source.as_deref().unwrap_or(default_source);
    let ratings = store.ratings(source).await?;
    let outside = ratings.iter().filter(|(_, r)| !scale.accepts(*r)).count();
    if outside > 0 {
        let (lo, hi) = scale.range();
        eprintln!(
            "note: {outside} ratings of source '{source}' are outside {lo}-{hi} and not counted"
        );
    }
    let overall = satisfaction::estimate(scale, ratings.iter().map(|(_, r)| *r));
    let trend = satisfaction::trend(scale, &ratings, o.period.into());
    #[derive(Serialize)]
    struct Out<'a> {
        scale: satisfaction::Scale,
        source: &'a str,
        overall: Option<satisfaction::Estimate>,
        periods: Vec<satisfaction::PeriodEstimate>,
    }
    let cells = |label: String, e: Option<&satisfaction::Estimate>| match e {
        Some(e) => vec![
            label,
            format!("{:.1}", e.score),
            format!("{:.1}", e.low),
            format!("{:.1}", e.high),
            e.responses.to_string(),
        ],
        None => vec![label, String::new(), String::new(), String::new(), "0".into()],
    };
    let mut rows: Vec<Vec<String>> =
        trend.iter().map(|p| cells(p.start.to_string(), p.estimate.as_ref())).collect();
    if o.format == ReportFormat::Table {
        rows.push(cells("all".into(), overall.as_ref()));
    }
    let header = ["period", "score", "low_95", "high_95", "responses"];
    let out = Out { scale, source, overall, periods: trend };
    emit(o.format, &out, &header, rows)
}

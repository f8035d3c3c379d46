//! `rapport report themes`: the recurring themes of the stored feedback.

use super::{ReportFormat, emit, parse_day};
use anyhow::Result;
use chrono::NaiveDate;
use clap::Args;
use rapport_reports::themes::{Params, report as compute};
use rapport_store::Store;

#[derive(Args)]
pub struct ThemesArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// Only feedback of this source (review, nps, support...).
    #[arg(long)]
    source: Option<String>,
    /// Only feedback created on or after this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_day)]
    since: Option<NaiveDate>,
    /// Themes listed, largest first.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

pub async fn report(store: &dyn Store, o: &ThemesArgs) -> Result<()> {
    let params = Params {
        source: o.source.clone(),
        since: o.since.map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc()),
        top: o.top.max(1),
        ..Params::default()
    };
    let out = compute(store, &params).await?;
    if o.format == ReportFormat::Table {
        println!(
            "{} feedback texts, {} ({:.0}%) in a theme",
            out.items,
            out.assigned,
            100.0 * out.assigned as f64 / out.items.max(1) as f64
        );
    }
    let rows = out
        .themes
        .iter()
        .map(|t| {
            vec![
                t.id.clone(),
                t.label.clone(),
                t.items.to_string(),
                format!("{:.1}%", 100.0 * t.share),
                format!("{:+.2}", t.sentiment),
                format!("{:.0}%", 100.0 * t.negative),
                t.examples.first().map_or(String::new(), |e| e.text.chars().take(80).collect()),
            ]
        })
        .collect();
    let header = ["theme", "label", "items", "share", "sentiment", "negative", "example"];
    emit(o.format, &out, &header, rows)
}

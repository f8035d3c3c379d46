//! `rapport report health`: health scores and the churn-risk list.

use super::{ReportFormat, emit, parse_day};
use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use clap::Args;
use rapport_analytics::health::Config;
use rapport_reports::health::{Params, report as compute};
use rapport_store::Store;

#[derive(Args)]
pub struct HealthArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// The day health is computed for (default: the day after the last purchase; not before it).
    #[arg(long, value_parser = parse_day)]
    as_of: Option<NaiveDate>,
    /// A component's weight, as NAME=NUMBER (repeatable): recency, p_alive, satisfaction,
    /// sentiment, support, usage, trend. Weights are renormalised over the components a
    /// customer has data for.
    #[arg(long = "weight", value_name = "NAME=NUMBER")]
    weights: Vec<String>,
    /// How many at-risk customers to list, by value at risk.
    #[arg(long, default_value_t = 25)]
    top: usize,
    /// Every scored customer (by value at risk), not only the top at-risk ones.
    #[arg(long)]
    all: bool,
    /// The window in days for support load and the purchase trend.
    #[arg(long, default_value_t = 90)]
    window_days: i64,
    /// Weeks of predicted value that are at risk.
    #[arg(long, default_value_t = 52)]
    horizon: u32,
}

pub async fn report(store: &dyn Store, o: &HealthArgs) -> Result<()> {
    let mut config = Config { window_days: o.window_days.max(1), ..Config::default() };
    for w in &o.weights {
        let (name, value) =
            w.split_once('=').ok_or_else(|| anyhow!("--weight '{w}': expected NAME=NUMBER"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| anyhow!("--weight '{w}': '{value}' is not a number"))?;
        config.weights.set(name.trim(), value).map_err(|e| anyhow!("--weight '{w}': {e}"))?;
    }
    let params = Params {
        as_of: o.as_of,
        config,
        horizon_weeks: o.horizon,
        discount: 0.1,
        top: (!o.all).then_some(o.top),
    };
    let out = compute(store, &params).await?;
    let rows = out
        .customers
        .iter()
        .map(|c| {
            vec![
                c.customer.to_string(),
                c.name.clone().unwrap_or_default(),
                format!("{:.1}", c.score),
                c.band.as_str().to_string(),
                format!("{:.2}", c.predicted_value),
                format!("{:.2}", c.value_at_risk),
                c.last_purchase.map(|d| d.to_string()).unwrap_or_default(),
                c.components.weakest().map_or(String::new(), |(n, v)| format!("{n} {v:.2}")),
            ]
        })
        .collect();
    let header = [
        "customer",
        "name",
        "health",
        "band",
        "predicted_value",
        "value_at_risk",
        "last_purchase",
        "weakest",
    ];
    if o.format == ReportFormat::Table {
        let mean = out.mean_score.map_or("-".into(), |m| format!("{m:.1}"));
        println!("health as of {}: {} customers scored, mean {mean}", out.as_of, out.scored);
        let bands = out
            .bands
            .iter()
            .map(|b| {
                vec![
                    b.band.as_str().to_string(),
                    b.customers.to_string(),
                    format!("{:.2}", b.value_at_risk),
                ]
            })
            .collect();
        emit(o.format, &(), &["band", "customers", "value_at_risk"], bands)?;
        let which = if o.all { "every scored customer" } else { "at-risk customers" };
        println!("{which} by value at risk:");
    }
    emit(o.format, &out, &header, rows)
}

//! The dashboard: headline figures, satisfaction trends with their intervals, the retention
//! heatmap, RFM segments, the distribution of predicted lifetime value and the churn-risk
//! list. Every figure comes from the same cached reports as `/api/v1/reports/...`.

use super::charts::{self, Bar, HeatRow, TrendPoint};
use super::{Layout, Viewer, render, urlencode};
use crate::AppState;
use crate::api::reports::{
    Loaded, load_clv, load_health, load_repeat, load_retention, load_rfm, load_satisfaction,
};
use crate::error::ApiError;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use rapport_analytics::satisfaction::Scale;
use rapport_core::access::Permission;
use rapport_reports as reports;

/// How many periods and cohorts the charts show (the most recent).
const RECENT: usize = 18;

/// A headline figure.
pub struct Figure {
    pub label: &'static str,
    pub value: String,
    pub note: String,
}

/// A chart with a caption and the numbers behind it as a table.
pub struct Chart {
    pub id: &'static str,
    pub heading: &'static str,
    pub svg: String,
    /// Set when the chart could not be drawn (no data yet), saying why.
    pub empty: Option<String>,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

impl Chart {
    fn empty(id: &'static str, heading: &'static str, why: String) -> Chart {
        Chart { id, heading, svg: String::new(), empty: Some(why), columns: vec![], rows: vec![] }
    }
}

pub struct RiskRow {
    pub href: String,
    pub customer: String,
    pub name: String,
    pub score: String,
    pub value_at_risk: String,
    pub predicted_value: String,
    pub last_purchase: String,
    pub weakest: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Page {
    layout: Layout,
    figures: Vec<Figure>,
    charts: Vec<Chart>,
    risk: Vec<RiskRow>,
    risk_note: String,
    /// Age of the oldest figure on the page, in seconds.
    age: u64,
}

type Gathered = (
    Loaded<reports::satisfaction::Report>,
    Loaded<reports::satisfaction::Report>,
    Loaded<reports::satisfaction::Report>,
    Loaded<reports::Dated<Vec<rapport_analytics::retention::Cohort>>>,
    Loaded<reports::Dated<Vec<reports::rfm::SegmentRow>>>,
    Loaded<reports::clv::Report>,
    Loaded<reports::health::Report>,
    Loaded<rapport_analytics::retention::RepeatPurchase>,
);

/// Every report the dashboard shows, computed together (or taken from the cache).
async fn gather(s: &AppState) -> Gathered {
    let sat = |scale| load_satisfaction(s, reports::satisfaction::Params::new(scale));
    tokio::join!(
        sat(Scale::Nps),
        sat(Scale::Csat),
        sat(Scale::Ces),
        load_retention(s, None),
        load_rfm(s, None),
        load_clv(s, reports::clv::Params::default()),
        load_health(s, reports::health::Params { top: Some(15), ..Default::default() }),
        load_repeat(s),
    )
}

/// Computes the dashboard's reports ahead of the first visit.
pub async fn warm(s: AppState) {
    let started = std::time::Instant::now();
    let _ = gather(&s).await;
    tracing::info!(seconds = started.elapsed().as_secs_f64(), "dashboard reports computed");
}

pub async fn show(viewer: Viewer, State(s): State<AppState>) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return super::page_error(e);
    }
    let (nps, csat, ces, retention, rfm, clv, health, repeat) = gather(&s).await;
    let age = [
        nps.as_ref().ok().map(|r| r.1),
        csat.as_ref().ok().map(|r| r.1),
        ces.as_ref().ok().map(|r| r.1),
        retention.as_ref().ok().map(|r| r.1),
        rfm.as_ref().ok().map(|r| r.1),
        clv.as_ref().ok().map(|r| r.1),
        health.as_ref().ok().map(|r| r.1),
        repeat.as_ref().ok().map(|r| r.1),
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(0);
    // "No data yet" becomes an empty panel; any other failure is an error page.
    let failures = [
        nps.as_ref().err(),
        csat.as_ref().err(),
        ces.as_ref().err(),
        retention.as_ref().err(),
        rfm.as_ref().err(),
        clv.as_ref().err(),
        health.as_ref().err(),
        repeat.as_ref().err(),
    ];
    if let Some(e) = failures.into_iter().flatten().find(|e| !matches!(e, ApiError::NoData(_))) {
        return super::page_error(ApiError::Internal(e.to_string().into()));
    }
    let mut figures = Vec::new();
    let mut charts = Vec::new();
    for (scale, r) in [(Scale::Nps, &nps), (Scale::Csat, &csat), (Scale::Ces, &ces)] {
        if let Ok((r, _)) = r {
            figures.push(satisfaction_figure(scale, r));
            charts.push(satisfaction_chart(scale, r));
        }
    }
    if let Ok((r, _)) = &repeat {
        figures.push(Figure {
            label: "Repeat purchase",
            value: r.rate.map_or("–".into(), |v| format!("{:.1}%", 100.0 * v)),
            note: format!("{} of {} buyers", r.repeat_buyers, r.buyers),
        });
    }
    charts.push(match &retention {
        Ok((r, _)) => retention_chart(r),
        Err(e) => Chart::empty("retention", "Retention by first-purchase month", e.to_string()),
    });
    charts.push(match &rfm {
        Ok((r, _)) => rfm_chart(r),
        Err(e) => Chart::empty("rfm", "RFM segments", e.to_string()),
    });
    charts.push(match &clv {
        Ok((r, _)) => {
            figures.push(Figure {
                label: "Expected value, next 52 weeks",
                value: r.expected_value.map_or("–".into(), money),
                note: format!("{:.0} purchases by {} customers", r.expected_purchases, r.customers),
            });
            clv_chart(r)
        }
        Err(e) => Chart::empty("clv", "Predicted lifetime value", e.to_string()),
    });
    let (risk, risk_note) = match &health {
        Ok((h, _)) => {
            figures.push(Figure {
                label: "Value at risk",
                value: money(h.value_at_risk),
                note: format!(
                    "mean health {}",
                    h.mean_score.map_or("–".into(), |m| format!("{m:.0}"))
                ),
            });
            charts.push(health_chart(h));
            let at_risk = h.bands.iter().find(|b| b.band.as_str() == "at_risk");
            let note = format!(
                "{} customers at risk (health below {:.0}); the {} with most value at risk:",
                at_risk.map_or(0, |b| b.customers),
                h.config.at_risk_below,
                h.customers.len()
            );
            (h.customers.iter().map(risk_row).collect(), note)
        }
        Err(e) => (Vec::new(), e.to_string()),
    };
    render(&Page { layout: viewer.layout("Dashboard"), figures, charts, risk, risk_note, age })
}

fn money(v: f64) -> String {
    let whole = format!("{:.0}", v.abs());
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if v < 0.0 { format!("−{grouped}") } else { grouped }
}

fn scale_name(scale: Scale) -> (&'static str, &'static str, (f64, f64)) {
    match scale {
        Scale::Nps => ("nps", "NPS", (-100.0, 100.0)),
        Scale::Csat => ("csat", "CSAT %", (0.0, 100.0)),
        Scale::Ces => ("ces", "CES (1–7)", (1.0, 7.0)),
    }
}

fn satisfaction_figure(scale: Scale, r: &reports::satisfaction::Report) -> Figure {
    let label = match scale {
        Scale::Nps => "NPS",
        Scale::Csat => "CSAT",
        Scale::Ces => "CES",
    };
    match &r.overall {
        Some(e) => Figure {
            label,
            value: format!("{:.1}", e.score),
            note: format!("95% CI {:.1} to {:.1}, {} responses", e.low, e.high, e.responses),
        },
        None => {
            Figure { label, value: "–".into(), note: format!("no ratings from '{}'", r.source) }
        }
    }
}

fn satisfaction_chart(scale: Scale, r: &reports::satisfaction::Report) -> Chart {
    let (id, y_label, range) = scale_name(scale);
    let heading = match scale {
        Scale::Nps => "Net Promoter Score per month",
        Scale::Csat => "Customer satisfaction per month",
        Scale::Ces => "Customer effort per month",
    };
    let recent = &r.periods[r.periods.len().saturating_sub(RECENT)..];
    if recent.is_empty() {
        return Chart::empty(id, heading, format!("No ratings from source '{}' yet.", r.source));
    }
    let points: Vec<TrendPoint> = recent
        .iter()
        .map(|p| TrendPoint {
            label: p.start.format("%Y-%m").to_string(),
            value: p.estimate.as_ref().map(|e| (e.score, e.low, e.high)),
            note: p
                .estimate
                .as_ref()
                .map_or(String::new(), |e| format!("{} responses", e.responses)),
        })
        .collect();
    let rows = recent
        .iter()
        .map(|p| match &p.estimate {
            Some(e) => vec![
                p.start.format("%Y-%m").to_string(),
                format!("{:.1}", e.score),
                format!("{:.1} to {:.1}", e.low, e.high),
                e.responses.to_string(),
            ],
            None => vec![p.start.format("%Y-%m").to_string(), "–".into(), "–".into(), "0".into()],
        })
        .collect();
    Chart {
        id,
        heading,
        svg: charts::trend(id, heading, y_label, range, &points),
        empty: None,
        columns: vec!["Month", "Score", "95% interval", "Responses"],
        rows,
    }
}

fn retention_chart(r: &reports::Dated<Vec<rapport_analytics::retention::Cohort>>) -> Chart {
    let heading = "Retention by first-purchase month";
    let recent = &r.rows[r.rows.len().saturating_sub(RECENT)..];
    let heat: Vec<HeatRow> = recent
        .iter()
        .map(|c| HeatRow {
            label: c.month.format("%Y-%m").to_string(),
            note: format!("{} customers", c.customers),
            cells: c.shares().into_iter().take(RECENT).map(Some).collect(),
        })
        .collect();
    let desc = "Share of each first-purchase month's customers who bought again k months later";
    let svg = charts::heatmap("retention", heading, desc, &|k| format!("m{k}"), &heat);
    let rows = recent
        .iter()
        .map(|c| {
            let mut row = vec![c.month.format("%Y-%m").to_string(), c.customers.to_string()];
            row.extend(c.shares().iter().skip(1).take(6).map(|s| format!("{:.1}%", 100.0 * s)));
            row
        })
        .collect();
    Chart {
        id: "retention",
        heading,
        svg,
        empty: None,
        columns: vec!["Cohort", "Customers", "m1", "m2", "m3", "m4", "m5", "m6"],
        rows,
    }
}

fn rfm_chart(r: &reports::Dated<Vec<reports::rfm::SegmentRow>>) -> Chart {
    let heading = "RFM segments";
    let bars: Vec<Bar> = r
        .rows
        .iter()
        .map(|s| Bar {
            label: s.segment.as_str().replace('_', " "),
            value: s.customers as f64,
            text: format!("{} ({:.1}%)", s.customers, 100.0 * s.share),
        })
        .collect();
    let desc = format!("Buyers per RFM segment as of {}", r.as_of);
    let rows = r
        .rows
        .iter()
        .map(|s| {
            vec![
                s.segment.as_str().replace('_', " "),
                s.customers.to_string(),
                format!("{:.1}%", 100.0 * s.share),
                format!("{:.0}", s.mean_recency_days),
                format!("{:.1}", s.mean_frequency),
                money(s.monetary.to_f64()),
            ]
        })
        .collect();
    Chart {
        id: "rfm",
        heading,
        svg: charts::bars("rfm", heading, &desc, &bars),
        empty: None,
        columns: vec!["Segment", "Customers", "Share", "Recency (days)", "Orders", "Value"],
        rows,
    }
}

fn clv_chart(r: &reports::clv::Report) -> Chart {
    let heading = "Predicted lifetime value, next 52 weeks";
    if r.value_distribution.is_empty() || r.gamma_gamma.is_none() {
        return Chart::empty("clv", heading, "No repeat purchases to fit spend on yet.".into());
    }
    let label = |b: &reports::clv::ValueBand| format!("{}–{}", money(b.low), money(b.high));
    let bars: Vec<Bar> = r
        .value_distribution
        .iter()
        .map(|b| Bar {
            label: label(b),
            value: b.customers as f64,
            text: format!("{} customers", b.customers),
        })
        .collect();
    let desc = "Customers per band of discounted expected value (BG/NBD × Gamma-Gamma)";
    let rows =
        r.value_distribution.iter().map(|b| vec![label(b), b.customers.to_string()]).collect();
    Chart {
        id: "clv",
        heading,
        svg: charts::columns("clv", heading, desc, "predicted value", "customers", &bars),
        empty: None,
        columns: vec!["Predicted value", "Customers"],
        rows,
    }
}

fn health_chart(h: &reports::health::Report) -> Chart {
    let heading = "Customer health";
    let label = |i: usize| format!("{}–{}", 10 * i, 10 * i + 10);
    let bars: Vec<Bar> = h
        .histogram
        .iter()
        .enumerate()
        .map(|(i, n)| Bar { label: label(i), value: *n as f64, text: format!("{n} customers") })
        .collect();
    let desc = "Customers per ten points of health score (0 = about to leave, 100 = thriving)";
    let rows = h
        .bands
        .iter()
        .map(|b| {
            vec![b.band.as_str().replace('_', " "), b.customers.to_string(), money(b.value_at_risk)]
        })
        .collect();
    Chart {
        id: "health",
        heading,
        svg: charts::columns("health", heading, desc, "health score", "customers", &bars),
        empty: None,
        columns: vec!["Band", "Customers", "Value at risk"],
        rows,
    }
}

fn risk_row(c: &reports::health::CustomerHealth) -> RiskRow {
    let weakest = c.components.weakest().map_or(String::new(), |(n, v)| format!("{n} ({v:.2})"));
    RiskRow {
        href: format!("/customers/{}", urlencode(c.customer.as_str())),
        customer: c.customer.to_string(),
        name: c.name.clone().unwrap_or_default(),
        score: format!("{:.1}", c.score),
        value_at_risk: money(c.value_at_risk),
        predicted_value: money(c.predicted_value),
        last_purchase: c.last_purchase.map(|d| d.to_string()).unwrap_or_default(),
        weakest,
    }
}

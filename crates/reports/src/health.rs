//! Customer health and the churn-risk list: the signals of every customer gathered from the
//! summaries, ratings, support interactions and purchase occasions, scored by
//! [`rapport_analytics::health`], and the at-risk customers ordered by value at risk.
//!
//! P(alive) and predicted value come from BG/NBD and Gamma-Gamma fitted in weeks on every
//! buyer's summary (x = occasions − 1, t_x and T from the first and last purchase days to the
//! as-of day), so no order is read for them.

use crate::clv::BuyerDays;
use crate::{ReportError, ReportResult, all_summaries, cents, date, day_number};
use chrono::{NaiveDate, TimeZone, Utc};
use rapport_analytics::health::{self, Band, Components, Config, Signals};
use rapport_analytics::{bgnbd, clv, gammagamma};
use rapport_core::{Channel, ExternalId};
use rapport_store::{Store, StoreError, SummaryRow};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Params {
    /// The day health is computed for (default: the day after the last purchase). Summaries
    /// hold the present, so it cannot be before the last purchase.
    pub as_of: Option<NaiveDate>,
    pub config: Config,
    /// Weeks of predicted value (the value at risk).
    pub horizon_weeks: u32,
    /// Annual discount rate of predicted value.
    pub discount: f64,
    /// How many at-risk customers to list (by value at risk); `None` lists every scored customer.
    pub top: Option<usize>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            as_of: None,
            config: Config::default(),
            horizon_weeks: 52,
            discount: 0.1,
            top: Some(25),
        }
    }
}

/// One customer's health and what is at stake.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerHealth {
    pub customer: ExternalId,
    pub name: Option<String>,
    pub score: f64,
    pub band: Band,
    pub churn_risk: f64,
    /// Discounted expected value over the horizon.
    #[serde(serialize_with = "cents")]
    pub predicted_value: f64,
    /// predicted_value × churn_risk.
    #[serde(serialize_with = "cents")]
    pub value_at_risk: f64,
    pub last_purchase: Option<NaiveDate>,
    pub components: Components,
}

#[derive(Debug, Clone, Serialize)]
pub struct BandTotal {
    pub band: Band,
    pub customers: u64,
    #[serde(serialize_with = "cents")]
    pub value_at_risk: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub as_of: NaiveDate,
    pub config: Config,
    pub horizon_weeks: u32,
    /// Customers with a score (the rest have no signal at all).
    pub scored: u64,
    pub mean_score: Option<f64>,
    pub bands: Vec<BandTotal>,
    /// Customers per ten points of score: [0, 10), [10, 20) ... [90, 100].
    pub histogram: [u64; 10],
    #[serde(serialize_with = "cents")]
    pub value_at_risk: f64,
    /// At-risk customers by value at risk, highest first (with `top: None`, every scored
    /// customer in that order).
    pub customers: Vec<CustomerHealth>,
}

pub async fn report(store: &dyn Store, p: &Params) -> ReportResult<Report> {
    let all = all_summaries(store).await?;
    let last = all.iter().filter_map(|c| c.summary.last_purchase_at).max();
    let last_day = last.map(|t| day_number(t.date_naive()));
    let as_of = match (p.as_of, last_day) {
        (Some(d), Some(l)) if day_number(d) < l => {
            return Err(ReportError::Invalid {
                field: "as_of",
                reason: format!(
                    "health is computed from the customers' current summaries, so the as-of \
                     day cannot be before the last purchase ({})",
                    date(l)
                ),
            });
        }
        (Some(d), _) => d,
        (None, Some(l)) => date(l + 1),
        (None, None) => return Err(ReportError::NoData("purchases")),
    };
    let today = day_number(as_of);
    let c = &p.config;
    // The models are arithmetic on the summaries, the other signals are reads: both at once.
    let all = Arc::new(all);
    let fitting = {
        let (all, horizon, discount) = (all.clone(), p.horizon_weeks, p.discount);
        tokio::task::spawn_blocking(move || Models::fit(&all, today, horizon, discount))
    };
    let since =
        Utc.from_utc_datetime(&date(today - c.window_days).and_hms_opt(0, 0, 0).expect("midnight"));
    let (satisfaction, support, windows) = tokio::try_join!(
        latest_satisfaction(store),
        async { Ok(store.interaction_counts(Channel::Support, since).await?) },
        occasions_in_windows(store, today, c.window_days),
    )?;
    let support: HashMap<i64, u32> = support.into_iter().collect();
    let models = fitting.await.map_err(|e| ReportError::Store(StoreError::Other(Box::new(e))))?;
    let all = Arc::try_unwrap(all).unwrap_or_else(|shared| (*shared).clone());
    let typical_gap = health::typical_gap(all.iter().filter_map(mean_gap));

    let mut scored: Vec<CustomerHealth> = Vec::new();
    for (i, row) in all.into_iter().enumerate() {
        let s = &row.summary;
        let (recent, previous) = windows.get(&row.key).copied().unwrap_or((0, 0));
        let signals = Signals {
            days_since_purchase: s
                .last_purchase_at
                .map(|t| (today - day_number(t.date_naive())) as f64),
            mean_gap_days: mean_gap(&row),
            p_alive: models.p_alive[i],
            satisfaction: satisfaction.get(&row.key).copied(),
            sentiment: None,
            support_in_window: support.get(&row.key).copied().unwrap_or(0),
            days_since_usage: s
                .last_event_at
                .map(|t| (today - day_number(t.date_naive())).max(0) as f64),
            occasions_in_window: recent,
            occasions_in_previous_window: previous,
        };
        let Some(h) = health::score(&signals, c, typical_gap) else { continue };
        let predicted_value = models.value[i];
        scored.push(CustomerHealth {
            customer: row.id,
            name: row.name,
            score: h.score,
            band: h.band,
            churn_risk: h.churn_risk,
            predicted_value,
            value_at_risk: predicted_value * h.churn_risk,
            last_purchase: s.last_purchase_at.map(|t| t.date_naive()),
            components: h.components,
        });
    }
    Ok(summarise(as_of, p, scored))
}

/// Totals, bands and the histogram, and the list cut to the top at-risk customers.
fn summarise(as_of: NaiveDate, p: &Params, mut scored: Vec<CustomerHealth>) -> Report {
    let mut histogram = [0u64; 10];
    let mut bands: Vec<BandTotal> = [Band::Healthy, Band::Watch, Band::AtRisk]
        .into_iter()
        .map(|band| BandTotal { band, customers: 0, value_at_risk: 0.0 })
        .collect();
    for h in &scored {
        histogram[((h.score / 10.0) as usize).min(9)] += 1;
        let b = bands.iter_mut().find(|b| b.band == h.band).expect("every band is listed");
        b.customers += 1;
        b.value_at_risk += h.value_at_risk;
    }
    let n = scored.len();
    let mean_score = (n > 0).then(|| scored.iter().map(|h| h.score).sum::<f64>() / n as f64);
    let value_at_risk = scored.iter().map(|h| h.value_at_risk).sum();
    scored.sort_by(|a, b| {
        b.value_at_risk.total_cmp(&a.value_at_risk).then(a.score.total_cmp(&b.score))
    });
    if let Some(top) = p.top {
        scored.retain(|h| h.band == Band::AtRisk);
        scored.truncate(top);
    }
    Report {
        as_of,
        config: p.config,
        horizon_weeks: p.horizon_weeks,
        scored: n as u64,
        mean_score,
        bands,
        histogram,
        value_at_risk,
        customers: scored,
    }
}

/// A repeat buyer's mean days between purchase occasions.
fn mean_gap(row: &SummaryRow) -> Option<f64> {
    let s = &row.summary;
    let (first, last) = (s.first_purchase_at?, s.last_purchase_at?);
    let repeats = s.repeat_occasions();
    (repeats > 0).then(|| (last - first).num_seconds() as f64 / 86_400.0 / repeats as f64)
}

/// P(alive) and predicted value per customer, in the summaries' order.
struct Models {
    p_alive: Vec<Option<f64>>,
    value: Vec<f64>,
}

impl Models {
    fn fit(all: &[SummaryRow], today: i64, horizon: u32, discount: f64) -> Models {
        let calibrated: Vec<Option<clv::Calibrated>> =
            all.iter().map(|r| Some(BuyerDays::of(r)?.calibrated(today, 7.0))).collect();
        let buyers: Vec<clv::Calibrated> = calibrated.iter().flatten().cloned().collect();
        let histories: Vec<bgnbd::History> = buyers.iter().map(|c| c.history).collect();
        let Some(bg) = bgnbd::fit(&histories) else {
            return Models { p_alive: vec![None; all.len()], value: vec![0.0; all.len()] };
        };
        let gg = gammagamma::fit(&crate::clv::spends(&buyers));
        let per_week = crate::clv::per_unit_discount(discount, 7.0);
        let predictions = clv::predictions(
            &bg.params,
            gg.as_ref().map(|g| &g.params),
            &buyers,
            horizon,
            per_week,
        );
        let mut next = buyers.iter().zip(predictions);
        let (mut p_alive, mut value) =
            (Vec::with_capacity(all.len()), Vec::with_capacity(all.len()));
        for (row, c) in all.iter().zip(&calibrated) {
            if c.is_none() {
                p_alive.push(None);
                value.push(0.0);
                continue;
            }
            let (c, prediction) = next.next().expect("one prediction per buyer");
            p_alive.push(Some(bg.params.p_alive(&c.history)));
            // Without a spend model, the customer's own mean order value stands in.
            let spend = row.summary.mean_purchase_value().to_f64();
            value.push(prediction.value.unwrap_or(prediction.purchases * spend));
        }
        Models { p_alive, value }
    }
}

/// Each customer's latest rating of the `nps` or `csat` source, on 0..1.
async fn latest_satisfaction(store: &dyn Store) -> ReportResult<HashMap<i64, f64>> {
    let mut latest: HashMap<i64, (chrono::DateTime<Utc>, f64)> = HashMap::new();
    for (source, scale) in
        [("nps", health::nps_rating as fn(i16) -> f64), ("csat", health::csat_rating)]
    {
        for r in store.ratings(source).await? {
            let v = scale(r.rating);
            latest
                .entry(r.customer)
                .and_modify(|e| {
                    if r.at > e.0 {
                        *e = (r.at, v);
                    }
                })
                .or_insert((r.at, v));
        }
    }
    Ok(latest.into_iter().map(|(k, (_, v))| (k, v)).collect())
}

/// Purchase occasions per customer in the window before `today` and in the one before that.
async fn occasions_in_windows(
    store: &dyn Store,
    today: i64,
    window: i64,
) -> ReportResult<HashMap<i64, (u32, u32)>> {
    let mut out: HashMap<i64, (u32, u32)> = HashMap::new();
    for (customer, day) in store.purchase_occasions(Some(today - 2 * window + 1)).await? {
        let age = today - day;
        if !(0..2 * window).contains(&age) {
            continue;
        }
        let e = out.entry(customer).or_default();
        if age < window {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    Ok(out)
}

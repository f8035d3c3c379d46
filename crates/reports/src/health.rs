//! Customer health and the churn-risk list: the signals of every customer gathered from the
//! summaries, ratings, feedback sentiment, support interactions and purchase occasions, scored
//! by [`rapport_analytics::health`], and the at-risk customers ordered by value at risk.
//!
//! P(alive) and predicted value come from BG/NBD and Gamma-Gamma fitted in weeks on every
//! buyer's summary (x = occasions − 1, t_x and T from the first and last purchase days to the
//! as-of day), so no order is read for them.

use crate::clv::BuyerDays;
use crate::{ReportError, ReportResult, cents, date, day_number};
use chrono::{NaiveDate, TimeZone, Utc};
use rapport_analytics::health::{self, Band, Components, Config, Signals};
use rapport_analytics::{bgnbd, clv, gammagamma};
use rapport_core::{Channel, ExternalId};
use rapport_store::{CustomerActivity, CustomerLabel, PurchaseHistory, Store, StoreError};
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
    let last_day = store.last_purchase_at().await?.map(|t| day_number(t.date_naive()));
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
    let inputs = gather(store, today, p).await?;

    let scores = inputs.score_all(c);
    let listed = listed(&scores, p.top);
    let keys: Vec<i64> = listed.iter().map(|s| inputs.activities[s.at as usize].key).collect();
    let labels: HashMap<i64, CustomerLabel> =
        store.customer_labels(&keys).await?.into_iter().map(|l| (l.key, l)).collect();
    let customers = listed
        .iter()
        .filter_map(|s| {
            let i = s.at as usize;
            let a = &inputs.activities[i];
            let label = labels.get(&a.key)?;
            let h = health::score(&inputs.signals(i), c, inputs.typical_gap)?;
            Some(CustomerHealth {
                customer: label.id.clone(),
                name: label.name.clone(),
                score: h.score,
                band: h.band,
                churn_risk: h.churn_risk,
                predicted_value: inputs.models.value[i],
                value_at_risk: s.value_at_risk,
                last_purchase: a.history.map(|h| h.last_purchase_at.date_naive()),
                components: h.components,
            })
        })
        .collect();
    Ok(summarise(as_of, p, &scores, customers))
}

/// Every customer's signals and models as of day `today`: every read at once, and the models
/// on a blocking thread as soon as the activities are in (at a million customers the reads and
/// the fit take about as long as each other).
async fn gather(store: &dyn Store, today: i64, p: &Params) -> ReportResult<Inputs> {
    let c = &p.config;
    let (horizon, discount) = (p.horizon_weeks, p.discount);
    let modelled = async {
        let activities = Arc::new(store.activities().await?);
        let shared = activities.clone();
        let models =
            tokio::task::spawn_blocking(move || Models::fit(&shared, today, horizon, discount))
                .await
                .map_err(|e| ReportError::Store(StoreError::other(e)))?;
        Ok::<_, ReportError>((activities, models))
    };
    let since =
        Utc.from_utc_datetime(&date(today - c.window_days).and_hms_opt(0, 0, 0).expect("midnight"));
    let ((activities, models), satisfaction, support, mood, windows) = tokio::try_join!(
        modelled,
        latest_satisfaction(store),
        async {
            store.interaction_counts(Channel::Support, since).await.map_err(ReportError::from)
        },
        async { store.feedback_sentiment(since).await.map_err(ReportError::from) },
        occasions_in_windows(store, today, c.window_days),
    )?;
    Ok(Inputs::gather(activities, models, satisfaction, &support, &mood, &windows, today))
}

/// One customer's models, as the health report computes them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CustomerModels {
    /// BG/NBD probability that the buyer is still active (`None` for non-buyers).
    pub p_alive: Option<f64>,
    /// Discounted predicted value over the horizon (`None` for non-buyers or a degenerate fit).
    pub predicted_value: Option<f64>,
    /// Health score 0-100 (`None` without any signal).
    pub health: Option<f64>,
}

/// Every customer's P(alive), predicted value and health score by customer key, with the
/// health report's defaults, as of the day after the last purchase. Empty before the first
/// purchase (no model can be fitted, and health needs an as-of day).
pub async fn per_customer(store: &dyn Store) -> ReportResult<HashMap<i64, CustomerModels>> {
    let Some(last) = store.last_purchase_at().await? else { return Ok(HashMap::new()) };
    let p = Params::default();
    let inputs = gather(store, day_number(last.date_naive()) + 1, &p).await?;
    let out = (0..inputs.activities.len())
        .map(|i| {
            let value = inputs.models.value[i];
            let m = CustomerModels {
                p_alive: inputs.models.p_alive[i],
                predicted_value: (inputs.activities[i].history.is_some() && value.is_finite())
                    .then_some(value),
                health: health::score(&inputs.signals(i), &p.config, inputs.typical_gap)
                    .map(|h| h.score),
            };
            (inputs.activities[i].key, m)
        })
        .collect();
    Ok(out)
}

/// Every buyer's discounted predicted value over `horizon_weeks`, by customer key, as of the
/// day after the last purchase: the same models as the health report (BG/NBD and Gamma-Gamma
/// in weeks on the summaries), for callers that need the value of a few customers (the
/// priority of ideas). Empty before the first purchase.
pub async fn predicted_values(
    store: &dyn Store,
    horizon_weeks: u32,
    discount: f64,
) -> ReportResult<HashMap<i64, f64>> {
    let Some(last) = store.last_purchase_at().await? else { return Ok(HashMap::new()) };
    let today = day_number(last.date_naive()) + 1;
    let activities = store.activities().await?;
    let values = tokio::task::spawn_blocking(move || {
        let models = Models::fit(&activities, today, horizon_weeks, discount);
        // A degenerate fit (a handful of buyers) can predict without bound: unknown, not infinite.
        activities
            .iter()
            .map(|a| a.key)
            .zip(models.value)
            .filter(|(_, v)| v.is_finite() && *v > 0.0)
            .collect()
    })
    .await
    .map_err(|e| ReportError::Store(StoreError::other(e)))?;
    Ok(values)
}

/// One scored customer, compact: a million of these are kept, the full rows only for the list.
#[derive(Debug, Clone, Copy)]
struct Scored {
    /// The position in the activities.
    at: u32,
    band: Band,
    score: f64,
    value_at_risk: f64,
}

/// The customers to list: at-risk ones by value at risk (the `top` first), or with `None`,
/// every scored customer in that order.
fn listed(scores: &[Scored], top: Option<usize>) -> Vec<Scored> {
    let by_risk = |a: &Scored, b: &Scored| {
        b.value_at_risk
            .total_cmp(&a.value_at_risk)
            .then(a.score.total_cmp(&b.score))
            .then(a.at.cmp(&b.at))
    };
    let mut out: Vec<Scored> = match top {
        Some(_) => scores.iter().filter(|s| s.band == Band::AtRisk).copied().collect(),
        None => scores.to_vec(),
    };
    if let Some(n) = top.filter(|&n| n > 0 && n < out.len()) {
        out.select_nth_unstable_by(n - 1, by_risk);
        out.truncate(n);
    }
    out.sort_unstable_by(by_risk);
    if let Some(n) = top {
        out.truncate(n);
    }
    out
}

/// Every signal per customer, by position in the key-ordered activities.
struct Inputs {
    activities: Arc<Vec<CustomerActivity>>,
    models: Models,
    satisfaction: Vec<Option<f64>>,
    /// Mean feedback sentiment in the window (−1..1).
    sentiment: Vec<Option<f64>>,
    support: Vec<u32>,
    /// Purchase occasions in the last window and the one before.
    windows: Vec<(u32, u32)>,
    typical_gap: Option<f64>,
    today: i64,
}

impl Inputs {
    fn gather(
        activities: Arc<Vec<CustomerActivity>>,
        models: Models,
        satisfaction: HashMap<i64, f64>,
        support: &[(i64, u32)],
        mood: &[(i64, f64, u32)],
        windows: &[(i64, u32, u32)],
        today: i64,
    ) -> Inputs {
        let n = activities.len();
        let index = KeyIndex::new(activities.iter().map(|a| a.key));
        let mut inputs = Inputs {
            satisfaction: vec![None; n],
            sentiment: vec![None; n],
            support: vec![0; n],
            windows: vec![(0, 0); n],
            typical_gap: health::typical_gap(
                activities.iter().filter_map(|a| mean_gap(a.history.as_ref()?)),
            ),
            activities,
            models,
            today,
        };
        for (key, v) in satisfaction {
            if let Some(i) = index.get(key) {
                inputs.satisfaction[i] = Some(v);
            }
        }
        for &(key, mean, _) in mood {
            if let Some(i) = index.get(key) {
                inputs.sentiment[i] = Some(mean);
            }
        }
        for &(key, n) in support {
            if let Some(i) = index.get(key) {
                inputs.support[i] = n;
            }
        }
        for &(key, recent, previous) in windows {
            if let Some(i) = index.get(key) {
                inputs.windows[i] = (recent, previous);
            }
        }
        inputs
    }

    fn signals(&self, i: usize) -> Signals {
        let a = &self.activities[i];
        let (recent, previous) = self.windows[i];
        Signals {
            days_since_purchase: a
                .history
                .map(|h| (self.today - day_number(h.last_purchase_at.date_naive())) as f64),
            mean_gap_days: a.history.as_ref().and_then(mean_gap),
            p_alive: self.models.p_alive[i],
            satisfaction: self.satisfaction[i],
            sentiment: self.sentiment[i],
            support_in_window: self.support[i],
            days_since_usage: a
                .last_event_at
                .map(|t| (self.today - day_number(t.date_naive())).max(0) as f64),
            occasions_in_window: recent,
            occasions_in_previous_window: previous,
        }
    }

    fn score_all(&self, c: &Config) -> Vec<Scored> {
        (0..self.activities.len())
            .filter_map(|i| {
                let h = health::score(&self.signals(i), c, self.typical_gap)?;
                Some(Scored {
                    at: i as u32,
                    band: h.band,
                    score: h.score,
                    value_at_risk: self.models.value[i] * h.churn_risk,
                })
            })
            .collect()
    }
}

/// Positions of keys in a key-ordered list: a table when the keys are dense (they are row
/// ids), a binary search when deletions have left them sparse.
enum KeyIndex {
    Dense { base: i64, slots: Vec<u32> },
    Sorted(Vec<i64>),
}

impl KeyIndex {
    fn new(keys: impl Iterator<Item = i64>) -> KeyIndex {
        let keys: Vec<i64> = keys.collect();
        let (Some(&lo), Some(&hi)) = (keys.first(), keys.last()) else {
            return KeyIndex::Sorted(keys);
        };
        let span = (hi - lo) as usize + 1;
        if span > 4 * keys.len() + 1024 {
            return KeyIndex::Sorted(keys);
        }
        let mut slots = vec![u32::MAX; span];
        for (i, k) in keys.iter().enumerate() {
            slots[(k - lo) as usize] = i as u32;
        }
        KeyIndex::Dense { base: lo, slots }
    }

    fn get(&self, key: i64) -> Option<usize> {
        match self {
            KeyIndex::Dense { base, slots } => {
                let slot = *slots.get(usize::try_from(key - base).ok()?)?;
                (slot != u32::MAX).then_some(slot as usize)
            }
            KeyIndex::Sorted(keys) => keys.binary_search(&key).ok(),
        }
    }
}

/// Totals, bands and the histogram over every scored customer, with the listed ones.
fn summarise(
    as_of: NaiveDate,
    p: &Params,
    scored: &[Scored],
    customers: Vec<CustomerHealth>,
) -> Report {
    let mut histogram = [0u64; 10];
    let mut bands: Vec<BandTotal> = [Band::Healthy, Band::Watch, Band::AtRisk]
        .into_iter()
        .map(|band| BandTotal { band, customers: 0, value_at_risk: 0.0 })
        .collect();
    for h in scored {
        histogram[((h.score / 10.0) as usize).min(9)] += 1;
        let b = bands.iter_mut().find(|b| b.band == h.band).expect("every band is listed");
        b.customers += 1;
        b.value_at_risk += h.value_at_risk;
    }
    let n = scored.len();
    let mean_score = (n > 0).then(|| scored.iter().map(|h| h.score).sum::<f64>() / n as f64);
    Report {
        as_of,
        config: p.config,
        horizon_weeks: p.horizon_weeks,
        scored: n as u64,
        mean_score,
        bands,
        histogram,
        value_at_risk: scored.iter().map(|h| h.value_at_risk).sum(),
        customers,
    }
}

/// A repeat buyer's mean days between purchase occasions.
fn mean_gap(h: &PurchaseHistory) -> Option<f64> {
    let repeats = h.purchase_occasions - 1;
    (repeats > 0).then(|| {
        (h.last_purchase_at - h.first_purchase_at).num_seconds() as f64 / 86_400.0 / repeats as f64
    })
}

/// P(alive) and predicted value per customer, by position in the activities.
struct Models {
    p_alive: Vec<Option<f64>>,
    value: Vec<f64>,
}

impl Models {
    fn fit(all: &[CustomerActivity], today: i64, horizon: u32, discount: f64) -> Models {
        let buyers: Vec<clv::Calibrated> = all
            .iter()
            .filter_map(|a| {
                Some(BuyerDays::from_history(a.history.as_ref()?).calibrated(today, 7.0))
            })
            .collect();
        let histories: Vec<bgnbd::History> = buyers.iter().map(|c| c.history).collect();
        let Some(bg) = bgnbd::fit_params(&histories) else {
            return Models { p_alive: vec![None; all.len()], value: vec![0.0; all.len()] };
        };
        let gg = gammagamma::fit_params(&crate::clv::spends(&buyers));
        let per_week = crate::clv::per_unit_discount(discount, 7.0);
        let predictions = clv::predictions(&bg, gg.as_ref(), &buyers, horizon, per_week);
        let mut next = buyers.iter().zip(predictions);
        let (mut p_alive, mut value) =
            (Vec::with_capacity(all.len()), Vec::with_capacity(all.len()));
        for a in all {
            let Some(h) = &a.history else {
                p_alive.push(None);
                value.push(0.0);
                continue;
            };
            let (c, prediction) = next.next().expect("one prediction per buyer");
            p_alive.push(Some(bg.p_alive(&c.history)));
            // Without a spend model, the customer's own mean value per occasion stands in.
            let spend = h.purchase_value.to_f64() / h.purchase_occasions as f64;
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

/// Purchase occasions per customer in the window before `today` and in the one before that,
/// for the customers with any: (key, recent, previous), folded as the occasions stream in.
async fn occasions_in_windows(
    store: &dyn Store,
    today: i64,
    window: i64,
) -> ReportResult<Vec<(i64, u32, u32)>> {
    let parts = crate::fold_occasions(
        store,
        Some(today - 2 * window + 1),
        Vec::new,
        |counts: &mut Vec<(i64, u32, u32)>, customer, day| {
            let age = today - day;
            if !(0..2 * window).contains(&age) {
                return;
            }
            if counts.last().is_none_or(|c| c.0 != customer) {
                counts.push((customer, 0, 0));
            }
            let c = counts.last_mut().expect("pushed above");
            if age < window {
                c.1 += 1;
            } else {
                c.2 += 1;
            }
        },
    )
    .await?;
    Ok(parts.concat())
}

//! Customer health: a score from 0 to 100 per customer, the churn risk it implies and the value
//! at risk (PRODUCT.md capability 12).
//!
//! Each signal the data holds becomes a component between 0 (bad) and 1 (good):
//!
//! | component | from | value |
//! |---|---|---|
//! | recency | days since the last purchase `d`, the customer's usual gap `g` | exp(−max(0, d/g − 1)) |
//! | p_alive | BG/NBD P(alive) | as is |
//! | satisfaction | the latest NPS (0–10) or CSAT (1–5) rating | rating / 10, (rating − 1) / 4 |
//! | sentiment | mean sentiment of the customer's feedback in the window (−1..1) | (s + 1) / 2 |
//! | support | support interactions in the window, `n` | h / (h + n), h = `support_half_load` |
//! | usage | days since the last product-usage event `e` | exp(−e / `usage_scale_days`) |
//! | trend | purchase occasions in the last window `a` and the window before `b` | min(1, (a + 1) / (b + 1)) |
//!
//! - The usual gap is the customer's mean time between purchase occasions; for a one-time buyer,
//!   the median of that over repeat buyers. So recency is 1 while a customer is within their
//!   rhythm, 0.37 at twice the gap, 0.14 at three times.
//! - A component without data (no rating, no events, no purchases in either window) is left
//!   out, and the weights of the others are renormalised: health = 100 × Σ wᵢcᵢ / Σ wᵢ over the
//!   components present. A customer with none has no score.
//! - Churn risk = 1 − health / 100; value at risk = predicted lifetime value × churn risk.
//!   Bands: `healthy` from `healthy_from`, `at_risk` below `at_risk_below`, `watch` between.

use serde::{Deserialize, Serialize};

/// The weight of each component; any non-negative numbers (they are renormalised).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    pub recency: f64,
    pub p_alive: f64,
    pub satisfaction: f64,
    pub sentiment: f64,
    pub support: f64,
    pub usage: f64,
    pub trend: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            recency: 0.25,
            p_alive: 0.20,
            satisfaction: 0.20,
            sentiment: 0.10,
            support: 0.10,
            usage: 0.10,
            trend: 0.05,
        }
    }
}

impl Weights {
    pub const NAMES: [&'static str; 7] =
        ["recency", "p_alive", "satisfaction", "sentiment", "support", "usage", "trend"];

    fn as_array(&self) -> [f64; 7] {
        [
            self.recency,
            self.p_alive,
            self.satisfaction,
            self.sentiment,
            self.support,
            self.usage,
            self.trend,
        ]
    }

    /// Sets one weight by its name, as in `--weight support=0.3`.
    pub fn set(&mut self, name: &str, value: f64) -> Result<(), String> {
        if !(value.is_finite() && value >= 0.0) {
            return Err(format!("weight {name}: {value} is not a non-negative number"));
        }
        let slot = match name {
            "recency" => &mut self.recency,
            "p_alive" => &mut self.p_alive,
            "satisfaction" => &mut self.satisfaction,
            "sentiment" => &mut self.sentiment,
            "support" => &mut self.support,
            "usage" => &mut self.usage,
            "trend" => &mut self.trend,
            _ => {
                return Err(format!(
                    "unknown health weight '{name}'; the weights are {}",
                    Self::NAMES.join(", ")
                ));
            }
        };
        *slot = value;
        Ok(())
    }
}

/// Settings besides the weights.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub weights: Weights,
    /// Support interactions in the window at which the support component is 0.5.
    pub support_half_load: f64,
    /// Days since the last usage event at which the usage component is 1/e.
    pub usage_scale_days: f64,
    /// The window, in days, for support load and the purchase trend.
    pub window_days: i64,
    pub healthy_from: f64,
    pub at_risk_below: f64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            weights: Weights::default(),
            support_half_load: 2.0,
            usage_scale_days: 30.0,
            window_days: 90,
            healthy_from: 70.0,
            at_risk_below: 40.0,
        }
    }
}

/// What is known about one customer as of the report's day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Signals {
    pub days_since_purchase: Option<f64>,
    /// The customer's mean days between purchase occasions (none for one-time buyers).
    pub mean_gap_days: Option<f64>,
    pub p_alive: Option<f64>,
    /// The latest rating, already on 0..1 (see [`nps_rating`], [`csat_rating`]).
    pub satisfaction: Option<f64>,
    pub sentiment: Option<f64>,
    pub support_in_window: u32,
    pub days_since_usage: Option<f64>,
    pub occasions_in_window: u32,
    pub occasions_in_previous_window: u32,
}

/// A 0–10 NPS rating on 0..1.
pub fn nps_rating(r: i16) -> f64 {
    f64::from(r.clamp(0, 10)) / 10.0
}

/// A 1–5 CSAT rating on 0..1.
pub fn csat_rating(r: i16) -> f64 {
    f64::from(r.clamp(1, 5) - 1) / 4.0
}

/// The components (0..1, none where the data is missing) in [`Weights::NAMES`] order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Components {
    pub recency: Option<f64>,
    pub p_alive: Option<f64>,
    pub satisfaction: Option<f64>,
    pub sentiment: Option<f64>,
    pub support: Option<f64>,
    pub usage: Option<f64>,
    pub trend: Option<f64>,
}

impl Components {
    /// The components with their names, in [`Weights::NAMES`] order.
    pub fn named(&self) -> [(&'static str, Option<f64>); 7] {
        let values = self.as_array();
        std::array::from_fn(|i| (Weights::NAMES[i], values[i]))
    }

    /// The lowest component present: what pulls the score down most.
    pub fn weakest(&self) -> Option<(&'static str, f64)> {
        self.named()
            .into_iter()
            .filter_map(|(n, v)| Some((n, v?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn as_array(&self) -> [Option<f64>; 7] {
        [
            self.recency,
            self.p_alive,
            self.satisfaction,
            self.sentiment,
            self.support,
            self.usage,
            self.trend,
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Healthy,
    Watch,
    AtRisk,
}

impl Band {
    pub fn as_str(self) -> &'static str {
        match self {
            Band::Healthy => "healthy",
            Band::Watch => "watch",
            Band::AtRisk => "at_risk",
        }
    }
}

/// One customer's health.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Health {
    /// 0–100.
    pub score: f64,
    pub band: Band,
    /// 1 − score / 100.
    pub churn_risk: f64,
    pub components: Components,
}

/// The median gap of repeat buyers, the usual gap assumed for one-time buyers.
pub fn typical_gap(gaps: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut gaps: Vec<f64> = gaps.into_iter().filter(|g| g.is_finite() && *g > 0.0).collect();
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    let (_, m, _) = gaps.select_nth_unstable_by(mid, f64::total_cmp);
    Some(*m)
}

pub fn components(s: &Signals, c: &Config, typical_gap: Option<f64>) -> Components {
    let recency = s.days_since_purchase.and_then(|d| {
        let gap = s.mean_gap_days.or(typical_gap)?.max(1.0);
        Some((-(d.max(0.0) / gap - 1.0).max(0.0)).exp())
    });
    let trend = (s.occasions_in_window + s.occasions_in_previous_window > 0).then(|| {
        let ratio =
            f64::from(s.occasions_in_window + 1) / f64::from(s.occasions_in_previous_window + 1);
        ratio.min(1.0)
    });
    let half = c.support_half_load.max(f64::MIN_POSITIVE);
    Components {
        recency,
        p_alive: s.p_alive.map(|p| p.clamp(0.0, 1.0)),
        satisfaction: s.satisfaction.map(|v| v.clamp(0.0, 1.0)),
        sentiment: s.sentiment.map(|v| ((v + 1.0) / 2.0).clamp(0.0, 1.0)),
        support: Some(half / (half + f64::from(s.support_in_window))),
        usage: s.days_since_usage.map(|d| (-d.max(0.0) / c.usage_scale_days.max(1.0)).exp()),
        trend,
    }
}

/// The health of one customer; none when no weighted component has data. Support load alone
/// (every customer has a count, usually 0) does not make a score.
pub fn score(s: &Signals, c: &Config, typical_gap: Option<f64>) -> Option<Health> {
    let comps = components(s, c, typical_gap);
    let weights = c.weights.as_array();
    let values = comps.as_array();
    let informative = values
        .iter()
        .zip(weights)
        .enumerate()
        .any(|(i, (v, w))| v.is_some() && w > 0.0 && Weights::NAMES[i] != "support");
    if !informative {
        return None;
    }
    let (mut sum, mut total) = (0.0, 0.0);
    for (v, w) in values.iter().zip(weights) {
        if let Some(v) = v {
            sum += w * v;
            total += w;
        }
    }
    let score = 100.0 * sum / total;
    let band = if score >= c.healthy_from {
        Band::Healthy
    } else if score < c.at_risk_below {
        Band::AtRisk
    } else {
        Band::Watch
    };
    Some(Health { score, band, churn_risk: 1.0 - score / 100.0, components: comps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn recency_is_one_within_the_usual_gap_and_decays_after_it() {
        let c = Config::default();
        let s = |d| Signals {
            days_since_purchase: Some(d),
            mean_gap_days: Some(30.0),
            ..Default::default()
        };
        assert_eq!(components(&s(10.0), &c, None).recency, Some(1.0));
        assert!(close(components(&s(60.0), &c, None).recency.unwrap(), (-1.0f64).exp()));
        // One-time buyers use the typical gap; without one there is no recency component.
        let once = Signals { days_since_purchase: Some(60.0), ..Default::default() };
        assert!(close(components(&once, &c, Some(20.0)).recency.unwrap(), (-2.0f64).exp()));
        assert_eq!(components(&once, &c, None).recency, None);
    }

    #[test]
    fn score_is_the_weighted_mean_of_the_components_present() {
        // recency 1 (w .25), p_alive .5 (w .2), satisfaction: NPS 6 → .6 (w .2),
        // support 1 ticket, half load 2 → 2/3 (w .1); no sentiment, usage or trend.
        let s = Signals {
            days_since_purchase: Some(5.0),
            mean_gap_days: Some(30.0),
            p_alive: Some(0.5),
            satisfaction: Some(nps_rating(6)),
            support_in_window: 1,
            ..Default::default()
        };
        let h = score(&s, &Config::default(), None).unwrap();
        let want = 100.0 * (0.25 * 1.0 + 0.2 * 0.5 + 0.2 * 0.6 + 0.1 * 2.0 / 3.0) / 0.75;
        assert!(close(h.score, want), "{} vs {want}", h.score);
        assert!(close(h.churn_risk, 1.0 - want / 100.0));
        assert_eq!(h.band, Band::Healthy);
        assert_eq!(h.components.sentiment, None);
    }

    #[test]
    fn weights_change_the_score_and_bands_follow_the_thresholds() {
        let s = Signals { p_alive: Some(0.9), satisfaction: Some(0.0), ..Default::default() };
        let mut c = Config::default();
        // p_alive .9 (w .2), satisfaction 0 (w .2), support 1 (w .1) → 100 × .28/.5 = 56.
        assert!(close(score(&s, &c, None).unwrap().score, 56.0));
        assert_eq!(score(&s, &c, None).unwrap().band, Band::Watch);
        c.weights.set("satisfaction", 0.0).unwrap();
        // p_alive .9 (w .2), support 1 (w .1) → 100 × .28/.3.
        assert!(close(score(&s, &c, None).unwrap().score, 280.0 / 3.0));
        c.weights.set("p_alive", 0.0).unwrap();
        assert_eq!(score(&s, &c, None), None, "support alone makes no score");
        assert!(c.weights.set("loyalty", 1.0).unwrap_err().contains("recency, p_alive"));
        assert!(c.weights.set("usage", -1.0).is_err());
        let low = Signals { p_alive: Some(0.05), ..Default::default() };
        assert_eq!(score(&low, &Config::default(), None).unwrap().band, Band::AtRisk);
    }

    #[test]
    fn trend_support_usage_and_rating_scales() {
        let c = Config::default();
        let s = Signals {
            occasions_in_window: 1,
            occasions_in_previous_window: 3,
            support_in_window: 6,
            days_since_usage: Some(30.0),
            ..Default::default()
        };
        let k = components(&s, &c, None);
        assert_eq!(k.trend, Some(0.5));
        assert_eq!(k.weakest(), Some(("support", 0.25)));
        assert_eq!(k.support, Some(0.25));
        assert!(close(k.usage.unwrap(), (-1.0f64).exp()));
        assert_eq!(components(&Signals::default(), &c, None).trend, None);
        assert_eq!((csat_rating(5), csat_rating(1), csat_rating(3)), (1.0, 0.0, 0.5));
        assert_eq!((nps_rating(10), nps_rating(0)), (1.0, 0.0));
        assert_eq!(typical_gap([10.0, 30.0, 20.0, f64::NAN]), Some(20.0));
        assert_eq!(typical_gap([]), None);
    }
}

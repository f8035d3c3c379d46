//! The priority score of a feature idea, with its explanation.
//!
//! Every distinct customer who asked for the idea (through a linked feedback item or added by a
//! team member on their behalf) adds a weight; the score is the sum of those weights, times a
//! usage factor for ideas that improve an existing feature:
//!
//! ```text
//! score   = usage × Σ over requesters of  value × recency × intensity × segment
//! value   = 1 + log10(1 + (revenue + predicted CLV) / 100)      1 at nothing, 2 at 900, 3 at 9,900
//! recency = 1 within 30 days of the request, then 0.5^((age − 30 days) / 90 days)
//! intensity = 1 + 0.5 × |mean sentiment of their evidence|       1 to 1.5; 1 without text
//! segment = the weight of their RFM segment (configurable; 1 when unknown)
//! usage   = improve ideas: min(1, 0.4 + 5 × share), share = the largest share of active
//!           customers (any event in the window) who used a related event; new ideas: 1
//! ```
//!
//! Why this shape: distinct customers are the unit of demand, so twenty small customers
//! outweigh one large one, but value still counts (logarithmically: a customer worth 9,900 counts
//! ×3, one worth 900 ×2, one with nothing ×1). Old requests fade but never vanish. Strong
//! feeling either way means the customer cares. An "improve X" idea on a feature almost nobody
//! uses helps few people, whatever they say: at 4% usage it is weighted ×0.6, from 12% on it
//! is not lowered. RICE (reach × impact × confidence / effort) is the team's own estimate and is
//! shown beside the score, never mixed into it.

use chrono::{DateTime, Utc};
use rapport_core::idea::IdeaKind;
use serde::Serialize;

/// One distinct customer who asked.
#[derive(Debug, Clone, PartialEq)]
pub struct Requester {
    /// What they have spent (purchase value).
    pub revenue: f64,
    /// Predicted value over the value model's horizon; 0 when unknown.
    pub predicted_clv: f64,
    /// Their segment's name, for the explanation.
    pub segment: Option<String>,
    pub segment_weight: f64,
    /// Their first request (an older request shows the need is long-standing, but recency is
    /// about whether it is still felt: callers pass the latest).
    pub requested_at: DateTime<Utc>,
    /// Mean sentiment (−1..1) of their linked feedback with text, if any.
    pub sentiment: Option<f64>,
}

/// Usage of the idea's related events over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Usage {
    /// Customers with any event in the window.
    pub active: u64,
    /// (event name, distinct customers who used it in the window).
    pub events: Vec<(String, u64)>,
    pub window_days: u32,
}

/// The constants of the formula; the defaults are the documented ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub full_days: f64,
    pub half_life_days: f64,
    /// The amount at which value adds about 0.3 (log10 2).
    pub value_unit: f64,
    pub sentiment_gain: f64,
    pub usage_floor: f64,
    pub usage_slope: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            full_days: 30.0,
            half_life_days: 90.0,
            value_unit: 100.0,
            sentiment_gain: 0.5,
            usage_floor: 0.4,
            usage_slope: 5.0,
        }
    }
}

/// One factor of the score: its value and a sentence a person reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    pub name: &'static str,
    pub value: f64,
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Priority {
    pub score: f64,
    pub customers: usize,
    pub components: Vec<Component>,
}

impl Params {
    pub fn value(&self, r: &Requester) -> f64 {
        1.0 + (1.0 + (amount(r.revenue) + amount(r.predicted_clv)) / self.value_unit).log10()
    }

    pub fn recency(&self, r: &Requester, now: DateTime<Utc>) -> f64 {
        let age = (now - r.requested_at).num_seconds() as f64 / 86_400.0;
        if age <= self.full_days {
            1.0
        } else {
            0.5f64.powf((age - self.full_days) / self.half_life_days)
        }
    }

    pub fn intensity(&self, r: &Requester) -> f64 {
        let s = r.sentiment.filter(|s| s.is_finite()).map_or(0.0, |s| s.abs().min(1.0));
        1.0 + self.sentiment_gain * s
    }

    /// The usage factor and the related event with the largest share (`None`: not applied).
    pub fn usage(&self, kind: IdeaKind, usage: Option<&Usage>) -> (f64, Option<(String, f64)>) {
        let Some(u) = usage.filter(|u| kind == IdeaKind::Improve && u.active > 0) else {
            return (1.0, None);
        };
        let best = u
            .events
            .iter()
            .map(|(e, n)| (e.clone(), *n as f64 / u.active as f64))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((e, share)) => {
                ((self.usage_floor + self.usage_slope * share).min(1.0), Some((e, share)))
            }
            None => (1.0, None),
        }
    }
}

/// The score of an idea of `kind` asked for by `requesters` (one entry per distinct customer).
pub fn score(
    kind: IdeaKind,
    requesters: &[Requester],
    usage: Option<&Usage>,
    now: DateTime<Utc>,
    p: &Params,
) -> Priority {
    let (usage_factor, top_event) = p.usage(kind, usage);
    let demand: f64 = requesters
        .iter()
        .map(|r| p.value(r) * p.recency(r, now) * p.intensity(r) * amount(r.segment_weight))
        .sum();
    let components = vec![
        demand_component(requesters),
        value_component(requesters, p),
        recency_component(requesters, now, p),
        intensity_component(requesters, p),
        segment_component(requesters),
        usage_component(kind, usage, usage_factor, top_event),
    ];
    Priority { score: demand * usage_factor, customers: requesters.len(), components }
}

/// An amount as the score counts it: negative or non-finite ones (a model that failed) as 0.
fn amount(v: f64) -> f64 {
    if v.is_finite() { v.max(0.0) } else { 0.0 }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn demand_component(rs: &[Requester]) -> Component {
    let revenue: f64 = rs.iter().map(|r| amount(r.revenue)).sum();
    let clv: f64 = rs.iter().map(|r| amount(r.predicted_clv)).sum();
    let who = if rs.len() == 1 {
        "1 customer asked".into()
    } else {
        format!("{} distinct customers asked", rs.len())
    };
    Component {
        name: "customers",
        value: rs.len() as f64,
        explanation: format!(
            "{who}, worth {} in revenue and {} predicted CLV",
            thousands(revenue),
            thousands(clv)
        ),
    }
}

fn value_component(rs: &[Requester], p: &Params) -> Component {
    let m = mean(rs.iter().map(|r| p.value(r)));
    Component {
        name: "value",
        value: m,
        explanation: format!(
            "each customer counts 1 + log10(1 + (revenue + predicted CLV) / {}): ×1 with no \
             value, ×3 at {}; ×{m:.2} on average here",
            thousands(p.value_unit),
            thousands(p.value_unit * 99.0),
        ),
    }
}

fn recency_component(rs: &[Requester], now: DateTime<Utc>, p: &Params) -> Component {
    let m = mean(rs.iter().map(|r| p.recency(r, now)));
    let recent = rs.iter().filter(|r| p.recency(r, now) >= 1.0).count();
    Component {
        name: "recency",
        value: m,
        explanation: format!(
            "requests in the last {} days count fully, older ones decay with a {}-day \
             half-life: {recent} of {} are recent, ×{m:.2} on average",
            p.full_days,
            p.half_life_days,
            rs.len()
        ),
    }
}

fn intensity_component(rs: &[Requester], p: &Params) -> Component {
    let m = mean(rs.iter().map(|r| p.intensity(r)));
    let with = rs.iter().filter(|r| r.sentiment.is_some()).count();
    Component {
        name: "sentiment",
        value: m,
        explanation: format!(
            "strong feeling either way counts more, up to ×{:.1}: {with} of {} customers wrote \
             evidence with text, ×{m:.2} on average",
            1.0 + p.sentiment_gain,
            rs.len()
        ),
    }
}

fn segment_component(rs: &[Requester]) -> Component {
    let m = mean(rs.iter().map(|r| r.segment_weight));
    let mut counts: Vec<(String, usize, f64)> = Vec::new();
    for r in rs {
        let name = r.segment.clone().unwrap_or_else(|| "no segment".into());
        match counts.iter_mut().find(|c| c.0 == name) {
            Some(c) => c.1 += 1,
            None => counts.push((name, 1, r.segment_weight)),
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let parts: Vec<String> =
        counts.iter().take(4).map(|(s, n, w)| format!("{n} {s} ×{w}")).collect();
    let parts = if parts.is_empty() { "nobody yet".to_string() } else { parts.join(", ") };
    Component {
        name: "segment",
        value: m,
        explanation: format!("weighted by RFM segment: {parts}; ×{m:.2} on average"),
    }
}

fn usage_component(
    kind: IdeaKind,
    usage: Option<&Usage>,
    factor: f64,
    top: Option<(String, f64)>,
) -> Component {
    let explanation = match (kind, usage, top) {
        (IdeaKind::New, _, _) => {
            "a new capability: usage of existing features does not lower it (×1)".into()
        }
        (_, _, Some((e, share))) if factor < 1.0 => format!(
            "only {}% of active customers use `{e}`: an improve idea on a little-used feature \
             is weighted ×{factor:.1}",
            (share * 100.0).round()
        ),
        (_, Some(u), Some((e, share))) => format!(
            "{}% of active customers used `{e}` in the last {} days: usage does not lower it (×1)",
            (share * 100.0).round(),
            u.window_days
        ),
        (_, Some(u), None) if u.active == 0 => {
            format!(
                "no customer was active in the last {} days: usage not weighed (×1)",
                u.window_days
            )
        }
        _ => "no related events named: usage not weighed (×1)".into(),
    };
    Component { name: "usage", value: factor, explanation }
}

/// 41200.4 → "41,200": amounts in sentences, rounded to whole units.
fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
#[path = "priority_tests.rs"]
mod tests;

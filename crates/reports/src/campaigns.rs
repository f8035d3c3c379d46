//! A campaign's results: the treatment against the holdout on the campaign's goal, over all
//! recorded members and per RFM segment at launch.
//!
//! Both groups are measured the same way over the same window (`[sent_at, sent_at + days)`),
//! and the treatment is everyone drawn into it, sent or not (intention to treat): dropping the
//! ones whose e-mail bounced would compare a selected group against a random one.
//! Proportions (purchase, retention) go through the two-proportion z-test, amounts (revenue,
//! CLV change) through Welch's t-test (`rapport_analytics::campaign`).

use crate::{ReportResult, health};
use rapport_analytics::campaign::{Lift, Moments, two_proportion, welch};
use rapport_core::Timestamp;
use rapport_core::campaign::{Arm, GoalMetric};
use rapport_store::{Backend, OutboxCounts, RecipientOutcome, StoredCampaign};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Draft,
    /// Sent; the goal window is still open, so the figures are provisional.
    Measuring,
    Finished,
}

impl Stage {
    pub fn of(c: &StoredCampaign, now: Timestamp) -> Stage {
        match c.window_end() {
            None => Stage::Draft,
            Some(end) if now < end => Stage::Measuring,
            Some(_) => Stage::Finished,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Stage::Draft => "Draft",
            Stage::Measuring => "Measuring",
            Stage::Finished => "Finished",
        }
    }
}

/// The comparison within one group of recipients.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// `None` for all recipients, else the RFM segment.
    pub segment: Option<String>,
    pub treatment: u64,
    pub holdout: u64,
    /// `None` when a group is too small to compare (empty; fewer than 2 for means).
    pub lift: Option<Lift>,
}

/// A campaign with its results.
#[derive(Debug, Clone, Serialize)]
pub struct Results {
    #[serde(flatten)]
    pub campaign: StoredCampaign,
    pub stage: Stage,
    pub window_end: Option<Timestamp>,
    /// The treatment's messages by delivery status.
    pub outbox: OutboxCounts,
    pub overall: Option<Comparison>,
    /// Per RFM segment at launch, largest first.
    pub by_segment: Vec<Comparison>,
}

/// The topic of a campaign's outbox messages (their dedupe keys' prefix).
pub fn topic(id: i64) -> String {
    format!("campaign:{id}")
}

/// A campaign and, once sent, its results at `now`.
pub async fn results(db: &dyn Backend, id: i64, now: Timestamp) -> ReportResult<Results> {
    let campaign = db.campaign(id).await?;
    let stage = Stage::of(&campaign, now);
    let topic = topic(id);
    let (outcomes, outbox) =
        tokio::try_join!(db.campaign_outcomes(id), db.outbox_counts(Some(&topic)))?;
    // The CLV goal needs every customer's model now; the others only the stored outcomes.
    let clv_now = match campaign.campaign.goal {
        GoalMetric::ClvChange if !outcomes.is_empty() => clv_now(db).await?,
        _ => HashMap::new(),
    };
    let (overall, by_segment) = match outcomes.is_empty() {
        true => (None, Vec::new()),
        false => compare(campaign.campaign.goal, &outcomes, &clv_now),
    };
    let window_end = campaign.window_end();
    Ok(Results { campaign, stage, window_end, outbox, overall, by_segment })
}

async fn clv_now(db: &dyn Backend) -> ReportResult<HashMap<i64, f64>> {
    let models = health::per_customer(db).await?;
    Ok(models.into_iter().filter_map(|(k, m)| Some((k, m.predicted_value?))).collect())
}

/// One recipient's value on the goal; `None` when it cannot be measured (no CLV either side).
fn value(goal: GoalMetric, o: &RecipientOutcome, clv_now: &HashMap<i64, f64>) -> Option<f64> {
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    match goal {
        GoalMetric::Purchase => Some(flag(o.purchases > 0)),
        GoalMetric::Retention => Some(flag(o.active)),
        GoalMetric::Revenue => Some(o.revenue),
        GoalMetric::ClvChange => {
            // A customer with no prediction before or after had no purchase history: 0 → 0.
            let before = o.clv_before.unwrap_or(0.0);
            Some(clv_now.get(&o.customer).copied().unwrap_or(0.0) - before)
        }
    }
}

/// Both arms' accumulated values.
#[derive(Debug, Clone, Default)]
struct Tally {
    treatment: Moments,
    holdout: Moments,
}

impl Tally {
    fn push(&mut self, arm: Arm, v: f64) {
        match arm {
            Arm::Treatment => self.treatment.push(v),
            Arm::Holdout => self.holdout.push(v),
        }
    }

    fn comparison(&self, goal: GoalMetric, segment: Option<String>) -> Comparison {
        let (t, h) = (&self.treatment, &self.holdout);
        let lift = if goal.is_proportion() {
            // The values are 0/1, so mean × n is the count of successes, exactly.
            let hits = |m: &Moments| (m.mean().unwrap_or(0.0) * m.count() as f64).round() as u64;
            two_proportion(hits(t), t.count(), hits(h), h.count())
        } else {
            welch(t, h)
        };
        Comparison { segment, treatment: t.count(), holdout: h.count(), lift }
    }
}

/// The overall comparison and one per segment (largest first), pure.
pub fn compare(
    goal: GoalMetric,
    outcomes: &[RecipientOutcome],
    clv_now: &HashMap<i64, f64>,
) -> (Option<Comparison>, Vec<Comparison>) {
    let mut all = Tally::default();
    let mut segments: BTreeMap<String, Tally> = BTreeMap::new();
    for o in outcomes {
        let Some(v) = value(goal, o, clv_now) else { continue };
        all.push(o.arm, v);
        let name = o.segment.clone().unwrap_or_else(|| "No purchases".into());
        segments.entry(name).or_default().push(o.arm, v);
    }
    let mut by_segment: Vec<Comparison> =
        segments.into_iter().map(|(s, t)| t.comparison(goal, Some(s))).collect();
    by_segment.sort_by_key(|c| std::cmp::Reverse(c.treatment + c.holdout));
    (Some(all.comparison(goal, None)), by_segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(customer: i64, arm: Arm, seg: &str, purchases: u32, revenue: f64) -> RecipientOutcome {
        RecipientOutcome {
            customer,
            arm,
            segment: Some(seg.into()),
            clv_before: Some(10.0),
            purchases,
            revenue,
            active: purchases > 0,
        }
    }

    fn sample() -> Vec<RecipientOutcome> {
        let mut v = Vec::new();
        for i in 0..400 {
            let arm = if i % 4 == 0 { Arm::Holdout } else { Arm::Treatment };
            let seg = if i % 2 == 0 { "Champions" } else { "At risk" };
            // Treatment buys one time in two, the holdout one in four.
            let bought = match arm {
                Arm::Treatment => i % 8 < 4,
                Arm::Holdout => i % 16 == 0,
            };
            v.push(o(i, arm, seg, u32::from(bought), if bought { 20.0 } else { 0.0 }));
        }
        v
    }

    #[test]
    fn purchase_rates_are_compared_overall_and_per_segment() {
        let (all, segs) = compare(GoalMetric::Purchase, &sample(), &HashMap::new());
        let all = all.unwrap();
        assert_eq!((all.treatment, all.holdout), (300, 100));
        let lift = all.lift.unwrap();
        assert!((lift.treatment.value - 0.5).abs() < 1e-12, "{lift:?}");
        assert!((lift.control.value - 0.25).abs() < 1e-12, "{lift:?}");
        assert!((lift.absolute - 0.25).abs() < 1e-12);
        assert!(lift.ci_low < 0.25 && 0.25 < lift.ci_high && lift.p_value < 0.001);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs.iter().map(|s| s.treatment + s.holdout).sum::<u64>(), 400);
    }

    #[test]
    fn amounts_use_welch_and_clv_change_uses_the_model_now() {
        let (all, _) = compare(GoalMetric::Revenue, &sample(), &HashMap::new());
        let lift = all.unwrap().lift.unwrap();
        assert!((lift.absolute - 5.0).abs() < 1e-9, "20 × (0.5 − 0.25): {lift:?}");
        assert!(lift.df.is_some());
        let now: HashMap<i64, f64> =
            (0..400).map(|i| (i, if i % 4 == 0 { 10.0 } else { 13.0 })).collect();
        let (all, _) = compare(GoalMetric::ClvChange, &sample(), &now);
        let lift = all.unwrap().lift.unwrap();
        assert!((lift.treatment.value - 3.0).abs() < 1e-9 && lift.control.value.abs() < 1e-9);
    }
}

//! The demo's balanced scorecard: eleven goals over both perspectives, each target set from the
//! demo's own measurement of its metric so the statuses come out mixed and the same on every
//! run: met with room to spare (on track), missed by half the at-risk margin (at risk), or by
//! three margins (off track). The margin is the default one (5% of the target; on a bounded
//! scale at least 1% of it), and targets are rounded to a tenth of it, so a rounded target
//! stays on the intended side.

use super::today;
use rapport_analytics::scorecard::{Direction, Goal, GoalSpec, Metric, Status, default_margin};
use rapport_reports::scorecard::{self, GoalStatus, Params};
use rapport_store::Backend;

/// (metric, period, owner, the status its target is set for)
const PLAN: &[(&str, &str, &str, Status)] = &[
    ("nps", "month", "CX team", Status::OnTrack),
    ("csat", "month", "Support", Status::AtRisk),
    ("ces", "quarter", "Support", Status::OnTrack),
    ("retention", "month", "CRM", Status::OffTrack),
    ("churn", "month", "CRM", Status::AtRisk),
    ("repeat_rate", "month", "Marketing", Status::OnTrack),
    ("clv", "quarter", "Marketing", Status::AtRisk),
    ("revenue", "month", "Sales", Status::OnTrack),
    ("orders", "month", "Sales", Status::AtRisk),
    ("active_customers", "quarter", "Growth", Status::OffTrack),
    ("loyalty_liability", "month", "Finance", Status::OnTrack),
];

/// Adds the goals; returns how many are on track, at risk and off track.
pub async fn build(store: &dyn Backend) -> anyhow::Result<[usize; 3]> {
    let now = today();
    for &(metric, period, owner, _) in PLAN {
        let m = Metric::parse(metric).expect("a metric of the plan");
        // Any valid target until the metric is measured: the bottom of its scale.
        let placeholder = m.unit().bounds().0.unwrap_or(0.0);
        let spec = GoalSpec {
            metric: metric.into(),
            target: Some(placeholder),
            period: Some(period.into()),
            owner: owner.into(),
            ..GoalSpec::default()
        };
        scorecard::create_goal(store, &spec.check()?, Some("demo"), now).await?;
    }
    let measured = scorecard::scorecard(store, &Params::new(now)).await?;
    let mut counts = [0; 3];
    for (g, &(.., want)) in measured.goals.iter().zip(PLAN) {
        let Some(goal) = aimed(g, want) else {
            // Nothing measured (a tiny demo): a goal that could only say "no data" is left out.
            store.delete_goal(g.record.id).await?;
            continue;
        };
        scorecard::update_goal(store, g.record.id, &goal, now).await?;
        let slot = match goal.status(g.latest.as_ref().and_then(|p| p.value)) {
            Status::OnTrack => 0,
            Status::AtRisk => 1,
            _ => 2,
        };
        counts[slot] += 1;
    }
    Ok(counts)
}

/// The goal with a target that puts its latest value at `want`; `None` without a value.
fn aimed(g: &GoalStatus, want: Status) -> Option<Goal> {
    let latest = g.latest.as_ref()?.value?;
    let goal = &g.record.goal;
    // A zero revenue has no 5%: one unit then.
    let m = Some(default_margin(goal.metric, latest)).filter(|m| *m > 0.0).unwrap_or(1.0);
    // How far the target lies on the side where the latest value falls short of it.
    let miss = match want {
        Status::OnTrack => -m,
        Status::AtRisk => m / 2.0,
        _ => 3.0 * m,
    };
    let target = match goal.direction {
        Direction::Higher => latest + miss,
        Direction::Lower => latest - miss,
    };
    let step = 10f64.powf((m / 10.0).log10().floor());
    let (lo, hi) = goal.metric.unit().bounds();
    let target =
        ((target / step).round() * step).max(lo.unwrap_or(f64::MIN)).min(hi.unwrap_or(f64::MAX));
    GoalSpec { target: Some(target), at_risk_margin: None, ..goal.spec() }.check().ok()
}

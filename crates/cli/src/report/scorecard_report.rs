//! `rapport report scorecard`: every goal's latest value against its target, with its status
//! and a text sparkline of its periods.

use super::{ReportFormat, emit, parse_day};
use anyhow::Result;
use chrono::{NaiveDate, Utc};
use clap::Args;
use rapport_reports::scorecard::{self, DEFAULT_PERIODS, GoalStatus, Params};
use rapport_store::Backend;

#[derive(Args)]
pub struct ScorecardArgs {
    #[arg(long, value_enum, default_value = "table")]
    format: ReportFormat,
    /// The day the scorecard is as of (YYYY-MM-DD); default: the day of the last purchase.
    /// Each goal is judged on the last period complete by then.
    #[arg(long, value_parser = parse_day)]
    as_of: Option<NaiveDate>,
    /// How many periods each series shows (1-60).
    #[arg(long, default_value_t = DEFAULT_PERIODS)]
    periods: usize,
}

const HEADER: [&str; 12] = [
    "id",
    "perspective",
    "metric",
    "period",
    "owner",
    "direction",
    "target",
    "at_risk_margin",
    "latest_period",
    "latest",
    "status",
    "trend",
];

pub async fn report(store: &dyn Backend, o: &ScorecardArgs) -> Result<()> {
    let params = Params { as_of: o.as_of, periods: o.periods, ..Params::new(Utc::now()) };
    let card = scorecard::scorecard(store, &params).await?;
    let machine = o.format != ReportFormat::Table;
    let rows = card.goals.iter().map(|g| row(g, machine)).collect();
    if o.format == ReportFormat::Table {
        println!("Scorecard as of {} ({} goals)", card.as_of, card.goals.len());
    }
    emit(o.format, &card, &HEADER, rows)
}

/// A goal's row: numbers formatted for people in the table, plain for CSV.
fn row(g: &GoalStatus, machine: bool) -> Vec<String> {
    let goal = &g.record.goal;
    let unit = g.unit;
    let number = |v: f64| if machine { format!("{v}") } else { unit.format(v) };
    let latest = g.latest.as_ref();
    vec![
        g.record.id.to_string(),
        g.perspective.label().to_lowercase(),
        if machine { goal.metric.name().to_string() } else { g.label.to_string() },
        goal.period.name().to_string(),
        goal.owner.clone(),
        goal.direction.name().to_string(),
        number(goal.target),
        number(goal.at_risk_margin),
        latest.map(|p| p.label.clone()).unwrap_or_default(),
        latest.and_then(|p| p.value).map(number).unwrap_or_default(),
        if machine { g.status.name().to_string() } else { g.status.label().to_string() },
        spark(&g.series.iter().map(|p| p.value).collect::<Vec<_>>()),
    ]
}

/// A text sparkline: one block per period, its height the value within the series' range;
/// a space where nothing was measured.
pub fn spark(values: &[Option<f64>]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let known = values.iter().flatten();
    let lo = known.clone().copied().fold(f64::INFINITY, f64::min);
    let hi = known.copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => ' ',
            Some(_) if hi <= lo => BLOCKS[3],
            Some(v) => BLOCKS[(((v - lo) / (hi - lo)) * 7.0).round() as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn sparks_span_the_range_and_leave_gaps() {
        let s = super::spark(&[Some(0.0), None, Some(5.0), Some(10.0)]);
        assert_eq!(s, "▁ ▅█");
        assert_eq!(super::spark(&[Some(3.0), Some(3.0)]), "▄▄");
        assert_eq!(super::spark(&[]), "");
    }
}

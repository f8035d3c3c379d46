//! A goal as written ([`GoalSpec`]: plain strings and numbers from a form, a JSON body or the
//! command line), checked once into a [`Goal`], and the status of a measurement against it.

use super::metric::{Direction, Metric, Period, Unit};
use rapport_core::FieldError;
use serde::{Deserialize, Serialize};

/// The longest owner name kept: a person or a team, not a paragraph.
const MAX_OWNER_CHARS: usize = 100;

/// A goal as a person wrote it; [`GoalSpec::check`] turns it into a [`Goal`] or names the
/// field at fault. Every field defaults, so a missing one is reported by name, not as a
/// parse error of the whole body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoalSpec {
    /// `nps`, `csat`, `ces`, `retention`, `churn`, `repeat_rate`, `clv`, `revenue`, `orders`,
    /// `active_customers` or `loyalty_liability`.
    pub metric: String,
    /// In the metric's unit (NPS points, percent, CES mean, currency units, a count, points).
    pub target: Option<f64>,
    /// `month` (the default) or `quarter`.
    pub period: Option<String>,
    /// Who answers for the goal: a person or a team.
    pub owner: String,
    /// `higher` or `lower` is better; the metric's usual direction when left out.
    pub direction: Option<String>,
    /// How far on the wrong side of the target still counts as at risk, in the target's unit;
    /// [`default_margin`] when left out.
    pub at_risk_margin: Option<f64>,
}

/// A checked goal: its values are in range and consistent with its metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Goal {
    pub metric: Metric,
    pub target: f64,
    pub period: Period,
    pub owner: String,
    pub direction: Direction,
    pub at_risk_margin: f64,
}

impl GoalSpec {
    pub fn check(&self) -> Result<Goal, FieldError> {
        let metric = parse_metric(&self.metric)?;
        let target = self.target.ok_or_else(|| FieldError::missing("target"))?;
        check_value("target", target, metric.unit())?;
        let period = match self.period.as_deref().map(str::trim) {
            None | Some("") => Period::Month,
            Some(p) => Period::parse(p).ok_or_else(|| {
                FieldError::new("period", format!("'{p}' is not a period; month or quarter"))
            })?,
        };
        let owner = self.owner.trim();
        if owner.is_empty() {
            return Err(FieldError::missing("owner"));
        }
        if owner.chars().count() > MAX_OWNER_CHARS || owner.chars().any(char::is_control) {
            return Err(FieldError::new(
                "owner",
                format!("must be at most {MAX_OWNER_CHARS} characters on one line"),
            ));
        }
        let direction = match self.direction.as_deref().map(str::trim) {
            None | Some("") => metric.default_direction(),
            Some(d) => Direction::parse(d).ok_or_else(|| {
                FieldError::new("direction", format!("'{d}' is not a direction; higher or lower"))
            })?,
        };
        let at_risk_margin = match self.at_risk_margin {
            None => default_margin(metric, target),
            Some(m) if m.is_finite() && m >= 0.0 => m,
            Some(m) => {
                return Err(FieldError::new(
                    "at_risk_margin",
                    format!("must be a number of zero or more, not {m}"),
                ));
            }
        };
        Ok(Goal { metric, target, period, owner: owner.to_string(), direction, at_risk_margin })
    }
}

fn parse_metric(s: &str) -> Result<Metric, FieldError> {
    if s.trim().is_empty() {
        return Err(FieldError::missing("metric"));
    }
    Metric::parse(s).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        FieldError::new(
            "metric",
            format!("'{}' is not a metric; one of {}", s.trim(), names.join(", ")),
        )
    })
}

/// A target must be a value the metric can take (a CSAT of 120% never happens).
fn check_value(field: &str, v: f64, unit: Unit) -> Result<(), FieldError> {
    if !v.is_finite() {
        return Err(FieldError::new(field, "must be a number"));
    }
    let (lo, hi) = unit.bounds();
    let outside = lo.is_some_and(|lo| v < lo) || hi.is_some_and(|hi| v > hi);
    if outside {
        let range = match (lo, hi) {
            (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
            (Some(lo), None) => format!("{lo} or more"),
            _ => "in range".to_string(),
        };
        return Err(FieldError::new(field, format!("must be {range} for this metric, not {v}")));
    }
    Ok(())
}

/// The at-risk margin when a goal names none: 5% of the target, in its unit. On a bounded
/// scale at least 1% of the scale (NPS 2 points, a rate 1 point, CES 0.06), so a target of 0
/// NPS or a 2% churn target still leaves room to be at risk rather than flip from on track
/// to off track on noise.
pub fn default_margin(metric: Metric, target: f64) -> f64 {
    let relative = 0.05 * target.abs();
    match metric.unit().bounds() {
        (Some(lo), Some(hi)) => relative.max(0.01 * (hi - lo)),
        _ => relative,
    }
}

impl Goal {
    /// The goal written back as a spec (every field explicit), for editing.
    pub fn spec(&self) -> GoalSpec {
        GoalSpec {
            metric: self.metric.name().into(),
            target: Some(self.target),
            period: Some(self.period.name().into()),
            owner: self.owner.clone(),
            direction: Some(self.direction.name().into()),
            at_risk_margin: Some(self.at_risk_margin),
        }
    }

    /// The status of `latest` against this goal ([`status`]).
    pub fn status(&self, latest: Option<f64>) -> Status {
        status(self, latest)
    }
}

/// How a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    OnTrack,
    AtRisk,
    OffTrack,
    /// Nothing measured in the latest period (no responses, no purchases before it).
    NoData,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::OnTrack => "on_track",
            Status::AtRisk => "at_risk",
            Status::OffTrack => "off_track",
            Status::NoData => "no_data",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::OnTrack => "On track",
            Status::AtRisk => "At risk",
            Status::OffTrack => "Off track",
            Status::NoData => "No data",
        }
    }
}

/// On track when the latest value meets the target (equal counts), at risk when it misses by
/// at most the margin, off track beyond; no data without a value.
pub fn status(goal: &Goal, latest: Option<f64>) -> Status {
    let Some(v) = latest.filter(|v| v.is_finite()) else { return Status::NoData };
    // How far on the wrong side of the target: ≤ 0 meets it.
    let shortfall = match goal.direction {
        Direction::Higher => goal.target - v,
        Direction::Lower => v - goal.target,
    };
    // A hair of tolerance, relative to the target, so a value equal to the target or to its
    // edge in decimal (85.3 − 4.265) is not pushed across by binary rounding.
    let eps = 1e-9 * goal.target.abs().max(1.0);
    if shortfall <= eps {
        Status::OnTrack
    } else if shortfall <= goal.at_risk_margin + eps {
        Status::AtRisk
    } else {
        Status::OffTrack
    }
}

//! The metrics a goal can be set on, their perspective, unit and usual direction, and the
//! periods they are measured over.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Which half of the scorecard a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Perspective {
    Customer,
    Business,
}

impl Perspective {
    pub fn label(self) -> &'static str {
        match self {
            Perspective::Customer => "Customer",
            Perspective::Business => "Business",
        }
    }
}

/// What a metric's values (and so a goal's target and margin) are measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// NPS: −100..100.
    NpsPoints,
    /// A share in percent: 0..100.
    Percent,
    /// CES: the mean answer on 1..7.
    Ces,
    /// An amount in currency units (orders' currencies are summed as stored, as every report does).
    Money,
    /// A number of orders or customers.
    Count,
    /// Loyalty points.
    Points,
}

impl Unit {
    /// The range a value can take; `None` above or below for open-ended amounts.
    pub fn bounds(self) -> (Option<f64>, Option<f64>) {
        match self {
            Unit::NpsPoints => (Some(-100.0), Some(100.0)),
            Unit::Percent => (Some(0.0), Some(100.0)),
            Unit::Ces => (Some(1.0), Some(7.0)),
            Unit::Money | Unit::Count | Unit::Points => (Some(0.0), None),
        }
    }

    /// A value written for people: "42.0", "81.3%", "5.42", "12,345.60", "1,204".
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::NpsPoints => format!("{v:.1}"),
            Unit::Percent => format!("{v:.1}%"),
            Unit::Ces => format!("{v:.2}"),
            Unit::Money => grouped(v, 2),
            Unit::Count | Unit::Points => grouped(v, 0),
        }
    }
}

/// `v` with `decimals` decimals and thousands separated by commas.
fn grouped(v: f64, decimals: usize) -> String {
    let text = format!("{:.*}", decimals, v.abs());
    let (whole, frac) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    let sign =
        if v < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0') { "-" } else { "" };
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Whether a rising value is good news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// On track at or above the target.
    Higher,
    /// On track at or below the target.
    Lower,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Higher => "higher",
            Direction::Lower => "lower",
        }
    }

    pub fn parse(s: &str) -> Option<Direction> {
        match s.trim().to_ascii_lowercase().as_str() {
            "higher" | "up" | "higher_is_better" => Some(Direction::Higher),
            "lower" | "down" | "lower_is_better" => Some(Direction::Lower),
            _ => None,
        }
    }
}

/// A metric of the balanced scorecard (PRODUCT.md, "Metric definitions"; the per-period
/// meaning of each is in `reports::scorecard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Nps,
    Csat,
    Ces,
    Retention,
    Churn,
    RepeatRate,
    Clv,
    Revenue,
    Orders,
    ActiveCustomers,
    LoyaltyLiability,
}

impl Metric {
    pub const ALL: [Metric; 11] = [
        Metric::Nps,
        Metric::Csat,
        Metric::Ces,
        Metric::Retention,
        Metric::Churn,
        Metric::RepeatRate,
        Metric::Clv,
        Metric::Revenue,
        Metric::Orders,
        Metric::ActiveCustomers,
        Metric::LoyaltyLiability,
    ];

    /// The name in the API, the CLI and the database (`repeat_rate`).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Nps => "nps",
            Metric::Csat => "csat",
            Metric::Ces => "ces",
            Metric::Retention => "retention",
            Metric::Churn => "churn",
            Metric::RepeatRate => "repeat_rate",
            Metric::Clv => "clv",
            Metric::Revenue => "revenue",
            Metric::Orders => "orders",
            Metric::ActiveCustomers => "active_customers",
            Metric::LoyaltyLiability => "loyalty_liability",
        }
    }

    /// The name shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Nps => "NPS",
            Metric::Csat => "CSAT",
            Metric::Ces => "CES",
            Metric::Retention => "Retention",
            Metric::Churn => "Churn rate",
            Metric::RepeatRate => "Repeat-purchase rate",
            Metric::Clv => "Historical CLV per buyer",
            Metric::Revenue => "Revenue",
            Metric::Orders => "Orders",
            Metric::ActiveCustomers => "Active customers",
            Metric::LoyaltyLiability => "Loyalty liability",
        }
    }

    /// Accepts the name, case-insensitively, with `-` or a space for `_`.
    pub fn parse(s: &str) -> Option<Metric> {
        let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Metric::ALL.into_iter().find(|m| m.name() == s)
    }

    /// What customers feel and do (customer) against what the company earns and owes
    /// (business). Retention, churn and repeat purchase are customer behaviour; CLV is the
    /// value of a customer relationship, so it sits with them too.
    pub fn perspective(self) -> Perspective {
        match self {
            Metric::Nps
            | Metric::Csat
            | Metric::Ces
            | Metric::Retention
            | Metric::Churn
            | Metric::RepeatRate
            | Metric::Clv => Perspective::Customer,
            Metric::Revenue
            | Metric::Orders
            | Metric::ActiveCustomers
            | Metric::LoyaltyLiability => Perspective::Business,
        }
    }

    pub fn unit(self) -> Unit {
        match self {
            Metric::Nps => Unit::NpsPoints,
            Metric::Csat | Metric::Retention | Metric::Churn | Metric::RepeatRate => Unit::Percent,
            Metric::Ces => Unit::Ces,
            Metric::Clv | Metric::Revenue => Unit::Money,
            Metric::Orders | Metric::ActiveCustomers => Unit::Count,
            Metric::LoyaltyLiability => Unit::Points,
        }
    }

    /// Higher is better for every metric but two. Churn counts customers lost, so less is
    /// better. Loyalty liability is the points members hold and may still redeem: a debt the
    /// company carries on its books, so a goal caps it (a growing liability is not, by itself,
    /// engagement: points earned and never spent say nothing good). A goal may say otherwise.
    pub fn default_direction(self) -> Direction {
        match self {
            Metric::Churn | Metric::LoyaltyLiability => Direction::Lower,
            _ => Direction::Higher,
        }
    }
}

/// How often a goal is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month,
    Quarter,
}

impl Period {
    pub fn name(self) -> &'static str {
        match self {
            Period::Month => "month",
            Period::Quarter => "quarter",
        }
    }

    pub fn parse(s: &str) -> Option<Period> {
        match s.trim().to_ascii_lowercase().as_str() {
            "month" | "monthly" => Some(Period::Month),
            "quarter" | "quarterly" => Some(Period::Quarter),
            _ => None,
        }
    }

    /// A running number of the period holding `day`: consecutive periods differ by one
    /// across year ends.
    pub fn index(self, day: NaiveDate) -> i32 {
        match self {
            Period::Month => day.year() * 12 + day.month0() as i32,
            Period::Quarter => day.year() * 4 + (day.month0() / 3) as i32,
        }
    }

    /// The first day of the period with this index.
    pub fn start(self, index: i32) -> NaiveDate {
        let (year, month0) = match self {
            Period::Month => (index.div_euclid(12), index.rem_euclid(12)),
            Period::Quarter => (index.div_euclid(4), index.rem_euclid(4) * 3),
        };
        NaiveDate::from_ymd_opt(year, month0 as u32 + 1, 1).expect("a period's first day")
    }

    /// The last day of the period with this index.
    pub fn end(self, index: i32) -> NaiveDate {
        self.start(index + 1).pred_opt().expect("a day before a period")
    }

    /// "2026-10" for a month, "2026-Q4" for a quarter.
    pub fn label(self, index: i32) -> String {
        let start = self.start(index);
        match self {
            Period::Month => format!("{}-{:02}", start.year(), start.month()),
            Period::Quarter => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
        }
    }

    /// The latest period that is over by the end of `as_of`: the one holding `as_of` when it
    /// is that period's last day, else the one before. A period still running is not judged,
    /// so a monthly revenue goal is not "off track" on the 3rd of the month.
    pub fn latest_complete(self, as_of: NaiveDate) -> i32 {
        let i = self.index(as_of);
        if self.end(i) == as_of { i } else { i - 1 }
    }
}

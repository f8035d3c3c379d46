//! The balanced scorecard: goals on customer metrics (NPS, CSAT, CES, retention, churn,
//! repeat purchase, CLV) and business metrics (revenue, orders, active customers, loyalty
//! liability), each with a target, a period, an owner and a status from the latest
//! measurement.
//!
//! - [`Metric`]: the metrics, with their [`Perspective`], [`Unit`] and usual [`Direction`].
//! - [`GoalSpec`]: a goal as written, checked once into a [`Goal`] ([`GoalSpec::check`]).
//! - [`status`]: on track, at risk (short of the target by at most the goal's margin), off
//!   track, or no data.
//! - [`Window`], [`PurchaseTally`], [`SalesTally`]: the measurements per period, from plain
//!   data (each customer's purchase order days; purchases per day). The per-period
//!   definitions are in [`measure`].

mod goal;
pub mod measure;
mod metric;

pub use goal::{Goal, GoalSpec, Status, default_margin, status};
pub use measure::{DaySales, Point, PurchaseTally, SalesTally, Window};
pub use metric::{Direction, Metric, Period, Perspective, Unit};

#[cfg(test)]
mod tests;

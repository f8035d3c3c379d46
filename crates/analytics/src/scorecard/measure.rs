//! The measurements per period: which periods a scorecard shows ([`Window`]), customer
//! behaviour per period from each customer's purchase orders ([`PurchaseTally`]), and sales
//! per period from per-day totals ([`SalesTally`]).
//!
//! Definitions (PRODUCT.md, "Metric definitions", applied to one period p):
//! - **active customers**: customers with a purchase order in p;
//! - **churn**: of the customers active in the period before p, the share not active in p;
//! - **retention**: of the customers whose first purchase was in the period before p (that
//!   period's cohort), the share with a purchase in p: the cohort matrix's column k = 1;
//! - **repeat-purchase rate**: customers with ≥ 2 purchase orders by the end of p over
//!   customers with ≥ 1 by then (orders, not days, as `report repeat` counts them);
//! - **historical CLV per buyer**: purchase value by the end of p over the customers who had
//!   bought by then;
//! - **revenue** and **orders**: purchase orders placed in p, and their value.
//!
//! Returns and cancellations are not purchases and never reach these functions.

use super::metric::Period;
use chrono::{Duration, NaiveDate};
use rapport_core::Money;
use serde::Serialize;

/// The periods shown: `count` periods of `period` ending with `latest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub period: Period,
    pub latest: i32,
    pub count: usize,
}

impl Window {
    /// `count` periods ending with the latest complete one as of `as_of`
    /// ([`Period::latest_complete`]).
    pub fn ending(period: Period, as_of: NaiveDate, count: usize) -> Window {
        Window { period, latest: period.latest_complete(as_of), count: count.max(1) }
    }

    /// The index of the first period shown.
    pub fn first(&self) -> i32 {
        self.latest - self.count as i32 + 1
    }

    pub fn indices(&self) -> std::ops::RangeInclusive<i32> {
        self.first()..=self.latest
    }

    /// One point per period from `value(index)`.
    pub fn points(&self, mut value: impl FnMut(i32) -> Option<f64>) -> Vec<Point> {
        self.indices().map(|i| self.point(i, value(i))).collect()
    }

    pub fn point(&self, index: i32, value: Option<f64>) -> Point {
        Point {
            start: self.period.start(index),
            label: self.period.label(index),
            value: value.filter(|v| v.is_finite()),
        }
    }
}

/// One period's measurement: `None` when there was nothing to measure (no responses, nobody
/// active before it), so a chart shows a gap, not a zero.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub start: NaiveDate,
    pub label: String,
    pub value: Option<f64>,
}

/// The day of 1970-01-01 + `day` days.
pub fn epoch_day(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch") + Duration::days(day)
}

/// Microseconds since the epoch to days since the epoch (UTC).
pub fn day_of_micros(us: i64) -> i64 {
    us.div_euclid(86_400_000_000)
}

/// Maps days to period indices, remembering the last day (a customer's orders repeat days).
struct Indexer {
    period: Period,
    last: (i64, i32),
}

impl Indexer {
    fn new(period: Period) -> Indexer {
        Indexer { period, last: (i64::MIN, 0) }
    }

    fn index(&mut self, day: i64) -> i32 {
        if self.last.0 != day {
            self.last = (day, self.period.index(epoch_day(day)));
        }
        self.last.1
    }
}

/// Customer behaviour per period, one customer at a time; holds counts per period only.
/// Slot 0 is the period before the window (churn and retention look one period back), slot
/// k the window's k-th period.
pub struct PurchaseTally {
    window: Window,
    indexer: Indexer,
    active: Vec<u64>,
    /// Active in the slot's period and in the one before.
    stayed: Vec<u64>,
    /// First purchase in the slot's period, and of those, active in the period after.
    cohort: Vec<u64>,
    cohort_back: Vec<u64>,
    /// Customers whose first (second) purchase order is in the slot's period; those from
    /// before slot 0 are counted in `*_before`.
    firsts: Vec<u64>,
    seconds: Vec<u64>,
    firsts_before: u64,
    seconds_before: u64,
    periods: Vec<i32>,
}

impl PurchaseTally {
    pub fn new(window: Window) -> PurchaseTally {
        let n = window.count + 1;
        PurchaseTally {
            window,
            indexer: Indexer::new(window.period),
            active: vec![0; n],
            stayed: vec![0; n],
            cohort: vec![0; n],
            cohort_back: vec![0; n],
            firsts: vec![0; n],
            seconds: vec![0; n],
            firsts_before: 0,
            seconds_before: 0,
            periods: Vec::new(),
        }
    }

    /// The slot of a period index, if it is in slot 0..=count.
    fn slot(&self, index: i32) -> Option<usize> {
        let s = index - (self.window.first() - 1);
        usize::try_from(s).ok().filter(|s| *s <= self.window.count)
    }

    /// One customer's purchase orders as UTC days (days since the epoch), ascending.
    pub fn add_customer(&mut self, days: &[i64]) {
        let Some(&first_day) = days.first() else { return };
        let first = self.indexer.index(first_day);
        self.count_milestone(first, true);
        if let Some(&second_day) = days.get(1) {
            let second = self.indexer.index(second_day);
            self.count_milestone(second, false);
        }
        self.periods.clear();
        for &d in days {
            let p = self.indexer.index(d);
            if self.periods.last() != Some(&p) {
                self.periods.push(p);
            }
        }
        let periods = std::mem::take(&mut self.periods);
        self.count_activity(first, &periods);
        self.periods = periods;
    }

    fn count_milestone(&mut self, index: i32, first: bool) {
        let (slots, before) = if first {
            (&mut self.firsts, &mut self.firsts_before)
        } else {
            (&mut self.seconds, &mut self.seconds_before)
        };
        let offset = index - (self.window.first() - 1);
        if offset < 0 {
            *before += 1;
        } else if let Some(n) = slots.get_mut(offset as usize) {
            *n += 1;
        }
    }

    fn count_activity(&mut self, first: i32, periods: &[i32]) {
        if let Some(s) = self.slot(first) {
            self.cohort[s] += 1;
        }
        for (i, &p) in periods.iter().enumerate() {
            let Some(s) = self.slot(p) else { continue };
            self.active[s] += 1;
            let back = i > 0 && periods[i - 1] == p - 1;
            self.stayed[s] += u64::from(back);
            if p == first + 1 && s > 0 {
                self.cohort_back[s - 1] += 1;
            }
        }
    }

    /// Per window period: customers with a purchase order in it.
    pub fn active_customers(&self) -> Vec<Point> {
        self.per_slot(|t, s| Some(t.active[s] as f64))
    }

    /// Per window period: churn in percent (see the module docs).
    pub fn churn(&self) -> Vec<Point> {
        self.per_slot(|t, s| {
            let at_start = t.active[s - 1];
            share(at_start - t.stayed[s], at_start)
        })
    }

    /// Per window period: retention of the period before's cohort, in percent.
    pub fn retention(&self) -> Vec<Point> {
        self.per_slot(|t, s| share(t.cohort_back[s - 1], t.cohort[s - 1]))
    }

    /// Per window period: the repeat-purchase rate by its end, in percent.
    pub fn repeat_rate(&self) -> Vec<Point> {
        let buyers = self.cumulative(&self.firsts, self.firsts_before);
        let repeaters = self.cumulative(&self.seconds, self.seconds_before);
        self.per_slot(|_, s| share(repeaters[s], buyers[s]))
    }

    /// Per window period: customers who had bought by its end.
    pub fn buyers_through(&self) -> Vec<u64> {
        self.cumulative(&self.firsts, self.firsts_before)[1..].to_vec()
    }

    fn cumulative(&self, per_slot: &[u64], before: u64) -> Vec<u64> {
        per_slot
            .iter()
            .scan(before, |sum, n| {
                *sum += n;
                Some(*sum)
            })
            .collect()
    }

    fn per_slot(&self, value: impl Fn(&Self, usize) -> Option<f64>) -> Vec<Point> {
        let first = self.window.first();
        self.window.points(|i| value(self, (i - first + 1) as usize))
    }
}

/// `part / whole` in percent; `None` for an empty whole.
fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

/// Purchase orders placed on one UTC day and their value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySales {
    /// Days since 1970-01-01.
    pub day: i64,
    pub orders: u64,
    pub revenue: Money,
}

/// Sales per window period, and the revenue by each period's end (for CLV).
pub struct SalesTally {
    window: Window,
    orders: Vec<u64>,
    /// In ten-thousandths, summed exactly.
    revenue: Vec<i128>,
    revenue_through: Vec<i128>,
}

impl SalesTally {
    /// From every day with purchases, in any order (days after the window are left out).
    pub fn new(window: Window, days: &[DaySales]) -> SalesTally {
        let mut indexer = Indexer::new(window.period);
        let (mut orders, mut revenue) = (vec![0u64; window.count], vec![0i128; window.count]);
        let mut before = 0i128;
        for d in days {
            let i = indexer.index(d.day);
            if i < window.first() {
                before += i128::from(d.revenue.e4());
            } else if i <= window.latest {
                let s = (i - window.first()) as usize;
                orders[s] += d.orders;
                revenue[s] += i128::from(d.revenue.e4());
            }
        }
        let revenue_through = revenue
            .iter()
            .scan(before, |sum, r| {
                *sum += r;
                Some(*sum)
            })
            .collect();
        SalesTally { window, orders, revenue, revenue_through }
    }

    pub fn orders(&self) -> Vec<Point> {
        let first = self.window.first();
        self.window.points(|i| Some(self.orders[(i - first) as usize] as f64))
    }

    /// In currency units.
    pub fn revenue(&self) -> Vec<Point> {
        let first = self.window.first();
        self.window.points(|i| Some(units(self.revenue[(i - first) as usize])))
    }

    /// Revenue by each period's end over the buyers by then ([`PurchaseTally::buyers_through`]).
    pub fn clv(&self, buyers_through: &[u64]) -> Vec<Point> {
        let first = self.window.first();
        self.window.points(|i| {
            let s = (i - first) as usize;
            let buyers = *buyers_through.get(s)?;
            (buyers > 0).then(|| units(self.revenue_through[s]) / buyers as f64)
        })
    }
}

fn units(e4: i128) -> f64 {
    e4 as f64 / rapport_core::money::SCALE as f64
}

//! Retention cohorts, churn per period and the repeat-purchase rate (PRODUCT.md, "Metric
//! definitions").
//!
//! Inputs are purchases as (customer, month) pairs: one per purchase order, in any order, with
//! months as a running index ([`month_index`]), so the computation is integer work over one
//! sort. Returns and cancellations are not purchases and are left out by the caller.

use chrono::{Datelike, NaiveDate};
use rapport_core::CustomerSummary;
use serde::Serialize;

/// Months since year 0: consecutive months differ by one across year ends.
pub fn month_index(day: NaiveDate) -> i32 {
    day.year() * 12 + day.month0() as i32
}

/// The first day of the month with this index.
pub fn month_start(index: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("a month's first day")
}

/// One first-purchase cohort: its month, its size, and how many of its customers purchased in
/// each month since (index k = k months after the first; k = 0 is everyone).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    pub month: NaiveDate,
    pub customers: u64,
    pub active: Vec<u64>,
}

impl Cohort {
    /// The retention curve: `active[k] / customers`.
    pub fn shares(&self) -> Vec<f64> {
        self.active.iter().map(|a| *a as f64 / self.customers as f64).collect()
    }
}

/// Each customer's distinct purchase months, ascending, grouped by customer: the input sorted
/// once and deduplicated.
fn months_by_customer(mut purchases: Vec<(u64, i32)>) -> Vec<Vec<i32>> {
    purchases.sort_unstable();
    purchases.dedup();
    let mut out: Vec<Vec<i32>> = Vec::new();
    let mut last = None;
    for (customer, month) in purchases {
        if last != Some(customer) {
            out.push(Vec::new());
            last = Some(customer);
        }
        out.last_mut().expect("pushed above").push(month);
    }
    out
}

/// The cohort matrix: one row per first-purchase month up to `as_of`'s month, each with a
/// column per month from its first up to `as_of`'s month. Purchases after `as_of`'s month are
/// ignored (the matrix describes the past as of that day).
pub fn cohorts(purchases: Vec<(u64, i32)>, as_of: NaiveDate) -> Vec<Cohort> {
    tally(purchases, as_of).cohorts()
}

fn tally(purchases: Vec<(u64, i32)>, as_of: NaiveDate) -> Tally {
    let mut t = Tally::new(as_of);
    for months in months_by_customer(purchases) {
        t.add_customer(&months);
    }
    t
}

/// Cohorts and churn gathered one customer at a time, for purchases that stream in customer
/// order: it holds counts per month, not the purchases. Tallies of disjoint sets of customers
/// add up ([`Tally::merge`]).
#[derive(Debug, Clone)]
pub struct Tally {
    last: i32,
    /// Per first-purchase month: customers, and how many were active k months after.
    cohorts: Months<(u64, Vec<u64>)>,
    /// Per month: customers active, and those of them also active the month before.
    active: Months<(u64, u64)>,
}

impl Tally {
    /// An empty tally; months after `as_of`'s are ignored.
    pub fn new(as_of: NaiveDate) -> Tally {
        Tally { last: month_index(as_of), cohorts: Months::default(), active: Months::default() }
    }

    /// One customer's distinct purchase months, ascending.
    pub fn add_customer(&mut self, months: &[i32]) {
        let kept = &months[..months.partition_point(|m| *m <= self.last)];
        let Some(&first) = kept.first() else { return };
        let (customers, active) = self.cohorts.at(first);
        *customers += 1;
        for (i, &m) in kept.iter().enumerate() {
            let k = (m - first) as usize;
            if active.len() <= k {
                active.resize(k + 1, 0);
            }
            active[k] += 1;
            let month = self.active.at(m);
            month.0 += 1;
            if i > 0 && kept[i - 1] == m - 1 {
                month.1 += 1;
            }
        }
    }

    /// Adds another tally of other customers (with the same as-of day).
    pub fn merge(&mut self, other: Tally) {
        for (m, (customers, active)) in other.cohorts.iter() {
            let (c, a) = self.cohorts.at(m);
            *c += customers;
            if a.len() < active.len() {
                a.resize(active.len(), 0);
            }
            a.iter_mut().zip(active).for_each(|(x, y)| *x += y);
        }
        for (m, (active, stayed)) in other.active.iter() {
            let e = self.active.at(m);
            e.0 += active;
            e.1 += stayed;
        }
    }

    /// The cohort matrix (see [`cohorts`]).
    pub fn cohorts(&self) -> Vec<Cohort> {
        self.cohorts
            .iter()
            .filter(|(_, (customers, _))| *customers > 0)
            .map(|(m, (customers, active))| {
                let mut active = active.clone();
                active.resize((self.last - m + 1) as usize, 0);
                Cohort { month: month_start(m), customers: *customers, active }
            })
            .collect()
    }

    /// Monthly churn (see [`churn`]).
    pub fn churn(&self) -> Vec<Churn> {
        let Some(first) = self.active.first() else { return Vec::new() };
        let count = |m: i32| self.active.get(m).copied().unwrap_or((0, 0));
        (first + 1..=self.last)
            .map(|m| {
                let at_start = count(m - 1).0;
                let churned = at_start - count(m).1;
                Churn {
                    month: month_start(m),
                    active_at_start: at_start,
                    churned,
                    rate: (at_start > 0).then(|| churned as f64 / at_start as f64),
                }
            })
            .collect()
    }
}

/// Values per month index in a vector that grows either way as months arrive.
#[derive(Debug, Clone)]
struct Months<T> {
    first: i32,
    values: Vec<T>,
}

impl<T> Default for Months<T> {
    fn default() -> Self {
        Months { first: 0, values: Vec::new() }
    }
}

impl<T: Default + Clone> Months<T> {
    fn at(&mut self, m: i32) -> &mut T {
        if self.values.is_empty() {
            self.first = m;
        } else if m < self.first {
            let grow = (self.first - m) as usize;
            self.values.splice(0..0, std::iter::repeat_n(T::default(), grow));
            self.first = m;
        }
        let i = (m - self.first) as usize;
        if i >= self.values.len() {
            self.values.resize(i + 1, T::default());
        }
        &mut self.values[i]
    }

    fn get(&self, m: i32) -> Option<&T> {
        self.values.get(usize::try_from(m - self.first).ok()?)
    }

    fn first(&self) -> Option<i32> {
        (!self.values.is_empty()).then_some(self.first)
    }

    fn iter(&self) -> impl Iterator<Item = (i32, &T)> {
        self.values.iter().enumerate().map(|(i, v)| (self.first + i as i32, v))
    }
}

/// Churn in one month: of the customers who purchased in the month before (active at its
/// start), how many did not purchase in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Churn {
    pub month: NaiveDate,
    pub active_at_start: u64,
    pub churned: u64,
    /// `churned / active_at_start`; `None` when nobody was active.
    pub rate: Option<f64>,
}

/// Monthly churn from the second month with purchases up to `as_of`'s month. "Active" means a
/// purchase in the month: a customer active in month m−1 and not in m churned in m.
pub fn churn(purchases: Vec<(u64, i32)>, as_of: NaiveDate) -> Vec<Churn> {
    tally(purchases, as_of).churn()
}

/// Customers with at least two purchase orders over customers with at least one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepeatPurchase {
    pub buyers: u64,
    pub repeat_buyers: u64,
    /// `None` without buyers.
    pub rate: Option<f64>,
}

pub fn repeat_purchase<'a>(
    summaries: impl IntoIterator<Item = &'a CustomerSummary>,
) -> RepeatPurchase {
    let (mut buyers, mut repeat_buyers) = (0, 0);
    for s in summaries {
        buyers += u64::from(s.purchase_orders >= 1);
        repeat_buyers += u64::from(s.purchase_orders >= 2);
    }
    RepeatPurchase {
        buyers,
        repeat_buyers,
        rate: (buyers > 0).then(|| repeat_buyers as f64 / buyers as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(y: i32, m: u32) -> i32 {
        month_index(NaiveDate::from_ymd_opt(y, m, 1).unwrap())
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Customers tallied in two parts (in an order that grows the month range both ways)
    /// and merged give the tally of all of them at once.
    #[test]
    fn tallies_of_disjoint_customers_merge_into_the_whole() {
        let as_of = day(2024, 6, 30);
        let customers: Vec<Vec<i32>> = vec![
            vec![ym(2024, 3), ym(2024, 4), ym(2024, 6)],
            vec![ym(2023, 11), ym(2023, 12), ym(2024, 7)],
            vec![ym(2024, 1)],
            vec![ym(2023, 12), ym(2024, 1), ym(2024, 2), ym(2024, 5)],
        ];
        let pairs: Vec<(u64, i32)> = customers
            .iter()
            .enumerate()
            .flat_map(|(c, ms)| ms.iter().map(move |m| (c as u64, *m)))
            .collect();
        let (mut left, mut right) = (Tally::new(as_of), Tally::new(as_of));
        for (i, ms) in customers.iter().enumerate() {
            if i % 2 == 0 { left.add_customer(ms) } else { right.add_customer(ms) }
        }
        left.merge(right);
        assert_eq!(left.cohorts(), cohorts(pairs.clone(), as_of));
        assert_eq!(left.churn(), churn(pairs, as_of));
        let c = left.cohorts();
        assert_eq!(c[0].month, day(2023, 11, 1));
        assert_eq!((c[0].customers, c[0].active.len()), (1, 8), "July 2024 is after the as-of day");
        assert_eq!(c[1].active, [1, 1, 1, 0, 0, 1, 0], "December 2023's customer");
    }

    #[test]
    fn month_indexes_run_across_year_ends() {
        assert_eq!(ym(2024, 1) - ym(2023, 12), 1);
        assert_eq!(month_start(ym(2023, 12)), day(2023, 12, 1));
    }

    #[test]
    fn cohorts_count_each_customer_once_per_month_since_their_first() {
        let purchases = vec![
            (1, ym(2024, 1)),
            (1, ym(2024, 1)), // a second order in the same month counts once
            (1, ym(2024, 3)),
            (2, ym(2024, 1)),
            (2, ym(2024, 2)),
            (3, ym(2024, 2)),
            (3, ym(2024, 3)),
            (3, ym(2024, 5)), // after as_of: ignored
        ];
        let rows = cohorts(purchases, day(2024, 3, 31));
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].month, rows[0].customers, &rows[0].active[..]),
            (day(2024, 1, 1), 2, &[2, 1, 1][..])
        );
        assert_eq!(
            (rows[1].month, rows[1].customers, &rows[1].active[..]),
            (day(2024, 2, 1), 1, &[1, 1][..])
        );
        assert_eq!(rows[0].shares(), [1.0, 0.5, 0.5]);
    }

    #[test]
    fn churn_is_last_months_buyers_who_did_not_come_back() {
        let purchases = vec![
            (1, ym(2024, 1)),
            (1, ym(2024, 2)),
            (2, ym(2024, 1)),
            (3, ym(2024, 2)),
            (3, ym(2024, 3)),
            (4, ym(2024, 3)),
        ];
        let c = churn(purchases, day(2024, 4, 2));
        let got: Vec<_> =
            c.iter().map(|c| (c.month.month(), c.active_at_start, c.churned)).collect();
        // Feb: 1 and 2 were active in Jan, 2 left. Mar: 1 and 3 in Feb, 1 left. Apr: 3 and 4 left.
        assert_eq!(got, [(2, 2, 1), (3, 2, 1), (4, 2, 2)]);
        assert_eq!(c[2].rate, Some(1.0));
        assert!(churn(Vec::new(), day(2024, 1, 1)).is_empty());
    }

    #[test]
    fn repeat_purchase_rate_counts_purchase_orders() {
        let s = |n| CustomerSummary { purchase_orders: n, ..Default::default() };
        let all = [s(0), s(1), s(2), s(5)];
        let r = repeat_purchase(&all);
        assert_eq!((r.buyers, r.repeat_buyers, r.rate), (3, 2, Some(2.0 / 3.0)));
        assert_eq!(repeat_purchase(&[s(0)]).rate, None);
    }
}

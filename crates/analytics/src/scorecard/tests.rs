use super::*;
use chrono::NaiveDate;
use proptest::prelude::*;
use rapport_core::Money;
use std::collections::BTreeSet;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn epoch(y: i32, m: u32, d: u32) -> i64 {
    (day(y, m, d) - day(1970, 1, 1)).num_days()
}

fn spec(metric: &str, target: f64) -> GoalSpec {
    GoalSpec {
        metric: metric.into(),
        target: Some(target),
        owner: "Ana".into(),
        ..GoalSpec::default()
    }
}

fn field_of(s: GoalSpec) -> String {
    s.check().unwrap_err().field
}

#[test]
fn a_spec_is_checked_field_by_field() {
    assert_eq!(field_of(GoalSpec::default()), "metric");
    let e = spec("happiness", 1.0).check().unwrap_err();
    assert!(e.reason.contains("'happiness'") && e.reason.contains("repeat_rate"), "{e}");
    assert_eq!(field_of(GoalSpec { target: None, ..spec("nps", 0.0) }), "target");
    assert_eq!(field_of(spec("csat", 120.0)), "target");
    assert_eq!(field_of(spec("nps", -101.0)), "target");
    assert_eq!(field_of(spec("ces", 0.5)), "target");
    assert_eq!(field_of(spec("revenue", -1.0)), "target");
    assert_eq!(field_of(spec("revenue", f64::NAN)), "target");
    assert_eq!(field_of(GoalSpec { period: Some("week".into()), ..spec("nps", 0.0) }), "period");
    assert_eq!(field_of(GoalSpec { owner: "  ".into(), ..spec("nps", 0.0) }), "owner");
    assert_eq!(field_of(GoalSpec { owner: "x".repeat(101), ..spec("nps", 0.0) }), "owner");
    assert_eq!(
        field_of(GoalSpec { direction: Some("up?".into()), ..spec("nps", 0.0) }),
        "direction"
    );
    let negative = GoalSpec { at_risk_margin: Some(-1.0), ..spec("nps", 0.0) };
    assert_eq!(field_of(negative), "at_risk_margin");
}

#[test]
fn a_checked_goal_takes_the_metric_defaults() {
    let g = spec("Repeat-Rate", 40.0).check().unwrap();
    assert_eq!(
        (g.metric, g.period, g.direction),
        (Metric::RepeatRate, Period::Month, Direction::Higher)
    );
    assert_eq!(g.owner, "Ana");
    assert_eq!(spec("churn", 5.0).check().unwrap().direction, Direction::Lower);
    assert_eq!(spec("loyalty_liability", 1e6).check().unwrap().direction, Direction::Lower);
    let q = GoalSpec {
        period: Some("Quarter".into()),
        direction: Some("lower".into()),
        ..spec("orders", 10.0)
    };
    let q = q.check().unwrap();
    assert_eq!((q.period, q.direction), (Period::Quarter, Direction::Lower));
    // 5% of the target; on a bounded scale at least 1% of the scale.
    assert_eq!(spec("revenue", 200_000.0).check().unwrap().at_risk_margin, 10_000.0);
    assert_eq!(spec("nps", 40.0).check().unwrap().at_risk_margin, 2.0);
    assert_eq!(spec("nps", 0.0).check().unwrap().at_risk_margin, 2.0);
    assert_eq!(spec("nps", 60.0).check().unwrap().at_risk_margin, 3.0);
    assert_eq!(spec("churn", 4.0).check().unwrap().at_risk_margin, 1.0);
    assert!((spec("ces", 5.0).check().unwrap().at_risk_margin - 0.25).abs() < 1e-12);
    let explicit = GoalSpec { at_risk_margin: Some(0.0), ..spec("orders", 10.0) };
    assert_eq!(explicit.check().unwrap().at_risk_margin, 0.0);
    // Written back and checked again, a goal is itself.
    assert_eq!(q.spec().check().unwrap(), q);
}

#[test]
fn status_boundaries_higher_is_better() {
    let g = spec("revenue", 100.0).check().unwrap(); // margin 5
    assert_eq!(status(&g, Some(150.0)), Status::OnTrack);
    assert_eq!(status(&g, Some(100.0)), Status::OnTrack, "meeting the target is on track");
    assert_eq!(status(&g, Some(99.99)), Status::AtRisk);
    assert_eq!(status(&g, Some(95.0)), Status::AtRisk, "the margin's edge is at risk");
    assert_eq!(status(&g, Some(94.99)), Status::OffTrack);
    assert_eq!(status(&g, None), Status::NoData);
    assert_eq!(status(&g, Some(f64::NAN)), Status::NoData);
    // A decimal edge that binary rounding would push across.
    let csat = spec("csat", 85.3).check().unwrap();
    assert_eq!(status(&csat, Some(85.3 - csat.at_risk_margin)), Status::AtRisk);
    assert_eq!(g.status(Some(100.0)), Status::OnTrack);
}

#[test]
fn status_boundaries_lower_is_better() {
    let g = spec("churn", 10.0).check().unwrap(); // margin max(0.5, 1) = 1
    assert_eq!(status(&g, Some(2.0)), Status::OnTrack);
    assert_eq!(status(&g, Some(10.0)), Status::OnTrack);
    assert_eq!(status(&g, Some(10.5)), Status::AtRisk);
    assert_eq!(status(&g, Some(11.0)), Status::AtRisk);
    assert_eq!(status(&g, Some(11.01)), Status::OffTrack);
    let zero = GoalSpec { at_risk_margin: Some(0.0), ..spec("churn", 10.0) }.check().unwrap();
    assert_eq!(status(&zero, Some(10.01)), Status::OffTrack, "no margin: no at risk");
}

#[test]
fn periods_index_label_and_the_latest_complete_one() {
    let m = Period::Month;
    assert_eq!(m.index(day(2026, 1, 31)) - m.index(day(2025, 12, 1)), 1);
    assert_eq!(m.start(m.index(day(2026, 10, 17))), day(2026, 10, 1));
    assert_eq!(m.end(m.index(day(2024, 2, 3))), day(2024, 2, 29));
    assert_eq!(m.label(m.index(day(2026, 3, 9))), "2026-03");
    assert_eq!(m.label(m.latest_complete(day(2026, 10, 31))), "2026-10", "its last day ends it");
    assert_eq!(m.label(m.latest_complete(day(2026, 11, 1))), "2026-10");
    assert_eq!(m.label(m.latest_complete(day(2026, 1, 30))), "2025-12");
    let q = Period::Quarter;
    assert_eq!(q.index(day(2026, 1, 1)) - q.index(day(2025, 12, 31)), 1);
    assert_eq!(q.label(q.index(day(2026, 8, 9))), "2026-Q3");
    assert_eq!(q.start(q.index(day(2026, 8, 9))), day(2026, 7, 1));
    assert_eq!(q.label(q.latest_complete(day(2026, 12, 31))), "2026-Q4");
    assert_eq!(q.label(q.latest_complete(day(2026, 11, 1))), "2026-Q3");
    let w = Window::ending(m, day(2026, 11, 1), 12);
    assert_eq!((m.label(w.first()), m.label(w.latest)), ("2025-11".into(), "2026-10".into()));
}

#[test]
fn units_format_for_people() {
    assert_eq!(Unit::Money.format(1_234_567.891), "1,234,567.89");
    assert_eq!(Unit::Money.format(-999.5), "-999.50");
    assert_eq!(Unit::Count.format(1_000.0), "1,000");
    assert_eq!(Unit::Percent.format(12.34), "12.3%");
    assert_eq!(Unit::NpsPoints.format(-7.25), "-7.2");
    assert_eq!(Unit::Count.format(-0.2), "0");
}

/// The worked example of the module docs, by hand: a window of Jan–Mar 2026 (slot 0 is
/// December 2025).
fn example() -> (Window, PurchaseTally) {
    let w = Window::ending(Period::Month, day(2026, 3, 31), 3);
    let mut t = PurchaseTally::new(w);
    t.add_customer(&[epoch(2025, 12, 10), epoch(2026, 1, 5), epoch(2026, 1, 20)]); // A
    t.add_customer(&[epoch(2026, 1, 3), epoch(2026, 3, 1)]); // B
    t.add_customer(&[epoch(2025, 11, 2)]); // C
    let d = [epoch(2025, 12, 1), epoch(2026, 2, 1), epoch(2026, 3, 1), epoch(2026, 4, 1)];
    t.add_customer(&d); // D
    t.add_customer(&[epoch(2026, 2, 14), epoch(2026, 2, 14)]); // E: two orders on one day
    (w, t)
}

fn values(points: &[Point]) -> Vec<Option<f64>> {
    points.iter().map(|p| p.value).collect()
}

#[test]
fn customer_behaviour_per_period_by_hand() {
    let (_, t) = example();
    assert_eq!(values(&t.active_customers()), [Some(2.0), Some(2.0), Some(2.0)]);
    // Jan: of {A, D} active in December, D did not buy; Feb: of {A, B} neither; Mar: of {D, E}, E.
    assert_eq!(values(&t.churn()), [Some(50.0), Some(100.0), Some(50.0)]);
    // Jan: December's cohort {A, D}, A came back; Feb: January's {B}, no; Mar: February's {E}, no.
    assert_eq!(values(&t.retention()), [Some(50.0), Some(0.0), Some(0.0)]);
    // By Jan: A of {C, A, D, B}; by Feb: A, D, E of five; by Mar: B too.
    assert_eq!(values(&t.repeat_rate()), [Some(25.0), Some(60.0), Some(80.0)]);
    assert_eq!(t.buyers_through(), [4, 5, 5]);
    let labels: Vec<String> = t.churn().into_iter().map(|p| p.label).collect();
    assert_eq!(labels, ["2026-01", "2026-02", "2026-03"]);
}

#[test]
fn sales_per_period_and_clv_by_hand() {
    let (w, t) = example();
    let sale = |y, m, orders, units: i64| DaySales {
        day: epoch(y, m, 15),
        orders,
        revenue: Money::from_e4(units * 10_000),
    };
    let days = [
        sale(2026, 4, 1, 99),
        sale(2025, 11, 1, 10),
        sale(2025, 12, 3, 30),
        sale(2026, 1, 3, 60),
        sale(2026, 2, 3, 30),
        sale(2026, 3, 2, 20),
    ];
    let s = SalesTally::new(w, &days);
    assert_eq!(values(&s.orders()), [Some(3.0), Some(3.0), Some(2.0)]);
    assert_eq!(values(&s.revenue()), [Some(60.0), Some(30.0), Some(20.0)]);
    // Revenue by the end of each month over the buyers by then: 100/4, 130/5, 150/5.
    assert_eq!(values(&s.clv(&t.buyers_through())), [Some(25.0), Some(26.0), Some(30.0)]);
    assert_eq!(values(&s.clv(&[0, 0, 0])), [None, None, None]);
}

/// The definitions computed the slow way, from sets, for one month `m` (an index).
fn reference(customers: &[Vec<i64>], m: i32) -> [Option<f64>; 4] {
    let p = Period::Month;
    let months = |days: &Vec<i64>| -> BTreeSet<i32> {
        days.iter().map(|d| p.index(measure::epoch_day(*d))).collect()
    };
    let share = |a: usize, b: usize| (b > 0).then(|| 100.0 * a as f64 / b as f64);
    let all: Vec<(BTreeSet<i32>, i32, Option<i32>)> = customers
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let idx = |d: &i64| p.index(measure::epoch_day(*d));
            (months(c), idx(&c[0]), c.get(1).map(idx))
        })
        .collect();
    let active = all.iter().filter(|c| c.0.contains(&m)).count();
    let before: Vec<_> = all.iter().filter(|c| c.0.contains(&(m - 1))).collect();
    let churned = before.iter().filter(|c| !c.0.contains(&m)).count();
    let cohort: Vec<_> = all.iter().filter(|c| c.1 == m - 1).collect();
    let back = cohort.iter().filter(|c| c.0.contains(&m)).count();
    let buyers = all.iter().filter(|c| c.1 <= m).count();
    let repeaters = all.iter().filter(|c| c.2.is_some_and(|s| s <= m)).count();
    [
        Some(active as f64),
        share(churned, before.len()),
        share(back, cohort.len()),
        share(repeaters, buyers),
    ]
}

proptest! {
    #[test]
    fn the_tally_matches_the_definitions(
        customers in prop::collection::vec(prop::collection::vec(0i64..400, 0..6), 0..40),
        count in 1usize..8,
        as_of in 100i64..420,
    ) {
        let base = epoch(2025, 1, 1);
        let customers: Vec<Vec<i64>> = customers
            .into_iter()
            .map(|mut c| { c.sort_unstable(); c.into_iter().map(|d| base + d).collect() })
            .collect();
        let w = Window::ending(Period::Month, measure::epoch_day(base + as_of), count);
        let mut t = PurchaseTally::new(w);
        for c in &customers {
            t.add_customer(c);
        }
        let got = [t.active_customers(), t.churn(), t.retention(), t.repeat_rate()];
        for (k, m) in w.indices().enumerate() {
            let want = reference(&customers, m);
            for (metric, series) in got.iter().enumerate() {
                let (g, e) = (series[k].value, want[metric]);
                let close = match (g, e) {
                    (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                    (a, b) => a == b,
                };
                prop_assert!(close, "metric {} month {}: {:?} vs {:?}", metric, m, g, e);
            }
        }
    }
}

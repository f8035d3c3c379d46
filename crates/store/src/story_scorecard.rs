//! The scorecard story: goals created, listed, read, updated and deleted (with `NotFound` for
//! an absent one), their times kept to the microsecond; and purchase orders per UTC day,
//! returns and cancellations left out, day boundaries in UTC, several orders and lines a day.

use crate::story::{group, id, line_row};
use crate::{Backend, IngestOptions, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use rapport_analytics::scorecard::{DaySales, Goal, GoalSpec};
use rapport_core::{Customer, Money, OrderStatus};

fn goal(metric: &str, target: f64, owner: &str) -> Goal {
    let spec = GoalSpec {
        metric: metric.into(),
        target: Some(target),
        owner: owner.into(),
        ..GoalSpec::default()
    };
    spec.check().unwrap()
}

fn micros(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub async fn scorecard_goals(s: &dyn Backend) {
    assert!(s.goals().await.unwrap().is_empty());
    let at = micros("2026-03-01T10:00:00.123456Z");
    let nps = s.create_goal(&goal("nps", 40.0, "CX team"), Some("ana"), at).await.unwrap();
    let quarterly = GoalSpec { period: Some("quarter".into()), ..goal("churn", 3.5, "Bo").spec() };
    let churn = s.create_goal(&quarterly.check().unwrap(), None, at).await.unwrap();
    assert_eq!((nps.created_at, nps.updated_at, nps.created_by.as_deref()), (at, at, Some("ana")));
    assert_eq!(s.goals().await.unwrap(), [nps.clone(), churn.clone()]);
    assert_eq!(s.goal(churn.id).await.unwrap(), churn);
    assert_eq!(churn.goal.at_risk_margin, 1.0);

    let later = micros("2026-03-02T08:30:00.000001Z");
    let mut changed = goal("nps", 45.5, "CX team");
    changed.at_risk_margin = 0.25;
    let updated = s.update_goal(nps.id, &changed, later).await.unwrap();
    assert_eq!(
        (updated.goal.clone(), updated.created_at, updated.updated_at),
        (changed, at, later)
    );
    assert_eq!(s.goal(nps.id).await.unwrap(), updated);

    s.delete_goal(nps.id).await.unwrap();
    assert_eq!(s.goals().await.unwrap(), [churn]);
    let gone = [
        s.goal(nps.id).await.map(|_| ()),
        s.update_goal(nps.id, &goal("ces", 5.0, "x"), later).await.map(|_| ()),
        s.delete_goal(nps.id).await,
    ];
    for r in gone {
        assert!(matches!(r, Err(StoreError::NotFound(_))), "{r:?}");
    }
}

fn day(y: i32, m: u32, d: u32) -> i64 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    (NaiveDate::from_ymd_opt(y, m, d).unwrap() - epoch).num_days()
}

pub async fn scorecard_sales_by_day(s: &dyn Backend) {
    let o = IngestOptions::default();
    let people = ["s1", "s2"].iter().map(|c| Customer::bare(id(c))).collect();
    s.upsert_customers(people, &o).await.unwrap();
    assert!(s.sales_by_day().await.unwrap().is_empty());
    let mut rows = vec![
        line_row("so-1", "s1", "2026-03-01T00:00:00Z", "a", 2, "5"),
        line_row("so-1", "s1", "2026-03-01T00:00:00Z", "b", 1, "0.25"),
        line_row("so-2", "s2", "2026-03-01T23:59:59Z", "a", 1, "7"),
        // 01:00 at +02:00 is 23:00 UTC the day before.
        line_row("so-3", "s2", "2026-03-03T01:00:00+02:00", "a", 1, "1.5"),
        line_row("so-4", "s1", "2026-03-03T12:00:00Z", "a", 3, "100"),
        line_row("so-5", "s1", "2026-03-03T13:00:00Z", "a", 1, "100"),
        line_row("so-6", "s2", "2026-03-09T09:00:00Z", "a", 1, "4"),
    ];
    rows[5].status = Some(OrderStatus::Return);
    rows[6].status = Some(OrderStatus::Cancelled);
    s.ingest_orders(group(rows), &o).await.unwrap();
    let sale = |day, orders, amount: &str| DaySales {
        day,
        orders,
        revenue: Money::parse(amount).unwrap(),
    };
    let want = [
        sale(day(2026, 3, 1), 2, "17.25"),
        sale(day(2026, 3, 2), 1, "1.5"),
        sale(day(2026, 3, 3), 1, "300"),
    ];
    assert_eq!(s.sales_by_day().await.unwrap(), want);
    // The same purchase orders as the journeys' per-order read.
    let orders: u64 = want.iter().map(|d| d.orders).sum();
    assert_eq!(s.purchase_times().await.unwrap().len() as u64, orders);
}

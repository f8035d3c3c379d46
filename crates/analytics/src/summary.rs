//! The per-customer summary, computed from scratch from a customer's raw rows.

use rapport_core::value::day_of;
use rapport_core::{CustomerSummary, Money, OrderStatus, Timestamp};
use std::collections::BTreeMap;

/// What the summary needs of an order: when, what kind, and its total line amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFact {
    pub placed_at: Timestamp,
    pub status: OrderStatus,
    pub total: Money,
}

/// One customer's raw activity.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    pub orders: Vec<OrderFact>,
    pub events: Vec<Timestamp>,
    pub feedback: Vec<Timestamp>,
    pub interactions: Vec<Timestamp>,
}

/// Folds a customer's activity into its summary. Purchase occasions are distinct UTC days with a
/// purchase; returns and cancellations count as orders but not as purchases.
pub fn summarise(a: &Activity) -> CustomerSummary {
    let mut s = CustomerSummary { orders: a.orders.len() as i64, ..Default::default() };
    let mut by_day: BTreeMap<i64, Money> = BTreeMap::new();
    for o in &a.orders {
        match o.status {
            OrderStatus::Purchase => {
                s.purchase_orders += 1;
                s.purchase_value += o.total;
                *by_day.entry(day_of(o.placed_at)).or_default() += o.total;
                s.first_purchase_at = min_opt(s.first_purchase_at, o.placed_at);
                s.last_purchase_at = max_opt(s.last_purchase_at, o.placed_at);
            }
            OrderStatus::Return => {
                s.returns += 1;
                s.return_value += o.total;
            }
            OrderStatus::Cancelled => {}
        }
    }
    s.purchase_occasions = by_day.len() as i64;
    s.first_day_value = by_day.values().next().copied().unwrap_or_default();
    (s.events, s.last_event_at) = count_last(&a.events);
    (s.feedback, s.last_feedback_at) = count_last(&a.feedback);
    (s.interactions, s.last_interaction_at) = count_last(&a.interactions);
    s
}

fn count_last(times: &[Timestamp]) -> (i64, Option<Timestamp>) {
    (times.len() as i64, times.iter().max().copied())
}

fn min_opt(a: Option<Timestamp>, b: Timestamp) -> Option<Timestamp> {
    Some(a.map_or(b, |a| a.min(b)))
}

fn max_opt(a: Option<Timestamp>, b: Timestamp) -> Option<Timestamp> {
    Some(a.map_or(b, |a| a.max(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::value::parse_timestamp;

    fn fact(t: &str, status: OrderStatus, total: &str) -> OrderFact {
        OrderFact {
            placed_at: parse_timestamp(t, None).unwrap(),
            status,
            total: Money::parse(total).unwrap(),
        }
    }

    #[test]
    fn same_day_purchases_are_one_occasion() {
        let a = Activity {
            orders: vec![
                fact("2024-01-01 09:00", OrderStatus::Purchase, "10"),
                fact("2024-01-01 17:00", OrderStatus::Purchase, "5"),
                fact("2024-01-03 12:00", OrderStatus::Purchase, "20"),
                fact("2024-01-04 12:00", OrderStatus::Return, "-5"),
                fact("2024-01-05 12:00", OrderStatus::Cancelled, "99"),
            ],
            ..Default::default()
        };
        let s = summarise(&a);
        assert_eq!((s.orders, s.purchase_orders, s.purchase_occasions, s.returns), (5, 3, 2, 1));
        assert_eq!(s.purchase_value.to_string(), "35.00");
        assert_eq!(s.first_day_value.to_string(), "15.00");
        assert_eq!(s.return_value.to_string(), "-5.00");
        assert_eq!(s.repeat_occasions(), 1);
        assert_eq!(s.last_purchase_at.unwrap().to_rfc3339(), "2024-01-03T12:00:00+00:00");
    }
}

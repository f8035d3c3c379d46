//! Per-customer summaries: the sufficient statistics for RFM, BG/NBD and Gamma-Gamma, kept
//! current at ingest so that reports cost O(customers), not O(orders).

use crate::money::Money;
use crate::value::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerSummary {
    /// Orders of any status.
    pub orders: i64,
    pub purchase_orders: i64,
    /// Distinct UTC days with at least one purchase: the transaction unit of BG/NBD, where
    /// several purchases on one day count as one occasion (Fader, Hardie & Lee 2005).
    pub purchase_occasions: i64,
    /// Sum of the line amounts of purchase orders.
    pub purchase_value: Money,
    /// Value bought on the first purchase day, so Gamma-Gamma can use repeat occasions only:
    /// mean repeat value = (purchase_value - first_day_value) / (purchase_occasions - 1).
    pub first_day_value: Money,
    pub first_purchase_at: Option<Timestamp>,
    pub last_purchase_at: Option<Timestamp>,
    pub returns: i64,
    /// Sum of the line amounts of return orders, as recorded (usually negative).
    pub return_value: Money,
    pub events: i64,
    pub last_event_at: Option<Timestamp>,
    pub feedback: i64,
    pub last_feedback_at: Option<Timestamp>,
    pub interactions: i64,
    pub last_interaction_at: Option<Timestamp>,
}

impl CustomerSummary {
    /// Mean value of a purchase order.
    pub fn mean_purchase_value(&self) -> Money {
        self.purchase_value.div_round(self.purchase_orders)
    }

    /// Repeat purchase occasions (x in BG/NBD).
    pub fn repeat_occasions(&self) -> i64 {
        (self.purchase_occasions - 1).max(0)
    }
}

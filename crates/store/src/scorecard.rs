//! The balanced scorecard's goals, and the one read its measurements need beyond the other
//! traits': purchase orders and their value per UTC day, summed in the database.
//!
//! A goal is stored as its checked fields (`rapport_analytics::scorecard::Goal`); a row read
//! back is checked again, so a goal changed by hand in the database cannot reach a report
//! unchecked.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_analytics::scorecard::{DaySales, Goal};
use rapport_core::Timestamp;
use serde::Serialize;

/// A stored goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalRecord {
    pub id: i64,
    #[serde(flatten)]
    pub goal: Goal,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<String>,
}

#[async_trait]
pub trait ScorecardStore: Send + Sync {
    /// Every goal, by id.
    async fn goals(&self) -> StoreResult<Vec<GoalRecord>>;

    /// One goal; `NotFound` when absent.
    async fn goal(&self, id: i64) -> StoreResult<GoalRecord>;

    /// Stores a new goal (checked by the caller).
    async fn create_goal(
        &self,
        goal: &Goal,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<GoalRecord>;

    /// Replaces a goal's fields; `NotFound` when absent.
    async fn update_goal(&self, id: i64, goal: &Goal, at: Timestamp) -> StoreResult<GoalRecord>;

    /// `NotFound` when absent.
    async fn delete_goal(&self, id: i64) -> StoreResult<()>;

    /// Per UTC day with purchase orders: how many and their value (returns and cancellations
    /// left out), in day order. A few thousand rows for years of data, so the scorecard never
    /// reads the orders themselves.
    async fn sales_by_day(&self) -> StoreResult<Vec<DaySales>>;
}

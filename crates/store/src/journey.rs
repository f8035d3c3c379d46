//! Journey maps: stored definitions (name, description, ordered stages, optional segment
//! filter) and the reads their computation needs beyond [`crate::Store`]'s: per customer the
//! times of one event name, of purchase orders, and the negative feedback with its theme.
//! The time reads come in (customer, time) order from an index, so the computation builds its
//! per-customer arrays without sorting ten million rows.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_analytics::journey::JourneySpec;
use rapport_core::Timestamp;
use serde::Serialize;

/// A stored journey.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyRecord {
    pub id: i64,
    #[serde(flatten)]
    pub spec: JourneySpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<String>,
}

/// When something happened to a customer: the store's internal customer number and the time
/// in microseconds since the epoch (compact: ten million of them are read at once).
pub type CustomerTime = (i64, i64);

/// A feedback item with text whose sentiment is below the threshold asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeFeedback {
    pub customer: i64,
    pub at: Timestamp,
    pub text: String,
    pub sentiment: f64,
    /// The label of the theme the analysis gave it, if any.
    pub theme: Option<String>,
}

#[async_trait]
pub trait JourneyStore: Send + Sync {
    /// Stores a new journey (checked by the caller). `Conflict` when the name is taken.
    async fn create_journey(
        &self,
        spec: &JourneySpec,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<JourneyRecord>;

    /// Every journey, by id.
    async fn journeys(&self) -> StoreResult<Vec<JourneyRecord>>;

    /// One journey; `NotFound` when absent.
    async fn journey(&self, id: i64) -> StoreResult<JourneyRecord>;

    /// Replaces a journey's definition; `NotFound` when absent, `Conflict` on a taken name.
    async fn update_journey(
        &self,
        id: i64,
        spec: &JourneySpec,
        at: Timestamp,
    ) -> StoreResult<JourneyRecord>;

    /// `NotFound` when absent.
    async fn delete_journey(&self, id: i64) -> StoreResult<()>;

    /// Every event named `name`, in (customer, time) order.
    async fn stage_event_times(&self, name: &str) -> StoreResult<Vec<CustomerTime>>;

    /// Every purchase order's placement time, in (customer, time) order.
    async fn purchase_times(&self) -> StoreResult<Vec<CustomerTime>>;

    /// Feedback items with text and a sentiment below `below` (−1..1), oldest first; merged
    /// near-duplicates are left out, so one complaint counts once.
    async fn negative_feedback(&self, below: f64) -> StoreResult<Vec<NegativeFeedback>>;
}

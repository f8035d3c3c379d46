//! Feature ideas, their evidence (linked feedback items), the customers who asked, and their
//! status history.
//!
//! Who asked is the union of two things: customers added by a team member (on behalf of a
//! customer, with a note), and the customers of the linked feedback items. The second is read
//! through the link rather than copied, so it follows the feedback item: an item moved to
//! another customer, deleted or erased takes its request with it, and unlinking it removes the
//! request unless the customer was also added by hand.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_core::idea::{Idea, IdeaStatus};
use rapport_core::{ExternalId, Money, Timestamp};
use serde::Serialize;

/// An idea with where it stands and how much backs it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaRecord {
    pub id: i64,
    #[serde(flatten)]
    pub idea: Idea,
    pub status: IdeaStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<String>,
    /// Linked feedback items (`evidence_count`: an idea's page lists them as `evidence`).
    #[serde(rename = "evidence_count")]
    pub evidence: i64,
    /// Distinct customers who asked.
    #[serde(rename = "requester_count")]
    pub requesters: i64,
}

/// A linked feedback item, as the idea page quotes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub feedback: ExternalId,
    pub customer: ExternalId,
    pub customer_name: Option<String>,
    pub source: String,
    pub text: Option<String>,
    pub rating: Option<i16>,
    /// VADER compound, −1..1 (none without text).
    pub sentiment: Option<f64>,
    pub created_at: Timestamp,
    pub linked_at: Timestamp,
    pub linked_by: Option<String>,
}

/// One distinct customer who asked for an idea.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requester {
    /// The store's internal number (the key of the value model's maps).
    #[serde(skip)]
    pub key: i64,
    pub customer: ExternalId,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Purchase value from the customer's summary.
    pub revenue: Money,
    /// Their earliest request: a linked item's creation time, or when they were added.
    pub first_requested_at: Timestamp,
    /// Their latest request, which the priority's recency uses.
    pub last_requested_at: Timestamp,
    /// Linked feedback items of theirs.
    pub feedback: i64,
    /// Mean sentiment of those items with text.
    pub sentiment: Option<f64>,
    /// Whether a team member added them (rather than only through feedback), with the note
    /// and who added them.
    pub added: bool,
    pub note: Option<String>,
    pub added_by: Option<String>,
    /// The source of their first linked feedback item (`email`, `nps`...), if any: the channel
    /// they asked through, for a "shipped" message.
    pub via: Option<String>,
}

/// A status change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusChange {
    pub from: IdeaStatus,
    pub to: IdeaStatus,
    pub at: Timestamp,
    pub by: Option<String>,
}

/// One idea with everything its page shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdeaDetail {
    #[serde(flatten)]
    pub record: IdeaRecord,
    /// Newest first.
    pub evidence: Vec<Evidence>,
    /// By first request, oldest first.
    pub requesters: Vec<Requester>,
    /// Oldest first.
    pub history: Vec<StatusChange>,
}

/// Who changed something, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub by: Option<String>,
    pub at: Timestamp,
}

/// Customers with any event, and with each named event, since a time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventUsage {
    pub active: i64,
    /// (event name, distinct customers); every asked name appears, with 0 when unused.
    pub events: Vec<(String, i64)>,
}

#[async_trait]
pub trait IdeaStore: Send + Sync {
    /// Stores a new idea (status `new`) and returns its id.
    async fn create_idea(&self, idea: &Idea, who: &Actor) -> StoreResult<i64>;

    /// Replaces an idea's fields (not its status); `NotFound` when absent.
    async fn update_idea(&self, id: i64, idea: &Idea, who: &Actor) -> StoreResult<()>;

    /// Every idea, or those with one status, oldest first.
    async fn ideas(&self, status: Option<IdeaStatus>) -> StoreResult<Vec<IdeaRecord>>;

    /// One idea with its evidence, requesters and history; `NotFound` when absent.
    async fn idea(&self, id: i64) -> StoreResult<IdeaDetail>;

    /// Links a feedback item (by external id) as evidence; its customer thereby asked.
    /// `false` when it was linked already; `NotFound` for an unknown idea or item.
    async fn link_feedback(&self, id: i64, feedback: &ExternalId, who: &Actor)
    -> StoreResult<bool>;

    /// `NotFound` when the item is not linked to the idea.
    async fn unlink_feedback(&self, id: i64, feedback: &ExternalId) -> StoreResult<()>;

    /// Records that a customer asked (added by a team member, on their behalf), with a note.
    /// `false` when they were added already (the note is then replaced).
    async fn add_requester(
        &self,
        id: i64,
        customer: &ExternalId,
        note: Option<&str>,
        who: &Actor,
    ) -> StoreResult<bool>;

    /// Removes a customer added by hand; their linked feedback still counts. `NotFound` when
    /// they were not added.
    async fn remove_requester(&self, id: i64, customer: &ExternalId) -> StoreResult<()>;

    /// Moves an idea to `to` if its current status allows it ([`IdeaStatus::check_move`]),
    /// recording the change; `Invalid` naming the allowed moves otherwise. Read and written in
    /// one transaction, so two racing changes cannot both start from the same status.
    async fn set_idea_status(
        &self,
        id: i64,
        to: IdeaStatus,
        who: &Actor,
    ) -> StoreResult<StatusChange>;

    /// The requesters of every idea (or of one), as (idea id, requester), for ranking.
    async fn idea_requesters(&self, id: Option<i64>) -> StoreResult<Vec<(i64, Requester)>>;

    /// How many customers had any event, and each of `events`, at or after `since`.
    async fn event_usage(&self, events: &[String], since: Timestamp) -> StoreResult<EventUsage>;
}

//! Campaigns' storage: their definitions, who was in which group, and what each did afterwards.
//!
//! Launching is one transaction: the campaign is marked sent, every consenting member of the
//! audience is recorded with their group (treatment or holdout), and the treatment's messages
//! are queued in the outbox under `campaign:<id>:customer:<customer>`. A second launch is a
//! `Conflict` and the dedupe keys make any message queue once, so a campaign never sends twice.

use crate::{NewMessage, RowOutcome, StoreResult};
use async_trait::async_trait;
use rapport_core::Timestamp;
use rapport_core::campaign::{Arm, Campaign};
use serde::{Deserialize, Serialize};

/// How the audience divided at launch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AudienceCounts {
    /// Members of the segment at launch.
    pub segment: u64,
    /// Left out: no marketing consent (latest consent not a grant).
    pub no_consent: u64,
    /// Left out: consenting, but with nowhere to send (no e-mail address).
    pub no_address: u64,
    pub treatment: u64,
    pub holdout: u64,
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredCampaign {
    pub id: i64,
    #[serde(flatten)]
    pub campaign: Campaign,
    pub created_at: Timestamp,
    /// `None` while a draft.
    pub sent_at: Option<Timestamp>,
    pub counts: Option<AudienceCounts>,
}

impl StoredCampaign {
    /// Where the goal is measured up to: `goal_days` after the send.
    pub fn window_end(&self) -> Option<Timestamp> {
        let days = chrono::Duration::days(i64::from(self.campaign.goal_days));
        self.sent_at.map(|t| t + days)
    }
}

/// One member of a launched campaign's audience.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecipient {
    /// The store's customer key.
    pub customer: i64,
    pub arm: Arm,
    /// Their RFM segment at launch, for results per segment.
    pub segment: Option<String>,
    /// Predicted lifetime value at launch (for the `clv_change` goal).
    pub clv_before: Option<f64>,
}

/// What a launch writes.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    pub recipients: Vec<NewRecipient>,
    /// The treatment's messages.
    pub messages: Vec<NewMessage>,
    pub counts: AudienceCounts,
}

/// What a recorded member did in the goal window `[sent_at, sent_at + goal_days)`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientOutcome {
    pub customer: i64,
    pub arm: Arm,
    pub segment: Option<String>,
    pub clv_before: Option<f64>,
    /// Purchase orders placed in the window.
    pub purchases: u32,
    /// Their total, in currency units (orders of every currency added).
    pub revenue: f64,
    /// A purchase or a product-usage event in the window.
    pub active: bool,
}

#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Stores a checked campaign as a draft; returns its id.
    async fn create_campaign(&self, c: &Campaign, now: Timestamp) -> StoreResult<i64>;

    /// Every campaign, newest first.
    async fn campaigns(&self) -> StoreResult<Vec<StoredCampaign>>;

    /// One campaign; `NotFound` for an unknown id.
    async fn campaign(&self, id: i64) -> StoreResult<StoredCampaign>;

    /// Deletes a draft. `NotFound` for an unknown id, `Conflict` once sent (its results are
    /// the record of what was done).
    async fn delete_campaign(&self, id: i64) -> StoreResult<()>;

    /// Marks a draft sent at `at`, records its audience and queues its messages, in one
    /// transaction; the outbox's outcome per message. `NotFound` for an unknown id,
    /// `Conflict` when it was already sent.
    async fn launch_campaign(
        &self,
        id: i64,
        launch: Launch,
        at: Timestamp,
    ) -> StoreResult<Vec<RowOutcome>>;

    /// What each recorded member of a sent campaign did in its goal window (erased customers
    /// are gone). Empty for a draft.
    async fn campaign_outcomes(&self, id: i64) -> StoreResult<Vec<RecipientOutcome>>;
}

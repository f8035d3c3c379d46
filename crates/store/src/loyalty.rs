//! The loyalty programme's storage: its settings, the rewards catalogue, and every member's
//! append-only points ledger.
//!
//! Recording is read–decide–append in one transaction per member: the store locks the member
//! (PostgreSQL: their `loyalty_accounts` row `FOR UPDATE`; SQLite: the single writer), reads
//! their entries, lets the caller's [`Decide`] (the domain rules of `rapport_core::loyalty`)
//! choose what to append on the replayed account, and appends it. Two concurrent redemptions
//! therefore never both spend the same points. An idempotency key already stored answers with
//! the entries it recorded, so a retried request appends nothing.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_core::loyalty::{Account, Entry, Programme, Refusal, Reward};
use rapport_core::{ExternalId, Money, Timestamp};
use serde::Serialize;

/// One stored ledger line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEntry {
    pub id: i64,
    #[serde(flatten)]
    pub entry: Entry,
    pub recorded_at: Timestamp,
}

/// What to append, decided on the member's account as stored (already replayed) under the
/// programme as stored: the entries, or why nothing is recorded.
pub type Decide = Box<dyn FnOnce(Account, &Programme) -> Result<Vec<Entry>, Refusal> + Send>;

/// The outcome of [`LoyaltyStore::record_loyalty`].
#[derive(Debug, Clone, PartialEq)]
pub enum Recorded {
    /// Appended now, with the balance after them.
    New { entries: Vec<StoredEntry>, balance: i64 },
    /// The idempotency key was already stored: the entry it recorded then, nothing appended.
    Replayed { entries: Vec<StoredEntry>, balance: i64 },
    /// The rules refused; nothing appended.
    Refused(Refusal),
}

/// One change among many recorded together ([`LoyaltyStore::record_loyalty_batch`]).
pub struct LoyaltyWrite {
    pub customer: ExternalId,
    pub key: Option<String>,
    pub decide: Decide,
}

/// A purchase order not yet credited to its customer's points.
#[derive(Debug, Clone, PartialEq)]
pub struct PurchaseToCredit {
    /// The store's order key: crediting goes forward in key order.
    pub key: i64,
    pub order: ExternalId,
    pub customer: ExternalId,
    pub at: Timestamp,
    pub amount: Money,
}

/// One member's ledger, for programme figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    /// The store's customer key.
    pub customer: i64,
    pub entries: Vec<Entry>,
}

#[async_trait]
pub trait LoyaltyStore: Send + Sync {
    /// The programme's settings; `None` before one is set up.
    async fn loyalty_programme(&self) -> StoreResult<Option<Programme>>;

    /// Sets up or replaces the programme's settings (checked by the caller). The first save's
    /// `at` is the launch: purchases placed from then on earn points.
    async fn save_loyalty_programme(&self, p: &Programme, at: Timestamp) -> StoreResult<()>;

    /// Up to `limit` purchase orders placed since the launch and not yet credited, in key
    /// order; empty before a programme exists.
    async fn purchases_to_credit(&self, limit: usize) -> StoreResult<Vec<PurchaseToCredit>>;

    /// Marks every purchase order up to key `through` as credited.
    async fn mark_credited(&self, through: i64) -> StoreResult<()>;

    /// The catalogue, by key.
    async fn rewards(&self) -> StoreResult<Vec<Reward>>;

    /// Adds a reward or replaces the one with its key (checked by the caller). Rewards are
    /// deactivated, never deleted: redemptions name them.
    async fn save_reward(&self, r: &Reward) -> StoreResult<()>;

    /// Records a change to a member's points (see the module docs). `NotFound` for an unknown
    /// customer or before a programme is set up; `Conflict` when `key` is stored for another
    /// member. The entries `decide` returns are appended in order, with their keys.
    async fn record_loyalty(
        &self,
        customer: &ExternalId,
        key: Option<&str>,
        decide: Decide,
        now: Timestamp,
    ) -> StoreResult<Recorded>;

    /// Many changes in one transaction (crediting a batch of purchases): each as
    /// [`LoyaltyStore::record_loyalty`], its outcome in order; an unknown customer or another
    /// member's key is that change's error, not the batch's.
    async fn record_loyalty_batch(
        &self,
        writes: Vec<LoyaltyWrite>,
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Recorded>>>;

    /// A member's entries in the order they were appended; empty for a customer who never
    /// earned. `NotFound` for an unknown customer.
    async fn loyalty_entries(&self, customer: &ExternalId) -> StoreResult<Vec<StoredEntry>>;

    /// Every member's ledger, by customer key.
    async fn loyalty_ledgers(&self) -> StoreResult<Vec<Ledger>>;
}

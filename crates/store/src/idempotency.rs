//! Storage for `Idempotency-Key`: one row per (principal, key) holding the request's
//! fingerprint and, once the request is done, its response.
//!
//! A trait of its own rather than part of [`crate::AccessStore`]: these rows are neither
//! customer data nor credentials but a short-lived cache of responses, written twice per keyed
//! request and purged after a day, and a backend could keep them elsewhere (a key-value store)
//! without touching access control.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_core::Timestamp;

/// A request asking to run under an idempotency key.
#[derive(Debug, Clone)]
pub struct IdempotencyClaim {
    /// Who sent it (`key:<id>`, `user:<id>`): keys of different callers never meet.
    pub principal: String,
    pub key: String,
    /// Digest of what the request asks (method, path, body).
    pub fingerprint: String,
    pub now: Timestamp,
    /// Records created before this have expired: they count as absent and are replaced.
    pub expired_before: Timestamp,
    /// Pending records created before this were abandoned (the process running them died):
    /// they are replaced too, so a crash does not block a key until it expires.
    pub abandoned_before: Timestamp,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What a claim found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claimed {
    /// No live record: a pending one now exists and the caller runs the request.
    Fresh,
    /// The same request is running now (a pending record with the same fingerprint).
    InFlight,
    /// The key was used for a different request.
    Mismatch,
    /// The same request already ran: its response.
    Done(StoredResponse),
}

#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key atomically: of concurrent claims of one key, exactly one is `Fresh`.
    async fn claim_idempotency_key(&self, claim: &IdempotencyClaim) -> StoreResult<Claimed>;
    /// Stores the response of a `Fresh` claim.
    async fn complete_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()>;
    /// Forgets a pending claim (the request failed in a way worth retrying); completed records
    /// are left alone.
    async fn release_idempotency_key(&self, principal: &str, key: &str) -> StoreResult<()>;
    /// Deletes records created before `before`; returns how many.
    async fn purge_idempotency_keys(&self, before: Timestamp) -> StoreResult<u64>;
}

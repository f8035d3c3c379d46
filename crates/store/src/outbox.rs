//! The outbox: messages to customers (e-mail, outbound webhooks) queued in the database and
//! worked by a background job.
//!
//! A message is queued once per dedupe key (`idea:12:customer:345`), so planning twice queues
//! nothing twice. The worker claims a due message, which marks it `sending` and counts the
//! attempt *before* the transport is called; the send then ends in `sent` (with an outbound
//! interaction on the customer's timeline, in the same transaction), a retry at a later time,
//! `failed`, or `unknown`. A message found in `sending` after its worker's send timeout was
//! left by a worker that died mid-send: it may or may not have gone out, so it becomes
//! `unknown` and is never resent automatically (an operator can requeue it). That is what
//! makes "never twice" hold for e-mail, which has no idempotency key.

use crate::{RowOutcome, StoreResult};
use async_trait::async_trait;
pub use rapport_core::notify::{OutboxChannel, OutboxStatus};
use rapport_core::{Channel, Direction, ExternalId, FieldError, Interaction, Timestamp};
use serde::Serialize;
use std::time::Duration;

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Unique: a second message with the same key is not queued.
    pub dedupe_key: String,
    pub customer: ExternalId,
    pub channel: OutboxChannel,
    /// An e-mail address, or the webhook URL.
    pub recipient: String,
    /// For webhooks: the source whose secret signs the delivery (required).
    pub source: Option<String>,
    /// The e-mail subject; for webhooks a one-line summary. Becomes the interaction's subject.
    pub subject: String,
    /// The plain-text e-mail body, or the webhook's JSON payload.
    pub body: String,
    /// The HTML alternative of an e-mail.
    pub html: Option<String>,
    /// What the message is about (`idea:12`), for listing and counting.
    pub topic: String,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub dedupe_key: String,
    pub customer: ExternalId,
    pub channel: OutboxChannel,
    pub recipient: String,
    pub source: Option<String>,
    pub subject: String,
    #[serde(skip)]
    pub body: String,
    #[serde(skip)]
    pub html: Option<String>,
    pub topic: String,
    pub status: OutboxStatus,
    /// Attempts started (a claim counts one).
    pub attempts: i32,
    pub next_attempt_at: Timestamp,
    pub claimed_at: Option<Timestamp>,
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

/// How an attempt that did not send ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsent {
    /// Known not delivered; try again at this time.
    RetryAt(Timestamp, String),
    /// Known not delivered, and never will be (permanent error, or out of attempts).
    Failed(String),
    /// It may have been delivered (a timeout mid-send): not retried.
    Unknown(String),
}

/// Messages per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
}

impl OutboxCounts {
    pub fn add(&mut self, status: OutboxStatus, n: i64) {
        match status {
            OutboxStatus::Queued => self.queued += n,
            OutboxStatus::Sending => self.sending += n,
            OutboxStatus::Sent => self.sent += n,
            OutboxStatus::Failed => self.failed += n,
            OutboxStatus::Unknown => self.unknown += n,
        }
    }
}

/// Which messages to list (newest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxQuery {
    pub topic: Option<String>,
    pub status: Option<OutboxStatus>,
    pub limit: usize,
}

impl Default for OutboxQuery {
    fn default() -> Self {
        OutboxQuery { topic: None, status: None, limit: 100 }
    }
}

/// When to try again: `base × 2^(attempt − 1)`, at most `cap`, for at most `max_attempts`
/// attempts in all. Deterministic (no jitter): a queue worked by one or a few workers has no
/// thundering herd to spread, and a fixed schedule is one an operator can predict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: i32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// 1, 2, 4, 8 ... minutes up to an hour, eight attempts: about four hours in all.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base: Duration::from_secs(60),
            cap: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after attempt number `attempts` (1-based) failed, or `None` when it was the
    /// last one allowed.
    pub fn delay_after(&self, attempts: i32) -> Option<Duration> {
        if attempts >= self.max_attempts {
            return None;
        }
        let doublings = attempts.clamp(1, 31) as u32 - 1;
        Some(self.base.saturating_mul(1u32 << doublings.min(20)).min(self.cap))
    }

    /// What a failed attempt known not to have delivered becomes.
    pub fn after_failure(&self, attempts: i32, now: Timestamp, error: String) -> Unsent {
        match self.delay_after(attempts) {
            Some(d) => {
                Unsent::RetryAt(now + chrono::Duration::from_std(d).unwrap_or_default(), error)
            }
            None => Unsent::Failed(format!("gave up after {attempts} attempts: {error}")),
        }
    }
}

/// The error an abandoned message is left with.
pub const ABANDONED: &str =
    "its worker stopped while sending: it may have gone out, so it is not resent automatically";

impl NewMessage {
    /// The field this message cannot be queued for, if any (the customer is checked by the
    /// store, which knows who exists).
    pub fn invalid_field(&self) -> Option<FieldError> {
        let blank = |s: &str| s.trim().is_empty();
        if blank(&self.dedupe_key) {
            Some(FieldError::new("dedupe_key", "is empty"))
        } else if blank(&self.recipient) {
            Some(FieldError::new("recipient", "is empty"))
        } else if blank(&self.topic) {
            Some(FieldError::new("topic", "is empty"))
        } else if self.channel == OutboxChannel::Webhook && self.source.as_deref().is_none_or(blank)
        {
            Some(FieldError::new("source", "a webhook needs the source whose secret signs it"))
        } else {
            None
        }
    }
}

impl OutboxMessage {
    /// The outbound interaction this message becomes on its customer's timeline when sent:
    /// channel email or webhook, the subject as its summary.
    pub fn sent_interaction(&self, at: Timestamp) -> Interaction {
        Interaction {
            id: interaction_id(self.id),
            customer: self.customer.clone(),
            channel: match self.channel {
                OutboxChannel::Email => Channel::Email,
                OutboxChannel::Webhook => Channel::Webhook,
            },
            direction: Direction::Outbound,
            subject: Some(self.subject.clone()),
            body: None,
            at,
        }
    }
}

/// The id of the interaction a sent message becomes on the customer's timeline.
pub fn interaction_id(message: i64) -> ExternalId {
    ExternalId::parse(&format!("outbox-{message}")).expect("a valid id")
}

#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Queues messages, due at `now`, in one transaction. Per message: `Inserted`,
    /// `Unchanged` when its dedupe key is already queued (whatever its status), `Rejected`
    /// naming the field (unknown customer, webhook without a source, empty recipient).
    async fn enqueue(
        &self,
        messages: Vec<NewMessage>,
        now: Timestamp,
    ) -> StoreResult<Vec<RowOutcome>>;

    /// Claims the oldest due queued message: it becomes `sending` with one more attempt and
    /// `claimed_at = now`, committed before this returns (so before any transport runs). Of
    /// concurrent workers, each gets a different message. `None` when nothing is due.
    async fn claim_next(&self, now: Timestamp) -> StoreResult<Option<OutboxMessage>>;

    /// A claimed message went out: `sent`, and an outbound interaction (channel email or
    /// webhook, the subject as summary) is written for its customer in the same transaction.
    /// `Conflict` when the message is not `sending`.
    async fn mark_sent(&self, id: i64, at: Timestamp) -> StoreResult<()>;

    /// A claimed message did not go out (or may have): see [`Unsent`]. `Conflict` when the
    /// message is not `sending`.
    async fn mark_unsent(&self, id: i64, how: Unsent) -> StoreResult<OutboxStatus>;

    /// Messages `sending` since before `claimed_before` were left by a worker that died (a
    /// live one gives up on a send within its timeout): they become `unknown`. Returns how
    /// many.
    async fn recover_abandoned(&self, claimed_before: Timestamp) -> StoreResult<u64>;

    /// An operator's decision to send an `unknown` or `failed` message again: `queued`, due
    /// at `now`. `NotFound` for an unknown id, `Conflict` for another status.
    async fn requeue(&self, id: i64, now: Timestamp) -> StoreResult<()>;

    /// How many messages are in each status, for one topic or all.
    async fn outbox_counts(&self, topic: Option<&str>) -> StoreResult<OutboxCounts>;

    /// Messages, newest first.
    async fn outbox_messages(&self, q: &OutboxQuery) -> StoreResult<Vec<OutboxMessage>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_then_gives_up() {
        let p = RetryPolicy {
            max_attempts: 5,
            base: Duration::from_secs(10),
            cap: Duration::from_secs(50),
        };
        let waits: Vec<_> = (1..=5).map(|a| p.delay_after(a).map(|d| d.as_secs())).collect();
        assert_eq!(waits, [Some(10), Some(20), Some(40), Some(50), None]);
        let now = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(
            p.after_failure(2, now, "e".into()),
            Unsent::RetryAt(now + chrono::Duration::seconds(20), "e".into())
        );
        assert_eq!(
            p.after_failure(5, now, "e".into()),
            Unsent::Failed("gave up after 5 attempts: e".into())
        );
        let huge = RetryPolicy { max_attempts: i32::MAX, ..p };
        assert_eq!(huge.delay_after(1_000), Some(Duration::from_secs(50)), "no overflow");
    }
}

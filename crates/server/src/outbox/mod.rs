//! Delivering the outbox: transports (SMTP e-mail, signed outbound webhooks), the templates
//! that render a notification, and the worker that claims, sends and marks.
//!
//! What is guaranteed, per channel:
//! * **E-mail is sent at most once.** A message is marked `sending` (and its attempt counted)
//!   before the SMTP conversation starts. It is retried only when the attempt is known not to
//!   have delivered (the connection failed, or the server answered 4xx); a timeout, or a worker
//!   killed mid-send, leaves it `unknown`, which only an operator can requeue
//!   (`rapport outbox requeue ID`). The one window SMTP itself cannot close is a connection
//!   lost after the message's final dot and before the server's reply.
//! * **Webhooks are sent at least once, de-duplicable exactly once.** Each delivery carries the
//!   message's dedupe key as `Idempotency-Key` and its id as `delivery_id`, signed like our
//!   inbound hooks, so a retry after a timeout is safe for a receiver that de-duplicates.
//!   Abandoned webhook sends also become `unknown` (the same rule for every channel).

pub mod announce;
pub mod smtp;
pub mod templates;
pub mod webhook;
pub mod worker;

pub use smtp::{Smtp, SmtpSettings};
pub use worker::{Ran, Worker, WorkerSettings};

/// How one attempt ended, as the transports judge it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Known not delivered, worth trying again later.
    Retry(String),
    /// Known not delivered, and retrying will not help.
    Failed(String),
    /// Possibly delivered: not retried automatically.
    Unknown(String),
}

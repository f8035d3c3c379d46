//! Closing the loop: when an idea ships, every customer who asked for it is told once, on the
//! channel they asked through, if their latest product-updates consent is a grant. The plan is
//! `core::notify::plan`; the messages go through the outbox (their dedupe keys make a second
//! announcement queue nothing), so the worker's retries and "never twice" apply.

use super::templates::{self, Shipped, Templates};
use crate::error::{ApiError, ApiResult};
use rapport_core::notify::{self, ConsentState, NotNotified, Plan, Request};
use rapport_core::{Email, ExternalId, Purpose, Timestamp};
use rapport_store::{Backend, RowOutcome};
use serde::Serialize;
use std::collections::HashMap;

/// What announcing did.
#[derive(Debug, Clone, Serialize)]
pub struct Announcement {
    /// Messages queued now.
    pub queued: usize,
    /// Customers told before (their message was already queued or sent).
    pub already: usize,
    /// Customers who asked and are not told, with the reason.
    pub not_notified: Vec<NotNotified>,
}

/// The topic of an idea's messages (their dedupe keys' prefix).
pub fn topic(idea: i64) -> String {
    format!("idea:{idea}")
}

/// Who is told that idea `idea` shipped, and how: its requesters' requests (each linked item;
/// a customer added by hand asks through their note), consents and webhook notify URLs.
pub async fn plan(db: &dyn Backend, idea: i64) -> ApiResult<(Plan, Shipped)> {
    let detail = db.idea(idea).await?;
    let emails: HashMap<&ExternalId, Option<Email>> = detail
        .requesters
        .iter()
        .map(|r| (&r.customer, r.email.as_deref().and_then(|e| Email::parse(e).ok())))
        .collect();
    let email = |c: &ExternalId| emails.get(c).cloned().flatten();
    let mut requests: Vec<Request> = detail
        .evidence
        .iter()
        .rev() // oldest first: a customer's first request decides their channel
        .map(|e| Request {
            customer: e.customer.clone(),
            name: e.customer_name.clone(),
            email: email(&e.customer),
            feedback: e.feedback.clone(),
            text: e.text.clone(),
        })
        .collect();
    for r in detail.requesters.iter().filter(|r| r.feedback == 0) {
        let feedback = ExternalId::parse(&format!("asked-{}", r.customer))
            .map_err(|m| ApiError::internal(std::io::Error::other(m)))?;
        requests.push(Request {
            customer: r.customer.clone(),
            name: r.name.clone(),
            email: email(&r.customer),
            feedback,
            text: r.note.clone(),
        });
    }
    let mut consents = HashMap::new();
    for r in &detail.requesters {
        let view = db.customer(&r.customer).await?;
        if let Some(c) = view.consents.iter().find(|c| c.purpose == Purpose::ProductUpdates) {
            consents.insert(r.customer.clone(), ConsentState { granted: c.granted, at: c.at });
        }
    }
    let urls: HashMap<String, String> = db
        .webhook_sources()
        .await?
        .into_iter()
        .filter(|s| s.revoked_at.is_none())
        .filter_map(|s| Some((s.name.as_str().to_string(), s.notify_url?)))
        .collect();
    let topic = topic(idea);
    let shipped = Shipped {
        topic: topic.clone(),
        title: detail.record.idea.title.clone(),
        description: detail.record.idea.description.clone(),
        url: None,
    };
    Ok((notify::plan(&topic, &requests, &consents, &urls), shipped))
}

/// Queues the "it shipped" message for everyone the plan tells.
pub async fn shipped(db: &dyn Backend, idea: i64, now: Timestamp) -> ApiResult<Announcement> {
    let (plan, what) = plan(db, idea).await?;
    let t = Templates::shipped();
    let messages = plan
        .messages
        .iter()
        .map(|p| templates::shipped(&t, p, &what))
        .collect::<Result<Vec<_>, String>>()
        .map_err(|m| ApiError::internal(std::io::Error::other(m)))?;
    let outcomes = db.enqueue(messages, now).await?;
    let queued = outcomes.iter().filter(|o| matches!(o, RowOutcome::Inserted)).count();
    tracing::info!(
        idea,
        queued,
        not_notified = plan.not_notified.len(),
        "idea shipped: requesters told"
    );
    Ok(Announcement { queued, already: outcomes.len() - queued, not_notified: plan.not_notified })
}

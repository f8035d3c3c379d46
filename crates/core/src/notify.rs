//! Closing the loop: who is told that what they asked for has shipped, and how.
//!
//! [`plan`] is the whole decision, with no I/O: given the customers who asked (with their
//! words), the latest `product_updates` consent of each, and the webhook sources that accept
//! notifications, it returns one message per customer to tell, on the channel they asked on,
//! and everyone else with the reason they are not told. The caller renders and queues the
//! messages (the outbox); the list of the not notified is shown to the team.

use crate::entity::Email;
use crate::value::{ExternalId, Timestamp};
use crate::vocabulary::vocabulary;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

vocabulary!(
    /// How a message travels.
    OutboxChannel {
        Email = "email",
        Webhook = "webhook",
    }
);

vocabulary!(
    /// Where an outbox message is in its life: `queued` (waiting for its next attempt time),
    /// `sending` (claimed by a worker; the transport may be running), `sent`, `failed` (a
    /// permanent error, or out of attempts), `unknown` (its worker died mid-send, so it may
    /// have gone out: never resent automatically).
    OutboxStatus {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        Failed = "failed",
        Unknown = "unknown",
    }
);

/// One request by a customer: a feedback item linked to what shipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub customer: ExternalId,
    pub name: Option<String>,
    pub email: Option<Email>,
    /// The feedback item's id: `<source>:<sender id>` when it came through a webhook source.
    pub feedback: ExternalId,
    /// What they wrote, as they wrote it.
    pub text: Option<String>,
}

/// The latest `product_updates` consent record of a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsentState {
    pub granted: bool,
    pub at: Timestamp,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "channel", rename_all = "snake_case")]
pub enum Route {
    Email {
        address: Email,
    },
    /// Back to the webhook source the request came through, signed with its secret.
    Webhook {
        source: String,
        url: String,
    },
}

/// A message to send: one per customer, whatever the number of their requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// `<topic>:customer:<id>`: queueing it twice queues it once.
    pub dedupe_key: String,
    pub customer: ExternalId,
    pub name: Option<String>,
    pub route: Route,
    /// Their requests' texts, in the order given (empty texts left out).
    pub asked: Vec<String>,
    /// Their requests' feedback ids, in the order given.
    pub feedback: Vec<ExternalId>,
}

/// Why a customer is not told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    /// No `product_updates` consent was ever recorded.
    NoConsent,
    /// The latest `product_updates` consent is a withdrawal.
    ConsentWithdrawn { at: Timestamp },
    /// Consenting, but neither an e-mail address nor a webhook source to answer through.
    NoAddress,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::NoConsent => f.write_str("no product updates consent"),
            Reason::ConsentWithdrawn { at } => {
                write!(f, "product updates consent withdrawn on {}", at.format("%Y-%m-%d"))
            }
            Reason::NoAddress => {
                f.write_str("no e-mail address and no webhook source with a notify URL")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotNotified {
    pub customer: ExternalId,
    pub name: Option<String>,
    pub reason: Reason,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub messages: Vec<Planned>,
    pub not_notified: Vec<NotNotified>,
}

/// Decides who is told about `topic` (e.g. `idea:12`) and how.
///
/// For each customer among `requests` (grouped, in order of first appearance): their latest
/// `product_updates` consent (from `consents`) must be a grant; the channel is the webhook
/// source they asked through when it has a notify URL (`notify_urls`: source name → URL; the
/// first such request wins), else e-mail when they have an address; otherwise they are listed
/// as not notified with the reason.
pub fn plan(
    topic: &str,
    requests: &[Request],
    consents: &HashMap<ExternalId, ConsentState>,
    notify_urls: &HashMap<String, String>,
) -> Plan {
    let mut out = Plan::default();
    for group in by_customer(requests) {
        let first = group[0];
        let refuse = |reason| NotNotified {
            customer: first.customer.clone(),
            name: first.name.clone(),
            reason,
        };
        match consents.get(&first.customer) {
            None => {
                out.not_notified.push(refuse(Reason::NoConsent));
                continue;
            }
            Some(c) if !c.granted => {
                out.not_notified.push(refuse(Reason::ConsentWithdrawn { at: c.at }));
                continue;
            }
            Some(_) => {}
        }
        match route(&group, notify_urls) {
            Some(route) => out.messages.push(Planned {
                dedupe_key: dedupe_key(topic, &first.customer),
                customer: first.customer.clone(),
                name: first.name.clone(),
                route,
                asked: group.iter().filter_map(|r| words(r.text.as_deref())).collect(),
                feedback: group.iter().map(|r| r.feedback.clone()).collect(),
            }),
            None => out.not_notified.push(refuse(Reason::NoAddress)),
        }
    }
    out
}

/// The key that makes a notification about `topic` go to a customer once.
pub fn dedupe_key(topic: &str, customer: &ExternalId) -> String {
    format!("{topic}:customer:{}", customer.as_str())
}

/// Requests grouped by customer, in order of each customer's first request.
fn by_customer(requests: &[Request]) -> Vec<Vec<&Request>> {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut groups: Vec<Vec<&Request>> = Vec::new();
    for r in requests {
        let i = *index.entry(r.customer.as_str()).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[i].push(r);
    }
    groups
}

/// The webhook source of the first request that came through one with a notify URL, else the
/// customer's e-mail address (the first request carrying one).
fn route(group: &[&Request], notify_urls: &HashMap<String, String>) -> Option<Route> {
    let hook = group.iter().find_map(|r| {
        let (source, _) = r.feedback.as_str().split_once(':')?;
        let url = notify_urls.get(source)?;
        Some(Route::Webhook { source: source.to_string(), url: url.clone() })
    });
    hook.or_else(|| {
        group.iter().find_map(|r| r.email.clone()).map(|address| Route::Email { address })
    })
}

fn words(text: Option<&str>) -> Option<String> {
    text.map(str::trim).filter(|t| !t.is_empty()).map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::parse_timestamp;

    fn id(s: &str) -> ExternalId {
        ExternalId::parse(s).unwrap()
    }

    fn req(customer: &str, email: Option<&str>, feedback: &str, text: &str) -> Request {
        Request {
            customer: id(customer),
            name: Some(format!("Name {customer}")),
            email: email.map(|e| Email::parse(e).unwrap()),
            feedback: id(feedback),
            text: Some(text.to_string()),
        }
    }

    fn granted(at: &str, yes: bool) -> ConsentState {
        ConsentState { granted: yes, at: parse_timestamp(at, None).unwrap() }
    }

    #[test]
    fn each_customer_is_told_once_on_the_channel_they_asked_on() {
        let requests = vec![
            req("c1", Some("ann@example.com"), "f1", "Please add dark mode"),
            req("c2", Some("bob@example.com"), "typeform:77", "Dark theme!"),
            req("c1", Some("ann@example.com"), "f9", "  still want dark mode  "),
            req("c3", Some("cy@example.com"), "zendesk:5", "night mode"),
        ];
        let consents: HashMap<_, _> = [
            (id("c1"), granted("2026-01-01", true)),
            (id("c2"), granted("2026-01-01", true)),
            (id("c3"), granted("2026-01-01", true)),
        ]
        .into();
        let urls: HashMap<_, _> =
            [("typeform".to_string(), "https://hooks.example.com/tf".to_string())].into();
        let p = plan("idea:12", &requests, &consents, &urls);
        assert!(p.not_notified.is_empty(), "{:?}", p.not_notified);
        assert_eq!(p.messages.len(), 3);
        let c1 = &p.messages[0];
        assert_eq!(c1.dedupe_key, "idea:12:customer:c1");
        assert_eq!(c1.asked, ["Please add dark mode", "still want dark mode"]);
        assert_eq!(c1.feedback, [id("f1"), id("f9")]);
        assert_eq!(c1.route, Route::Email { address: Email::parse("ann@example.com").unwrap() });
        assert_eq!(
            p.messages[1].route,
            Route::Webhook {
                source: "typeform".into(),
                url: "https://hooks.example.com/tf".into()
            }
        );
        // A source without a notify URL falls back to e-mail.
        assert!(matches!(p.messages[2].route, Route::Email { .. }));
    }

    #[test]
    fn customers_without_consent_or_address_are_listed_with_the_reason() {
        let requests = vec![
            req("c1", Some("a@example.com"), "f1", "x"),
            req("c2", Some("b@example.com"), "f2", "y"),
            req("c3", None, "f3", "z"),
            req("c4", None, "typeform:1", "w"),
        ];
        let consents: HashMap<_, _> = [
            (id("c2"), granted("2026-02-03", false)),
            (id("c3"), granted("2026-01-01", true)),
            (id("c4"), granted("2026-01-01", true)),
        ]
        .into();
        let p = plan("idea:1", &requests, &consents, &HashMap::new());
        assert!(p.messages.is_empty());
        let reasons: Vec<String> = p.not_notified.iter().map(|n| n.reason.to_string()).collect();
        assert_eq!(
            reasons,
            [
                "no product updates consent",
                "product updates consent withdrawn on 2026-02-03",
                "no e-mail address and no webhook source with a notify URL",
                "no e-mail address and no webhook source with a notify URL",
            ]
        );
        assert_eq!(p.not_notified[0].customer, id("c1"));
        assert_eq!(p.not_notified[0].name.as_deref(), Some("Name c1"));
    }

    #[test]
    fn empty_texts_are_not_quoted_and_a_later_request_may_bring_the_route() {
        let mut silent = req("c1", None, "f1", "   ");
        silent.text = None;
        let requests = vec![silent, req("c1", Some("a@example.com"), "f2", "")];
        let consents: HashMap<_, _> = [(id("c1"), granted("2026-01-01", true))].into();
        let p = plan("campaign:spring", &requests, &consents, &HashMap::new());
        assert_eq!(p.messages.len(), 1);
        assert!(p.messages[0].asked.is_empty());
        assert_eq!(p.messages[0].dedupe_key, "campaign:spring:customer:c1");
        assert!(matches!(p.messages[0].route, Route::Email { .. }));
    }
}

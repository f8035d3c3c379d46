//! The outbox story: idempotent enqueueing, claims in due order (each message once, also when
//! workers race), sent messages on the timeline, retries, giving up, abandoned sends becoming
//! `unknown` (never claimed again until requeued), counts and lists, erasure.

use crate::story::{id, ts};
use crate::story_idempotency::join_all;
use crate::{
    Backend, IngestOptions, NewMessage, OutboxChannel, OutboxQuery, OutboxStatus, RowOutcome,
    StoreError, TimelineItem, Unsent,
};
use rapport_core::*;
use std::collections::BTreeSet;
use std::pin::Pin;

fn email(key: &str, customer: &str, topic: &str) -> NewMessage {
    NewMessage {
        dedupe_key: key.into(),
        customer: id(customer),
        channel: OutboxChannel::Email,
        recipient: format!("{customer}@example.com"),
        source: None,
        subject: format!("Shipped: {topic}"),
        body: format!("Hello {customer}"),
        html: Some(format!("<p>Hello {customer}</p>")),
        topic: topic.into(),
    }
}

async fn customers(s: &dyn Backend, n: usize) {
    let rows = (1..=n).map(|i| Customer::bare(id(&format!("c{i}")))).collect();
    s.upsert_customers(rows, &IngestOptions::default()).await.unwrap();
}

pub async fn outbox_enqueue_claim_send(s: &dyn Backend) {
    customers(s, 3).await;
    let t0 = ts("2026-03-01 10:00");
    let mut hook = email("idea:1:customer:c3", "c3", "idea:1");
    (hook.channel, hook.recipient, hook.source) =
        (OutboxChannel::Webhook, "http://127.0.0.1:9/h".into(), Some("typeform".into()));
    let batch = vec![
        email("idea:1:customer:c1", "c1", "idea:1"),
        email("idea:1:customer:c2", "c2", "idea:1"),
        hook.clone(),
        email("idea:1:customer:nobody", "nobody", "idea:1"),
        NewMessage { source: None, ..hook.clone() },
    ];
    let out = s.enqueue(batch.clone(), t0).await.unwrap();
    assert_eq!(out[..3], [RowOutcome::Inserted, RowOutcome::Inserted, RowOutcome::Inserted]);
    assert!(matches!(&out[3], RowOutcome::Rejected(e) if e.field == "customer"), "{out:?}");
    assert!(matches!(&out[4], RowOutcome::Rejected(e) if e.field == "source"), "{out:?}");
    // Queueing again queues nothing: the dedupe key is the idempotency.
    let again = s.enqueue(batch[..3].to_vec(), t0).await.unwrap();
    assert_eq!(again, [RowOutcome::Unchanged, RowOutcome::Unchanged, RowOutcome::Unchanged]);
    let counts = s.outbox_counts(Some("idea:1")).await.unwrap();
    assert_eq!((counts.queued, counts.sent), (3, 0));

    // Nothing is due before its time; then in order, each claimed once.
    assert!(s.claim_next(t0 - chrono::Duration::seconds(1)).await.unwrap().is_none());
    let m = s.claim_next(t0).await.unwrap().unwrap();
    assert_eq!(
        (m.dedupe_key.as_str(), m.status, m.attempts),
        ("idea:1:customer:c1", OutboxStatus::Sending, 1)
    );
    assert_eq!((m.customer.as_str(), m.body.as_str()), ("c1", "Hello c1"));
    assert_eq!(m.html.as_deref(), Some("<p>Hello c1</p>"));
    let sent_at = ts("2026-03-01 10:00:05");
    s.mark_sent(m.id, sent_at).await.unwrap();
    assert!(matches!(s.mark_sent(m.id, sent_at).await, Err(StoreError::Conflict(_))), "once");

    // The send is on the customer's timeline as an outbound e-mail with the subject.
    let timeline = s.timeline(&id("c1"), None, 10).await.unwrap();
    let [TimelineItem::Interaction(it)] = &timeline[..] else { panic!("{timeline:?}") };
    assert_eq!((it.channel, it.direction, it.at), (Channel::Email, Direction::Outbound, sent_at));
    assert_eq!(it.subject.as_deref(), Some("Shipped: idea:1"));
    assert_eq!(s.customer_summary(&id("c1")).await.unwrap().interactions, 1);

    // A failure known not to have delivered is retried at its time, with the attempt counted.
    let m2 = s.claim_next(t0).await.unwrap().unwrap();
    let retry_at = t0 + chrono::Duration::minutes(1);
    let how = Unsent::RetryAt(retry_at, "421 try later".into());
    assert_eq!(s.mark_unsent(m2.id, how).await.unwrap(), OutboxStatus::Queued);
    let m3 = s.claim_next(t0).await.unwrap().unwrap();
    assert_eq!(m3.channel, OutboxChannel::Webhook, "c2 waits for its retry time");
    assert_eq!(m3.source.as_deref(), Some("typeform"));
    assert!(s.claim_next(t0).await.unwrap().is_none(), "the webhook is being sent");
    let again = s.claim_next(retry_at).await.unwrap().unwrap();
    assert_eq!((again.id, again.attempts), (m2.id, 2));
    assert_eq!(again.last_error.as_deref(), Some("421 try later"));
    let failed = Unsent::Failed("550 no such user".into());
    assert_eq!(s.mark_unsent(again.id, failed).await.unwrap(), OutboxStatus::Failed);

    // The webhook's worker died: after the send timeout its message becomes unknown and is
    // not claimed again until an operator requeues it.
    assert_eq!(s.recover_abandoned(t0).await.unwrap(), 0, "claimed at t0: not before t0");
    let later = t0 + chrono::Duration::minutes(5);
    assert_eq!(s.recover_abandoned(later).await.unwrap(), 1);
    assert!(matches!(s.mark_sent(m3.id, later).await, Err(StoreError::Conflict(_))));
    assert!(s.claim_next(later).await.unwrap().is_none());
    let unknown = s
        .outbox_messages(&OutboxQuery { status: Some(OutboxStatus::Unknown), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].id, m3.id);
    assert!(unknown[0].last_error.as_deref().unwrap().contains("not resent"));
    let counts = s.outbox_counts(None).await.unwrap();
    assert_eq!(
        (counts.queued, counts.sending, counts.sent, counts.failed, counts.unknown),
        (0, 0, 1, 1, 1)
    );

    // Requeueing: only unknown or failed messages.
    assert!(matches!(s.requeue(m.id, later).await, Err(StoreError::Conflict(_))), "sent");
    assert!(matches!(s.requeue(999_999, later).await, Err(StoreError::NotFound(_))));
    s.requeue(m3.id, later).await.unwrap();
    let m4 = s.claim_next(later).await.unwrap().unwrap();
    assert_eq!((m4.id, m4.attempts), (m3.id, 2));
    s.mark_sent(m4.id, later).await.unwrap();
    let timeline = s.timeline(&id("c3"), None, 10).await.unwrap();
    assert!(
        matches!(&timeline[..], [TimelineItem::Interaction(i)] if i.channel == Channel::Webhook)
    );

    // Lists: newest first, by topic and status.
    let all = s.outbox_messages(&OutboxQuery::default()).await.unwrap();
    let keys: Vec<_> = all.iter().map(|m| m.dedupe_key.as_str()).collect();
    assert_eq!(keys, ["idea:1:customer:c3", "idea:1:customer:c2", "idea:1:customer:c1"]);
    let none = OutboxQuery { topic: Some("idea:2".into()), ..Default::default() };
    assert!(s.outbox_messages(&none).await.unwrap().is_empty());
    assert_eq!(s.outbox_counts(Some("idea:2")).await.unwrap().sent, 0);

    // Erasure takes the customer's messages.
    s.delete_customer(&id("c1")).await.unwrap();
    let left = s.outbox_messages(&OutboxQuery::default()).await.unwrap();
    assert!(left.iter().all(|m| m.customer.as_str() != "c1"), "{left:?}");
    assert_eq!(left.len(), 2);
    // And a new message for an erased customer is refused.
    let out = s.enqueue(vec![email("idea:9:customer:c1", "c1", "idea:9")], later).await.unwrap();
    assert!(matches!(&out[0], RowOutcome::Rejected(e) if e.field == "customer"));
}

/// Workers racing for one queue each get different messages, and together get each once.
pub async fn outbox_concurrent_claims(s: &dyn Backend) {
    customers(s, 40).await;
    let t0 = ts("2026-03-01 10:00");
    let msgs = (1..=40).map(|i| email(&format!("t:{i}"), &format!("c{i}"), "t")).collect();
    s.enqueue(msgs, t0).await.unwrap();
    let worker = || async {
        let mut mine = Vec::new();
        while let Some(m) = s.claim_next(t0).await.unwrap() {
            s.mark_sent(m.id, t0).await.unwrap();
            mine.push(m.id);
        }
        mine
    };
    let workers = (0..8).map(|_| Box::pin(worker()) as Pin<Box<_>>).collect();
    let all: Vec<i64> = join_all(workers).await.into_iter().flatten().collect();
    let distinct: BTreeSet<_> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (40, 40), "each message claimed exactly once");
    assert_eq!(s.outbox_counts(Some("t")).await.unwrap().sent, 40);
}

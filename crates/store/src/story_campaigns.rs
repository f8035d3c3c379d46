//! The campaigns story: a draft stored and read back; a launch records the audience and queues
//! the treatment's messages in one go, and a second launch is refused; what each member did in
//! the goal window (purchases, revenue, activity) and nothing outside it; drafts can be deleted
//! and sent campaigns cannot; erasure removes a customer from every audience.

use crate::story::{group, id, line_row, ts};
use crate::{
    AudienceCounts, Backend, IngestOptions, Launch, NewMessage, NewRecipient, OutboxChannel,
    RowOutcome, StoreError,
};
use rapport_core::campaign::{Arm, Campaign, CampaignSpec};
use rapport_core::*;
use std::collections::HashMap;

fn campaign() -> Campaign {
    let spec = CampaignSpec {
        name: "Spring offer".into(),
        segment: "revenue > 0".into(),
        channel: "email".into(),
        subject: "Hello {{ name }}".into(),
        text: "Spring is here".into(),
        goal: "purchase".into(),
        goal_days: 14,
        holdout: 0.25,
        seed: 3,
        ..CampaignSpec::default()
    };
    spec.check().unwrap()
}

fn message(campaign: i64, c: &str) -> NewMessage {
    NewMessage {
        dedupe_key: format!("campaign:{campaign}:customer:{c}"),
        customer: id(c),
        channel: OutboxChannel::Email,
        recipient: format!("{c}@example.com"),
        source: None,
        subject: "Hello".into(),
        body: "Spring is here".into(),
        html: None,
        topic: format!("campaign:{campaign}"),
    }
}

pub async fn campaigns_launch_and_outcomes(s: &dyn Backend) {
    let o = IngestOptions::default();
    let people = ["k1", "k2", "k3", "k4"].iter().map(|c| Customer::bare(id(c))).collect();
    s.upsert_customers(people, &o).await.unwrap();
    let keys: HashMap<String, i64> = s
        .summaries(None, 100)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.id.as_str().to_string(), r.key))
        .collect();

    let created = ts("2026-03-01");
    let c = s.create_campaign(&campaign(), created).await.unwrap();
    let stored = s.campaign(c).await.unwrap();
    assert_eq!((stored.id, &stored.campaign, stored.created_at), (c, &campaign(), created));
    assert_eq!((stored.sent_at, stored.counts), (None, None));
    assert_eq!(s.campaign_outcomes(c).await.unwrap(), []);
    assert!(matches!(s.campaign(c + 100).await, Err(StoreError::NotFound(_))));

    let recipient = |k: &str, arm, seg: &str, clv| NewRecipient {
        customer: keys[k],
        arm,
        segment: Some(seg.into()),
        clv_before: clv,
    };
    let counts =
        AudienceCounts { segment: 4, no_consent: 1, no_address: 0, treatment: 2, holdout: 1 };
    let launch = || Launch {
        recipients: vec![
            recipient("k1", Arm::Treatment, "Champions", Some(120.5)),
            recipient("k2", Arm::Holdout, "Champions", None),
            recipient("k3", Arm::Treatment, "At risk", Some(0.0)),
        ],
        messages: vec![message(c, "k1"), message(c, "k3")],
        counts,
    };
    let sent = ts("2026-03-10 12:00");
    let queued = s.launch_campaign(c, launch(), sent).await.unwrap();
    assert_eq!(queued, [RowOutcome::Inserted, RowOutcome::Inserted]);
    let again = s.launch_campaign(c, launch(), sent).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "launched twice: {again:?}");
    assert!(matches!(s.delete_campaign(c).await, Err(StoreError::Conflict(_))));
    let topic = format!("campaign:{c}");
    assert_eq!(s.outbox_counts(Some(&topic)).await.unwrap().queued, 2, "queued once");
    let stored = s.campaign(c).await.unwrap();
    assert_eq!((stored.sent_at, stored.counts), (Some(sent), Some(counts)));
    assert_eq!(stored.window_end(), Some(ts("2026-03-24 12:00")));

    // The window is [sent, sent + 14 days): before and after it counts for nothing.
    let orders = vec![
        line_row("ko1", "k1", "2026-03-11", "sku", 2, "10.25"),
        line_row("ko2", "k1", "2026-03-20", "sku", 1, "4"),
        line_row("ko3", "k2", "2026-03-09", "sku", 1, "99"),
        line_row("ko4", "k3", "2026-03-25", "sku", 1, "99"),
    ];
    s.ingest_orders(group(orders), &o).await.unwrap();
    let event = |e: &str, c: &str, at: &str| Event {
        id: id(e),
        customer: id(c),
        name: "login".into(),
        at: ts(at),
        properties: Default::default(),
    };
    s.ingest_events(vec![event("ke1", "k2", "2026-03-12"), event("ke2", "k3", "2026-03-01")], &o)
        .await
        .unwrap();

    let mut out = s.campaign_outcomes(c).await.unwrap();
    out.sort_by_key(|r| r.customer);
    let seen: Vec<_> = out
        .iter()
        .map(|r| (r.customer, r.arm, r.segment.as_deref(), r.purchases, r.revenue, r.active))
        .collect();
    assert_eq!(
        seen,
        [
            (keys["k1"], Arm::Treatment, Some("Champions"), 2, 24.5, true),
            (keys["k2"], Arm::Holdout, Some("Champions"), 0, 0.0, true),
            (keys["k3"], Arm::Treatment, Some("At risk"), 0, 0.0, false),
        ]
    );
    assert_eq!(out[0].clv_before, Some(120.5));
    assert_eq!(out[1].clv_before, None);

    // Drafts can go; erasure takes a customer out of every audience.
    let draft = s.create_campaign(&campaign(), created).await.unwrap();
    assert_eq!(s.campaigns().await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), [draft, c]);
    s.delete_campaign(draft).await.unwrap();
    assert!(matches!(s.delete_campaign(draft).await, Err(StoreError::NotFound(_))));
    s.delete_customer(&id("k3")).await.unwrap();
    let left: Vec<i64> = s.campaign_outcomes(c).await.unwrap().iter().map(|r| r.customer).collect();
    assert_eq!(left.len(), 2);
    assert!(!left.contains(&keys["k3"]));
}

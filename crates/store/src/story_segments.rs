//! The saved-segments story: create, rename, refresh with the difference recorded, members
//! paged, the inbox's materialised-segment list, erasure, deletion; and events read by name.

use crate::story::{id, ts};
use crate::{Backend, IngestOptions, SegmentSpec, StoreError, members_name};
use rapport_core::*;
use std::collections::HashMap;

fn spec(name: &str, expression: &str) -> SegmentSpec {
    SegmentSpec { name: name.into(), expression: expression.into(), description: String::new() }
}

/// Five customers; their keys by external id.
async fn setup(s: &dyn Backend) -> HashMap<String, i64> {
    let o = IngestOptions::default();
    let customers = (1..=5).map(|i| Customer::bare(id(&format!("c{i}")))).collect();
    s.upsert_customers(customers, &o).await.unwrap();
    let page = s.summaries(None, 100).await.unwrap();
    page.items.into_iter().map(|r| (r.id.as_str().to_string(), r.key)).collect()
}

pub async fn saved_segments_refresh_and_history(s: &dyn Backend) {
    let keys = setup(s).await;
    let k = |c: &str| keys[c];
    let made = s
        .create_segment(
            "vip",
            &spec("VIP", "revenue > 100"),
            Some("ann"),
            ts("2024-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!((made.slug.as_str(), made.size, made.refreshed_at), ("vip", None, None));
    assert_eq!(made.created_by.as_deref(), Some("ann"));
    let other = spec("Other", "true");
    let again = s.create_segment("vip", &other, None, ts("2024-01-02T00:00:00Z")).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));

    let first = s
        .refresh_segment(
            "vip",
            vec![k("c3"), k("c1"), k("c2"), k("c1")],
            ts("2024-01-02T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!((first.size, first.entered, first.left), (3, 3, 0));
    let second = s
        .refresh_segment("vip", vec![k("c2"), k("c3"), k("c4")], ts("2024-01-03T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((second.size, second.entered, second.left), (3, 1, 1));
    let history = s.segment_history("vip").await.unwrap();
    assert_eq!(history, [first, second]);
    let got = s.saved_segment("vip").await.unwrap();
    assert_eq!((got.size, got.refreshed_at), (Some(3), Some(ts("2024-01-03T00:00:00Z"))));

    // Members page in key order; the inbox lists the segment under its materialised name.
    let mut want = [k("c2"), k("c3"), k("c4")];
    want.sort_unstable();
    let p1 = s.segment_member_keys("vip", None, 2).await.unwrap();
    assert_eq!(p1.items, want[..2]);
    let p2 = s.segment_member_keys("vip", p1.next, 2).await.unwrap();
    assert_eq!((p2.items.as_slice(), p2.next), (&want[2..], None));
    let listed = s.segments().await.unwrap();
    assert!(listed.contains(&(members_name("vip"), 3)), "{listed:?}");

    // An unknown key (a customer erased since the filter ran) is skipped, not an error.
    let third = s
        .refresh_segment("vip", vec![k("c2"), 999_999_999], ts("2024-01-04T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((third.size, third.entered, third.left), (1, 0, 2));

    // Erasure removes the customer from the members; the history (team data) stays.
    s.delete_customer(&id("c2")).await.unwrap();
    assert!(s.segment_member_keys("vip", None, 10).await.unwrap().items.is_empty());
    assert_eq!(s.segment_history("vip").await.unwrap().len(), 3);

    // Renaming keeps the slug; an update or refresh of an unknown slug is NotFound.
    let renamed = s
        .update_segment("vip", &spec("Very important", "revenue > 200"), ts("2024-01-05T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!((renamed.slug.as_str(), renamed.spec.name.as_str()), ("vip", "Very important"));
    assert_eq!(renamed.spec.expression, "revenue > 200");
    assert!(renamed.updated_at > renamed.created_at);
    let t = ts("2024-01-05T00:00:00Z");
    assert!(matches!(
        s.update_segment("nope", &spec("x", "true"), t).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(s.refresh_segment("nope", vec![], t).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.segment_history("nope").await, Err(StoreError::NotFound(_))));

    s.create_segment("all", &spec("All", "true"), None, t).await.unwrap();
    let names: Vec<String> =
        s.saved_segments().await.unwrap().into_iter().map(|x| x.spec.name).collect();
    assert_eq!(names, ["All", "Very important"]);

    s.delete_segment("vip").await.unwrap();
    assert!(matches!(s.saved_segment("vip").await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_segment("vip").await, Err(StoreError::NotFound(_))));
    assert!(!s.segments().await.unwrap().iter().any(|(n, _)| n == &members_name("vip")));
}

pub async fn events_read_by_name(s: &dyn Backend) {
    let keys = setup(s).await;
    let o = IngestOptions::default();
    let event = |e: &str, c: &str, name: &str, at: &str| Event {
        id: id(e),
        customer: id(c),
        name: name.into(),
        at: ts(at),
        properties: Default::default(),
    };
    let events = vec![
        event("e1", "c1", "login", "2024-01-01T10:00:00Z"),
        event("e2", "c1", "export", "2024-01-02T10:00:00Z"),
        event("e3", "c2", "login", "2024-01-03T10:00:00Z"),
        event("e4", "c3", "share", "2024-01-04T10:00:00Z"),
        event("e5", "c1", "login", "2024-01-05T10:00:00Z"),
    ];
    s.ingest_events(events, &o).await.unwrap();
    let names = vec!["login".to_string(), "export".to_string(), "never".to_string()];
    let mut got: Vec<(i64, u32, Timestamp)> = s
        .event_times(&names)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.customer, e.name, e.at))
        .collect();
    got.sort();
    let mut want = vec![
        (keys["c1"], 0, ts("2024-01-01T10:00:00Z")),
        (keys["c1"], 1, ts("2024-01-02T10:00:00Z")),
        (keys["c2"], 0, ts("2024-01-03T10:00:00Z")),
        (keys["c1"], 0, ts("2024-01-05T10:00:00Z")),
    ];
    want.sort();
    assert_eq!(got, want);
    assert!(s.event_times(&[]).await.unwrap().is_empty());
}

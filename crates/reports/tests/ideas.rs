//! Ideas ranked on a real SQLite file: value, usage, status filter, segment weights, and the
//! top ideas per segment.

use chrono::Duration;
use rapport_core::idea::{Idea, IdeaSpec, IdeaStatus};
use rapport_core::{Customer, Event};
use rapport_reports::ideas::{self, Params};
use rapport_store::story::{group, id, line_row, ts};
use rapport_store::{Actor, IdeaStore, IngestOptions, Store};
use rapport_store_sqlite::SqliteStore;

fn idea(title: &str, events: &[&str]) -> Idea {
    Idea::parse(IdeaSpec {
        title: title.into(),
        kind: Some(if events.is_empty() { "new" } else { "improve" }.into()),
        reach: Some(100),
        impact: Some(1.0),
        confidence: Some(80),
        effort: Some(2.0),
        events: events.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    })
    .unwrap()
}

/// Two big buyers, two small ones, twenty active users of whom one exports PDFs.
async fn company(s: &SqliteStore) {
    let o = IngestOptions::default();
    let mut rows = Vec::new();
    for (c, price) in [("big1", "500"), ("big2", "400"), ("small1", "5"), ("small2", "4")] {
        rows.push(line_row(&format!("{c}-a"), c, "2024-05-10 10:00", "p", 1, price));
        rows.push(line_row(&format!("{c}-b"), c, "2024-06-10 10:00", "p", 1, price));
    }
    s.ingest_orders(group(rows), &o).await.unwrap();
    let users: Vec<Customer> = (0..20).map(|i| Customer::bare(id(&format!("u{i}")))).collect();
    s.upsert_customers(users, &o).await.unwrap();
    let event = |i: usize, name: &str| Event {
        id: id(&format!("e{i}-{name}")),
        customer: id(&format!("u{i}")),
        name: name.into(),
        at: ts("2024-06-20 10:00"),
        properties: Default::default(),
    };
    let mut events: Vec<Event> = (0..20).map(|i| event(i, "login")).collect();
    events.push(event(0, "export_pdf"));
    s.ingest_events(events, &o).await.unwrap();
}

fn at() -> Actor {
    Actor { by: Some("pm".into()), at: ts("2024-06-25 10:00") }
}

#[tokio::test(flavor = "multi_thread")]
async fn ideas_rank_by_valuable_recent_demand_and_usage() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("r.db")).unwrap();
    company(&s).await;
    let sso = s.create_idea(&idea("SSO", &[]), &at()).await.unwrap();
    let bulk = s.create_idea(&idea("Bulk edit", &[]), &at()).await.unwrap();
    let pdf = s.create_idea(&idea("Better PDF export", &["export_pdf"]), &at()).await.unwrap();
    let quiet = s.create_idea(&idea("Nobody asked", &[]), &at()).await.unwrap();
    for (i, who) in [(sso, "big1"), (sso, "big2"), (pdf, "big1"), (pdf, "big2")] {
        s.add_requester(i, &id(who), None, &at()).await.unwrap();
    }
    for who in ["small1", "small2"] {
        s.add_requester(bulk, &id(who), Some("on the phone"), &at()).await.unwrap();
    }
    let model = ideas::customer_model(&s).await.unwrap();
    assert_eq!(model.segment.len(), 4, "four buyers have an RFM segment");
    let p = Params { now: Some(ts("2024-07-01 00:00")), ..Params::default() };
    let ranked = ideas::rank(&s, &model, &p).await.unwrap();
    let order: Vec<i64> = ranked.iter().map(|r| r.idea.id).collect();
    assert_eq!(order[0], sso, "{order:?}");
    assert_eq!(*order.last().unwrap(), quiet);
    assert_eq!(ranked.iter().map(|r| r.rank).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let get = |i: i64| ranked.iter().find(|r| r.idea.id == i).unwrap();
    // The PDF idea has SSO's requesters, but 1 of 20 active customers exports: ×(0.4 + 5 × 0.05).
    assert!((get(pdf).score / get(sso).score - 0.65).abs() < 1e-9);
    assert_eq!(get(pdf).usage.as_ref().unwrap().active, 20);
    assert!(get(sso).score > get(bulk).score, "valuable customers count more");
    assert_eq!((get(quiet).score, get(sso).rice), (0.0, Some(40.0)));

    // A status filter, and weights by segment.
    s.set_idea_status(sso, IdeaStatus::Planned, &at()).await.unwrap();
    let only_planned = Params { status: Some(IdeaStatus::Planned), ..p.clone() };
    let planned = ideas::rank(&s, &model, &only_planned).await.unwrap();
    assert_eq!(planned.iter().map(|r| r.idea.id).collect::<Vec<_>>(), [sso]);
    let big1 = s.idea(sso).await.unwrap().requesters[0].key;
    let seg = model.segment[&big1];
    let mut zero = p.clone();
    zero.weights.set(seg.as_str(), "0").unwrap();
    assert!(zero.weights.set("nonsense", "1").unwrap_err().contains("unknown RFM segment"));
    assert!(zero.weights.set(seg.as_str(), "-1").is_err());
    let lowered = ideas::rank(&s, &model, &zero).await.unwrap();
    let sso_low = lowered.iter().find(|r| r.idea.id == sso).unwrap().score;
    assert!(sso_low < get(sso).score, "{sso_low} vs {}", get(sso).score);

    // Per segment: each segment ranks on its own requesters only.
    let segs = ideas::by_segment(&s, &model, &p, 5).await.unwrap();
    let small_seg = model.segment[&s.idea(bulk).await.unwrap().requesters[0].key];
    let small = segs.iter().find(|g| g.segment == small_seg).unwrap();
    assert!(small.ideas.iter().any(|r| r.idea.id == bulk));
    for g in &segs {
        for r in &g.ideas {
            assert!(r.priority.customers <= r.idea.requesters as usize);
            assert!(r.idea.status.is_open());
        }
    }
    let counted: usize = segs.iter().map(|g| g.customers).sum();
    assert_eq!(counted, 4, "every requester with purchases is in one segment");

    // The explanation of one idea.
    let (detail, explained) = ideas::explain(&s, &model, pdf, &p).await.unwrap();
    assert_eq!(detail.requesters.len(), 2);
    assert!((explained.score - get(pdf).score).abs() < 1e-9);
    let later = Params { now: Some(ts("2024-07-01 00:00") + Duration::days(300)), ..p };
    let (_, old) = ideas::explain(&s, &model, pdf, &later).await.unwrap();
    assert!(old.score < explained.score / 4.0, "old requests decay");
}

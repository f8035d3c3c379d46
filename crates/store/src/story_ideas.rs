//! The ideas story: create and update, evidence linked from feedback (its customer thereby
//! asks), requesters added on behalf of customers, the status graph with its history, the
//! inputs of the priority score, and erasure.

use crate::story::{group, id, line_row, ts};
use crate::{Actor, Backend, IngestOptions, Kind, StoreError};
use rapport_core::idea::{Idea, IdeaSpec, IdeaStatus};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::*;

fn idea(title: &str, events: &[&str]) -> Idea {
    Idea::parse(IdeaSpec {
        title: title.into(),
        kind: Some(if events.is_empty() { "new" } else { "improve" }.into()),
        reach: Some(200),
        impact: Some(2.0),
        confidence: Some(50),
        effort: Some(2.0),
        events: events.iter().map(|e| e.to_string()).collect(),
        ..Default::default()
    })
    .unwrap()
}

fn by(who: &str, at: &str) -> Actor {
    Actor { by: Some(who.into()), at: ts(at) }
}

fn feedback(ext: &str, customer: &str, text: Option<&str>, at: &str) -> FeedbackRow {
    FeedbackRow {
        id: id(ext),
        customer: CustomerRef::Id(id(customer)),
        source: "email".into(),
        text: text.map(Into::into),
        rating: None,
        created_at: ts(at),
    }
}

fn event(ext: &str, customer: &str, name: &str, at: &str) -> Event {
    Event {
        id: id(ext),
        customer: id(customer),
        name: name.into(),
        at: ts(at),
        properties: Default::default(),
    }
}

async fn setup(s: &dyn Backend) {
    let o = IngestOptions::default();
    let mut customers = Vec::new();
    for (c, name) in [("c1", "Ann"), ("c2", "Bob"), ("c3", "Cy")] {
        let mut cu = Customer::bare(id(c));
        cu.name = Some(name.into());
        cu.email = Some(Email::parse(&format!("{c}@example.com")).unwrap());
        customers.push(cu);
    }
    s.upsert_customers(customers, &o).await.unwrap();
    let orders = vec![
        line_row("o1", "c1", "2026-01-05", "sku", 2, "50"),
        line_row("o2", "c2", "2026-01-06", "sku", 1, "7.5"),
    ];
    s.ingest_orders(group(orders), &o).await.unwrap();
    let rows = vec![
        feedback("f1", "c1", Some("PDF export is terrible, please fix it"), "2026-02-01"),
        feedback("f2", "c1", Some("Still no fix for the PDF export, awful"), "2026-03-01"),
        feedback("f3", "c2", None, "2026-02-10"),
        feedback("f4", "c3", Some("I love the dashboard"), "2026-02-15"),
    ];
    s.ingest_feedback(rows, &o).await.unwrap();
    let events = vec![
        event("e1", "c1", "export_pdf", "2026-03-01"),
        event("e2", "c1", "export_pdf", "2026-03-02"),
        event("e3", "c2", "login", "2026-03-01"),
        event("e4", "c3", "export_pdf", "2025-01-01"),
    ];
    s.ingest_events(events, &o).await.unwrap();
}

pub async fn ideas_evidence_requesters_and_status(s: &dyn Backend) {
    setup(s).await;
    let pdf = s
        .create_idea(&idea("Better PDF export", &["export_pdf", "print"]), &by("ana", "2026-03-05"))
        .await
        .unwrap();
    let dark = s.create_idea(&idea("Dark mode", &[]), &by("ana", "2026-03-06")).await.unwrap();
    assert_ne!(pdf, dark);

    // Linking a feedback item makes its customer a requester; twice is once.
    assert!(s.link_feedback(pdf, &id("f1"), &by("ana", "2026-03-07")).await.unwrap());
    assert!(!s.link_feedback(pdf, &id("f1"), &by("ana", "2026-03-08")).await.unwrap());
    assert!(s.link_feedback(pdf, &id("f2"), &by("ana", "2026-03-07")).await.unwrap());
    assert!(s.link_feedback(pdf, &id("f3"), &by("bo", "2026-03-07")).await.unwrap());
    assert!(matches!(
        s.link_feedback(pdf, &id("nope"), &by("a", "2026-03-07")).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        s.link_feedback(999_999, &id("f1"), &by("a", "2026-03-07")).await,
        Err(StoreError::NotFound(_))
    ));
    // A customer added on behalf of someone, and again (the note is replaced).
    let note = Some("asked on the phone");
    assert!(
        s.add_requester(pdf, &id("c3"), Some("asked at the fair"), &by("bo", "2026-03-09"))
            .await
            .unwrap()
    );
    assert!(!s.add_requester(pdf, &id("c3"), note, &by("bo", "2026-03-10")).await.unwrap());
    assert!(s.add_requester(pdf, &id("c1"), None, &by("bo", "2026-03-10")).await.unwrap());
    assert!(matches!(
        s.add_requester(pdf, &id("zz"), None, &by("b", "2026-03-10")).await,
        Err(StoreError::NotFound(_))
    ));

    let d = s.idea(pdf).await.unwrap();
    assert_eq!(d.record.idea.title, "Better PDF export");
    assert_eq!((d.record.status, d.record.evidence, d.record.requesters), (IdeaStatus::New, 3, 3));
    assert_eq!(d.record.created_by.as_deref(), Some("ana"));
    let quoted: Vec<&str> = d.evidence.iter().map(|e| e.feedback.as_str()).collect();
    assert_eq!(quoted, ["f2", "f3", "f1"], "newest first");
    assert_eq!(d.evidence[0].customer_name.as_deref(), Some("Ann"));
    assert!(d.evidence[0].sentiment.is_some() && d.evidence[1].sentiment.is_none());
    let who: Vec<&str> = d.requesters.iter().map(|r| r.customer.as_str()).collect();
    assert_eq!(who, ["c1", "c2", "c3"], "by first request");
    let ann = &d.requesters[0];
    assert_eq!(
        (ann.first_requested_at, ann.last_requested_at),
        (ts("2026-02-01"), ts("2026-03-10"))
    );
    assert_eq!((ann.feedback, ann.added, ann.via.as_deref()), (2, true, Some("email")));
    assert_eq!(ann.revenue, Money::parse("100").unwrap());
    assert_eq!(ann.email.as_deref(), Some("c1@example.com"));
    assert!(ann.sentiment.unwrap() < 0.0, "{:?}", ann.sentiment);
    let cy = &d.requesters[2];
    assert_eq!((cy.added, cy.note.as_deref(), cy.added_by.as_deref()), (true, note, Some("bo")));
    assert_eq!(
        (cy.feedback, cy.via.as_deref(), cy.first_requested_at),
        (0, None, ts("2026-03-09"))
    );

    // Requesters of every idea at once, for ranking.
    let all = s.idea_requesters(None).await.unwrap();
    assert_eq!(all.iter().filter(|(i, _)| *i == pdf).count(), 3);
    assert!(all.iter().all(|(i, _)| *i == pdf));

    // A near-duplicate merged into a linked item is the same request: its customer asks
    // through it until it is unmerged. An item linked itself and merged counts once.
    s.merge_feedback(&[id("f4"), id("f2")], &id("f1")).await.unwrap();
    let d = s.idea(pdf).await.unwrap();
    let quoted: Vec<&str> = d.evidence.iter().map(|e| e.feedback.as_str()).collect();
    assert_eq!(quoted, ["f2", "f4", "f3", "f1"], "{quoted:?}");
    assert_eq!((d.record.evidence, d.requesters[2].feedback), (4, 1));
    s.unmerge_feedback(&id("f4")).await.unwrap();
    s.unmerge_feedback(&id("f2")).await.unwrap();
    let d = s.idea(pdf).await.unwrap();
    assert_eq!((d.record.evidence, d.requesters[2].feedback), (3, 0));

    // Unlinking one of Ann's items keeps her; removing a hand-added customer whose feedback
    // is not linked removes them.
    s.unlink_feedback(pdf, &id("f2")).await.unwrap();
    assert!(matches!(s.unlink_feedback(pdf, &id("f2")).await, Err(StoreError::NotFound(_))));
    s.remove_requester(pdf, &id("c3")).await.unwrap();
    assert!(matches!(s.remove_requester(pdf, &id("c3")).await, Err(StoreError::NotFound(_))));
    let d = s.idea(pdf).await.unwrap();
    let who: Vec<&str> = d.requesters.iter().map(|r| r.customer.as_str()).collect();
    assert_eq!(who, ["c1", "c2"]);

    // Updates replace fields, not status.
    let mut renamed = idea("PDF export that works", &["export_pdf"]);
    renamed.description = Some("Fonts and page breaks".into());
    s.update_idea(pdf, &renamed, &by("ana", "2026-03-11")).await.unwrap();
    assert!(matches!(
        s.update_idea(999_999, &renamed, &by("a", "2026-03-11")).await,
        Err(StoreError::NotFound(_))
    ));
    let r = s.idea(pdf).await.unwrap().record;
    assert_eq!((r.idea, r.status, r.updated_at), (renamed, IdeaStatus::New, ts("2026-03-11")));

    status_graph(s, pdf, dark).await;
    usage_and_erasure(s, pdf).await;
}

async fn status_graph(s: &dyn Backend, pdf: i64, dark: i64) {
    let change =
        s.set_idea_status(pdf, IdeaStatus::Planned, &by("ana", "2026-03-12")).await.unwrap();
    assert_eq!(
        (change.from, change.to, change.by.as_deref()),
        (IdeaStatus::New, IdeaStatus::Planned, Some("ana"))
    );
    match s.set_idea_status(pdf, IdeaStatus::Shipped, &by("ana", "2026-03-13")).await {
        Err(StoreError::Invalid(m)) => {
            assert!(m.contains("it can move to: in_progress, declined, new"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    s.set_idea_status(pdf, IdeaStatus::InProgress, &by("bo", "2026-03-14")).await.unwrap();
    s.set_idea_status(pdf, IdeaStatus::Shipped, &by("bo", "2026-03-15")).await.unwrap();
    assert!(s.set_idea_status(pdf, IdeaStatus::New, &by("bo", "2026-03-16")).await.is_err());
    s.set_idea_status(dark, IdeaStatus::Declined, &by("bo", "2026-03-16")).await.unwrap();
    s.set_idea_status(dark, IdeaStatus::New, &by("bo", "2026-03-17")).await.unwrap();
    assert!(matches!(
        s.set_idea_status(999_999, IdeaStatus::New, &by("a", "2026-03-17")).await,
        Err(StoreError::NotFound(_))
    ));

    let h = s.idea(pdf).await.unwrap().history;
    let steps: Vec<(IdeaStatus, IdeaStatus)> = h.iter().map(|c| (c.from, c.to)).collect();
    use IdeaStatus::*;
    assert_eq!(steps, [(New, Planned), (Planned, InProgress), (InProgress, Shipped)]);
    assert_eq!(h[2].at, ts("2026-03-15"));
    let shipped = s.ideas(Some(Shipped)).await.unwrap();
    assert_eq!(shipped.iter().map(|i| i.id).collect::<Vec<_>>(), [pdf]);
    let all = s.ideas(None).await.unwrap();
    assert_eq!(
        all.iter().map(|i| (i.id, i.status)).collect::<Vec<_>>(),
        [(pdf, Shipped), (dark, New)]
    );
    assert_eq!((all[0].evidence, all[0].requesters, all[1].requesters), (2, 2, 0));
}

async fn usage_and_erasure(s: &dyn Backend, pdf: i64) {
    let names = ["export_pdf".to_string(), "print".to_string()];
    let u = s.event_usage(&names, ts("2026-01-01")).await.unwrap();
    assert_eq!(u.active, 2);
    assert_eq!(u.events, [("export_pdf".to_string(), 1), ("print".to_string(), 0)]);
    let u = s.event_usage(&names, ts("2024-01-01")).await.unwrap();
    assert_eq!((u.active, u.events[0].1), (3, 2));

    // Deleting a linked feedback item takes its request with it.
    s.delete_record(Kind::Feedback, &id("f3")).await.unwrap();
    let d = s.idea(pdf).await.unwrap();
    assert_eq!(d.requesters.iter().map(|r| r.customer.as_str()).collect::<Vec<_>>(), ["c1"]);
    // Erasing a customer removes their links and requests; the idea stays.
    s.add_requester(pdf, &id("c2"), Some("on behalf of Bob"), &by("bo", "2026-03-20"))
        .await
        .unwrap();
    s.delete_customer(&id("c1")).await.unwrap();
    s.delete_customer(&id("c2")).await.unwrap();
    let d = s.idea(pdf).await.unwrap();
    assert!(d.evidence.is_empty() && d.requesters.is_empty(), "{d:?}");
    assert!(s.idea_requesters(Some(pdf)).await.unwrap().is_empty());
    assert_eq!(d.history.len(), 3, "the history names team members, not customers");
}

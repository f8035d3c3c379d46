//! The journeys story: definitions created, listed, updated (names stay unique) and deleted,
//! and the reads behind the computation: event and purchase times in (customer, time) order,
//! and negative feedback with its theme's label.

use crate::story::{group, id, line_row, ts};
use crate::{Backend, IngestOptions, StoreError};
use rapport_analytics::journey::{JourneySpec, StageDef};
use rapport_analytics::themes::{Theme, ThemeId, ThemePhrase};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::value::to_micros;
use rapport_core::{Customer, Event};

fn spec(name: &str, stages: &[&str]) -> JourneySpec {
    JourneySpec {
        name: name.into(),
        description: format!("{name} described"),
        stages: stages.iter().map(|s| StageDef::parse(s).unwrap()).collect(),
        segment: None,
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

fn feedback(ext: &str, customer: &str, text: &str, at: &str) -> FeedbackRow {
    FeedbackRow {
        id: id(ext),
        customer: CustomerRef::Id(id(customer)),
        source: "email".into(),
        text: Some(text.into()),
        rating: None,
        created_at: ts(at),
    }
}

pub async fn journeys_definitions_and_reads(s: &dyn Backend) {
    definitions(s).await;
    times(s).await;
    complaints(s).await;
}

async fn definitions(s: &dyn Backend) {
    let at = ts("2026-03-01 10:00");
    let a = spec("Funnel", &["Visit=event:site_visit", "Buy=purchase"]);
    let made = s.create_journey(&a, Some("ana"), at).await.unwrap();
    assert_eq!((made.spec.clone(), made.created_by.as_deref()), (a.clone(), Some("ana")));
    assert_eq!(s.journey(made.id).await.unwrap(), made);
    let taken = s.create_journey(&a, None, at).await.unwrap_err();
    assert!(matches!(taken, StoreError::Conflict(_)), "{taken:?}");

    let mut b = spec("Loyalty", &["Buy=purchase", "Fan=survey:nps>=9 | purchase>=3"]);
    b.segment = Some("country = \"DE\"".into());
    let other = s.create_journey(&b, None, at).await.unwrap();
    let names: Vec<String> = s.journeys().await.unwrap().into_iter().map(|j| j.spec.name).collect();
    assert_eq!(names, ["Funnel", "Loyalty"]);
    assert_eq!(s.journey(other.id).await.unwrap().spec.segment, b.segment);

    let later = ts("2026-03-02 10:00");
    let mut renamed = a.clone();
    renamed.name = "Sign-up funnel".into();
    let updated = s.update_journey(made.id, &renamed, later).await.unwrap();
    assert_eq!(
        (updated.spec.name.as_str(), updated.updated_at, updated.created_at),
        ("Sign-up funnel", later, at)
    );
    let clash = s.update_journey(made.id, &b, later).await.unwrap_err();
    assert!(matches!(clash, StoreError::Conflict(_)), "{clash:?}");

    s.delete_journey(other.id).await.unwrap();
    assert!(matches!(s.journey(other.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_journey(other.id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.update_journey(other.id, &b, later).await, Err(StoreError::NotFound(_))));
    assert_eq!(s.journeys().await.unwrap().len(), 1);
}

async fn times(s: &dyn Backend) {
    let o = IngestOptions::default();
    let customers = ["j1", "j2", "j3"].iter().map(|c| Customer::bare(id(c))).collect();
    s.upsert_customers(customers, &o).await.unwrap();
    let events = vec![
        event("je1", "j2", "site_visit", "2026-01-03 09:00"),
        event("je2", "j1", "site_visit", "2026-01-02 09:00"),
        event("je3", "j1", "site_visit", "2026-01-01 09:00"),
        event("je4", "j1", "login", "2026-01-01 10:00"),
        event("je5", "j3", "site_visit", "2026-01-05 09:00"),
    ];
    s.ingest_events(events, &o).await.unwrap();
    let orders = vec![
        line_row("jo1", "j1", "2026-01-04", "sku", 1, "10"),
        line_row("jo2", "j1", "2026-01-02", "sku", 1, "10"),
        line_row("jo3", "j3", "2026-01-09", "sku", 1, "10"),
    ];
    s.ingest_orders(group(orders), &o).await.unwrap();
    let summaries = s.summaries(None, 10).await.unwrap().items;
    let key = |n: &str| summaries.iter().find(|r| r.id == id(n)).unwrap().key;
    let micros = |t: &str| to_micros(ts(t));

    let visits = s.stage_event_times("site_visit").await.unwrap();
    let mut expected = vec![
        (key("j1"), micros("2026-01-01 09:00")),
        (key("j1"), micros("2026-01-02 09:00")),
        (key("j2"), micros("2026-01-03 09:00")),
        (key("j3"), micros("2026-01-05 09:00")),
    ];
    expected.sort();
    assert_eq!(visits, expected, "in (customer, time) order");
    assert!(s.stage_event_times("never_sent").await.unwrap().is_empty());

    let mut bought = vec![
        (key("j1"), micros("2026-01-02")),
        (key("j1"), micros("2026-01-04")),
        (key("j3"), micros("2026-01-09")),
    ];
    bought.sort();
    assert_eq!(s.purchase_times().await.unwrap(), bought);
}

async fn complaints(s: &dyn Backend) {
    let o = IngestOptions::default();
    let rows = vec![
        feedback("jf1", "j1", "The setup was terrible and slow, awful experience", "2026-02-01"),
        feedback("jf2", "j2", "I love it, great product", "2026-02-02"),
        feedback("jf3", "j2", "Horrible billing, I hate the invoices", "2026-02-03"),
    ];
    s.ingest_feedback(rows, &o).await.unwrap();
    let texts = s.feedback_texts(0, 100).await.unwrap();
    let fkey = |n: &str| texts.iter().find(|t| t.id == id(n)).unwrap().key;
    let theme = Theme {
        id: ThemeId(0x5e7),
        label: "setup".into(),
        phrases: vec![ThemePhrase { text: "setup".into(), weight: 1.0, docs: 1 }],
        size: 1,
        examples: vec![0],
    };
    let assign = vec![(fkey("jf1"), Some(theme.id.to_string()))];
    s.save_themes(Some(vec![theme]), assign, fkey("jf3"), ts("2026-02-05")).await.unwrap();

    let negative = s.negative_feedback(-0.05).await.unwrap();
    let got: Vec<(&str, Option<&str>)> =
        negative.iter().map(|n| (n.text.as_str(), n.theme.as_deref())).collect();
    assert_eq!(
        got,
        [
            ("The setup was terrible and slow, awful experience", Some("setup")),
            ("Horrible billing, I hate the invoices", None),
        ],
        "oldest first, the positive item left out"
    );
    assert!(negative.iter().all(|n| n.sentiment < -0.05));
    assert_eq!(negative[0].at, ts("2026-02-01"));
}

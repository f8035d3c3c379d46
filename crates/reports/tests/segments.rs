//! Segment filters over a stored company: the frame read from the store, then filters on
//! country, consent, events, attributes, recency, RFM, sentiment and NPS give exactly the
//! expected customers, on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set
//! (the two must agree).

use rapport_analytics::segment::compile;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{AttrValue, Consent, Customer, Event, Purpose};
use rapport_reports::segments::{Needs, frame};
use rapport_store::story::{group, id, line_row, ts};
use rapport_store::{IngestOptions, Store};
use std::collections::BTreeMap;
use std::io::Write;

const NOW: &str = "2024-07-01 00:00";

fn customer(who: &str, country: &str, tier: &str) -> Customer {
    let attributes = BTreeMap::from([("tier".to_string(), AttrValue::Text(tier.into()))]);
    Customer { country: Some(country.into()), attributes, ..Customer::bare(id(who)) }
}

/// a (DE, gold) bought recently, logged in last week, said something nice, granted marketing;
/// b (AT) bought long ago, logged in two months ago, granted then revoked marketing;
/// c (FR) never bought, granted marketing; d (DE) bought a month ago and rated NPS 10.
async fn company(s: &dyn Store) {
    let o = IngestOptions::default();
    let people = vec![
        customer("a", "DE", "gold"),
        customer("b", "AT", "silver"),
        customer("c", "FR", "silver"),
        customer("d", "DE", "bronze"),
    ];
    s.upsert_customers(people, &o).await.unwrap();
    let rows = vec![
        line_row("a1", "a", "2024-03-10 10:00", "p", 1, "120"),
        line_row("a2", "a", "2024-06-20 10:00", "p", 2, "80"),
        line_row("b1", "b", "2024-01-10 10:00", "p", 1, "15"),
        line_row("d1", "d", "2024-06-01 10:00", "p", 1, "40"),
    ];
    s.ingest_orders(group(rows), &o).await.unwrap();
    let event = |n: &str, who: &str, at: &str| Event {
        id: id(n),
        customer: id(who),
        name: "login".into(),
        at: ts(at),
        properties: Default::default(),
    };
    let events = vec![event("e1", "a", "2024-06-26 09:00"), event("e2", "b", "2024-05-01 09:00")];
    s.ingest_events(events, &o).await.unwrap();
    let consent = |n: &str, who: &str, granted: bool, at: &str| Consent {
        id: id(n),
        customer: id(who),
        purpose: Purpose::Marketing,
        granted,
        source: None,
        at: ts(at),
    };
    let consents = vec![
        consent("k1", "a", true, "2024-02-01 10:00"),
        consent("k2", "b", true, "2024-02-01 10:00"),
        consent("k3", "b", false, "2024-04-01 10:00"),
        consent("k4", "c", true, "2024-02-01 10:00"),
    ];
    s.ingest_consents(consents, &o).await.unwrap();
    let feedback = |n: &str, who: &str, source: &str, text: &str, rating| FeedbackRow {
        id: id(n),
        customer: CustomerRef::Id(id(who)),
        source: source.into(),
        text: Some(text.into()),
        rating,
        created_at: ts("2024-06-21 10:00"),
    };
    let items = vec![
        feedback("f1", "a", "email", "The book was good.", None),
        feedback("f2", "d", "nps", "", Some(10)),
    ];
    s.ingest_feedback(items, &o).await.unwrap();
}

/// Each filter's members, sorted.
async fn members(s: &dyn Store, filters: &[&str]) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for src in filters {
        let f = rapport_core::filter::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let frame = frame(s, &Needs::of(&f)).await.unwrap();
        let plan = compile(&f, &frame.schema());
        assert!(plan.warnings().is_empty(), "{src}: {:?}", plan.warnings());
        let mut ids: Vec<String> =
            plan.eval(&frame, ts(NOW)).ones().map(|r| frame.id(r).to_string()).collect();
        ids.sort();
        out.push(ids);
    }
    out
}

const FILTERS: [&str; 10] = [
    r#"country in ("DE", "AT")"#,
    r#"consent("marketing")"#,
    r#"did("login", within=30d)"#,
    r#"did("login")"#,
    r#"attr.tier = "gold""#,
    "last_purchase_days < 90",
    r#"not consent("marketing") and orders > 0"#,
    "feedback_sentiment > 0",
    "nps_score >= 9",
    "clv_predicted is null and p_alive is null and health is null",
];

fn expected() -> Vec<Vec<&'static str>> {
    vec![
        vec!["a", "b", "d"],
        vec!["a", "c"],
        vec!["a"],
        vec!["a", "b"],
        vec!["a"],
        vec!["a", "d"],
        vec!["b", "d"],
        vec!["a"],
        vec!["d"],
        vec!["c"],
    ]
}

/// Runs every check on one store and returns what the filters selected, to compare backends.
async fn check(s: &dyn Store) -> Vec<Vec<String>> {
    company(s).await;
    let got = members(s, &FILTERS).await;
    assert_eq!(got, expected(), "{FILTERS:?}");

    // rfm_segment is the RFM report's segment, customer for customer.
    let scored = rapport_reports::rfm::score(s, None).await.unwrap();
    let mut by_segment: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (row, rfm) in scored.customers.iter().zip(&scored.rfm) {
        if let Some(rfm) = rfm {
            let seg = rfm.segment.as_str().to_string();
            by_segment.entry(seg).or_default().push(row.id.as_str().to_string());
        }
    }
    for (seg, mut ids) in by_segment {
        ids.sort();
        let got = members(s, &[&format!("rfm_segment = \"{seg}\"")]).await;
        assert_eq!(got[0], ids, "{seg}");
    }
    let buyers = members(s, &["rfm_segment is not null and rfm_score between 3 and 15"]).await;
    assert_eq!(buyers[0], ["a", "b", "d"]);

    let err = rapport_core::filter::parse(r#"contry = "DE""#).unwrap_err().to_string();
    assert!(err.contains('^') && err.contains("country"), "{err}");
    got
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_select_the_expected_customers_on_both_backends() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rapport_store_sqlite::SqliteStore::open(dir.path().join("s.db")).unwrap();
    let on_sqlite = check(&sqlite).await;

    let Some(url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        std::io::stderr()
            .write_all(b"SKIPPED: TEST_DATABASE_URL not set; segments on PostgreSQL not tested\n")
            .ok();
        return;
    };
    let (pg, schema) = rapport_store_postgres::PgStore::connect_fresh_schema(&url).await.unwrap();
    let on_pg = check(&pg).await;
    pg.drop_schema(&schema).await.unwrap();
    assert_eq!(on_sqlite, on_pg);
}

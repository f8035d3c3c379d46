//! Differential test: random batches of every kind applied to the SQLite store (the reference)
//! and to the PostgreSQL store must give identical row outcomes (reasons included), exports,
//! counts and summaries. Needs `TEST_DATABASE_URL`; without it the test says it was skipped.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rapport_core::record::{CustomerRef, FeedbackRow, OrderRow};
use rapport_core::*;
use rapport_store::story::{group, id, ts};
use rapport_store::{
    CustomerListItem, CustomerQuery, CustomerSort, IngestOptions, Kind, Record, RowOutcome, Store,
    TimelineCursor, TimelineItem, export_all,
};
use rapport_store_postgres::PgStore;
use rapport_store_sqlite::SqliteStore;
use std::io::Write;

#[derive(Debug, Clone)]
enum Batch {
    Customers(Vec<Customer>),
    Companies(Vec<Company>),
    Products(Vec<Product>),
    Orders(Vec<OrderRow>),
    Events(Vec<Event>),
    Interactions(Vec<Interaction>),
    Feedback(Vec<FeedbackRow>),
    Consents(Vec<Consent>),
}

fn at() -> impl Strategy<Value = Timestamp> {
    (0i64..6, 0i64..3).prop_map(|(d, h)| ts("2024-01-01") + chrono::Duration::hours(d * 24 + h * 7))
}

fn cust() -> impl Strategy<Value = ExternalId> {
    (0u8..5).prop_map(|c| id(&format!("c{c}")))
}

fn word() -> impl Strategy<Value = Option<String>> {
    prop_oneof![Just(None), Just(Some("alpha".to_string())), Just(Some("beta".to_string()))]
}

fn customer() -> impl Strategy<Value = Customer> {
    let company = prop_oneof![Just(None), Just(Some(id("acme"))), Just(Some(id("globex")))];
    let attr = prop_oneof![
        Just(None),
        Just(Some(("tier".to_string(), AttrValue::Text("gold".into())))),
        Just(Some(("seats".to_string(), AttrValue::Int(3)))),
        Just(Some(("score".to_string(), AttrValue::Number(1e16)))),
    ];
    (cust(), word(), word(), company, attr, prop::option::of(at())).prop_map(
        |(cid, name, city, company, attr, signup_at)| {
            let mut c = Customer::bare(cid);
            (c.name, c.city, c.company, c.signup_at) = (name, city, company, signup_at);
            c.attributes.extend(attr);
            c
        },
    )
}

fn order_row() -> impl Strategy<Value = OrderRow> {
    let status = prop_oneof![
        4 => Just(None),
        1 => Just(Some(OrderStatus::Return)),
        1 => Just(Some(OrderStatus::Cancelled)),
        1 => Just(Some(OrderStatus::Purchase)),
    ];
    let currency = prop_oneof![Just(None), Just(Some(Currency::parse("EUR").unwrap()))];
    let line = prop::option::weighted(0.8, (0u8..3, -1i64..4, 0i64..500)).prop_map(|l| {
        l.map(|(sku, qty, cents)| {
            let unit_price = Money::from_e4(cents * 100);
            let sku = (sku > 0).then(|| id(&format!("s{sku}")));
            OrderLine { sku, quantity: qty, unit_price, amount: unit_price.times(qty).unwrap() }
        })
    });
    let customer = prop::option::weighted(0.85, (0u8..6).prop_map(|c| id(&format!("c{c}"))));
    (0u8..8, customer, prop::option::weighted(0.9, at()), currency, status, line).prop_map(
        |(o, customer, placed_at, currency, status, line)| OrderRow {
            order: id(&format!("o{o}")),
            customer,
            placed_at,
            currency,
            status,
            line,
        },
    )
}

fn batch() -> impl Strategy<Value = Batch> {
    let n = || 1usize..6;
    let ev = (0u8..6, cust(), at(), prop_oneof![Just("login"), Just("export")]);
    let it = (0u8..6, cust(), at(), word());
    let fb_who = prop_oneof![
        cust().prop_map(CustomerRef::Id),
        (0u8..10).prop_map(|o| CustomerRef::Order(id(&format!("o{o}")))),
    ];
    let fb = (0u8..6, fb_who, at(), prop::option::of(0i16..11), word());
    let ct = (0u8..6, cust(), at(), any::<bool>(), word());
    prop_oneof![
        2 => prop::collection::vec(customer(), n()).prop_map(Batch::Customers),
        1 => prop::collection::vec((0u8..3, word(), word()), n()).prop_map(|v| Batch::Companies(
            v.into_iter().map(|(i, name, plan)| Company {
                id: id(["acme", "globex", "initech"][usize::from(i)]),
                name, industry: None, size: None, plan, mrr: Some(Money::from_e4(5)),
            }).collect())),
        1 => prop::collection::vec((0u8..3, word()), n()).prop_map(|v| Batch::Products(
            v.into_iter().map(|(i, name)| Product {
                sku: id(&format!("s{i}")), name, category: None, price: None,
            }).collect())),
        5 => prop::collection::vec(order_row(), 1..10).prop_map(Batch::Orders),
        1 => prop::collection::vec(ev, n()).prop_map(|v| Batch::Events(
            v.into_iter().map(|(i, customer, at, name)| Event {
                id: id(&format!("e{i}")), customer, name: name.into(), at,
                properties: serde_json::json!({"n": i, "x": 0.5}).as_object().unwrap().clone(),
            }).collect())),
        1 => prop::collection::vec(it, n()).prop_map(|v| Batch::Interactions(
            v.into_iter().map(|(i, customer, at, subject)| Interaction {
                id: id(&format!("i{i}")), customer, channel: Channel::Email,
                direction: Direction::Outbound, subject, body: None, at,
            }).collect())),
        2 => prop::collection::vec(fb, n()).prop_map(|v| Batch::Feedback(
            v.into_iter().map(|(i, customer, created_at, rating, text)| FeedbackRow {
                id: id(&format!("f{i}")), customer, source: "survey".into(), text, rating,
                created_at,
            }).collect())),
        1 => prop::collection::vec(ct, n()).prop_map(|v| Batch::Consents(
            v.into_iter().map(|(i, customer, at, granted, source)| Consent {
                id: id(&format!("k{i}")), customer, purpose: Purpose::Surveys, granted, source, at,
            }).collect())),
    ]
}

/// A batch with its options: customer creation off now and then, some dry runs.
fn step() -> impl Strategy<Value = (Batch, bool, bool)> {
    (batch(), prop::bool::weighted(0.85), prop::bool::weighted(0.1))
}

async fn run(s: &dyn Store, b: &Batch, o: &IngestOptions) -> Vec<RowOutcome> {
    match b.clone() {
        Batch::Customers(r) => s.upsert_customers(r, o).await,
        Batch::Companies(r) => s.upsert_companies(r, o).await,
        Batch::Products(r) => s.upsert_products(r, o).await,
        Batch::Orders(r) => s.ingest_orders(group(r), o).await,
        Batch::Events(r) => s.ingest_events(r, o).await,
        Batch::Interactions(r) => s.ingest_interactions(r, o).await,
        Batch::Feedback(r) => s.ingest_feedback(r, o).await,
        Batch::Consents(r) => s.ingest_consents(r, o).await,
    }
    .unwrap()
}

async fn same_story(sqlite: &dyn Store, pg: &dyn Store, steps: &[(Batch, bool, bool)]) {
    for (i, (b, create_customers, dry_run)) in steps.iter().enumerate() {
        let o = IngestOptions {
            create_customers: *create_customers,
            dry_run: *dry_run,
            ..Default::default()
        };
        let want = run(sqlite, b, &o).await;
        let got = run(pg, b, &o).await;
        assert_eq!(got, want, "outcomes of step {i}: {b:?}");
    }
    for kind in Kind::ALL {
        let want = export_all(sqlite, kind).await.unwrap();
        assert_eq!(export_all(pg, kind).await.unwrap(), want, "{kind} export");
    }
    assert_eq!(pg.counts().await.unwrap(), sqlite.counts().await.unwrap());
    // Internal keys are each database's own; ids, names and summaries must agree.
    let comparable = |rows: Vec<rapport_store::SummaryRow>| {
        rows.into_iter().map(|r| (r.id, r.name, r.summary)).collect::<Vec<_>>()
    };
    let want = comparable(sqlite.summaries(None, 1000).await.unwrap().items);
    assert_eq!(comparable(pg.summaries(None, 1000).await.unwrap().items), want);
    assert!(pg.verify_summaries().await.unwrap().is_empty());
    // Small pages split and resume exactly where the reference does.
    let (a, b) = (
        sqlite.export(Kind::Orders, None, 2).await.unwrap(),
        pg.export(Kind::Orders, None, 2).await.unwrap(),
    );
    assert_eq!((a.items, a.next.is_some()), (b.items, b.next.is_some()));
    same_views(sqlite, pg).await;
}

/// Every page of a customers list (cursors are backend-private; the items must agree).
async fn list_all(s: &dyn Store, mut q: CustomerQuery) -> Vec<CustomerListItem> {
    let mut out = Vec::new();
    loop {
        let page = s.customers(&q).await.unwrap();
        out.extend(page.items);
        match page.next {
            Some(n) => q.after = Some(n),
            None => return out,
        }
    }
}

/// A whole timeline read two items at a time.
async fn timeline_paged(s: &dyn Store, customer: &ExternalId) -> Vec<TimelineItem> {
    let (mut out, mut after) = (Vec::new(), None::<TimelineCursor>);
    loop {
        let page = s.timeline(customer, after.as_ref(), 2).await.unwrap();
        let Some(last) = page.last() else { return out };
        after = Some(TimelineCursor::of(last));
        out.extend(page);
    }
}

/// The read models sort, break ties, page and search exactly as the reference does.
async fn same_views(sqlite: &dyn Store, pg: &dyn Store) {
    for (name, sort) in CustomerSort::ALL {
        for descending in [false, true] {
            let q = CustomerQuery { sort: *sort, descending, limit: 2, ..Default::default() };
            let want = list_all(sqlite, q.clone()).await;
            assert_eq!(list_all(pg, q).await, want, "customers by {name}, desc: {descending}");
        }
    }
    let q = CustomerQuery { search: Some("alph".into()), limit: 100, ..Default::default() };
    assert_eq!(list_all(pg, q.clone()).await, list_all(sqlite, q).await, "search");
    for r in export_all(sqlite, Kind::Customers).await.unwrap() {
        let Record::Customer(c) = r else { continue };
        assert_eq!(pg.customer(&c.id).await.unwrap(), sqlite.customer(&c.id).await.unwrap());
        let want = sqlite.timeline(&c.id, None, 1000).await.unwrap();
        assert_eq!(pg.timeline(&c.id, None, 1000).await.unwrap(), want, "timeline of {}", c.id);
        assert_eq!(timeline_paged(pg, &c.id).await, want, "paged timeline of {}", c.id);
    }
}

#[test]
fn postgres_matches_sqlite_on_random_batches() {
    let Ok(url) = std::env::var("TEST_DATABASE_URL") else {
        let line = "SKIPPED: TEST_DATABASE_URL not set; PostgreSQL parity test not run\n";
        std::io::stderr().write_all(line.as_bytes()).ok();
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let config = Config { cases: 48, failure_persistence: None, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&prop::collection::vec(step(), 1..14), |steps| {
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let sqlite = SqliteStore::open(dir.path().join("rapport.db")).unwrap();
            let (pg, schema) = PgStore::connect_fresh_schema(&url).await.unwrap();
            let handle = pg.clone();
            let outcome =
                tokio::spawn(async move { same_story(&sqlite, &handle, &steps).await }).await;
            pg.drop_schema(&schema).await.unwrap();
            pg.close().await;
            if let Err(e) = outcome {
                std::panic::resume_unwind(e.into_panic());
            }
        });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

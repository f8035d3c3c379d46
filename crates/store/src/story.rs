//! The behavioural story every backend must tell the same way. Backends call these from their
//! own tests (a temp SQLite file; PostgreSQL when `TEST_DATABASE_URL` is set).

use crate::{IngestOptions, Kind, OrderGroup, PurchaseDay, Record, RowOutcome, Store, export_all};
use proptest::prelude::*;
use rapport_analytics::summary::{Activity, OrderFact, summarise};
use rapport_core::record::{CustomerRef, FeedbackRow, OrderRow};
use rapport_core::value::parse_timestamp;
use rapport_core::*;
use std::collections::BTreeMap;

pub fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

pub fn ts(s: &str) -> Timestamp {
    parse_timestamp(s, None).unwrap()
}

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

pub fn line_row(
    order: &str,
    customer: &str,
    at: &str,
    sku: &str,
    qty: i64,
    price: &str,
) -> OrderRow {
    let unit_price = money(price);
    OrderRow {
        order: id(order),
        customer: Some(id(customer)),
        placed_at: Some(ts(at)),
        currency: Some(Currency::parse("GBP").unwrap()),
        status: None,
        line: Some(OrderLine {
            sku: Some(id(sku)),
            quantity: qty,
            unit_price,
            amount: unit_price.times(qty).unwrap(),
        }),
    }
}

/// Groups rows by order the way the importer does (contiguous runs, numbering continued).
pub fn group(rows: Vec<OrderRow>) -> Vec<OrderGroup> {
    let mut seen: BTreeMap<ExternalId, u32> = BTreeMap::new();
    let mut out: Vec<OrderGroup> = Vec::new();
    for r in rows {
        let lines = u32::from(r.line.is_some());
        if let Some(g) = out.last_mut().filter(|g| g.order == r.order) {
            g.rows.push(r);
        } else {
            let first = seen.get(&r.order).copied().unwrap_or(0) + 1;
            out.push(OrderGroup { order: r.order.clone(), first_line_no: first, rows: vec![r] });
        }
        let order = out.last().unwrap().order.clone();
        *seen.entry(order).or_default() += lines;
    }
    out
}

fn tally(outcomes: &[RowOutcome]) -> (usize, usize, usize, usize) {
    let mut t = (0, 0, 0, 0);
    for o in outcomes {
        match o {
            RowOutcome::Inserted => t.0 += 1,
            RowOutcome::Updated => t.1 += 1,
            RowOutcome::Unchanged | RowOutcome::Exists => t.2 += 1,
            RowOutcome::Rejected(_) => t.3 += 1,
        }
    }
    t
}

/// Customers upsert by external id; absent fields leave stored values alone.
pub async fn customers_upsert_and_merge(s: &dyn Store) {
    let o = IngestOptions::default();
    let mut ann = Customer::bare(id("c1"));
    ann.name = Some("Ann Lee".into());
    ann.email = Some(Email::parse("ann@example.com").unwrap());
    ann.attributes.insert("tier".into(), AttrValue::Text("gold".into()));
    ann.company = Some(id("acme"));
    let bob = Customer::bare(id("c2"));
    let out = s.upsert_customers(vec![ann.clone(), bob.clone()], &o).await.unwrap();
    assert_eq!(tally(&out), (2, 0, 0, 0));
    let again = s.upsert_customers(vec![ann.clone(), bob], &o).await.unwrap();
    assert_eq!(tally(&again), (0, 0, 2, 0), "re-upsert must change nothing");

    let mut patch = Customer::bare(id("c1"));
    patch.city = Some("Leeds".into());
    patch.attributes.insert("seats".into(), AttrValue::Int(12));
    assert_eq!(tally(&s.upsert_customers(vec![patch], &o).await.unwrap()), (0, 1, 0, 0));

    let all = export_all(s, Kind::Customers).await.unwrap();
    let Record::Customer(c1) = &all[0] else { panic!("customer expected") };
    assert_eq!(c1.name.as_deref(), Some("Ann Lee"));
    assert_eq!(c1.city.as_deref(), Some("Leeds"));
    assert_eq!(c1.attributes.len(), 2);
    assert_eq!(c1.company, Some(id("acme")));
    let counts = s.counts().await.unwrap();
    assert_eq!((counts.customers, counts.companies), (2, 1), "membership creates the company");
}

/// Orders: lines, returns, same-day occasions, re-import, and header-then-items imports.
pub async fn orders_and_summaries(s: &dyn Store) {
    let o = IngestOptions::default();
    let rows = vec![
        line_row("536365", "17850", "2010-12-01 08:26", "85123A", 6, "2.55"),
        line_row("536365", "17850", "2010-12-01 08:26", "71053", 6, "3.39"),
        line_row("536366", "17850", "2010-12-01 08:28", "22633", 6, "1.85"),
        line_row("536400", "17850", "2010-12-05 10:00", "22633", 1, "0.001"),
        line_row("C536379", "17850", "2010-12-06 09:41", "D", -1, "27.50"),
    ];
    let out = s.ingest_orders(group(rows.clone()), &o).await.unwrap();
    assert_eq!(tally(&out), (5, 0, 0, 0));
    let sm = s.customer_summary(&id("17850")).await.unwrap();
    assert_eq!((sm.orders, sm.purchase_orders, sm.purchase_occasions, sm.returns), (4, 3, 2, 1));
    assert_eq!(
        sm.purchase_value,
        money("15.3000") + money("20.34") + money("11.10") + money("0.001")
    );
    assert_eq!(sm.first_day_value, money("46.74"));
    assert_eq!(sm.return_value, money("-27.50"));
    assert_eq!(sm.first_purchase_at, Some(ts("2010-12-01 08:26")));
    assert_eq!(sm.last_purchase_at, Some(ts("2010-12-05 10:00")));

    let again = s.ingest_orders(group(rows), &o).await.unwrap();
    assert_eq!(tally(&again), (0, 0, 5, 0), "re-import must change nothing");

    // A corrected price is an update, and the summary follows it in the same transaction.
    let fix = vec![line_row("536400", "17850", "2010-12-05 10:00", "22633", 1, "1.00")];
    assert_eq!(tally(&s.ingest_orders(group(fix), &o).await.unwrap()), (0, 1, 0, 0));
    let sm = s.customer_summary(&id("17850")).await.unwrap();
    assert_eq!(sm.purchase_value, money("47.74"));

    // Olist ships headers and items as two files.
    let header = OrderRow {
        order: id("olist-1"),
        customer: Some(id("olist-c")),
        placed_at: Some(ts("2017-10-02 10:56:33")),
        currency: Some(Currency::parse("BRL").unwrap()),
        status: Some(OrderStatus::Purchase),
        line: None,
    };
    assert_eq!(tally(&s.ingest_orders(group(vec![header]), &o).await.unwrap()), (1, 0, 0, 0));
    let mut item = line_row("olist-1", "x", "2000-01-01", "p1", 1, "29.99");
    (item.customer, item.placed_at, item.currency) = (None, None, None);
    assert_eq!(tally(&s.ingest_orders(group(vec![item.clone()]), &o).await.unwrap()), (1, 0, 0, 0));
    let sm = s.customer_summary(&id("olist-c")).await.unwrap();
    assert_eq!((sm.purchase_orders, sm.purchase_value), (1, money("29.99")));

    item.order = id("olist-unknown");
    let out = s.ingest_orders(group(vec![item]), &o).await.unwrap();
    assert!(matches!(&out[0], RowOutcome::Rejected(e) if e.field == "customer"), "{out:?}");

    let strict = IngestOptions { create_customers: false, ..IngestOptions::default() };
    let out = s
        .ingest_orders(group(vec![line_row("n1", "nobody", "2011-01-01", "a", 1, "1")]), &strict)
        .await
        .unwrap();
    assert!(matches!(&out[0], RowOutcome::Rejected(e) if e.field == "customer"), "{out:?}");

    let c = s.counts().await.unwrap();
    assert_eq!((c.orders, c.order_lines, c.return_orders), (5, 6, 1));
    assert_eq!(c.purchase_value, c.summarised_purchase_value);
    assert!(s.verify_summaries().await.unwrap().is_empty());
}

/// Regression: an order whose rows resume later in the file (UCI Online Retail has one) with a
/// different time flip-flopped its header on every re-import ("updated 2").
/// Purchase occasions for cohort reports: one pair per customer and UTC day with a purchase;
/// returns, cancellations and a second order on the same day add none.
pub async fn purchase_days(s: &dyn Store) {
    let o = IngestOptions::default();
    assert_eq!(s.last_purchase_at().await.unwrap(), None, "no purchase yet");
    let rows = vec![
        line_row("p1", "a", "2024-01-05 10:00", "x", 1, "5"),
        line_row("p2", "a", "2024-01-05 18:00", "x", 1, "5"),
        line_row("p3", "a", "2024-03-01 09:00", "x", 1, "5"),
        line_row("p4", "b", "2024-02-10 12:00", "x", 1, "5"),
        line_row("r1", "b", "2024-04-10 12:00", "x", -1, "5"),
    ];
    s.ingest_orders(group(rows), &o).await.unwrap();
    let day = |t: &str| rapport_core::value::day_of(ts(t));
    let mut got = s.purchase_days().await.unwrap();
    got.sort_unstable();
    let (a, b) = (got[0].customer, got.last().unwrap().customer);
    assert_ne!(a, b);
    let at = |customer, d: &str, v: &str| PurchaseDay { customer, day: day(d), value: money(v) };
    assert_eq!(
        got,
        [at(a, "2024-01-05", "10"), at(a, "2024-03-01", "5"), at(b, "2024-02-10", "5")],
        "customer a first, then b (insertion order); a's two orders of 5 on one day make 10"
    );
    // Each buyer's history from the summaries: first and last day, occasions, values.
    let histories = s.purchase_histories().await.unwrap();
    let h = |key, first: &str, last: &str, occasions, value: &str, first_day: &str| {
        crate::PurchaseHistory {
            key,
            first_purchase_at: ts(first),
            last_purchase_at: ts(last),
            purchase_occasions: occasions,
            purchase_value: money(value),
            first_day_value: money(first_day),
        }
    };
    assert_eq!(
        histories,
        [
            h(a, "2024-01-05 10:00", "2024-03-01 09:00", 2, "15", "10"),
            h(b, "2024-02-10 12:00", "2024-02-10 12:00", 1, "5", "5")
        ]
    );
    assert_eq!(s.last_purchase_at().await.unwrap(), Some(ts("2024-03-01 09:00")));
    // Every customer's activity: the same histories, then a customer who only used the
    // product (no history, the event's time).
    let used = Event {
        id: id("e1"),
        customer: id("c"),
        name: "login".into(),
        at: ts("2024-05-01 10:00"),
        properties: Default::default(),
    };
    s.ingest_events(vec![used], &o).await.unwrap();
    let activities = s.activities().await.unwrap();
    let got: Vec<_> = activities.iter().map(|x| (x.history, x.last_event_at)).collect();
    assert_eq!(
        got,
        [
            (Some(histories[0]), None),
            (Some(histories[1]), None),
            (None, Some(ts("2024-05-01 10:00")))
        ]
    );
    let c = activities[2].key;
    // Labels of the listed keys only, in key order; unknown keys are left out.
    let labels = s.customer_labels(&[c, a, 999_999_999]).await.unwrap();
    let labels: Vec<_> = labels.iter().map(|l| (l.key, l.id.as_str())).collect();
    assert_eq!(labels, [(a, "a"), (c, "c")]);
    // The same occasions without values, in (customer, day) order, from a day on.
    let occasions = [(a, day("2024-01-05")), (a, day("2024-03-01")), (b, day("2024-02-10"))];
    assert_eq!(s.purchase_occasions(None).await.unwrap(), occasions, "the return is no purchase");
    let later = s.purchase_occasions(Some(day("2024-02-10"))).await.unwrap();
    assert_eq!(later, [(a, day("2024-03-01")), (b, day("2024-02-10"))]);
}

/// Ratings of one source for the satisfaction reports: unrated items and other sources left
/// out, each with its customer's key (the key of the summaries). Interaction counts per
/// customer for one channel since a time.
pub async fn ratings(s: &dyn Store) {
    let item = |n: &str, who: &str, source: &str, rating: Option<i16>, at: &str| FeedbackRow {
        id: id(n),
        customer: CustomerRef::Id(id(who)),
        source: source.into(),
        text: Some("words".into()),
        rating,
        created_at: ts(at),
    };
    let rows = vec![
        item("f1", "a", "nps", Some(9), "2024-01-05 10:00"),
        item("f2", "a", "nps", None, "2024-01-06 10:00"),
        item("f3", "b", "nps", Some(0), "2024-02-01 10:00"),
        item("f4", "a", "csat", Some(5), "2024-02-01 10:00"),
    ];
    s.ingest_feedback(rows, &IngestOptions::default()).await.unwrap();
    let keys: BTreeMap<ExternalId, i64> =
        s.summaries(None, 10).await.unwrap().items.into_iter().map(|r| (r.id, r.key)).collect();
    let (a, b) = (keys[&id("a")], keys[&id("b")]);
    let rating = |customer, at: &str, rating| crate::Rating { customer, at: ts(at), rating };
    let mut nps = s.ratings("nps").await.unwrap();
    nps.sort_unstable_by_key(|r| r.at);
    assert_eq!(nps, [rating(a, "2024-01-05 10:00", 9), rating(b, "2024-02-01 10:00", 0)]);
    assert_eq!(s.ratings("csat").await.unwrap(), [rating(a, "2024-02-01 10:00", 5)]);
    assert_eq!(s.ratings("ces").await.unwrap(), []);

    let ticket = |n: &str, who: &str, channel, at: &str| Interaction {
        id: id(n),
        customer: id(who),
        channel,
        direction: Direction::Inbound,
        subject: None,
        body: Some("help".into()),
        at: ts(at),
    };
    let rows = vec![
        ticket("t1", "a", Channel::Support, "2024-01-01 09:00"),
        ticket("t2", "a", Channel::Support, "2024-03-01 09:00"),
        ticket("t3", "a", Channel::Support, "2024-03-02 09:00"),
        ticket("t4", "b", Channel::Email, "2024-03-02 09:00"),
        ticket("t5", "b", Channel::Support, "2024-02-29 23:59"),
    ];
    s.ingest_interactions(rows, &IngestOptions::default()).await.unwrap();
    let mut support = s.interaction_counts(Channel::Support, ts("2024-03-01 00:00")).await.unwrap();
    support.sort_unstable();
    assert_eq!(support, [(a, 2)], "t1 and t5 are before the window, t4 is email");

    // Sentiment is kept per item from its text; the mean per customer in a window.
    let said = |n: &str, text: Option<&str>, at: &str| FeedbackRow {
        text: text.map(str::to_string),
        ..item(n, "c", "email", None, at)
    };
    let rows = vec![
        said("s1", Some("The book was good."), "2024-03-05 10:00"),
        said("s2", Some("Today SUX!"), "2024-03-06 10:00"),
        said("s3", None, "2024-03-07 10:00"),
        said("s4", Some(""), "2024-03-07 11:00"),
        said("s5", Some("Awful."), "2024-01-07 11:00"),
    ];
    s.ingest_feedback(rows.clone(), &IngestOptions::default()).await.unwrap();
    let again = s.ingest_feedback(rows, &IngestOptions::default()).await.unwrap();
    assert_eq!(tally(&again), (0, 0, 5, 0), "the same texts give the same sentiment");
    let c =
        s.summaries(None, 10).await.unwrap().items.iter().find(|r| r.id == id("c")).unwrap().key;
    let mood = s.feedback_sentiment(ts("2024-03-01 00:00")).await.unwrap();
    assert_eq!(mood.len(), 1, "a and b said only 'words' before the window: {mood:?}");
    let (who, mean, n) = mood[0];
    assert_eq!((who, n), (c, 2), "no text and empty text have no sentiment; s5 is earlier");
    assert!((mean - (0.4404 - 0.5461) / 2.0).abs() < 1e-12, "{mean}");
}

pub async fn reappearing_order_reimports_unchanged(s: &dyn Store) {
    let o = IngestOptions::default();
    let rows = vec![
        line_row("A", "c1", "2011-01-01 10:00", "x", 1, "1"),
        line_row("B", "c2", "2011-01-01 11:00", "y", 1, "2"),
        line_row("A", "c1", "2011-01-02 10:00", "z", 2, "3"),
    ];
    let first = s.ingest_orders(group(rows.clone()), &o).await.unwrap();
    assert_eq!(tally(&first), (3, 0, 0, 0));
    let again = s.ingest_orders(group(rows), &o).await.unwrap();
    assert_eq!(tally(&again), (0, 0, 3, 0));
    let sm = s.customer_summary(&id("c1")).await.unwrap();
    assert_eq!((sm.purchase_orders, sm.purchase_value), (1, money("7")));
    assert_eq!(sm.last_purchase_at, Some(ts("2011-01-01 10:00")), "the first rows set the header");
}

/// A dry run reports what would happen and stores nothing.
pub async fn dry_run_stores_nothing(s: &dyn Store) {
    let o = IngestOptions { dry_run: true, ..IngestOptions::default() };
    let out = s
        .ingest_orders(group(vec![line_row("1", "c", "2011-01-01", "a", 1, "1")]), &o)
        .await
        .unwrap();
    assert_eq!(tally(&out), (1, 0, 0, 0));
    assert_eq!(s.counts().await.unwrap().orders, 0);
    assert_eq!(s.counts().await.unwrap().customers, 0);
}

/// Events, interactions, feedback and consents: idempotent, summarised, feedback via order.
pub async fn activity_streams(s: &dyn Store) {
    let o = IngestOptions::default();
    let ev = Event {
        id: id("e1"),
        customer: id("c9"),
        name: "report_exported".into(),
        at: ts("2024-05-01 10:00"),
        properties: serde_json::json!({"format": "pdf", "pages": 3}).as_object().unwrap().clone(),
    };
    assert_eq!(tally(&s.ingest_events(vec![ev.clone()], &o).await.unwrap()), (1, 0, 0, 0));
    assert_eq!(tally(&s.ingest_events(vec![ev], &o).await.unwrap()), (0, 0, 1, 0));
    let it = Interaction {
        id: id("t1"),
        customer: id("c9"),
        channel: Channel::Support,
        direction: Direction::Inbound,
        subject: Some("Late delivery".into()),
        body: Some("Where is my parcel?".into()),
        at: ts("2024-05-02 09:00"),
    };
    assert_eq!(tally(&s.ingest_interactions(vec![it], &o).await.unwrap()), (1, 0, 0, 0));
    s.ingest_orders(group(vec![line_row("o9", "c9", "2024-04-30", "a", 1, "5")]), &o)
        .await
        .unwrap();
    let fb = FeedbackRow {
        id: id("r1"),
        customer: CustomerRef::Order(id("o9")),
        source: "review".into(),
        text: Some("Arrived late, but great quality".into()),
        rating: Some(4),
        created_at: ts("2024-05-03"),
    };
    assert_eq!(tally(&s.ingest_feedback(vec![fb.clone()], &o).await.unwrap()), (1, 0, 0, 0));
    let mut lost = fb;
    lost.id = id("r2");
    lost.customer = CustomerRef::Order(id("nope"));
    let out = s.ingest_feedback(vec![lost], &o).await.unwrap();
    assert!(matches!(&out[0], RowOutcome::Rejected(e) if e.field == "order"), "{out:?}");
    let consent = Consent {
        id: id("k1"),
        customer: id("c9"),
        purpose: Purpose::Marketing,
        granted: true,
        source: Some("signup form".into()),
        at: ts("2024-01-01"),
    };
    assert_eq!(tally(&s.ingest_consents(vec![consent], &o).await.unwrap()), (1, 0, 0, 0));

    let sm = s.customer_summary(&id("c9")).await.unwrap();
    assert_eq!((sm.events, sm.interactions, sm.feedback), (1, 1, 1));
    assert_eq!(sm.last_feedback_at, Some(ts("2024-05-03")));
    assert_eq!(sm.last_interaction_at, Some(ts("2024-05-02 09:00")));
    let Record::Feedback(f) = &export_all(s, Kind::Feedback).await.unwrap()[0] else { panic!() };
    assert_eq!(f.customer, id("c9"));
    let Record::Event(e) = &export_all(s, Kind::Events).await.unwrap()[0] else { panic!() };
    assert_eq!(e.properties["pages"], serde_json::json!(3));
}

/// Everything exported re-imports into an empty store as the same data.
pub async fn export_round_trips(from: &dyn Store, into: &dyn Store) {
    let o = IngestOptions::default();
    for kind in Kind::ALL {
        let records = export_all(from, kind).await.unwrap();
        let n = records.len();
        let outcomes = reimport(into, records, &o).await;
        assert_eq!(outcomes.len(), n, "{kind}");
        assert!(
            outcomes.iter().all(|r| !matches!(r, RowOutcome::Rejected(_))),
            "{kind}: {outcomes:?}"
        );
    }
    for kind in Kind::ALL {
        let a = export_all(from, kind).await.unwrap();
        let b = export_all(into, kind).await.unwrap();
        assert_eq!(a, b, "{kind} differs after a round trip");
    }
    assert_eq!(from.counts().await.unwrap(), into.counts().await.unwrap());
}

async fn reimport(s: &dyn Store, records: Vec<Record>, o: &IngestOptions) -> Vec<RowOutcome> {
    macro_rules! collect {
        ($variant:ident) => {
            records
                .into_iter()
                .filter_map(|r| if let Record::$variant(x) = r { Some(x) } else { None })
                .collect()
        };
    }
    let Some(first) = records.first() else { return Vec::new() };
    match first {
        Record::Customer(_) => s.upsert_customers(collect!(Customer), o).await,
        Record::Company(_) => s.upsert_companies(collect!(Company), o).await,
        Record::Product(_) => s.upsert_products(collect!(Product), o).await,
        Record::OrderRow(_) => s.ingest_orders(group(collect!(OrderRow)), o).await,
        Record::Event(_) => s.ingest_events(collect!(Event), o).await,
        Record::Interaction(_) => s.ingest_interactions(collect!(Interaction), o).await,
        Record::Feedback(_) => {
            let rows: Vec<Feedback> = collect!(Feedback);
            let rows = rows
                .into_iter()
                .map(|f| FeedbackRow {
                    id: f.id,
                    customer: CustomerRef::Id(f.customer),
                    source: f.source,
                    text: f.text,
                    rating: f.rating,
                    created_at: f.created_at,
                })
                .collect();
            s.ingest_feedback(rows, o).await
        }
        Record::Consent(_) => s.ingest_consents(collect!(Consent), o).await,
    }
    .unwrap()
}

/// One step of a random interleaved import.
#[derive(Debug, Clone)]
pub enum Op {
    Orders(Vec<OrderRow>),
    Events(Vec<Event>),
    Feedback(Vec<FeedbackRow>),
    Interactions(Vec<Interaction>),
}

fn day_time() -> impl Strategy<Value = Timestamp> {
    // Ten days, a few distinct times per day: same-day purchases are common.
    (0i64..10, 0i64..4)
        .prop_map(|(d, h)| ts("2024-01-01") + chrono::Duration::hours(d * 24 + h * 5))
}

fn order_row() -> impl Strategy<Value = OrderRow> {
    let status = prop_oneof![
        6 => Just(None),
        1 => Just(Some(OrderStatus::Return)),
        1 => Just(Some(OrderStatus::Cancelled)),
        1 => Just(Some(OrderStatus::Purchase)),
    ];
    (0u8..12, 0u8..4, day_time(), status, 1i64..4, 0i64..3000, 0u8..3).prop_map(
        |(order, cust, at, status, qty, cents, sku)| {
            let price = Money::from_e4(cents * 100);
            OrderRow {
                order: id(&format!("o{order}")),
                customer: Some(id(&format!("c{cust}"))),
                placed_at: Some(at),
                currency: Some(Currency::parse("EUR").unwrap()),
                status,
                line: Some(OrderLine {
                    sku: Some(id(&format!("s{sku}"))),
                    quantity: qty,
                    unit_price: price,
                    amount: price.times(qty).unwrap(),
                }),
            }
        },
    )
}

fn op() -> impl Strategy<Value = Op> {
    let cust = || (0u8..4).prop_map(|c| id(&format!("c{c}")));
    prop_oneof![
        3 => prop::collection::vec(order_row(), 1..8).prop_map(Op::Orders),
        1 => prop::collection::vec((0u8..8, cust(), day_time()), 1..4).prop_map(|v| Op::Events(
            v.into_iter().map(|(n, customer, at)| Event {
                id: id(&format!("e{n}")), customer, name: "login".into(), at, properties: Default::default(),
            }).collect())),
        1 => prop::collection::vec((0u8..8, cust(), day_time()), 1..4).prop_map(|v| Op::Feedback(
            v.into_iter().map(|(n, c, at)| FeedbackRow {
                id: id(&format!("f{n}")), customer: CustomerRef::Id(c), source: "survey".into(),
                text: None, rating: Some(7), created_at: at,
            }).collect())),
        1 => prop::collection::vec((0u8..8, cust(), day_time()), 1..4).prop_map(|v| Op::Interactions(
            v.into_iter().map(|(n, customer, at)| Interaction {
                id: id(&format!("i{n}")), customer, channel: Channel::Chat, direction: Direction::Inbound,
                subject: None, body: Some("hi".into()), at,
            }).collect())),
    ]
}

/// Random interleaved imports, including re-imports that move orders between customers, days
/// and statuses (ids repeat on purpose).
pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..12)
}

pub async fn apply(s: &dyn Store, ops: &[Op]) {
    let o = IngestOptions::default();
    for op in ops {
        match op.clone() {
            Op::Orders(rows) => drop(s.ingest_orders(group(rows), &o).await.unwrap()),
            Op::Events(rows) => drop(s.ingest_events(rows, &o).await.unwrap()),
            Op::Feedback(rows) => drop(s.ingest_feedback(rows, &o).await.unwrap()),
            Op::Interactions(rows) => drop(s.ingest_interactions(rows, &o).await.unwrap()),
        }
    }
}

/// The stored summaries equal a from-scratch fold (in Rust, by `rapport_analytics`) over the
/// exported raw rows: an independent implementation of the same definition.
pub async fn summaries_equal_recomputation(s: &dyn Store) {
    let mut acts: BTreeMap<ExternalId, Activity> = BTreeMap::new();
    let mut orders: BTreeMap<ExternalId, (ExternalId, Timestamp, OrderStatus, Money)> =
        BTreeMap::new();
    for r in export_all(s, Kind::Orders).await.unwrap() {
        let Record::OrderRow(r) = r else { unreachable!() };
        let e = orders.entry(r.order.clone()).or_insert((
            r.customer.clone().unwrap(),
            r.placed_at.unwrap(),
            r.status.unwrap(),
            Money::ZERO,
        ));
        e.3 += r.line.map(|l| l.amount).unwrap_or_default();
    }
    for (customer, placed_at, status, total) in orders.into_values() {
        acts.entry(customer).or_default().orders.push(OrderFact { placed_at, status, total });
    }
    for r in export_all(s, Kind::Events).await.unwrap() {
        let Record::Event(e) = r else { unreachable!() };
        acts.entry(e.customer).or_default().events.push(e.at);
    }
    for r in export_all(s, Kind::Feedback).await.unwrap() {
        let Record::Feedback(f) = r else { unreachable!() };
        acts.entry(f.customer).or_default().feedback.push(f.created_at);
    }
    for r in export_all(s, Kind::Interactions).await.unwrap() {
        let Record::Interaction(i) = r else { unreachable!() };
        acts.entry(i.customer).or_default().interactions.push(i.at);
    }
    let page = s.summaries(None, 100_000).await.unwrap();
    let stored: BTreeMap<_, _> = page.items.into_iter().map(|r| (r.id, r.summary)).collect();
    for (customer, act) in acts {
        let want = summarise(&act);
        assert_eq!(stored.get(&customer), Some(&want), "summary of {customer}");
    }
    assert!(s.verify_summaries().await.unwrap().is_empty());
}

//! The record API's story (lists with filters, sorts and paging; get; delete with exact
//! summaries; whole-order replacement), run by every backend.

use crate::story::{group, id, line_row, ts};
use crate::{
    Entity, IngestOptions, Kind, OrderGroup, RecordCursor, RecordFilter, RecordQuery, RecordSort,
    RowOutcome, Store, StoreError,
};
use rapport_core::record::{CustomerRef, FeedbackRow, OrderRow};
use rapport_core::*;

fn company(ext: &str, industry: &str, plan: &str) -> Company {
    Company {
        id: id(ext),
        name: Some(ext.to_uppercase()),
        industry: Some(industry.into()),
        size: None,
        plan: Some(plan.into()),
        mrr: None,
    }
}

fn product(sku: &str, category: &str) -> Product {
    Product { sku: id(sku), name: None, category: Some(category.into()), price: None }
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

fn interaction(
    ext: &str,
    customer: &str,
    channel: Channel,
    direction: Direction,
    at: &str,
) -> Interaction {
    Interaction {
        id: id(ext),
        customer: id(customer),
        channel,
        direction,
        subject: Some(format!("about {ext}")),
        body: None,
        at: ts(at),
    }
}

fn feedback(ext: &str, customer: &str, source: &str, rating: i16, at: &str) -> FeedbackRow {
    FeedbackRow {
        id: id(ext),
        customer: CustomerRef::Id(id(customer)),
        source: source.into(),
        text: None,
        rating: Some(rating),
        created_at: ts(at),
    }
}

fn consent(ext: &str, customer: &str, purpose: Purpose, granted: bool, at: &str) -> Consent {
    Consent { id: id(ext), customer: id(customer), purpose, granted, source: None, at: ts(at) }
}

/// Three customers (two in companies), their orders (o4 a return placed at o1's time) and
/// activity, with ties on time across customers. Each kind is stored in insertion order.
async fn seed(s: &dyn Store) {
    let o = IngestOptions::default();
    let companies = vec![
        company("acme", "retail", "pro"),
        company("beta", "saas", "free"),
        company("gamma", "retail", "free"),
    ];
    s.upsert_companies(companies, &o).await.unwrap();
    let mut c1 = Customer::bare(id("c1"));
    c1.company = Some(id("acme"));
    let mut c2 = Customer::bare(id("c2"));
    c2.company = Some(id("beta"));
    s.upsert_customers(vec![c1, c2, Customer::bare(id("c3"))], &o).await.unwrap();
    let products = vec![product("a", "books"), product("b", "toys"), product("c", "books")];
    s.upsert_products(products, &o).await.unwrap();
    let rows = vec![
        line_row("o1", "c1", "2024-02-01 10:00", "a", 2, "10"),
        line_row("o1", "c1", "2024-02-01 10:00", "b", 1, "5"),
        line_row("o2", "c2", "2024-03-05 12:00", "a", 1, "100"),
        line_row("o3", "c1", "2024-04-01 09:00", "c", 1, "1"),
    ];
    s.ingest_orders(group(rows), &o).await.unwrap();
    let ret = line_row("o4", "c1", "2024-02-01 10:00", "a", -1, "10");
    s.ingest_orders(group(vec![ret]), &o).await.unwrap();
    let events = vec![
        event("e1", "c1", "login", "2024-02-01 10:00"),
        event("e2", "c1", "login", "2024-03-01"),
        event("e3", "c2", "export", "2024-02-01 10:00"),
        event("e4", "c2", "login", "2024-01-15"),
    ];
    s.ingest_events(events, &o).await.unwrap();
    let interactions = vec![
        interaction("i1", "c1", Channel::Support, Direction::Inbound, "2024-02-02"),
        interaction("i2", "c2", Channel::Email, Direction::Outbound, "2024-02-03"),
        interaction("i3", "c1", Channel::Email, Direction::Inbound, "2024-02-02"),
    ];
    s.ingest_interactions(interactions, &o).await.unwrap();
    let fb = vec![
        feedback("f1", "c1", "email", 9, "2024-04-02"),
        feedback("f2", "c2", "survey", 3, "2024-03-01"),
        feedback("f3", "c1", "survey", 7, "2024-03-01"),
    ];
    s.ingest_feedback(fb, &o).await.unwrap();
    let consents = vec![
        consent("k1", "c1", Purpose::Marketing, true, "2024-01-10"),
        consent("k2", "c1", Purpose::Marketing, false, "2024-03-10"),
        consent("k3", "c2", Purpose::Surveys, true, "2024-01-10"),
    ];
    s.ingest_consents(consents, &o).await.unwrap();
}

/// Every page of a list, following cursors; the records' ids.
async fn all_pages(s: &dyn Store, q: &RecordQuery) -> Vec<String> {
    let mut q = q.clone();
    let mut out = Vec::new();
    loop {
        let page = s.records(&q).await.unwrap();
        assert!(page.items.len() <= q.limit);
        out.extend(page.items.iter().map(|e| e.id().as_str().to_string()));
        match page.next {
            Some(n) => q.after = Some(RecordCursor::parse(&n, q.sort).unwrap()),
            None => return out,
        }
    }
}

async fn ids(s: &dyn Store, kind: Kind, f: impl FnOnce(&mut RecordQuery)) -> Vec<String> {
    let mut q = RecordQuery::new(kind, 2);
    f(&mut q);
    all_pages(s, &q).await
}

fn filter(kind: Kind, field: &str, value: &str) -> RecordFilter {
    RecordFilter::parse(kind, field, value).unwrap()
}

const KINDS: [Kind; 7] = [
    Kind::Companies,
    Kind::Products,
    Kind::Orders,
    Kind::Events,
    Kind::Interactions,
    Kind::Feedback,
    Kind::Consents,
];

/// Lists: insertion order and time order in both directions at every page size, then filters.
pub async fn record_lists(s: &dyn Store) {
    seed(s).await;
    let inserted = [
        (Kind::Companies, vec!["acme", "beta", "gamma"]),
        (Kind::Products, vec!["a", "b", "c"]),
        (Kind::Orders, vec!["o1", "o2", "o3", "o4"]),
        (Kind::Events, vec!["e1", "e2", "e3", "e4"]),
        (Kind::Interactions, vec!["i1", "i2", "i3"]),
        (Kind::Feedback, vec!["f1", "f2", "f3"]),
        (Kind::Consents, vec!["k1", "k2", "k3"]),
    ];
    for (kind, expected) in inserted {
        let all = s.records(&RecordQuery::new(kind, 100)).await.unwrap();
        assert_eq!(all.items.iter().map(|e| e.id().as_str()).collect::<Vec<_>>(), expected);
        assert!(all.next.is_none(), "{kind}: a partial page is the last");
        assert!(all.items.iter().all(|e| e.kind() == kind));
        // Time order: by time, ties in insertion order.
        let mut by_time: Vec<_> = all.items.iter().enumerate().collect();
        by_time.sort_by_key(|(i, e)| (e.time(), *i));
        let by_time: Vec<_> = by_time.iter().map(|(_, e)| e.id().as_str()).collect();
        for sort in [RecordSort::Id, RecordSort::Time] {
            if sort == RecordSort::Time && kind.time_field().is_none() {
                continue;
            }
            let order = if sort == RecordSort::Id { &expected } else { &by_time };
            for limit in [1, 2, 3, 10] {
                let mut q = RecordQuery::new(kind, limit);
                q.sort = sort;
                assert_eq!(all_pages(s, &q).await, *order, "{kind} {sort:?} by {limit}");
                q.descending = true;
                let mut rev = order.clone();
                rev.reverse();
                assert_eq!(all_pages(s, &q).await, rev, "{kind} {sort:?} desc by {limit}");
            }
        }
    }
    let by_time = ids(s, Kind::Orders, |q| q.sort = RecordSort::Time).await;
    assert_eq!(by_time, ["o1", "o4", "o2", "o3"], "equal times in insertion order");

    let k = Kind::Orders;
    assert_eq!(ids(s, k, |q| q.filters.push(filter(k, "status", "returned"))).await, ["o4"]);
    assert_eq!(ids(s, k, |q| q.customer = Some(id("c2"))).await, ["o2"]);
    assert!(ids(s, k, |q| q.customer = Some(id("nobody"))).await.is_empty());
    let range = |q: &mut RecordQuery| {
        q.from = Some(ts("2024-02-01 10:00"));
        q.to = Some(ts("2024-04-01 09:00"));
    };
    assert_eq!(ids(s, k, range).await, ["o1", "o2", "o4"], "from inclusive, to exclusive");
    let k = Kind::Events;
    let logins = |q: &mut RecordQuery| {
        q.customer = Some(id("c1"));
        q.filters.push(filter(Kind::Events, "name", "login"));
        q.sort = RecordSort::Time;
        q.descending = true;
    };
    assert_eq!(ids(s, k, logins).await, ["e2", "e1"]);
    let k = Kind::Interactions;
    assert_eq!(ids(s, k, |q| q.filters.push(filter(k, "channel", "mail"))).await, ["i2", "i3"]);
    assert_eq!(ids(s, k, |q| q.filters.push(filter(k, "direction", "in"))).await, ["i1", "i3"]);
    let k = Kind::Feedback;
    assert_eq!(ids(s, k, |q| q.filters.push(filter(k, "source", "Survey"))).await, ["f2", "f3"]);
    let k = Kind::Consents;
    let revoked = |q: &mut RecordQuery| {
        q.filters.push(filter(Kind::Consents, "purpose", "marketing"));
        q.filters.push(filter(Kind::Consents, "granted", "no"));
    };
    assert_eq!(ids(s, k, revoked).await, ["k2"]);
    let k = Kind::Products;
    assert_eq!(ids(s, k, |q| q.filters.push(filter(k, "category", "books"))).await, ["a", "c"]);
    let k = Kind::Companies;
    let retail_free = |q: &mut RecordQuery| {
        q.filters.push(filter(Kind::Companies, "industry", "retail"));
        q.filters.push(filter(Kind::Companies, "plan", "free"));
    };
    assert_eq!(ids(s, k, retail_free).await, ["gamma"]);

    let mut bad = RecordQuery::new(Kind::Events, 5);
    bad.filters.push(filter(Kind::Orders, "status", "purchase"));
    assert!(matches!(s.records(&bad).await, Err(StoreError::Invalid(_))), "another kind's filter");
    let mut bad = RecordQuery::new(Kind::Events, 5);
    bad.after = Some(RecordCursor { id: 1, time: Some(ts("2024-01-01")) });
    assert!(
        matches!(s.records(&bad).await, Err(StoreError::Invalid(_))),
        "a cursor of another sort"
    );
    let customers = RecordQuery::new(Kind::Customers, 5);
    assert!(matches!(s.records(&customers).await, Err(StoreError::Invalid(_))));
}

/// One record by id, of every kind, as stored.
pub async fn record_get(s: &dyn Store) {
    seed(s).await;
    for kind in KINDS {
        assert!(matches!(s.record(kind, &id("nobody")).await, Err(StoreError::NotFound(_))));
    }
    assert!(matches!(s.record(Kind::Customers, &id("c1")).await, Err(StoreError::Invalid(_))));
    let Entity::Order(o1) = s.record(Kind::Orders, &id("o1")).await.unwrap() else { panic!() };
    assert_eq!((o1.order.customer.as_str(), o1.order.status), ("c1", OrderStatus::Purchase));
    assert_eq!(o1.order.placed_at, ts("2024-02-01 10:00"));
    assert_eq!(o1.total, Money::parse("25").unwrap());
    let skus: Vec<_> = o1.lines.iter().map(|l| l.sku.as_ref().unwrap().as_str()).collect();
    assert_eq!((skus, o1.lines[0].quantity), (vec!["a", "b"], 2));
    let Entity::Order(o4) = s.record(Kind::Orders, &id("o4")).await.unwrap() else { panic!() };
    assert_eq!((o4.order.status, o4.total), (OrderStatus::Return, Money::parse("-10").unwrap()));
    assert_eq!(
        s.record(Kind::Events, &id("e3")).await.unwrap(),
        Entity::Event(event("e3", "c2", "export", "2024-02-01 10:00"))
    );
    assert_eq!(
        s.record(Kind::Interactions, &id("i2")).await.unwrap(),
        Entity::Interaction(interaction(
            "i2",
            "c2",
            Channel::Email,
            Direction::Outbound,
            "2024-02-03"
        ))
    );
    let Entity::Feedback(f) = s.record(Kind::Feedback, &id("f2")).await.unwrap() else { panic!() };
    assert_eq!((f.customer.as_str(), f.source.as_str(), f.rating), ("c2", "survey", Some(3)));
    assert_eq!(
        s.record(Kind::Consents, &id("k2")).await.unwrap(),
        Entity::Consent(consent("k2", "c1", Purpose::Marketing, false, "2024-03-10"))
    );
    assert_eq!(
        s.record(Kind::Products, &id("b")).await.unwrap(),
        Entity::Product(product("b", "toys"))
    );
    assert_eq!(
        s.record(Kind::Companies, &id("gamma")).await.unwrap(),
        Entity::Company(company("gamma", "retail", "free"))
    );
}

async fn verified(s: &dyn Store) {
    assert_eq!(s.verify_summaries().await.unwrap(), [], "summaries equal a recomputation");
}

/// Deleting records of every kind keeps summaries exact and other records in place.
pub async fn record_delete(s: &dyn Store) {
    seed(s).await;
    let c1 = || async { s.customer_summary(&id("c1")).await.unwrap() };
    assert_eq!((c1().await.orders, c1().await.purchase_value), (3, Money::parse("26").unwrap()));
    s.delete_record(Kind::Orders, &id("o1")).await.unwrap();
    let after = c1().await;
    assert_eq!((after.orders, after.purchase_orders), (2, 1));
    assert_eq!(after.purchase_value, Money::parse("1").unwrap());
    assert_eq!(after.first_purchase_at, Some(ts("2024-04-01 09:00")));
    verified(s).await;
    s.delete_record(Kind::Orders, &id("o4")).await.unwrap();
    assert_eq!((c1().await.returns, c1().await.return_value), (0, Money::ZERO));

    s.delete_record(Kind::Events, &id("e2")).await.unwrap();
    assert_eq!((c1().await.events, c1().await.last_event_at), (1, Some(ts("2024-02-01 10:00"))));
    s.delete_record(Kind::Interactions, &id("i1")).await.unwrap();
    assert_eq!(c1().await.interactions, 1);
    s.delete_record(Kind::Feedback, &id("f1")).await.unwrap();
    assert_eq!((c1().await.feedback, c1().await.last_feedback_at), (1, Some(ts("2024-03-01"))));
    s.delete_record(Kind::Consents, &id("k2")).await.unwrap();
    assert!(s.customer(&id("c1")).await.unwrap().consents_to(Purpose::Marketing), "k1 again");
    verified(s).await;

    s.delete_record(Kind::Companies, &id("acme")).await.unwrap();
    let v = s.customer(&id("c1")).await.unwrap();
    assert_eq!((v.customer.company, v.company), (None, None), "the member stays, unattached");
    s.delete_record(Kind::Products, &id("a")).await.unwrap();
    let Entity::Order(o2) = s.record(Kind::Orders, &id("o2")).await.unwrap() else { panic!() };
    assert_eq!(o2.lines[0].sku, Some(id("a")), "lines keep the SKU of a deleted product");
    for (kind, gone) in [
        (Kind::Orders, "o1"),
        (Kind::Events, "e2"),
        (Kind::Companies, "acme"),
        (Kind::Products, "a"),
    ] {
        assert!(matches!(s.record(kind, &id(gone)).await, Err(StoreError::NotFound(_))));
        assert!(matches!(s.delete_record(kind, &id(gone)).await, Err(StoreError::NotFound(_))));
    }
    let counts = s.counts().await.unwrap();
    assert_eq!((counts.orders, counts.order_lines, counts.customers), (2, 2, 3));
    assert_eq!((counts.companies, counts.products, counts.consents), (2, 2, 2));
    verified(s).await;
}

fn header(order: &str, customer: &str, status: Option<OrderStatus>) -> OrderRow {
    OrderRow {
        order: id(order),
        customer: Some(id(customer)),
        placed_at: Some(ts("2024-05-01")),
        currency: None,
        status,
        line: None,
    }
}

/// Replacing an order: its lines become exactly the given ones, and the summary follows.
pub async fn order_replacement(s: &dyn Store) {
    seed(s).await;
    let o = IngestOptions::default();
    let lines = |o: &str, n: i64| -> OrderGroup {
        let rows =
            (0..n).map(|i| line_row(o, "c1", "2024-02-01 10:00", "z", 1, &format!("{}", i + 1)));
        OrderGroup { order: id(o), first_line_no: 1, rows: rows.collect() }
    };
    s.replace_order(lines("o1", 1), &o).await.unwrap();
    let Entity::Order(o1) = s.record(Kind::Orders, &id("o1")).await.unwrap() else { panic!() };
    assert_eq!((o1.lines.len(), o1.total), (1, Money::parse("1").unwrap()), "line 2 removed");
    verified(s).await;
    s.replace_order(lines("o1", 3), &o).await.unwrap();
    let Entity::Order(o1) = s.record(Kind::Orders, &id("o1")).await.unwrap() else { panic!() };
    assert_eq!((o1.lines.len(), o1.total), (3, Money::parse("6").unwrap()));
    verified(s).await;
    let cancel = OrderGroup {
        order: id("o1"),
        first_line_no: 1,
        rows: vec![header("o1", "c2", Some(OrderStatus::Cancelled))],
    };
    s.replace_order(cancel, &o).await.unwrap();
    let Entity::Order(o1) = s.record(Kind::Orders, &id("o1")).await.unwrap() else { panic!() };
    assert_eq!(
        (o1.lines.len(), o1.total, o1.order.status),
        (0, Money::ZERO, OrderStatus::Cancelled)
    );
    assert_eq!(o1.order.customer, id("c2"), "the order moved to another customer");
    assert_eq!(s.customer_summary(&id("c1")).await.unwrap().purchase_orders, 1);
    verified(s).await;
    let new =
        OrderGroup { order: id("o9"), first_line_no: 1, rows: vec![header("o9", "c3", None)] };
    s.replace_order(new, &o).await.unwrap();
    assert_eq!(s.customer_summary(&id("c3")).await.unwrap().purchase_orders, 1);
    let dry = IngestOptions { dry_run: true, ..IngestOptions::default() };
    let clear =
        OrderGroup { order: id("o2"), first_line_no: 1, rows: vec![header("o2", "c2", None)] };
    s.replace_order(clear, &dry).await.unwrap();
    let Entity::Order(o2) = s.record(Kind::Orders, &id("o2")).await.unwrap() else { panic!() };
    assert_eq!(o2.lines.len(), 1, "a dry run changes nothing");
    let split = OrderGroup { first_line_no: 2, ..lines("o2", 1) };
    assert!(matches!(s.replace_order(split, &o).await, Err(StoreError::Invalid(_))));
    verified(s).await;
}

/// Creates (`create_only`) leave a stored id alone, whatever the kind, and create nothing the
/// refused row names; of two creates of one id in a batch only the first is stored.
pub async fn create_only(s: &dyn Store) {
    seed(s).await;
    let o = IngestOptions { create_only: true, ..IngestOptions::default() };
    let exists = |out: Vec<RowOutcome>| {
        assert!(!out.is_empty() && out.iter().all(|r| *r == RowOutcome::Exists), "{out:?}");
    };
    let before = s.counts().await.unwrap();
    exists(s.upsert_companies(vec![company("acme", "x", "y")], &o).await.unwrap());
    exists(s.upsert_products(vec![product("a", "x")], &o).await.unwrap());
    let o1 = line_row("o1", "new1", "2024-06-01 10:00", "a", 1, "1");
    exists(s.ingest_orders(group(vec![o1]), &o).await.unwrap());
    exists(s.ingest_events(vec![event("e1", "new2", "x", "2024-06-01")], &o).await.unwrap());
    let i1 = interaction("i1", "new3", Channel::Call, Direction::Outbound, "2024-06-01");
    exists(s.ingest_interactions(vec![i1], &o).await.unwrap());
    exists(
        s.ingest_feedback(vec![feedback("f1", "new4", "x", 1, "2024-06-01")], &o).await.unwrap(),
    );
    let k1 = consent("k1", "new5", Purpose::Surveys, false, "2024-06-01");
    exists(s.ingest_consents(vec![k1], &o).await.unwrap());
    assert_eq!(s.counts().await.unwrap(), before, "nothing changed and no customer was created");
    let Entity::Event(e1) = s.record(Kind::Events, &id("e1")).await.unwrap() else { panic!() };
    assert_eq!((e1.name.as_str(), e1.customer), ("login", id("c1")));

    let twice =
        vec![event("e9", "c3", "first", "2024-06-01"), event("e9", "c3", "second", "2024-06-02")];
    let out = s.ingest_events(twice, &o).await.unwrap();
    assert_eq!(out, [RowOutcome::Inserted, RowOutcome::Exists]);
    let Entity::Event(e9) = s.record(Kind::Events, &id("e9")).await.unwrap() else { panic!() };
    assert_eq!(e9.name, "first");
    let twice = vec![
        feedback("f9", "c3", "a", 5, "2024-06-01"),
        feedback("f9", "c3", "b", 1, "2024-06-02"),
    ];
    let out = s.ingest_feedback(twice, &o).await.unwrap();
    assert_eq!(out, [RowOutcome::Inserted, RowOutcome::Exists]);
    let o9 = line_row("o9", "c3", "2024-06-01 10:00", "a", 1, "7");
    let again = OrderGroup { order: id("o9"), first_line_no: 1, rows: vec![o9.clone()] };
    let out = s.ingest_orders(vec![again.clone(), again], &o).await.unwrap();
    assert_eq!(out, [RowOutcome::Inserted, RowOutcome::Exists]);
    let out = s.upsert_products(vec![product("z", "x"), product("z", "y")], &o).await.unwrap();
    assert_eq!(out, [RowOutcome::Inserted, RowOutcome::Exists]);
    let after = s.counts().await.unwrap();
    assert_eq!(
        (after.events, after.feedback, after.orders),
        (before.events + 1, before.feedback + 1, before.orders + 1)
    );
    verified(s).await;
}

/// Full-text search of feedback text: every word must occur, in any case, accents kept;
/// words are runs of letters and digits on both backends; the index follows updates and
/// deletes; other filters combine with it.
pub async fn feedback_search(s: &dyn Store) {
    let o = IngestOptions::default();
    let said = |n: &str, who: &str, text: &str| FeedbackRow {
        text: Some(text.into()),
        ..feedback(n, who, "email", 5, "2024-03-01")
    };
    let rows = vec![
        said("f1", "c1", "The export to CSV is broken again"),
        said("f2", "c1", "Love the new export button!"),
        said("f3", "c2", "Entrega atrasada, produto não chegou"),
        said("f4", "c2", "e-mail reports arrive late"),
        FeedbackRow { text: None, ..feedback("f5", "c2", "nps", 9, "2024-03-02") },
    ];
    s.ingest_feedback(rows, &o).await.unwrap();
    let k = Kind::Feedback;
    let find = |q: &'static str| move |rq: &mut RecordQuery| rq.filters.push(filter(k, "q", q));
    assert_eq!(ids(s, k, find("EXPORT")).await, ["f1", "f2"]);
    assert_eq!(ids(s, k, find("export, broken")).await, ["f1"], "every word must occur");
    assert_eq!(ids(s, k, find("não")).await, ["f3"]);
    assert_eq!(ids(s, k, find("nao")).await, Vec::<String>::new(), "accents are kept");
    assert_eq!(ids(s, k, find("e-mail")).await, ["f4"]);
    assert_eq!(ids(s, k, find("mail")).await, ["f4"]);
    assert_eq!(ids(s, k, find("exp")).await, Vec::<String>::new(), "whole words");
    let c1_exports = |q: &mut RecordQuery| {
        q.customer = Some(id("c1"));
        q.filters.push(filter(k, "q", "export"));
        q.sort = RecordSort::Time;
        q.descending = true;
    };
    assert_eq!(ids(s, k, c1_exports).await, ["f2", "f1"], "same time: by id, descending");
    // A new text replaces the old one in the index; a deleted item leaves it.
    s.ingest_feedback(vec![said("f2", "c1", "Love the new dashboard")], &o).await.unwrap();
    assert_eq!(ids(s, k, find("export")).await, ["f1"]);
    assert_eq!(ids(s, k, find("dashboard")).await, ["f2"]);
    s.delete_record(k, &id("f1")).await.unwrap();
    assert_eq!(ids(s, k, find("export")).await, Vec::<String>::new());
    let err = RecordFilter::parse(k, "q", "!!! ...").unwrap_err();
    assert_eq!(err, "has no words to search for (letters or digits)");
}

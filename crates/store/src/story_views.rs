//! Stories for the server's read models and access control, run by every backend.

use crate::story::{group, id, line_row, ts};
use crate::{
    AccessStore, CustomerQuery, CustomerSort, IngestOptions, Store, StoreError, TimelineCursor,
    TimelineItem,
};
use rapport_core::access::{
    HookKind, Login, NewApiKey, NewUser, NewWebhookSource, Role, Scope, SourceName,
};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::*;

fn person(
    ext: &str,
    name: Option<&str>,
    email: Option<&str>,
    country: &str,
    signup: &str,
) -> Customer {
    let mut c = Customer::bare(id(ext));
    c.name = name.map(Into::into);
    c.email = email.map(|e| Email::parse(e).unwrap());
    c.country = Some(country.into());
    c.signup_at = Some(ts(signup));
    c
}

async fn seed(s: &dyn Store) {
    let o = IngestOptions::default();
    let mut ann =
        person("c1", Some("Ann Smith"), Some("ann.smith@example.com"), "DE", "2024-01-10");
    ann.company = Some(id("acme"));
    let bob = person("c2", Some("Bob Jones"), Some("bob@jones.org"), "FR", "2024-03-01");
    let zoe = person("c3", None, None, "DE", "2023-12-31");
    let eve = person("c4", Some("Ève Müller"), None, "AT", "2024-02-15");
    s.upsert_customers(vec![ann, bob, zoe, eve], &o).await.unwrap();
    let rows = vec![
        line_row("o1", "c1", "2024-02-01 10:00", "a", 2, "10"),
        line_row("o1", "c1", "2024-02-01 10:00", "b", 1, "5"),
        line_row("o2", "c2", "2024-03-05 12:00", "a", 1, "100"),
        line_row("o3", "c1", "2024-04-01 09:00", "c", 1, "1"),
    ];
    s.ingest_orders(group(rows), &o).await.unwrap();
    let event = |ext: &str, at: &str| Event {
        id: id(ext),
        customer: id("c1"),
        name: "login".into(),
        at: ts(at),
        properties: Default::default(),
    };
    s.ingest_events(vec![event("e1", "2024-02-01 10:00"), event("e2", "2024-03-01")], &o)
        .await
        .unwrap();
    let fb = FeedbackRow {
        id: id("f1"),
        customer: CustomerRef::Id(id("c1")),
        source: "email".into(),
        text: Some("Love it".into()),
        rating: Some(9),
        created_at: ts("2024-04-02"),
    };
    s.ingest_feedback(vec![fb], &o).await.unwrap();
    let consent = |ext: &str, p: Purpose, granted: bool, at: &str| Consent {
        id: id(ext),
        customer: id("c1"),
        purpose: p,
        granted,
        source: None,
        at: ts(at),
    };
    s.ingest_consents(
        vec![
            consent("k1", Purpose::Marketing, true, "2024-01-10"),
            consent("k2", Purpose::Marketing, false, "2024-03-10"),
            consent("k3", Purpose::Surveys, true, "2024-01-10"),
        ],
        &o,
    )
    .await
    .unwrap();
}

async fn ids(s: &dyn Store, q: CustomerQuery) -> Vec<String> {
    let page = s.customers(&q).await.unwrap();
    page.items.iter().map(|i| i.customer.id.as_str().to_string()).collect()
}

/// Every page of a sorted list, following cursors with the given page size.
async fn all_pages(
    s: &dyn Store,
    sort: CustomerSort,
    descending: bool,
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let q =
            CustomerQuery { sort, descending, after: after.clone(), limit, ..Default::default() };
        let page = s.customers(&q).await.unwrap();
        out.extend(page.items.iter().map(|i| i.customer.id.as_str().to_string()));
        match page.next {
            Some(n) => after = Some(n),
            None => return out,
        }
    }
}

/// The customers list: word-prefix search, filters, every sort in both directions, paging.
pub async fn customers_list(s: &dyn Store) {
    seed(s).await;
    let q = |search: &str| CustomerQuery {
        search: Some(search.into()),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(ids(s, q("ann")).await, ["c1"]);
    assert_eq!(ids(s, q("SMI")).await, ["c1"], "prefix, case-insensitive");
    assert_eq!(ids(s, q("ann smith")).await, ["c1"]);
    assert_eq!(ids(s, q("ann jones")).await, Vec::<String>::new(), "all words must match");
    assert_eq!(ids(s, q("jones.org")).await, ["c2"], "e-mail parts");
    assert_eq!(ids(s, q("c3")).await, ["c3"], "external id");
    assert_eq!(ids(s, q("eve")).await, ["c4"], "diacritics folded");
    assert_eq!(ids(s, q("\"* -:()")).await.len(), 4, "punctuation only: no filter, no error");
    assert_eq!(ids(s, q("or")).await, ["c2"], "query words are words, not operators");

    let de = CustomerQuery { country: Some("DE".into()), limit: 50, ..Default::default() };
    assert_eq!(ids(s, de).await, ["c1", "c3"]);
    let acme = CustomerQuery { company: Some(id("acme")), limit: 50, ..Default::default() };
    assert_eq!(ids(s, acme).await, ["c1"]);
    let q2024 = CustomerQuery {
        signup_from: Some(ts("2024-01-01")),
        signup_to: Some(ts("2024-03-01")),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(ids(s, q2024).await, ["c1", "c4"], "from inclusive, to exclusive");

    let expected: [(CustomerSort, [&str; 4]); 5] = [
        (CustomerSort::Id, ["c1", "c2", "c3", "c4"]),
        (CustomerSort::Name, ["c3", "c1", "c2", "c4"]),
        (CustomerSort::SignupAt, ["c3", "c1", "c4", "c2"]),
        (CustomerSort::LastPurchaseAt, ["c3", "c4", "c2", "c1"]),
        (CustomerSort::PurchaseValue, ["c3", "c4", "c1", "c2"]),
    ];
    for (sort, order) in expected {
        for limit in [1, 3, 10] {
            assert_eq!(all_pages(s, sort, false, limit).await, order, "{sort:?} by {limit}");
            let mut rev = order.to_vec();
            rev.reverse();
            assert_eq!(all_pages(s, sort, true, limit).await, rev, "{sort:?} desc by {limit}");
        }
    }
    let bad = CustomerQuery { after: Some("nonsense".into()), limit: 5, ..Default::default() };
    assert!(matches!(s.customers(&bad).await, Err(StoreError::Invalid(_))));
    let first = s.customers(&CustomerQuery { limit: 1, ..Default::default() }).await.unwrap();
    assert_eq!(first.items[0].summary.purchase_orders, 2, "rows carry their summary");
}

/// The 360 view, the merged timeline and its paging, and erasure.
pub async fn customer_view_timeline_erasure(s: &dyn Store) {
    seed(s).await;
    let v = s.customer(&id("c1")).await.unwrap();
    assert_eq!(v.customer.name.as_deref(), Some("Ann Smith"));
    assert_eq!(v.company.as_ref().map(|c| c.id.as_str()), Some("acme"));
    assert_eq!(v.summary.purchase_value, Money::parse("26").unwrap());
    assert!(!v.consents_to(Purpose::Marketing), "the later revocation is in force");
    assert!(v.consents_to(Purpose::Surveys));
    assert_eq!(v.consents.len(), 2, "one decision per purpose");
    assert!(matches!(s.customer(&id("nobody")).await, Err(StoreError::NotFound(_))));

    let all = s.timeline(&id("c1"), None, 100).await.unwrap();
    let kinds: Vec<_> = all.iter().map(|i| (i.kind(), i.id().as_str())).collect();
    assert_eq!(
        kinds,
        [
            ("feedback", "f1"),
            ("order", "o3"),
            ("consent", "k2"),
            ("event", "e2"),
            ("event", "e1"),
            ("order", "o1"),
            ("consent", "k1"),
            ("consent", "k3"),
        ],
        "newest first; equal times by kind, then id"
    );
    let TimelineItem::Order(o1) = &all[5] else { panic!("order expected") };
    assert_eq!((o1.total, o1.lines), (Money::parse("25").unwrap(), 2));
    for limit in 1..=3 {
        let mut paged = Vec::new();
        let mut after: Option<TimelineCursor> = None;
        loop {
            let page = s.timeline(&id("c1"), after.as_ref(), limit).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(TimelineCursor::parse(&TimelineCursor::of(last).encode()).unwrap());
            paged.extend(page);
        }
        assert_eq!(paged, all, "paging by {limit} sees every item once");
    }
    assert!(matches!(s.timeline(&id("nobody"), None, 5).await, Err(StoreError::NotFound(_))));

    let before = s.counts().await.unwrap();
    s.delete_customer(&id("c1")).await.unwrap();
    let after = s.counts().await.unwrap();
    assert_eq!(after.customers, before.customers - 1);
    assert_eq!((after.orders, after.events, after.feedback, after.consents), (1, 0, 0, 0));
    assert_eq!(after.purchase_value, after.summarised_purchase_value);
    assert!(matches!(s.customer(&id("c1")).await, Err(StoreError::NotFound(_))));
    assert!(matches!(s.delete_customer(&id("c1")).await, Err(StoreError::NotFound(_))));
    let q = CustomerQuery { search: Some("ann".into()), limit: 5, ..Default::default() };
    assert!(ids(s, q).await.is_empty(), "erased customers leave the search index");
    assert!(s.verify_summaries().await.unwrap().is_empty());
}

/// Users, sessions and API keys.
pub async fn access(s: &dyn AccessStore) {
    let new = |login: &str, role| NewUser {
        login: Login::parse(login).unwrap(),
        name: "Ann".into(),
        role,
        password_hash: format!("hash-of-{login}"),
    };
    let ann = s.create_user(new("ann@example.com", Role::Admin)).await.unwrap();
    assert!(matches!(
        s.create_user(new("ANN@example.com", Role::Viewer)).await,
        Err(StoreError::Conflict(_))
    ));
    s.create_user(new("bob@example.com", Role::Viewer)).await.unwrap();
    let users = s.users().await.unwrap();
    assert_eq!(
        users.iter().map(|u| u.login.as_str()).collect::<Vec<_>>(),
        ["ann@example.com", "bob@example.com"]
    );
    let (u, hash) = s.user_credentials(&ann.login).await.unwrap().unwrap();
    assert_eq!((u.id, u.role, hash.as_str()), (ann.id, Role::Admin, "hash-of-ann@example.com"));
    assert!(s.user_credentials(&Login::parse("x@y.z").unwrap()).await.unwrap().is_none());

    let now = ts("2030-01-01");
    s.create_session("d1", ann.id, "csrf1", ts("2030-01-02")).await.unwrap();
    s.create_session("d0", ann.id, "csrf0", ts("2029-12-31")).await.unwrap();
    let live = s.session("d1", now).await.unwrap().unwrap();
    assert_eq!((live.user.id, live.csrf.as_str()), (ann.id, "csrf1"));
    assert!(s.session("d0", now).await.unwrap().is_none(), "expired");
    s.delete_session("d1").await.unwrap();
    assert!(s.session("d1", now).await.unwrap().is_none(), "signed out");
    s.create_session("d2", ann.id, "csrf2", ts("2030-01-02")).await.unwrap();
    s.remove_user(&ann.login).await.unwrap();
    assert!(s.session("d2", now).await.unwrap().is_none(), "sessions end with the user");
    assert!(matches!(s.remove_user(&ann.login).await, Err(StoreError::NotFound(_))));

    let key = NewApiKey {
        name: "ci".into(),
        scope: Scope::Write,
        prefix: "pre1".into(),
        digest: "dig1".into(),
    };
    let k = s.create_api_key(key).await.unwrap();
    assert_eq!((k.scope, k.last_used_at, k.revoked_at), (Scope::Write, None, None));
    let (found, digest) = s.api_key_by_prefix("pre1").await.unwrap().unwrap();
    assert_eq!((found.id, digest.as_str()), (k.id, "dig1"));
    s.touch_api_key(k.id, ts("2030-01-01")).await.unwrap();
    s.revoke_api_key(k.id, ts("2030-01-02")).await.unwrap();
    s.revoke_api_key(k.id, ts("2030-01-03")).await.unwrap();
    let listed = s.api_keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(ts("2030-01-01")));
    assert_eq!(listed[0].revoked_at, Some(ts("2030-01-02")), "the first revocation stands");
    assert!(matches!(s.revoke_api_key(999, now).await, Err(StoreError::NotFound(_))));
    assert!(s.api_key_by_prefix("nope").await.unwrap().is_none());
}

/// Webhook sources: one live source per kind and name, secrets only for live ones, revocation.
pub async fn webhook_sources(s: &dyn AccessStore) {
    let name = |n: &str| SourceName::parse(n).unwrap();
    let new = |kind, n: &str, secret: &str| NewWebhookSource {
        kind,
        name: name(n),
        secret: secret.into(),
    };
    let tf = s.create_webhook_source(new(HookKind::Feedback, "typeform", "s1")).await.unwrap();
    assert_eq!((tf.kind, tf.name.as_str(), tf.revoked_at), (HookKind::Feedback, "typeform", None));
    assert!(matches!(
        s.create_webhook_source(new(HookKind::Feedback, "typeform", "s2")).await,
        Err(StoreError::Conflict(_))
    ));
    s.create_webhook_source(new(HookKind::Tickets, "typeform", "s3")).await.unwrap();
    let secret = |kind, n: &str| {
        let n = name(n);
        async move { s.webhook_secret(kind, &n).await.unwrap() }
    };
    assert_eq!(secret(HookKind::Feedback, "typeform").await.as_deref(), Some("s1"));
    assert_eq!(secret(HookKind::Tickets, "typeform").await.as_deref(), Some("s3"));
    assert_eq!(secret(HookKind::Feedback, "zendesk").await, None);

    let at = ts("2030-01-02");
    s.revoke_webhook_source(HookKind::Feedback, &name("typeform"), at).await.unwrap();
    s.revoke_webhook_source(HookKind::Feedback, &name("typeform"), ts("2030-01-03")).await.unwrap();
    assert_eq!(secret(HookKind::Feedback, "typeform").await, None, "revoked");
    assert!(matches!(
        s.revoke_webhook_source(HookKind::Feedback, &name("nobody"), at).await,
        Err(StoreError::NotFound(_))
    ));
    // The name is free again: a new secret for the same URL.
    s.create_webhook_source(new(HookKind::Feedback, "typeform", "s4")).await.unwrap();
    assert_eq!(secret(HookKind::Feedback, "typeform").await.as_deref(), Some("s4"));

    let listed = s.webhook_sources().await.unwrap();
    let rows: Vec<_> =
        listed.iter().map(|w| (w.kind.as_str(), w.name.as_str(), w.revoked_at)).collect();
    assert_eq!(
        rows,
        [
            ("feedback", "typeform", Some(at)),
            ("feedback", "typeform", None),
            ("tickets", "typeform", None)
        ],
        "by kind, name, then age; the first revocation stands"
    );

    // Notify URLs: set on the live source only, cleared with None.
    let url = Some("https://tf.example/notify");
    s.set_webhook_notify_url(HookKind::Feedback, &name("typeform"), url).await.unwrap();
    let urls = |l: Vec<rapport_core::access::WebhookSource>| -> Vec<Option<String>> {
        l.into_iter().map(|w| w.notify_url).collect()
    };
    let expected = [None, url.map(str::to_string), None];
    assert_eq!(urls(s.webhook_sources().await.unwrap()), expected);
    assert!(matches!(
        s.set_webhook_notify_url(HookKind::Feedback, &name("zendesk"), url).await,
        Err(StoreError::NotFound(_))
    ));
    s.set_webhook_notify_url(HookKind::Feedback, &name("typeform"), None).await.unwrap();
    assert_eq!(urls(s.webhook_sources().await.unwrap()), [None, None, None]);
}

/// Customers found by e-mail address, case-insensitively; the earliest of several.
pub async fn customer_by_email(s: &dyn Store) {
    seed(s).await;
    let found = |e: &'static str| async move { s.customer_by_email(e).await.unwrap() };
    assert_eq!(found("ann.smith@example.com").await, Some(id("c1")));
    assert_eq!(found("Ann.Smith@EXAMPLE.com").await, Some(id("c1")));
    assert_eq!(found("nobody@example.com").await, None);
    let twin = person("c9", None, Some("bob@jones.org"), "FR", "2024-05-01");
    s.upsert_customers(vec![twin], &IngestOptions::default()).await.unwrap();
    assert_eq!(found("bob@jones.org").await, Some(id("c2")), "the earliest stored");
}

//! Ideas over HTTP: create, link feedback, add a customer on their behalf, rank with an
//! explained score, status changes through the graph, the errors by field, top ideas per
//! segment, and the pages with their forms.

use super::{App, between, session_cookie, spawn_app};
use rapport_core::access::Role;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{Customer, ExternalId, value::parse_timestamp};
use rapport_store::IngestOptions;
use rapport_store::story::{group, line_row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

async fn company(app: &App) {
    let o = IngestOptions::default();
    let mut ann = Customer::bare(id("ann"));
    ann.name = Some("Ann".into());
    app.db.upsert_customers(vec![ann, Customer::bare(id("bob"))], &o).await.unwrap();
    let orders = vec![
        line_row("idea-o1", "ann", "2026-01-05", "sku", 3, "100"),
        line_row("idea-o2", "bob", "2026-01-06", "sku", 1, "3"),
    ];
    app.db.ingest_orders(group(orders), &o).await.unwrap();
    let item = |fid: &str, who: &str, text: &str| FeedbackRow {
        id: id(fid),
        customer: CustomerRef::Id(id(who)),
        source: "email".into(),
        text: Some(text.into()),
        rating: None,
        created_at: parse_timestamp("2026-02-01", None).unwrap(),
    };
    let rows = vec![
        item("idea-f1", "ann", "We badly need SSO, this is a blocker"),
        item("idea-f2", "bob", "Dark mode please"),
    ];
    app.db.ingest_feedback(rows, &o).await.unwrap();
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ideas_are_created_linked_ranked_and_moved_through_their_statuses() {
    created_linked_ranked_and_moved(&spawn_app().await).await;
}

/// Also run on PostgreSQL by `the_same_api_story_on_postgresql`.
pub async fn created_linked_ranked_and_moved(app: &App) {
    company(app).await;
    let key = app.key("write").await;
    let key = &key;
    let post = |path: &str, body: Value| {
        let path = path.to_string();
        async move { app.call(key, Method::POST, &path, Some(body)).await }
    };
    let spec = json!({"title": "SSO", "reach": 300, "impact": 2, "confidence": 50, "effort": 3});
    let (s, sso) = post("/api/v1/ideas", spec).await;
    assert_eq!(s, 201, "{sso}");
    assert_eq!((sso["status"].as_str(), sso["rice_score"].as_f64()), (Some("new"), Some(100.0)));
    assert_eq!(
        (sso["rice"]["impact"].as_f64(), sso["rice"]["confidence"].as_i64()),
        (Some(2.0), Some(50))
    );
    let sso_id = sso["id"].as_i64().unwrap();
    let (s, dark) = post("/api/v1/ideas", json!({"title": "Dark mode"})).await;
    assert_eq!(s, 201, "{dark}");
    let dark_id = dark["id"].as_i64().unwrap();

    // Errors name their field.
    let (s, e) = post("/api/v1/ideas", json!({"title": "x", "impact": 5})).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("impact")), "{e}");
    let (s, e) = post("/api/v1/ideas", json!({"titel": "x"})).await;
    assert_eq!(s, 422, "{e}");
    let (s, e) = app.call(key, Method::GET, "/api/v1/ideas/abc", None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")), "{e}");
    let (s, _) = app.call(key, Method::GET, "/api/v1/ideas/999999", None).await;
    assert_eq!(s, 404);

    // Evidence and requesters: Ann through feedback, Bob on his behalf.
    let path = format!("/api/v1/ideas/{sso_id}");
    let (s, b) = post(&format!("{path}/feedback"), json!({"feedback": "idea-f1"})).await;
    assert_eq!(
        (s, b["evidence"][0]["feedback"].as_str()),
        (StatusCode::CREATED, Some("idea-f1")),
        "{b}"
    );
    let (s, _) = post(&format!("{path}/feedback"), json!({"feedback": "idea-f1"})).await;
    assert_eq!(s, 200, "linking twice is once");
    let (s, e) = post(&format!("{path}/feedback"), json!({"feedback": "nope"})).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let body = json!({"customer": "bob", "note": "asked on the phone"});
    let (s, b) = post(&format!("{path}/requesters"), body).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["requesters"].as_array().unwrap().len(), 2);
    assert_eq!(b["requesters"][1]["note"], "asked on the phone");
    assert!(b["requesters"][1]["added_by"].as_str().unwrap().starts_with("key:"));
    post(&format!("/api/v1/ideas/{dark_id}/feedback"), json!({"feedback": "idea-f2"})).await;

    // Ranked: SSO (Ann is worth more, and Bob asked too) above dark mode, each explained.
    let (s, list) = app.call(key, Method::GET, "/api/v1/ideas", None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(ids(&list), [sso_id, dark_id]);
    let top = &list[0];
    assert_eq!((top["rank"].as_i64(), top["priority"]["customers"].as_i64()), (Some(1), Some(2)));
    assert_eq!(
        (top["requester_count"].as_i64(), top["evidence_count"].as_i64()),
        (Some(2), Some(1))
    );
    let first = top["priority"]["components"][0]["explanation"].as_str().unwrap();
    assert!(first.starts_with("2 distinct customers asked, worth 303 in revenue"), "{first}");
    assert!(top["score"].as_f64().unwrap() > list[1]["score"].as_f64().unwrap(), "{list}");

    // Status: through the graph only, with the field named when refused.
    let patch = |body: Value| app.call(key, Method::PATCH, &path, Some(body));
    let (s, e) = patch(json!({"status": "shipped"})).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")), "{e}");
    assert!(e["detail"].as_str().unwrap().contains("it can move to: planned, declined"));
    let (s, b) = patch(json!({"status": "planned", "effort": 6})).await;
    assert_eq!(
        (s, b["status"].as_str(), b["rice_score"].as_f64()),
        (StatusCode::OK, Some("planned"), Some(50.0)),
        "{b}"
    );
    assert_eq!(b["history"][0]["to"], "planned");
    let (s, e) = patch(json!({"confidence": 150})).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("confidence")));
    let (s, list) = app.call(key, Method::GET, "/api/v1/ideas?status=planned", None).await;
    assert_eq!((s, ids(&list)), (StatusCode::OK, vec![sso_id]));
    let (s, e) = app.call(key, Method::GET, "/api/v1/ideas?status=done", None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("status")));
    let (s, e) = app.call(key, Method::GET, "/api/v1/ideas?segment_weights=vips=2", None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("segment_weights")));

    // Top ideas per segment: every listed idea asked for by someone in that segment.
    let (s, segs) = app.call(key, Method::GET, "/api/v1/ideas/segments?top=3", None).await;
    assert_eq!(s, 200, "{segs}");
    let counted: i64 =
        segs.as_array().unwrap().iter().map(|g| g["customers"].as_i64().unwrap()).sum();
    assert_eq!(counted, 2, "{segs}");

    // Unlink and remove; then the idea has nobody behind it.
    let (s, _) = app.call(key, Method::DELETE, &format!("{path}/feedback/idea-f1"), None).await;
    assert_eq!(s, 204);
    let (s, _) = app.call(key, Method::DELETE, &format!("{path}/requesters/bob"), None).await;
    assert_eq!(s, 204);
    let (s, _) = app.call(key, Method::DELETE, &format!("{path}/requesters/bob"), None).await;
    assert_eq!(s, 404);
    let (_, b) = app.call(key, Method::GET, &path, None).await;
    assert_eq!((b["requesters"].as_array().unwrap().len(), b["score"].as_f64()), (0, Some(0.0)));
    // Regression: flattened records once wrote `rice`, `evidence` and `requesters` twice.
    let raw = app.http.get(app.url(&path)).bearer_auth(key).send().await.unwrap();
    let raw = raw.text().await.unwrap();
    for k in ["\"requesters\":", "\"evidence\":", "\"rice\":", "\"score\":"] {
        assert_eq!(raw.matches(k).count(), if k.contains("score") { 2 } else { 1 }, "{k} in {raw}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_board_and_idea_pages_change_status_and_link_through_forms() {
    let app = spawn_app().await;
    company(&app).await;
    app.user("pm@example.com", Role::Member).await;
    let cookie = session_cookie(&app.sign_in("pm@example.com", "a long password").await);
    let get = |path: &str| app.http.get(app.url(path)).header("cookie", &cookie).send();
    let board = get("/ideas").await.unwrap().text().await.unwrap();
    let csrf = between(&board, "name=\"csrf\" value=\"", "\"");
    let form = |path: &str, fields: Vec<(&str, &str)>| {
        let mut f = fields;
        f.push(("csrf", &csrf));
        app.http.post(app.url(path)).header("cookie", &cookie).form(&f).send()
    };
    let res = form(
        "/ideas",
        vec![("title", "Bulk edit"), ("kind", "improve"), ("events", "bulk_edit"), ("impact", "3")],
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 303);
    let at = res.headers()["location"].to_str().unwrap().to_string();
    let res = form("/ideas", vec![("title", "x"), ("confidence", "lots")]).await.unwrap();
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("confidence: &#39;lots&#39; is not a number"));

    assert_eq!(
        form(&format!("{at}/feedback"), vec![("feedback", "idea-f1")]).await.unwrap().status(),
        303
    );
    let res = form(&format!("{at}/requesters"), vec![("customer", "bob"), ("note", "at the fair")])
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let res = form(&format!("{at}/status"), vec![("status", "shipped")]).await.unwrap();
    assert_eq!(res.status(), 422, "not allowed from new");
    assert_eq!(
        form(&format!("{at}/status"), vec![("status", "planned")]).await.unwrap().status(),
        303
    );
    let bad = form(&format!("{at}/status"), vec![("status", "planned")]);
    let forged = app
        .http
        .post(app.url(&format!("{at}/status")))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged"), ("status", "new")]);
    assert_eq!(forged.send().await.unwrap().status(), 403);
    assert_eq!(bad.await.unwrap().status(), 422);

    let page = get(&at).await.unwrap().text().await.unwrap();
    for expected in [
        "Bulk edit",
        "Planned",
        "We badly need SSO",
        "href=\"/customers/ann\"",
        "at the fair",
        "Why this score",
        "distinct customers asked",
    ] {
        assert!(page.contains(expected), "{expected} missing from {page}");
    }
    let board = get("/ideas").await.unwrap().text().await.unwrap();
    assert!(board.contains("Bulk edit") && board.contains("In progress"), "{board}");
    let segs = get("/ideas/segments").await.unwrap();
    assert_eq!(segs.status(), 200);
}

/// Shipping an idea tells each requester whose latest product-updates consent is a grant, by
/// e-mail through the outbox, once; the others are listed with the reason.
#[tokio::test(flavor = "multi_thread")]
async fn shipping_an_idea_queues_one_message_per_consenting_requester() {
    use rapport_core::{Consent, Email, Purpose};
    use rapport_store::OutboxQuery;
    let app = spawn_app().await;
    let o = IngestOptions::default();
    let person = |c: &str, email: Option<&str>| {
        let mut p = Customer::bare(id(c));
        p.name = Some(c.to_uppercase());
        p.email = email.map(|e| Email::parse(e).unwrap());
        p
    };
    let people = vec![
        person("carl", Some("carl@example.com")),
        person("dora", Some("dora@example.com")),
        person("eve", None),
        person("fred", Some("fred@example.com")),
    ];
    app.db.upsert_customers(people, &o).await.unwrap();
    let at = |s: &str| parse_timestamp(s, None).unwrap();
    let consent = |n: &str, c: &str, granted: bool, when: &str| Consent {
        id: id(n),
        customer: id(c),
        purpose: Purpose::ProductUpdates,
        granted,
        source: None,
        at: at(when),
    };
    let consents = vec![
        consent("k1", "carl", true, "2026-01-01"),
        consent("k2", "dora", true, "2026-01-01"),
        consent("k3", "dora", false, "2026-02-01"),
        consent("k4", "eve", true, "2026-01-01"),
    ];
    app.db.ingest_consents(consents, &o).await.unwrap();
    let rows = ["carl", "dora", "eve", "fred"]
        .iter()
        .map(|c| FeedbackRow {
            id: id(&format!("ship-{c}")),
            customer: CustomerRef::Id(id(c)),
            source: "email".into(),
            text: Some(format!("{c} wants CSV export")),
            rating: None,
            created_at: at("2026-03-01"),
        })
        .collect();
    app.db.ingest_feedback(rows, &o).await.unwrap();
    let key = app.key("write").await;
    let (s, idea) =
        app.call(&key, Method::POST, "/api/v1/ideas", Some(json!({"title": "CSV export"}))).await;
    assert_eq!(s, 201, "{idea}");
    let path = format!("/api/v1/ideas/{}", idea["id"]);
    for c in ["carl", "dora", "eve", "fred"] {
        let body = json!({"feedback": format!("ship-{c}")});
        let (s, b) = app.call(&key, Method::POST, &format!("{path}/feedback"), Some(body)).await;
        assert_eq!(s, 201, "{b}");
    }
    let topic = format!("idea:{}", idea["id"]);
    let queued = || async {
        let q = OutboxQuery { topic: Some(topic.clone()), ..Default::default() };
        app.db.outbox_messages(&q).await.unwrap()
    };
    for status in ["planned", "in_progress"] {
        let (s, b) = app.call(&key, Method::PATCH, &path, Some(json!({"status": status}))).await;
        assert_eq!(s, 200, "{b}");
    }
    assert!(queued().await.is_empty(), "nobody is told before it ships");
    let (s, b) = app.call(&key, Method::PATCH, &path, Some(json!({"status": "shipped"}))).await;
    assert_eq!(s, 200, "{b}");
    let messages = queued().await;
    let to: Vec<&str> = messages.iter().map(|m| m.recipient.as_str()).collect();
    assert_eq!(to, ["carl@example.com"], "only Carl consented and has an address");
    assert!(messages[0].subject.contains("CSV export"), "{}", messages[0].subject);

    // Announcing again queues nothing: the dedupe key is per idea and customer.
    let idea_id = idea["id"].as_i64().unwrap();
    let again =
        rapport_server::outbox::announce::shipped(app.db.as_ref(), idea_id, at("2026-04-01"))
            .await
            .unwrap();
    assert_eq!((again.queued, again.already), (0, 1));
    let mut why: Vec<String> =
        again.not_notified.iter().map(|n| format!("{}: {}", n.customer, n.reason)).collect();
    why.sort();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why[0].starts_with("dora: ") && why[0].contains("2026-02-01"), "{why:?}");
    assert!(why[1].starts_with("eve: ") && why[2].starts_with("fred: "), "{why:?}");
}

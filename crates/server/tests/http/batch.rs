//! Bulk ingest: `POST /api/v1/{events,orders,feedback}:batch`.

use super::{App, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

impl App {
    /// Posts a batch and checks the report adds up; returns it.
    pub(super) async fn batch(&self, key: &str, kind: &str, items: Value) -> Value {
        let path = format!("/api/v1/{kind}:batch");
        let (status, report) =
            self.call(key, Method::POST, &path, Some(json!({"items": items}))).await;
        assert_eq!(status, 200, "{kind}: {report}");
        let n = |k: &str| report[k].as_u64().unwrap_or_else(|| panic!("{k} in {report}"));
        assert_eq!(n("read"), items.as_array().unwrap().len() as u64, "{report}");
        assert_eq!(
            n("read"),
            n("inserted") + n("updated") + n("unchanged") + n("rejected"),
            "totals reconcile: {report}"
        );
        assert_eq!(n("rejected"), report["errors"].as_array().unwrap().len() as u64, "{report}");
        report
    }
}

/// (inserted, updated, unchanged, rejected)
fn counts(r: &Value) -> [u64; 4] {
    ["inserted", "updated", "unchanged", "rejected"].map(|k| r[k].as_u64().unwrap())
}

/// The rejected items as (index, field).
fn errors(r: &Value) -> Vec<(u64, String)> {
    r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(e["reason"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
            (e["index"].as_u64().unwrap(), e["field"].as_str().unwrap().to_string())
        })
        .collect()
}

#[tokio::test]
async fn events_batch_stores_good_items_reports_bad_ones_and_is_idempotent() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let items = json!([
        {"id": "e1", "customer": "c1", "name": "signed_in", "at": "2024-03-01T10:00:00Z"},
        {"customer": "c1", "name": "viewed", "at": "2024-03-02", "properties": {"page": "/pricing", "n": 2}},
        {"customer": "c1", "at": "2024-03-03"},
        {"customer": "c1", "name": "viewed", "at": "last tuesday"},
        {"customer": "c2", "name": "signed_up", "at": "2024-03-04T08:30:00+02:00"},
    ]);
    let first = app.batch(&key, "events", items.clone()).await;
    assert_eq!(counts(&first), [3, 0, 0, 2], "{first}");
    assert_eq!(errors(&first), [(2, "name".into()), (3, "at".into())]);

    // The same batch again: items without an id get the same derived id, so nothing is new.
    let again = app.batch(&key, "events", items).await;
    assert_eq!(counts(&again), [0, 0, 3, 2], "{again}");

    let (_, tl) = app.call(&key, Method::GET, "/api/v1/customers/c1/timeline", None).await;
    let events: Vec<_> =
        tl["items"].as_array().unwrap().iter().filter(|i| i["type"] == "event").collect();
    assert_eq!(events.len(), 2, "{tl}");
    assert_eq!(events[0]["properties"], json!({"page": "/pricing", "n": 2}));
    let (s, c2) = app.call(&key, Method::GET, "/api/v1/customers/c2", None).await;
    assert_eq!((s, c2["summary"]["events"].as_i64()), (StatusCode::OK, Some(1)), "{c2}");

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"rapport_ingested_rows_total{kind="events",outcome="inserted"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn orders_batch_groups_lines_like_the_importer_and_is_idempotent() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let items = json!([
        {"order": "A1", "customer": "c1", "placed_at": "2024-05-01", "sku": "tea", "quantity": 2, "unit_price": "5.00", "currency": "EUR"},
        {"order": "A1", "sku": "mug", "amount": 3.5},
        {"order": "A2", "customer": "c1", "placed_at": "2024-05-02", "sku": "tea", "unit_price": "abc"},
        {"order": "A3", "sku": "tea", "unit_price": "1"},
        {"customer": "c2", "placed_at": "2024-05-03T12:00:00Z", "amount": "9.99"},
        {"order": "A1", "sku": "spoon", "quantity": 1, "unit_price": "0.25"},
    ]);
    let first = app.batch(&key, "orders", items.clone()).await;
    assert_eq!(counts(&first), [4, 0, 0, 2], "{first}");
    // Index 2 fails to parse; index 3 parses but names a new order without its customer.
    assert_eq!(errors(&first), [(2, "unit_price".into()), (3, "customer".into())]);

    let (_, c1) = app.call(&key, Method::GET, "/api/v1/customers/c1", None).await;
    assert_eq!(c1["summary"]["orders"], 1, "{c1}");
    assert_eq!(c1["summary"]["purchase_value"], "13.75", "three lines of A1: {c1}");
    let (_, tl) = app.call(&key, Method::GET, "/api/v1/customers/c1/timeline", None).await;
    let a1 = &tl["items"][0];
    assert_eq!((a1["id"].as_str(), a1["lines"].as_i64()), (Some("A1"), Some(3)), "{tl}");
    assert_eq!(a1["currency"], "EUR");

    // Re-posting maps every line onto itself (A1's third line keeps its position).
    let again = app.batch(&key, "orders", items).await;
    assert_eq!(counts(&again), [0, 0, 4, 2], "{again}");
    let (_, c1) = app.call(&key, Method::GET, "/api/v1/customers/c1", None).await;
    assert_eq!(c1["summary"]["purchase_value"], "13.75", "{c1}");
    let (_, c2) = app.call(&key, Method::GET, "/api/v1/customers/c2", None).await;
    assert_eq!(c2["summary"]["purchase_value"], "9.99", "{c2}");

    let changed = app
        .batch(
            &key,
            "orders",
            json!([{"order": "A1", "customer": "c1", "placed_at": "2024-05-01",
            "sku": "tea", "quantity": 3, "unit_price": "5.00", "currency": "EUR"}]),
        )
        .await;
    assert_eq!(counts(&changed), [0, 1, 0, 0], "{changed}");
}

#[tokio::test]
async fn feedback_batch_creates_unknown_customers_and_reports_bad_items() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let items = json!([
        {"customer": "newbie", "text": "Lovely service", "rating": 9, "created_at": "2024-06-01", "source": "nps"},
        {"customer": "newbie", "rating": 11, "created_at": "2024-06-02"},
        {"customer": "newbie", "created_at": "2024-06-03"},
        {"order": "no-such-order", "rating": 3, "created_at": "2024-06-04"},
        {"id": "f-9", "customer": "other", "text": "Slow delivery", "created_at": "2024-06-05T09:00:00Z"},
    ]);
    let first = app.batch(&key, "feedback", items.clone()).await;
    assert_eq!(counts(&first), [2, 0, 0, 3], "{first}");
    assert_eq!(errors(&first), [(1, "rating".into()), (2, "text".into()), (3, "order".into())]);
    let (s, newbie) = app.call(&key, Method::GET, "/api/v1/customers/newbie", None).await;
    assert_eq!(s, 200, "the unknown customer was created: {newbie}");
    assert_eq!(newbie["summary"]["feedback"], 1);
    let (_, tl) = app.call(&key, Method::GET, "/api/v1/customers/other/timeline", None).await;
    assert_eq!(
        (tl["items"][0]["id"].as_str(), tl["items"][0]["source"].as_str()),
        (Some("f-9"), Some("api"))
    );

    let again = app.batch(&key, "feedback", items).await;
    assert_eq!(counts(&again), [0, 0, 2, 3], "{again}");
}

#[tokio::test]
async fn malformed_or_wrongly_typed_batches_get_a_4xx_problem() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let item = json!({"order": "A", "customer": "c", "placed_at": "2024-01-01", "amount": "1"});
    // (path, body, field named in the problem)
    let cases = [
        (
            "orders",
            json!({"items": [item, {"order": "B", "quantity": "abc"}]}),
            "items[1].quantity",
        ),
        ("orders", json!({"items": [{"order": "B", "amount": true}]}), "items[0].amount"),
        ("orders", json!({"items": [{"order": "B", "colour": "red"}]}), "items[0]"),
        (
            "events",
            json!({"items": [{"customer": "c", "properties": "x=1"}]}),
            "items[0].properties",
        ),
        ("events", json!({"items": [{"customer": 7}]}), "items[0].customer"),
        ("feedback", json!({"items": [{"customer": "c", "rating": "five"}]}), "items[0].rating"),
        ("feedback", json!({"items": {"customer": "c"}}), "items"),
        ("feedback", json!({"rows": []}), ""),
        ("events", json!([]), ""),
    ];
    for (kind, body, field) in cases {
        let path = format!("/api/v1/{kind}:batch");
        let (s, b) = app.call(&key, Method::POST, &path, Some(body.clone())).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")),
            "{body} -> {b}"
        );
        assert!(b["field"].as_str().unwrap_or("").starts_with(field), "{body} -> {b}");
    }
    let res = app
        .http
        .post(app.url("/api/v1/events:batch"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"items\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    let too_many = vec![json!({}); 10_001];
    let (s, b) = app
        .call(&key, Method::POST, "/api/v1/events:batch", Some(json!({"items": too_many})))
        .await;
    assert_eq!(
        (s, b["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("too_many_items")),
        "{b}"
    );
    let empty = app.batch(&key, "events", json!([])).await;
    assert_eq!(counts(&empty), [0, 0, 0, 0]);

    let doc = serde_json::to_value(rapport_server::api::openapi()).unwrap();
    for kind in ["events", "orders", "feedback"] {
        let op = &doc["paths"][format!("/api/v1/{kind}:batch")]["post"];
        assert!(op["requestBody"].is_object() && op["tags"][0] == "ingest", "{kind}: {op}");
    }

    // A read key is refused before the body is looked at (the generic walk in http.rs sends
    // every write operation a customer body).
    let read = app.key("read").await;
    let (s, b) =
        app.call(&read, Method::POST, "/api/v1/orders:batch", Some(json!({"items": [item]}))).await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
}

//! Personas over HTTP: create from a filter (generated at once, quoting members' own words),
//! rename and annotate, regenerate (the name and notes stay), the errors by field, read-only
//! keys, deletion, and the OpenAPI document; personas from a saved segment and from a k-means
//! cluster; an erased customer's quote leaving the persona.

use super::{App, spawn_app, start_with};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{Customer, ExternalId, value::parse_timestamp};
use rapport_server::Settings;
use rapport_store::IngestOptions;
use rapport_store::story::{group, line_row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// Ann and Ada in Germany (who complain), Bob in France (who is pleased).
async fn company(app: &App) {
    let o = IngestOptions::default();
    let person = |cid: &str, country: &str| {
        let mut c = Customer::bare(id(cid));
        c.country = Some(country.into());
        c
    };
    let people = vec![person("ann", "DE"), person("ada", "DE"), person("bob", "FR")];
    app.db.upsert_customers(people, &o).await.unwrap();
    let orders = vec![
        line_row("p-o1", "ann", "2026-01-05", "sku", 3, "100"),
        line_row("p-o2", "bob", "2026-01-06", "sku", 1, "50"),
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
        item("p-f1", "ann", "The delivery was terribly late and the box was broken"),
        item("p-f2", "bob", "Wonderful service, I love it"),
    ];
    app.db.ingest_feedback(rows, &o).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn personas_are_generated_edited_regenerated_and_deleted() {
    let app = spawn_app().await;
    company(&app).await;
    let key = app.key("write").await;
    let call = |m: Method, path: &str, body: Option<Value>| {
        let (key, path) = (key.clone(), path.to_string());
        let app = &app;
        async move { app.call(&key, m, &path, body).await }
    };

    let (s, p) =
        call(Method::POST, "/api/v1/personas", Some(json!({"source": "country = \"DE\""}))).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let pid = p["id"].as_i64().unwrap();
    let profile = &p["profile"];
    assert_eq!((profile["size"].as_i64(), profile["population"].as_i64()), (Some(2), Some(3)));
    // Ann bought 300 of the 350 sold.
    assert!((profile["share_revenue"].as_f64().unwrap() - 300.0 / 350.0).abs() < 1e-9, "{profile}");
    let feels = &profile["empathy"]["feels"][0];
    assert_eq!(feels["text"], "Frustrated", "{feels}");
    assert_eq!(feels["quote"], "The delivery was terribly late and the box was broken");
    assert!(!p.to_string().contains("Wonderful"), "no quote from outside the persona");
    assert_eq!(p["name_edited"], false);
    assert_eq!(p["name"], profile["suggested_name"]);
    assert!(p["avatar"]["initials"].as_str().is_some_and(|i| !i.is_empty()), "{p}");

    let path = format!("/api/v1/personas/{pid}");
    let body = json!({"name": "German complainers", "notes": "Call before renewal."});
    let (s, p) = call(Method::PATCH, &path, Some(body)).await;
    assert_eq!((s, p["name"].as_str()), (StatusCode::OK, Some("German complainers")), "{p}");
    let (s, p) = call(Method::POST, &format!("{path}/regenerate"), None).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    assert_eq!(
        (p["name"].as_str(), p["notes"].as_str()),
        (Some("German complainers"), Some("Call before renewal."))
    );
    let (s, list) = call(Method::GET, "/api/v1/personas", None).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{list}");

    // Errors name their field.
    let (s, e) =
        call(Method::POST, "/api/v1/personas", Some(json!({"source": "contry = \"DE\""}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("source")), "{e}");
    assert!(e.to_string().contains("country"), "the filter error suggests the field: {e}");
    let (s, e) = call(
        Method::POST,
        "/api/v1/personas",
        Some(json!({"source": "orders > 1", "kind": "magic"})),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("source")), "{e}");
    let (s, e) = call(Method::POST, "/api/v1/personas", Some(json!({"sauce": "x"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    let (s, e) = call(Method::GET, "/api/v1/personas/abc", None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("id")), "{e}");
    let (s, _) = call(Method::GET, "/api/v1/personas/99999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A read key reads, never writes.
    let read = app.key("read").await;
    let (s, _) = app.call(&read, Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = app.call(&read, Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let (s, _) = call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(Method::GET, &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (_, doc) = call(Method::GET, "/api/openapi.json", None).await;
    for p in ["/api/v1/personas", "/api/v1/personas/{id}", "/api/v1/personas/{id}/regenerate"] {
        assert!(doc["paths"][p].is_object(), "{p} is documented");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn personas_come_from_saved_segments_and_clusters() {
    let app = spawn_app().await;
    company(&app).await;
    let key = app.key("write").await;
    let call = |m: Method, path: &str, body: Option<Value>| {
        let (key, path) = (key.clone(), path.to_string());
        let app = &app;
        async move { app.call(&key, m, &path, body).await }
    };
    let body = json!({"name": "Germans", "expression": "country = \"DE\""});
    let (s, seg) = call(Method::POST, "/api/v1/segments", Some(body)).await;
    assert_eq!((s, seg["slug"].as_str()), (StatusCode::CREATED, Some("germans")), "{seg}");

    let body = json!({"kind": "segment", "source": "germans"});
    let (s, p) = call(Method::POST, "/api/v1/personas", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        (p["source_kind"].as_str(), p["profile"]["size"].as_i64()),
        (Some("segment"), Some(2))
    );
    // The persona follows the segment's filter as it is now.
    let body = json!({"expression": "country = \"FR\""});
    let (s, _) = call(Method::PATCH, "/api/v1/segments/germans", Some(body)).await;
    assert_eq!(s, StatusCode::OK);
    let (_, p) =
        call(Method::POST, &format!("/api/v1/personas/{}/regenerate", p["id"]), None).await;
    assert_eq!(p["profile"]["size"].as_i64(), Some(1), "{p}");
    let body = json!({"kind": "segment", "source": "nobody-here"});
    let (s, e) = call(Method::POST, "/api/v1/personas", Some(body)).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("source")), "{e}");
    assert!(e.to_string().contains("no saved segment 'nobody-here'"), "{e}");

    // Two buyers, two clusters of one each; the non-buyer is in neither.
    let body = json!({"kind": "cluster", "source": "features=rfm k=2 cluster=1"});
    let (s, p) = call(Method::POST, "/api/v1/personas", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        (p["profile"]["size"].as_i64(), p["profile"]["population"].as_i64()),
        (Some(1), Some(3))
    );
    let body = json!({"kind": "cluster", "source": "k=2 cluster=2"});
    let (s, e) = call(Method::POST, "/api/v1/personas", Some(body)).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("source")), "{e}");
    assert!(e.to_string().contains("numbered 0 to 1"), "{e}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_customers_quote_leaves_the_persona() {
    let dir = tempfile::tempdir().unwrap();
    let db = rapport_store_sqlite::SqliteStore::open(dir.path().join("t.db")).unwrap();
    let settings =
        Settings { analysis_every: Some(Duration::from_millis(200)), ..Settings::default() };
    let app = start_with(Arc::new(db), Some(dir), settings).await;
    company(&app).await;
    let key = app.key("write").await;
    let quote = "The delivery was terribly late and the box was broken";
    let body = json!({"source": "country = \"DE\""});
    let (s, p) = app.call(&key, Method::POST, "/api/v1/personas", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert!(p.to_string().contains(quote), "{p}");

    let (s, _) = app.call(&key, Method::DELETE, "/api/v1/customers/ann", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // The background job regenerates the personas at its next tick.
    let path = format!("/api/v1/personas/{}", p["id"]);
    let start = Instant::now();
    loop {
        let (_, p) = app.call(&key, Method::GET, &path, None).await;
        if !p.to_string().contains(quote) {
            assert_eq!(p["profile"]["size"].as_i64(), Some(1), "only Ada is left: {p}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "the quote stayed: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

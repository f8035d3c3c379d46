//! Saved segments over HTTP: the preview count and its errors, create (members materialised
//! at once), members paged, a refresh after new data with the difference recorded, edit,
//! delete, the errors by field, and the pages.

use super::{App, between, session_cookie, spawn_app};
use rapport_core::access::Role;
use rapport_core::{Customer, ExternalId};
use rapport_store::IngestOptions;
use rapport_store::story::{group, line_row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// Three customers in Germany, one in France; Ann and Bob bought.
async fn company(app: &App) {
    let o = IngestOptions::default();
    let customer = |c: &str, name: &str, country: &str| {
        let mut cu = Customer::bare(id(c));
        cu.name = Some(name.into());
        cu.country = Some(country.into());
        cu
    };
    let rows = vec![
        customer("seg-ann", "Ann", "DE"),
        customer("seg-bob", "Bob", "DE"),
        customer("seg-cy", "Cy", "DE"),
        customer("seg-dee", "Dee", "FR"),
    ];
    app.db.upsert_customers(rows, &o).await.unwrap();
    let orders = vec![
        line_row("seg-o1", "seg-ann", "2026-01-05", "sku", 3, "100"),
        line_row("seg-o2", "seg-bob", "2026-01-06", "sku", 1, "30"),
    ];
    app.db.ingest_orders(group(orders), &o).await.unwrap();
}

fn names(v: &Value) -> Vec<String> {
    let items = v["items"].as_array().or(v["sample"].as_array()).unwrap();
    items.iter().map(|m| m["name"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn segments_are_previewed_saved_refreshed_and_deleted() {
    saved_segments_story(&spawn_app().await).await;
}

/// Also run on PostgreSQL by `the_same_api_story_on_postgresql`.
pub async fn saved_segments_story(app: &App) {
    company(app).await;
    let key = app.key("write").await;
    let key = &key;
    let get = |path: String| async move { app.call(key, Method::GET, &path, None).await };
    let preview = |expr: &str| {
        let path = format!("/api/v1/segments/preview?expression={}", urlencode(expr));
        get(path)
    };

    // The preview counts, samples and explains its errors with the position and a caret.
    let (s, p) = preview(r#"country = "DE" and revenue > 0"#).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["count"].as_i64(), Some(2), "{p}");
    assert!(p["customers"].as_i64() >= Some(4), "{p}");
    assert_eq!(names(&p), ["Ann", "Bob"]);
    let (s, e) = preview(r#"country = "DE" and revenu > 0"#).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("expression")), "{e}");
    let detail = e["detail"].as_str().unwrap();
    assert!(detail.contains("unknown field `revenu`; did you mean `revenue`?"), "{detail}");
    assert!(detail.contains("(line 1, column 20, byte 19)"), "{detail}");
    assert!(detail.ends_with("                     ^^^^^^"), "{detail:?}");

    // Create: members at once; a bad filter or a taken slug is refused by field.
    let body = json!({"name": "German buyers", "expression": r#"country = "DE" and revenue > 0"#});
    let (s, made) = app.call(key, Method::POST, "/api/v1/segments", Some(body.clone())).await;
    assert_eq!(s, 201, "{made}");
    assert_eq!((made["slug"].as_str(), made["size"].as_i64()), (Some("german-buyers"), Some(2)));
    assert_eq!(made["history"][0]["entered"].as_i64(), Some(2), "{made}");
    let (s, e) = app.call(key, Method::POST, "/api/v1/segments", Some(body)).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{e}");
    let bad = json!({"name": "x", "expression": "country = DE"});
    let (s, e) = app.call(key, Method::POST, "/api/v1/segments", Some(bad)).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("expression")));
    let bad = json!({"name": " ", "expression": "true"});
    let (s, e) = app.call(key, Method::POST, "/api/v1/segments", Some(bad)).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("name")));
    let (s, list) = get("/api/v1/segments".into()).await;
    assert_eq!((s, list.as_array().unwrap().len()), (StatusCode::OK, 1), "{list}");

    // Members page by page.
    let (s, p1) = get("/api/v1/segments/german-buyers/members?limit=1".into()).await;
    assert_eq!((s, names(&p1)), (StatusCode::OK, vec!["Ann".to_string()]), "{p1}");
    let next = p1["next"].as_i64().unwrap();
    let (_, p2) = get(format!("/api/v1/segments/german-buyers/members?limit=1&after={next}")).await;
    assert_eq!((names(&p2), p2["next"].as_i64()), (vec!["Bob".to_string()], None), "{p2}");

    // Cy buys: a refresh records who entered.
    let o = IngestOptions::default();
    let order = vec![line_row("seg-o3", "seg-cy", "2026-01-07", "sku", 1, "5")];
    app.db.ingest_orders(group(order), &o).await.unwrap();
    let (s, r) = app.call(key, Method::POST, "/api/v1/segments/german-buyers/refresh", None).await;
    assert_eq!((s, r["size"].as_i64()), (StatusCode::OK, Some(3)), "{r}");
    let last = &r["history"][1];
    assert_eq!((last["entered"].as_i64(), last["left"].as_i64()), (Some(1), Some(0)), "{r}");

    // Edit: a new filter materialises again; the slug stays.
    let patch = json!({"expression": r#"country = "FR""#, "name": "French"});
    let (s, e) = app.call(key, Method::PATCH, "/api/v1/segments/german-buyers", Some(patch)).await;
    assert_eq!(
        (s, e["name"].as_str(), e["size"].as_i64()),
        (StatusCode::OK, Some("French"), Some(1))
    );
    let read = app.key("read").await;
    let (s, _) = app.call(&read, Method::DELETE, "/api/v1/segments/german-buyers", None).await;
    assert_eq!(s, 403, "reading is not writing");
    let (s, _) = app.call(key, Method::DELETE, "/api/v1/segments/german-buyers", None).await;
    assert_eq!(s, 204);
    let (s, _) = get("/api/v1/segments/german-buyers".into()).await;
    assert_eq!(s, 404);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_segments_pages_preview_save_and_show_a_segment() {
    let app = spawn_app().await;
    company(&app).await;
    app.user("pm@example.com", Role::Member).await;
    let res = app.sign_in("pm@example.com", "a long password").await;
    let cookie = session_cookie(&res);
    let page = |path: String| {
        let req = app.http.get(app.url(&path)).header("cookie", cookie.clone());
        async move { req.send().await.unwrap() }
    };
    let list = page("/segments".into()).await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(html.contains("No saved segments yet."), "{html}");
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"");

    // Preview without script: the count on the page, or the error with its caret.
    let html = page(format!("/segments?expression={}", urlencode(r#"country = "DE""#))).await;
    let html = html.text().await.unwrap();
    assert!(html.contains("3 of 4 customers (75.0%)"), "{html}");
    let html = page(format!("/segments?expression={}", urlencode("country = DE"))).await;
    let html = html.text().await.unwrap();
    assert!(html.contains("expected a value, found `DE`"), "{html}");

    // Save through the form: to the segment's page, with its members.
    let form = [("csrf", csrf.as_str()), ("name", "Germany"), ("expression", r#"country = "DE""#)];
    let res = app.http.post(app.url("/segments")).header("cookie", &cookie).form(&form);
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text().await);
    assert_eq!(res.headers()["location"], "/segments/germany");
    let html = page("/segments/germany".into()).await.text().await.unwrap();
    for want in ["Germany", "Ann", "Bob", "Cy", "Members at each refresh"] {
        assert!(html.contains(want), "{want} in {html}");
    }
    assert!(!html.contains("Dee"), "{html}");
    let bad = [("csrf", csrf.as_str()), ("name", "Bad"), ("expression", "country =")];
    let res = app.http.post(app.url("/segments")).header("cookie", &cookie).form(&bad);
    let res = res.send().await.unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("expression: expected a string, number"), "{html}");
}

//! Recommendations over HTTP: none before a model, then from the model without what the
//! customer owns, the popular products for a customer the model does not know, nothing
//! without consent to personalisation, and the section of the customer 360 page.

use super::{App, session_cookie, spawn_app};
use rapport_analytics::recommend::AlsParams;
use rapport_core::access::Role;
use rapport_core::value::parse_timestamp;
use rapport_core::{Consent, Customer, ExternalId, Purpose};
use rapport_store::IngestOptions;
use rapport_store::story::{group, line_row};
use reqwest::{Method, StatusCode};
use serde_json::Value;

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// Twelve tea drinkers and twelve coffee drinkers; `tea-new` bought nothing yet.
async fn company(app: &App) {
    let o = IngestOptions::default();
    let mut people: Vec<Customer> = Vec::new();
    let mut lines = Vec::new();
    let mut consents = Vec::new();
    for n in 0..12 {
        for (taste, items) in [
            ("tea", ["green", "black", "pot", "cups"]),
            ("coffee", ["beans", "grinder", "press", "cups"]),
        ] {
            let who = format!("{taste}-{n}");
            people.push(Customer::bare(id(&who)));
            // Everyone bought their taste's products but one; the one left out rotates.
            for (k, item) in items.iter().enumerate().filter(|(k, _)| k % 4 != n % 4) {
                lines.push(line_row(&format!("{who}-o{k}"), &who, "2026-01-10", item, 1, "10"));
            }
        }
    }
    people.push(Customer::bare(id("tea-new")));
    people.push(Customer::bare(id("private")));
    lines.push(line_row("private-o1", "private", "2026-01-11", "green", 1, "10"));
    for c in people.iter().map(|c| c.id.clone()).filter(|c| c.as_str() != "private") {
        consents.push(Consent {
            id: id(&format!("k-{}", c.as_str())),
            customer: c,
            purpose: Purpose::Personalisation,
            granted: true,
            source: None,
            at: parse_timestamp("2026-01-01", None).unwrap(),
        });
    }
    app.db.upsert_customers(people, &o).await.unwrap();
    app.db.ingest_orders(group(lines), &o).await.unwrap();
    app.db.ingest_consents(consents, &o).await.unwrap();
}

fn skus(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["sku"].as_str().unwrap().to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn recommendations_follow_the_model_the_catalogue_and_consent() {
    let app = spawn_app().await;
    company(&app).await;
    let key = app.key("read").await;
    let get = |path: String| {
        let key = key.clone();
        let app = &app;
        async move { app.call(&key, Method::GET, &path, None).await }
    };
    let (s, r) = get("/api/v1/customers/tea-0/recommendations".into()).await;
    assert_eq!((s, r["basis"].as_str()), (StatusCode::OK, Some("no_model")), "{r}");

    // Two tastes, two factors: with as many factors as products the model would learn each
    // customer's purchases by heart and generalise nothing.
    let p = AlsParams { factors: 2, iterations: 10, regularization: 0.1, ..AlsParams::default() };
    rapport_reports::recommend::train(app.db.as_ref(), &p, chrono::Utc::now()).await.unwrap();
    // tea-0 lacks "green" (k = 0): the model offers it first, and nothing they own.
    let (s, r) = get("/api/v1/customers/tea-0/recommendations?limit=3".into()).await;
    assert_eq!((s, r["basis"].as_str()), (StatusCode::OK, Some("model")), "{r}");
    let got = skus(&r);
    assert_eq!(got[0], "green", "{r}");
    assert!(!got.iter().any(|s| ["black", "pot", "cups"].contains(&s.as_str())), "{r}");
    let (_, r) = get("/api/v1/customers/coffee-1/recommendations?limit=1".into()).await;
    assert_eq!(skus(&r), ["grinder"], "{r}");

    // Not known to the model: the most bought products. Without consent: nothing.
    let (_, r) = get("/api/v1/customers/tea-new/recommendations?limit=2".into()).await;
    assert_eq!((r["basis"].as_str(), skus(&r)[0].as_str()), (Some("popular"), "cups"), "{r}");
    let (_, r) = get("/api/v1/customers/private/recommendations".into()).await;
    assert_eq!((r["basis"].as_str(), skus(&r).len()), (Some("not_consented"), 0), "{r}");
    let (s, _) = get("/api/v1/customers/nobody/recommendations".into()).await;
    assert_eq!(s, 404);
    let (s, e) = get("/api/v1/customers/tea-0/recommendations?limit=0".into()).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("limit")));

    // The 360 page shows them.
    app.user("cs@example.com", Role::Viewer).await;
    let cookie = session_cookie(&app.sign_in("cs@example.com", "a long password").await);
    let page = app.http.get(app.url("/customers/tea-0")).header("cookie", &cookie).send().await;
    let html = page.unwrap().text().await.unwrap();
    assert!(html.contains("Recommended for them") && html.contains("<code>green</code>"), "{html}");
    let page = app.http.get(app.url("/customers/private")).header("cookie", &cookie).send().await;
    let html = page.unwrap().text().await.unwrap();
    assert!(html.contains("has not consented to personalisation"), "{html}");
}

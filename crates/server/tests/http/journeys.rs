//! Journeys over HTTP: create with a computed map (reach, drop-off, median days, the quote of
//! the customer who dropped), a segment given per request (a filter or a saved segment's
//! slug), update, delete, errors by field, and the pages (escaped names, the SVG map).

use super::{App, session_cookie, spawn_app};
use rapport_core::access::Role;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{AttrValue, Customer, Event, ExternalId, value::parse_timestamp};
use rapport_store::IngestOptions;
use rapport_store::story::{group, line_row};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// Four customers of the "journey" cohort: two buy after visiting (one of them twice), one
/// visits, complains and leaves, one never shows up.
async fn company(app: &App) {
    let o = IngestOptions::default();
    let customers = ["jr1", "jr2", "jr3", "jr4"].map(|c| {
        let mut cu = Customer::bare(id(c));
        cu.name = Some(format!("Customer {c}"));
        cu.attributes.insert("cohort".into(), AttrValue::Text("journey".into()));
        cu
    });
    app.db.upsert_customers(customers.to_vec(), &o).await.unwrap();
    let at = |t: &str| parse_timestamp(t, None).unwrap();
    let visit = |n: &str, who: &str, day: &str| Event {
        id: id(n),
        customer: id(who),
        name: "site_visit".into(),
        at: at(day),
        properties: Default::default(),
    };
    let events = vec![
        visit("jrv1", "jr1", "2026-01-01"),
        visit("jrv2", "jr2", "2026-01-02"),
        visit("jrv3", "jr3", "2026-01-03"),
    ];
    app.db.ingest_events(events, &o).await.unwrap();
    let orders = vec![
        line_row("jro1", "jr1", "2026-01-05", "sku", 1, "10"),
        line_row("jro2", "jr1", "2026-02-01", "sku", 1, "10"),
        line_row("jro3", "jr2", "2026-01-12", "sku", 1, "10"),
    ];
    app.db.ingest_orders(group(orders), &o).await.unwrap();
    let complaint = FeedbackRow {
        id: id("jrf1"),
        customer: CustomerRef::Id(id("jr3")),
        source: "email".into(),
        text: Some("The pricing is terrible, far too expensive for us".into()),
        rating: None,
        created_at: at("2026-01-10"),
    };
    app.db.ingest_feedback(vec![complaint], &o).await.unwrap();
}

fn spec(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Visit, buy, buy again",
        "segment": "attr.cohort = \"journey\"",
        "stages": [
            {"name": "Visit", "conditions": [{"kind": "event", "name": "site_visit"}]},
            {"name": "Buy", "conditions": [{"kind": "purchase"}]},
            {"name": "Repeat", "conditions": [{"kind": "purchase", "min_count": 2}]},
        ],
    })
}

fn column(map: &Value, field: &str) -> Vec<Value> {
    map["stages"].as_array().unwrap().iter().map(|s| s[field].clone()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn journeys_are_created_computed_restricted_and_deleted() {
    created_computed_and_deleted(&spawn_app().await).await;
}

/// Also run on PostgreSQL by `the_same_api_story_on_postgresql`.
pub async fn created_computed_and_deleted(app: &App) {
    company(app).await;
    let key = app.key("write").await;
    let call = |m: Method, path: &str, body: Option<Value>| {
        let (key, path) = (key.clone(), path.to_string());
        async move { app.call(&key, m, &path, body).await }
    };
    let (s, made) = call(Method::POST, "/api/v1/journeys", Some(spec("Purchase funnel"))).await;
    assert_eq!(s, 201, "{made}");
    let map = &made["map"];
    assert_eq!(map["population"], 4, "the segment's customers: {map}");
    assert_eq!(column(map, "reached"), [json!(3), json!(2), json!(1)]);
    assert_eq!(column(map, "dropped"), [json!(1), json!(1), json!(1)]);
    // Visit to purchase: 4 and 10 days; purchase to the second one: 27 days.
    assert_eq!(column(map, "median_days"), [Value::Null, json!(7.0), json!(27.0)]);
    let quotes = &map["stages"][1]["quotes"];
    assert_eq!(quotes[0]["customer"], "jr3", "the visitor who did not buy: {quotes}");
    assert!(quotes[0]["text"].as_str().unwrap().contains("too expensive"));
    assert_eq!(map["stages"][1]["conditions"], "purchase");

    let jid = made["id"].as_i64().unwrap();
    let path = format!("/api/v1/journeys/{jid}");
    let (s, narrowed) = call(
        Method::GET,
        &format!("{path}?segment=attr.cohort%20%3D%20%22journey%22%20and%20orders%20%3E%200"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{narrowed}");
    assert_eq!(
        (narrowed["map"]["population"].clone(), narrowed["map"]["segment"].clone()),
        (json!(2), json!("attr.cohort = \"journey\" and orders > 0"))
    );

    // A saved segment by its slug narrows the same way; an unknown slug is an error by field.
    let body =
        json!({"name": "Journey buyers", "expression": "attr.cohort = \"journey\" and orders > 0"});
    let (s, seg) = call(Method::POST, "/api/v1/segments", Some(body)).await;
    assert_eq!(s, StatusCode::CREATED, "{seg}");
    let (s, by_slug) = call(Method::GET, &format!("{path}?segment=journey-buyers"), None).await;
    assert_eq!(s, 200, "{by_slug}");
    assert_eq!(by_slug["map"]["population"], json!(2), "{by_slug}");
    let (s, e) = call(Method::GET, &format!("{path}?segment=no-such-segment"), None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("segment")), "{e}");
    assert!(e.to_string().contains("no saved segment 'no-such-segment'"), "{e}");

    // Errors name their field.
    let (s, e) = call(Method::GET, &format!("{path}?segment=orders%20%3E"), None).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("segment")), "{e}");
    let mut bad = spec("Bad");
    bad["stages"] = json!([]);
    let (s, e) = call(Method::POST, "/api/v1/journeys", Some(bad)).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("stages")), "{e}");
    let (s, e) = call(Method::POST, "/api/v1/journeys", Some(spec("Purchase funnel"))).await;
    assert_eq!(s, StatusCode::CONFLICT, "names are unique: {e}");
    let (s, _) = call(Method::GET, "/api/v1/journeys/999999", None).await;
    assert_eq!(s, 404);

    let mut renamed = spec("Buying");
    renamed["stages"].as_array_mut().unwrap().pop();
    let (s, updated) = call(Method::PUT, &path, Some(renamed)).await;
    assert_eq!((s, updated["name"].as_str()), (StatusCode::OK, Some("Buying")), "{updated}");
    assert_eq!(column(&updated["map"], "reached"), [json!(3), json!(2)]);
    let (s, list) = call(Method::GET, "/api/v1/journeys", None).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (StatusCode::OK, Some(1)));
    let (s, _) = call(Method::DELETE, &path, None).await;
    assert_eq!(s, 204);
    let (s, _) = call(Method::GET, &path, None).await;
    assert_eq!(s, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_journey_pages_draw_the_map_and_escape_names() {
    let app = spawn_app().await;
    company(&app).await;
    let key = app.key("write").await;
    let (s, made) =
        app.call(&key, Method::POST, "/api/v1/journeys", Some(spec("<b>Funnel</b>"))).await;
    assert_eq!(s, 201, "{made}");
    app.user("pm@example.com", Role::Member).await;
    let cookie = session_cookie(&app.sign_in("pm@example.com", "a long password").await);
    let get = |path: &str| app.http.get(app.url(path)).header("cookie", &cookie).send();
    let list = get("/journeys").await.unwrap();
    assert_eq!(list.status(), 200);
    let list = list.text().await.unwrap();
    assert!(
        list.contains("&#60;b&#62;Funnel&#60;/b&#62;") && !list.contains("<b>Funnel"),
        "{list}"
    );
    assert!(list.contains("jm-mini"), "the small funnel is drawn");
    let page = get(&format!("/journeys/{}", made["id"])).await.unwrap().text().await.unwrap();
    assert!(page.contains("<svg class=\"journey-map\""), "{page}");
    assert!(page.contains("&#60;b&#62;Funnel&#60;/b&#62;") && !page.contains("<b>Funnel"));
    assert!(page.contains("far too expensive"), "the quote of the customer who dropped");
    assert!(page.contains("−1"), "the drop-off between stages");
    let bad = get(&format!("/journeys/{}?segment=orders+%3E", made["id"])).await.unwrap();
    assert_eq!(bad.status(), 200, "a filter error is shown beside the form");
    assert!(bad.text().await.unwrap().contains("role=\"alert\""));
}

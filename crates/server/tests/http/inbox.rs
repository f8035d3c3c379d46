//! The feedback inbox over HTTP: filters and search, an item with its customer and
//! near-duplicates, merging, triage, themes after a refresh, and errors naming the parameter.

use super::spawn_app;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{Customer, ExternalId, value::parse_timestamp};
use rapport_store::IngestOptions;
use reqwest::{Method, StatusCode};
use serde_json::json;

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_inbox_filters_searches_merges_and_triages() {
    let app = spawn_app().await;
    let o = IngestOptions::default();
    let people = (0..40).map(|i| Customer::bare(id(&format!("c{i}")))).collect();
    app.db.upsert_customers(people, &o).await.unwrap();
    let texts = [
        "The parcel arrived late and the box was damaged, very disappointed",
        "Checkout keeps failing when I pay by card",
        "Love the new dashboard, great work",
        "Please add an export to CSV for the reports",
    ];
    let rows: Vec<FeedbackRow> = (0..40)
        .map(|i| FeedbackRow {
            id: id(&format!("in-{i}")),
            customer: CustomerRef::Id(id(&format!("c{i}"))),
            source: if i % 2 == 0 { "email" } else { "review" }.into(),
            text: Some(format!("{} (order {})", texts[i % 4], 1000 + i)),
            rating: None,
            created_at: parse_timestamp(&format!("2026-03-{:02} 10:00", 1 + i % 28), None).unwrap(),
        })
        .collect();
    app.db.ingest_feedback(rows, &o).await.unwrap();
    let key = app.key("write").await;
    let get = |path: String| {
        let key = key.clone();
        let app = &app;
        async move { app.call(&key, Method::GET, &path, None).await }
    };

    let (s, run) = app.call(&key, Method::POST, "/api/v1/themes/refresh", None).await;
    assert_eq!(
        (s, run["full"].as_bool(), run["items"].as_i64()),
        (StatusCode::OK, Some(true), Some(40)),
        "{run}"
    );

    // Newest first, filtered and searched.
    let (s, page) = get("/api/v1/inbox?limit=5".into()).await;
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    let days: Vec<&str> = items.iter().map(|i| &i["created_at"].as_str().unwrap()[..10]).collect();
    let mut sorted = days.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(days, sorted, "newest first");
    assert!(page["next"].is_string());
    let (_, found) = get("/api/v1/inbox?q=checkout%20card&source=review".into()).await;
    let found = found["items"].as_array().unwrap();
    assert_eq!(found.len(), 10, "every 4th item mentions checkout; all of them odd = review");
    let (_, neg) = get("/api/v1/inbox?sentiment=negative&limit=100".into()).await;
    assert!(
        neg["items"].as_array().unwrap().iter().all(|i| i["sentiment"].as_f64().unwrap() <= -0.05)
    );

    // An item with its customer and its near-duplicates; merging hides them from the list.
    let (s, one) = get("/api/v1/inbox/in-0".into()).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(one["customer"]["customer"]["id"], "c0");
    let similar: Vec<&str> = one["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["item"]["id"].as_str().unwrap())
        .collect();
    assert!(similar.contains(&"in-4") && similar.len() == 9, "{similar:?}");
    let merge = json!({"ids": similar, "into": "in-0"});
    let (s, b) = app.call(&key, Method::POST, "/api/v1/inbox/merge", Some(merge)).await;
    assert_eq!((s, b["changed"].as_i64()), (StatusCode::OK, Some(9)), "{b}");
    let (_, all) = get("/api/v1/inbox?limit=100".into()).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 31);
    let (_, one) = get("/api/v1/inbox/in-0".into()).await;
    assert_eq!(one["merged"].as_array().unwrap().len(), 9);
    let (_, with) = get("/api/v1/inbox?limit=100&merged=true".into()).await;
    assert_eq!(with["items"].as_array().unwrap().len(), 40, "every original kept");

    // Triage.
    let body = json!({"ids": ["in-1", "in-2"], "status": "reviewed"});
    let (s, b) = app.call(&key, Method::POST, "/api/v1/inbox/status", Some(body)).await;
    assert_eq!((s, b["changed"].as_i64()), (StatusCode::OK, Some(2)), "{b}");
    let (_, r) = get("/api/v1/inbox?status=reviewed".into()).await;
    assert_eq!(r["items"].as_array().unwrap().len(), 2);
    let body = json!({"ids": ["in-1"], "status": "done"});
    let (s, e) = app.call(&key, Method::POST, "/api/v1/inbox/status", Some(body)).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("status")), "{e}");
    let body = json!({"ids": ["nope"], "status": "closed"});
    let (s, _) = app.call(&key, Method::POST, "/api/v1/inbox/status", Some(body)).await;
    assert_eq!(s, 404);

    // Errors name the parameter.
    for (q, field) in [
        ("sentiment=sad", "sentiment"),
        ("theme=xyz", "theme"),
        ("segment=vips", "segment"),
        ("after=zzz", "after"),
        ("colour=red", "colour"),
    ] {
        let (s, e) = get(format!("/api/v1/inbox?{q}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}: {e}");
        if field != "after" && field != "colour" {
            assert_eq!(e["field"].as_str(), Some(field), "{q}: {e}");
        }
    }

    // Themes: stored, counted, and a filter of the inbox.
    let (s, th) = get("/api/v1/themes?weeks=52".into()).await;
    assert_eq!(s, 200, "{th}");
    let themes = th["themes"].as_array().unwrap();
    assert!(!themes.is_empty(), "{th}");
    let theme = themes[0]["id"].as_str().unwrap();
    let (_, of) = get(format!("/api/v1/inbox?theme={theme}&limit=100")).await;
    let n = of["items"].as_array().unwrap().len() as i64;
    assert!(n > 0 && of["items"].as_array().unwrap().iter().all(|i| i["theme"] == theme));
}

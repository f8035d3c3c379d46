//! `/api/v1/reports/...` on a small history whose answers are worked out by hand.

use super::*;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_store::IngestOptions;
use rapport_store::story::{group, id, line_row, ts};

/// a: Jan (two orders on one day), Feb, Mar. b: Jan. c: Feb. d: Mar. NPS: a 10, b 9, c 0.
async fn history(app: &App) {
    let rows = vec![
        line_row("o1", "a", "2024-01-05 10:00", "p", 1, "10"),
        line_row("o2", "a", "2024-01-05 12:00", "p", 1, "10"),
        line_row("o3", "a", "2024-02-07 10:00", "p", 2, "10"),
        line_row("o4", "a", "2024-03-30 10:00", "p", 1, "40"),
        line_row("o5", "b", "2024-01-20 10:00", "p", 1, "5"),
        line_row("o6", "c", "2024-02-02 10:00", "p", 1, "30"),
        line_row("o7", "d", "2024-03-15 10:00", "p", 1, "70"),
    ];
    app.db.ingest_orders(group(rows), &IngestOptions::default()).await.unwrap();
    let rating = |n: &str, who: &str, r: i16| FeedbackRow {
        id: id(n),
        customer: CustomerRef::Id(id(who)),
        source: "nps".into(),
        text: None,
        rating: Some(r),
        created_at: ts("2024-03-01 10:00"),
    };
    let feedback = vec![rating("f1", "a", 10), rating("f2", "b", 9), rating("f3", "c", 0)];
    app.db.ingest_feedback(feedback, &IngestOptions::default()).await.unwrap();
}

#[tokio::test]
async fn every_report_answers_its_json_with_its_age() {
    every_report(&spawn_app().await).await;
}

#[tokio::test]
async fn every_report_on_postgresql() {
    let Some(url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        std::io::stderr()
            .write_all(b"SKIPPED: TEST_DATABASE_URL not set; PostgreSQL reports not tested\n")
            .ok();
        return;
    };
    let (store, schema) =
        rapport_store_postgres::PgStore::connect_fresh_schema(&url).await.unwrap();
    let app = start(Arc::new(store.clone()), None).await;
    every_report(&app).await;
    drop(app);
    store.drop_schema(&schema).await.unwrap();
}

async fn every_report(app: &App) {
    let key = app.key("read").await;
    let get = |path: &'static str| app.call(&key, Method::GET, path, None);

    // Nothing bought yet: a clear 409, not an empty success or a 500.
    let (status, body) = get("/api/v1/reports/rfm").await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("no_data")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("no purchases"));

    history(app).await;
    let (status, repeat) = get("/api/v1/reports/repeat").await;
    assert_eq!(status, 200, "{repeat}");
    assert_eq!((repeat["buyers"].as_u64(), repeat["repeat_buyers"].as_u64()), (Some(4), Some(1)));

    let (_, churn) = get("/api/v1/reports/churn?as_of=2024-03-31").await;
    let months: Vec<(&str, u64, u64)> = churn["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_u64().unwrap();
            (r["month"].as_str().unwrap(), n("active_at_start"), n("churned"))
        })
        .collect();
    assert_eq!(months, [("2024-02-01", 2, 1), ("2024-03-01", 2, 1)], "{churn}");

    let (_, rfm) = get("/api/v1/reports/rfm").await;
    let buyers: u64 =
        rfm["rows"].as_array().unwrap().iter().map(|r| r["customers"].as_u64().unwrap()).sum();
    assert_eq!((rfm["as_of"].as_str(), buyers), (Some("2024-03-31"), 4));

    let (_, nps) = get("/api/v1/reports/nps?period=quarter").await;
    // 2 promoters, 1 detractor of 3: 33.3.
    let overall = &nps["overall"];
    assert_eq!(overall["responses"].as_u64(), Some(3));
    assert!((overall["score"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9);
    assert_eq!(nps["periods"][0]["start"].as_str(), Some("2024-01-01"));
    let (_, by) = get("/api/v1/reports/nps?by_segment=true").await;
    let counted: u64 =
        by["by_segment"].as_array().unwrap().iter().map(|s| s["responses"].as_u64().unwrap()).sum();
    assert_eq!(counted, 3);

    let (status, retention) = get("/api/v1/reports/retention").await;
    assert_eq!((status, retention["rows"][0]["customers"].as_u64()), (StatusCode::OK, Some(2)));
    let (status, health) = get("/api/v1/reports/health?top=10&weight_support=0").await;
    assert_eq!((status, health["scored"].as_u64()), (StatusCode::OK, Some(4)), "{health}");
    assert_eq!(health["config"]["weights"]["support"].as_f64(), Some(0.0));
    let (status, clv) = get("/api/v1/reports/clv?unit=day&horizon=30").await;
    assert_eq!(status, 200, "{clv}");
    assert!(clv["params"]["r"].as_f64().unwrap() > 0.0 && clv["log_likelihood"].is_number());

    // A second request is served from the shared result, and says how old it is.
    let res =
        app.http.get(app.url("/api/v1/reports/repeat")).bearer_auth(&key).send().await.unwrap();
    let age: u64 = res.headers()["age"].to_str().unwrap().parse().unwrap();
    assert!(age < 60);

    // Bad parameters name themselves.
    for (path, field) in [
        ("/api/v1/reports/rfm?as_of=2024-02-30", "as_of"),
        ("/api/v1/reports/nps?period=year", "period"),
        ("/api/v1/reports/nps?segment=vip", "segment"),
        ("/api/v1/reports/clv?horizon=0", "horizon"),
        ("/api/v1/reports/clv?calibration_end=2024-03-01&holdout_end=2024-02-01", "holdout_end"),
        ("/api/v1/reports/health?weight_usage=-1", "weight_usage"),
        ("/api/v1/reports/health?as_of=2024-01-01", "as_of"),
        ("/api/v1/reports/churn?color=red", "color"),
        ("/api/v1/reports/rfm?as_of=+", "as_of"),
        ("/api/v1/reports/nps?period=+", "period"),
        ("/api/v1/reports/clv?unit=+day", "unit"),
        ("/api/v1/reports/retention?as_of=5321-02-28", "as_of"),
    ] {
        let (status, body) = get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["field"].as_str(), Some(field), "{path}: {body}");
    }
}

#[tokio::test]
async fn the_dashboard_of_an_empty_company_says_what_is_missing() {
    let app = spawn_app().await;
    app.user("viewer@example.com", Role::Viewer).await;
    let res = app.sign_in("viewer@example.com", "a long password").await;
    let cookie = session_cookie(&res);
    let page = app.http.get(app.url("/dashboard")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("no purchases to report on"), "{html}");
    assert!(html.contains("No ratings from source &#39;nps&#39; yet."), "{html}");
    let root = app.http.get(app.url("/")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(root.headers()["location"], "/dashboard");
}

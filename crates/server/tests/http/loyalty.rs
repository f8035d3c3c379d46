//! The loyalty programme over HTTP: settings checked by field, the catalogue, earning with a
//! ledger key (a retry is 200 with the same entry), a purchase priced by the programme, the
//! member's view, refusals by code, and 100 concurrent redemptions that together exceed the
//! balance, of which exactly the affordable ones succeed (also on PostgreSQL).

use super::{App, session_cookie, spawn_app, start_with};
use rapport_core::access::Role;
use rapport_server::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn loyalty_points_are_earned_redeemed_and_never_overspent() {
    let app = spawn_app().await;
    let get =
        |path: &str, cookie: &str| app.http.get(app.url(path)).header("cookie", cookie).send();
    app.user("cs@example.com", Role::Member).await;
    let cookie = session_cookie(&app.sign_in("cs@example.com", "a long password").await);
    let page = get("/loyalty", &cookie).await.unwrap().text().await.unwrap();
    assert!(page.contains("No loyalty programme yet"), "{page}");

    loyalty_story(&app).await;
    let page = get("/loyalty", &cookie).await.unwrap().text().await.unwrap();
    for shown in
        ["Friends", "Points liability", "99.6%", "Silver", "Free delivery", "Mug", "retired"]
    {
        assert!(page.contains(shown), "{shown} on the loyalty page: {page}");
    }
    let customer = get("/customers/loy-1", &cookie).await.unwrap().text().await.unwrap();
    assert!(customer.contains("id=\"loyalty-h\""), "{customer}");
    assert!(customer.contains("To Silver"), "{customer}");
}

/// Also run on PostgreSQL by `the_same_api_story_on_postgresql`.
pub async fn loyalty_story(app: &App) {
    let key = app.key("write").await;
    let call = |m: Method, path: &str, body: Option<Value>| {
        let (key, path) = (key.clone(), path.to_string());
        async move { app.call(&key, m, &path, body).await }
    };
    let (s, _) =
        call(Method::POST, "/api/v1/customers", Some(json!({"id": "loy-1", "name": "Lu"}))).await;
    assert_eq!(s, StatusCode::CREATED);
    let earn = |points: i64, key: &str| json!({"points": points, "reason": {"type": "survey", "response": key}, "key": key});
    let (s, e) =
        call(Method::POST, "/api/v1/customers/loy-1/loyalty/earn", Some(earn(5, "r0"))).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{e}");

    // Settings are checked by field.
    let (s, doc) = call(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(doc["paths"]["/api/v1/customers/{id}/loyalty/redeem"].is_object());
    let mut settings = json!({
        "name": "Friends", "points_per_unit": 2, "survey_points": 20, "review_points": 50,
        "referral_points": 200, "expiry_days": 365, "tier_window_days": 365,
        "tiers": [
            {"name": "Bronze", "threshold": 0, "multiplier_pct": 100},
            {"name": "Silver", "threshold": 500, "multiplier_pct": 150, "benefits": ["Free delivery"]},
            {"name": "Gold", "threshold": 400, "multiplier_pct": 200}
        ]
    });
    let (s, e) = call(Method::PUT, "/api/v1/loyalty", Some(settings.clone())).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["field"], "tiers[2].threshold", "{e}");
    settings["tiers"][2]["threshold"] = json!(2000);
    let (s, o) = call(Method::PUT, "/api/v1/loyalty", Some(settings)).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let (s, r) =
        call(Method::PUT, "/api/v1/loyalty/rewards/mug", Some(json!({"name": "Mug", "cost": 10})))
            .await;
    assert_eq!((s, r["cost"].as_i64()), (StatusCode::OK, Some(10)), "{r}");
    let old = json!({"name": "Old hat", "cost": 5, "active": false});
    call(Method::PUT, "/api/v1/loyalty/rewards/hat", Some(old)).await;

    // Earning with a key; the retry answers 200 with the same entry.
    let path = "/api/v1/customers/loy-1/loyalty";
    let (s, first) = call(Method::POST, &format!("{path}/earn"), Some(earn(200, "r1"))).await;
    assert_eq!((s, first["balance"].as_i64()), (StatusCode::CREATED, Some(200)), "{first}");
    let (s, again) = call(Method::POST, &format!("{path}/earn"), Some(earn(200, "r1"))).await;
    assert_eq!((s, &again), (StatusCode::OK, &first));
    // A purchase of 25.50 at 2 points per unit, Bronze ×1: 51 points.
    let buy = json!({"reason": {"type": "purchase", "order": "o-9", "amount": "25.50"}, "key": "order:o-9"});
    let (s, b) = call(Method::POST, &format!("{path}/earn"), Some(buy)).await;
    assert_eq!((s, b["entries"][0]["points"].as_i64()), (StatusCode::CREATED, Some(51)), "{b}");
    assert_eq!(b["balance"], 251);
    // Refusals carry the rule's code.
    let (s, e) =
        call(Method::POST, &format!("{path}/redeem"), Some(json!({"reward": "hat"}))).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("reward_inactive")),
        "{e}"
    );
    let (s, e) =
        call(Method::POST, &format!("{path}/redeem"), Some(json!({"reward": "vase"}))).await;
    assert_eq!((s, e["field"].as_str()), (StatusCode::BAD_REQUEST, Some("reward")), "{e}");
    let (s, e) =
        call(Method::POST, &format!("{path}/adjust"), Some(json!({"points": -300, "note": "x"})))
            .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("insufficient_points")),
        "{e}"
    );
    let (s, _) = call(
        Method::POST,
        &format!("{path}/adjust"),
        Some(json!({"points": -1, "note": "rounding"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);

    // 100 redemptions of a 10-point mug at once against 250 points: exactly 25 succeed.
    let redeem = |i: usize| {
        let key = key.clone();
        let body = json!({"reward": "mug", "key": format!("mug-{i}")});
        async move { app.call(&key, Method::POST, &format!("{path}/redeem"), Some(body)).await }
    };
    let outcomes = futures_util::future::join_all((0..100).map(redeem)).await;
    let count = |want: StatusCode| outcomes.iter().filter(|(s, _)| *s == want).count();
    assert_eq!(
        (count(StatusCode::CREATED), count(StatusCode::UNPROCESSABLE_ENTITY)),
        (25, 75),
        "{:?}",
        outcomes.iter().find(|(s, _)| !s.is_client_error() && *s != StatusCode::CREATED)
    );
    let (s, m) = call(Method::GET, path, None).await;
    assert_eq!(s, StatusCode::OK, "{m}");
    assert_eq!((m["balance"].as_i64(), m["tier"].as_str()), (Some(0), Some("Bronze")), "{m}");
    assert_eq!(m["totals"]["redeemed"], 250, "{m}");
    assert_eq!(m["next_tier"], json!(["Silver", 249]), "251 earned of Silver's 500: {m}");

    let (s, o) = call(Method::GET, "/api/v1/loyalty", None).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let f = &o["figures"];
    assert_eq!((f["members"].as_i64(), f["liability"].as_i64()), (Some(1), Some(0)), "{o}");
    assert_eq!(f["tiers"][0], json!({"tier": "Bronze", "members": 1}));
    assert!((o["redemption_rate"].as_f64().unwrap() - 250.0 / 251.0).abs() < 1e-9, "{o}");
}

#[tokio::test(flavor = "multi_thread")]
async fn purchases_since_the_launch_earn_points_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let db = rapport_store_sqlite::SqliteStore::open(dir.path().join("t.db")).unwrap();
    let settings =
        Settings { analysis_every: Some(Duration::from_millis(200)), ..Settings::default() };
    let app = start_with(Arc::new(db), Some(dir), settings).await;
    let key = app.key("write").await;
    let (s, _) = app
        .call(&key, Method::POST, "/api/v1/customers", Some(json!({"id": "buyer", "name": "Bo"})))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let programme = json!({
        "name": "Club", "points_per_unit": 1, "survey_points": 0, "review_points": 0,
        "referral_points": 0, "expiry_days": null, "tier_window_days": 365,
        "tiers": [{"name": "Member", "threshold": 0, "multiplier_pct": 100}]
    });
    let (s, o) = app.call(&key, Method::PUT, "/api/v1/loyalty", Some(programme)).await;
    assert_eq!(s, StatusCode::OK, "{o}");
    let at = chrono::Utc::now().to_rfc3339();
    let lines = json!([
        {"order": "before", "customer": "buyer", "placed_at": "2024-01-01", "amount": "500"},
        {"order": "b-1", "customer": "buyer", "placed_at": at, "amount": "42.90"},
        {"order": "b-2", "customer": "buyer", "placed_at": at, "amount": "10", "status": "return"}
    ]);
    assert_eq!(app.batch(&key, "orders", lines).await["inserted"], 3);
    let start = Instant::now();
    loop {
        let (s, m) = app.call(&key, Method::GET, "/api/v1/customers/buyer/loyalty", None).await;
        if s == StatusCode::OK {
            // 42.90 at one point per unit; the order before the launch and the return earn nothing.
            assert_eq!(m["balance"], 42, "{m}");
            assert_eq!(m["recent"][0]["key"], "order:b-1", "{m}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never credited: {m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

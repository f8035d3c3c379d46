//! The scorecard over HTTP: goals checked by field, created, replaced and removed; the
//! scorecard's series, latest value and status worked out by hand (and changing at once when a
//! goal does); viewers read and members write, on the API and the page.

use super::{between, session_cookie, spawn_app};
use rapport_core::access::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn goal(metric: &str, target: f64) -> Value {
    json!({"metric": metric, "target": target, "owner": "Growth team"})
}

#[tokio::test(flavor = "multi_thread")]
async fn goals_are_checked_measured_judged_and_kept_by_members() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let call = |m: Method, path: &str, body: Option<Value>| {
        let (key, path) = (key.clone(), path.to_string());
        let app = &app;
        async move { app.call(&key, m, &path, body).await }
    };
    let (s, card) = call(Method::GET, "/api/v1/scorecard", None).await;
    assert_eq!((s, card["goals"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{card}");

    // Checked by field.
    for (body, field) in [
        (goal("happiness", 1.0), "metric"),
        (goal("csat", 120.0), "target"),
        (json!({"metric": "nps", "target": 10}), "owner"),
        (json!({"metric": "nps", "target": 10, "owner": "x", "period": "week"}), "period"),
    ] {
        let (s, e) = call(Method::POST, "/api/v1/scorecard/goals", Some(body)).await;
        assert_eq!(
            (s, e["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{e}"
        );
    }

    // a buys for 100 in January, February and March 2025; b for 50 in February and on
    // 31 March, the last purchase: March is the last complete month.
    for who in ["a", "b"] {
        let (s, _) = call(Method::POST, "/api/v1/customers", Some(json!({"id": who}))).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let order = |id: &str, who: &str, at: &str, amount: &str| json!({"order": id, "customer": who, "placed_at": at, "amount": amount});
    let orders = json!([
        order("a1", "a", "2025-01-15", "100"),
        order("a2", "a", "2025-02-15", "100"),
        order("a3", "a", "2025-03-15", "100"),
        order("b1", "b", "2025-02-10", "50"),
        order("b2", "b", "2025-03-31T18:00:00Z", "50"),
    ]);
    app.batch(&key, "orders", orders).await;
    let mut ids = Vec::new();
    for body in [
        goal("revenue", 150.0),
        goal("churn", 0.0),
        goal("nps", 30.0),
        goal("active_customers", 2.0),
    ] {
        let (s, g) = call(Method::POST, "/api/v1/scorecard/goals", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{g}");
        ids.push(g["id"].as_i64().unwrap());
    }
    let (_, churn) = call(Method::GET, &format!("/api/v1/scorecard/goals/{}", ids[1]), None).await;
    assert_eq!(churn["direction"], "lower", "churn's usual direction: {churn}");
    assert!(churn["created_by"].as_str().unwrap().starts_with("key:"), "{churn}");

    let (s, card) = call(Method::GET, "/api/v1/scorecard", None).await;
    assert_eq!(s, StatusCode::OK, "{card}");
    assert_eq!(card["as_of"], "2025-03-31");
    let goals = card["goals"].as_array().unwrap();
    let revenue = &goals[0];
    let series = revenue["series"].as_array().unwrap();
    assert_eq!((series.len(), series[0]["label"].as_str()), (12, Some("2024-04")), "{revenue}");
    let last3: Vec<f64> = series[9..].iter().map(|p| p["value"].as_f64().unwrap()).collect();
    assert_eq!(last3, [100.0, 150.0, 150.0]);
    assert_eq!(revenue["latest"]["label"], "2025-03");
    let statuses: Vec<&str> = goals.iter().map(|g| g["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["on_track", "on_track", "no_data", "on_track"], "{card}");
    assert_eq!(
        (goals[0]["perspective"].as_str(), goals[1]["perspective"].as_str()),
        (Some("business"), Some("customer"))
    );

    // A raised target shows at once (the shared computation is keyed by the goals).
    let path = format!("/api/v1/scorecard/goals/{}", ids[0]);
    let (s, g) = call(Method::PUT, &path, Some(goal("revenue", 200.0))).await;
    assert_eq!((s, g["at_risk_margin"].as_f64()), (StatusCode::OK, Some(10.0)), "{g}");
    let (_, card) = call(Method::GET, "/api/v1/scorecard", None).await;
    assert_eq!(card["goals"][0]["status"], "off_track", "150 is more than 10 short of 200");
    let (s, _) = call(Method::DELETE, &path, None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, e) = call(Method::GET, &path, None).await;
    assert_eq!((s, e["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{e}");
    let (s, _) = call(Method::PUT, "/api/v1/scorecard/goals/x", Some(goal("nps", 1.0))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (_, doc) = call(Method::GET, "/api/openapi.json", None).await;
    assert!(doc["paths"]["/api/v1/scorecard/goals/{id}"]["delete"].is_object());

    // A read key reads and cannot write.
    let read = app.key("read").await;
    let (s, _) = app.call(&read, Method::GET, "/api/v1/scorecard", None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) =
        app.call(&read, Method::POST, "/api/v1/scorecard/goals", Some(goal("nps", 1.0))).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    scorecard_page(&app).await;
}

async fn scorecard_page(app: &super::App) {
    app.user("viewer@example.com", Role::Viewer).await;
    app.user("member@example.com", Role::Member).await;
    let get = |cookie: String| async move {
        let res =
            app.http.get(app.url("/scorecard")).header("cookie", cookie).send().await.unwrap();
        (res.status(), res.text().await.unwrap())
    };
    let viewer = session_cookie(&app.sign_in("viewer@example.com", "a long password").await);
    let (s, page) = get(viewer).await;
    assert_eq!(s, StatusCode::OK);
    for shown in [
        "Churn rate",
        "Active customers",
        "No data",
        "class=\"goal-spark\"",
        "aria-current=\"page\">Scorecard",
    ] {
        assert!(page.contains(shown), "{shown} on the page: {page}");
    }
    assert!(!page.contains("Add a goal") && !page.contains("Remove"), "viewers cannot write");

    let member = session_cookie(&app.sign_in("member@example.com", "a long password").await);
    let (_, page) = get(member.clone()).await;
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"");
    let post = |path: &str, form: Vec<(&str, &str)>| {
        let req = app.http.post(app.url(path)).header("cookie", member.clone()).form(&form);
        async move { req.send().await.unwrap() }
    };
    let form = |target| {
        vec![
            ("csrf", csrf.as_str()),
            ("metric", "orders"),
            ("target", target),
            ("period", "quarter"),
            ("owner", "Ops"),
            ("direction", ""),
            ("at_risk_margin", ""),
        ]
    };
    let bad = post("/scorecard", form("lots")).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.unwrap().contains("target: &#39;lots&#39; is not a number"));
    let made = post("/scorecard", form("4")).await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let goals = app.db.goals().await.unwrap();
    let orders = goals.iter().find(|g| g.goal.metric.name() == "orders").expect("the goal added");
    assert_eq!((orders.goal.target, orders.goal.period.name()), (4.0, "quarter"));
    let (_, page) = get(member.clone()).await;
    assert!(page.contains("Add a goal") && page.contains("2025-Q1"), "{page}");
    let gone = post(&format!("/scorecard/goals/{}/delete", orders.id), vec![("csrf", &csrf)]).await;
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.db.goals().await.unwrap().len(), goals.len() - 1);
}

//! Surveys over HTTP: the API, the public page `/s/{token}` (first step, follow-up, one answer
//! per token, expiry of unknown links), embed tokens with signed customers, and responses
//! reaching the timeline and the NPS report.

use super::{App, spawn_app};
use rapport_core::{Consent, Customer, ExternalId, Purpose, value::parse_timestamp};
use rapport_store::IngestOptions;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

async fn customers(app: &App) {
    let mut ann = Customer::bare(ExternalId::parse("c1").unwrap());
    ann.name = Some("Ann".into());
    let bob = Customer::bare(ExternalId::parse("c2").unwrap());
    app.db.upsert_customers(vec![ann, bob], &IngestOptions::default()).await.unwrap();
    let consent = Consent {
        id: ExternalId::parse("k1").unwrap(),
        customer: ExternalId::parse("c1").unwrap(),
        purpose: Purpose::Surveys,
        granted: true,
        source: None,
        at: parse_timestamp("2026-01-01", None).unwrap(),
    };
    app.db.ingest_consents(vec![consent], &IngestOptions::default()).await.unwrap();
}

async fn form(app: &App, url: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let res = app.http.post(url).form(fields).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_survey_is_sent_answered_once_and_reported() {
    sent_answered_once_and_reported(&spawn_app().await).await;
}

/// Also run on PostgreSQL by `the_same_api_story_on_postgresql`.
pub async fn sent_answered_once_and_reported(app: &App) {
    customers(app).await;
    let key = app.key("write").await;
    let spec = json!({
        "id": "nps-q4", "name": "How are we doing?", "kind": "nps",
        "questions": [{"id": "why", "prompt": "What disappointed you?", "type": "text", "when": "0-6"}]
    });
    let (status, body) = app.call(&key, Method::POST, "/api/v1/surveys", Some(spec.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["survey"]["questions"][0]["id"], "score");
    let (status, _) = app.call(&key, Method::POST, "/api/v1/surveys", Some(spec)).await;
    assert_eq!(status, 200, "saving the same definition again");
    let bad = json!({"id": "x", "name": "X", "kind": "nps", "questions": [{"id": "a", "prompt": "P", "type": "single", "choices": ["one"]}]});
    let (status, body) = app.call(&key, Method::POST, "/api/v1/surveys", Some(bad)).await;
    assert_eq!(
        (status.as_u16(), body["field"].as_str()),
        (422, Some("questions[0].choices")),
        "{body}"
    );

    // Sending needs an audience said in so many words; only the consenting customer is invited.
    let (status, body) =
        app.call(&key, Method::POST, "/api/v1/surveys/nps-q4/send", Some(json!({}))).await;
    assert_eq!(status, 422, "{body}");
    let (status, sent) = app
        .call(
            &key,
            Method::POST,
            "/api/v1/surveys/nps-q4/send",
            Some(json!({"customers": ["c1", "c2"]})),
        )
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["invited"].as_array().unwrap().len(), 1, "{sent}");
    assert_eq!(
        (sent["invited"][0]["customer"].as_str(), sent["without_consent"].as_i64()),
        (Some("c1"), Some(1))
    );
    let (_, again) = app
        .call(&key, Method::POST, "/api/v1/surveys/nps-q4/send", Some(json!({"all": true})))
        .await;
    assert_eq!(
        (again["invited"].as_array().unwrap().len(), again["already_invited"].as_i64()),
        (0, Some(1))
    );
    let link = sent["invited"][0]["link"].as_str().unwrap().to_string();
    assert!(link.starts_with(&app.base), "{link}");

    // The page: public, personal, not cacheable, token kept out of referrers, not frameable.
    let page = app.http.get(format!("{link}?score=3")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Hello Ann,") && html.contains("How likely are you to recommend"),
        "{html}"
    );
    assert!(html.contains(r#"value="3" checked"#), "the e-mail's score is preselected");
    assert!(!html.contains("<script"), "no JavaScript");

    let (status, html) = form(app, &link, &[("score", "11")]).await;
    assert_eq!(status, 422);
    assert!(html.contains("choose a whole number from 0 to 10"), "{html}");
    let (status, html) = form(app, &link, &[("score", "3")]).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("What disappointed you?") && html.contains("/more"),
        "the follow-up: {html}"
    );
    let (status, html) =
        form(app, &format!("{link}/more"), &[("why", "Exports are too slow")]).await;
    assert_eq!(status, 200);
    assert!(html.contains("Thank you"), "{html}");
    let (status, html) = form(app, &link, &[("score", "10")]).await;
    assert_eq!(status, 409);
    assert!(html.contains("already been answered"), "{html}");
    let (status, _) = form(app, &format!("{link}/more"), &[("why", "twice")]).await;
    assert_eq!(status, 409);
    let unknown = app.http.get(app.url("/s/not-a-token")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);

    // The response is feedback: on the timeline, in the NPS report, in the survey's results.
    let (_, timeline) = app.call(&key, Method::GET, "/api/v1/customers/c1/timeline", None).await;
    assert!(timeline.to_string().contains("Exports are too slow"), "{timeline}");
    let (status, nps) = app.call(&key, Method::GET, "/api/v1/reports/nps", None).await;
    assert_eq!(status, 200, "{nps}");
    assert_eq!(
        (nps["overall"]["responses"].as_u64(), nps["overall"]["score"].as_f64()),
        (Some(1), Some(-100.0))
    );
    let (_, results) = app.call(&key, Method::GET, "/api/v1/surveys/nps-q4/results", None).await;
    assert_eq!(results["responses"], 1);
    assert_eq!(results["response_rate"], 1.0);
    assert_eq!(results["questions"][1]["comments"][0]["text"], "Exports are too slow");
    let (status, themes) = app.call(&key, Method::GET, "/api/v1/reports/themes?top=5", None).await;
    assert_eq!(status, 200, "{themes}");
    assert!(themes["items"].as_u64().unwrap() >= 1, "the answer's text is read: {themes}");
    let (status, bad) = app.call(&key, Method::GET, "/api/v1/reports/themes?top=0", None).await;
    assert_eq!((status.as_u16(), bad["field"].as_str()), (400, Some("top")), "{bad}");
    let (_, responses) =
        app.call(&key, Method::GET, "/api/v1/surveys/nps-q4/responses", None).await;
    assert_eq!(responses[0]["via"], "link");
}

#[tokio::test(flavor = "multi_thread")]
async fn embed_pages_take_many_answers_and_only_signed_customers() {
    let app = spawn_app().await;
    customers(&app).await;
    let key = app.key("write").await;
    let spec = json!({"id": "csat", "name": "Rate this page", "kind": "csat"});
    let (_, created) = app.call(&key, Method::POST, "/api/v1/surveys", Some(spec)).await;
    let embed = created["embed_url"].as_str().unwrap().to_string();

    // Sending to an RFM segment: c1 bought once; only its segment reaches it.
    let (status, body) = app
        .call(&key, Method::POST, "/api/v1/surveys/csat/send", Some(json!({"segment": "bogus"})))
        .await;
    assert_eq!((status.as_u16(), body["field"].as_str()), (422, Some("segment")), "{body}");
    let rows = vec![rapport_store::story::line_row("o1", "c1", "2026-01-05 10:00", "sku", 1, "10")];
    app.db
        .ingest_orders(rapport_store::story::group(rows), &IngestOptions::default())
        .await
        .unwrap();
    // Sending to a segment filter: a wrong one names the field and the nearest name; a right
    // one selects by the customers' data (Bob has no orders, and no surveys consent).
    let send = |body: serde_json::Value| {
        app.call(&key, Method::POST, "/api/v1/surveys/csat/send", Some(body))
    };
    let (status, body) = send(json!({"where": "nmae is not null"})).await;
    assert_eq!((status.as_u16(), body["field"].as_str()), (422, Some("where")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("did you mean `name`?"), "{body}");
    let (_, bob) = send(json!({"where": "orders = 0"})).await;
    assert_eq!(
        (bob["invited"].as_array().map(Vec::len), bob["without_consent"].as_i64()),
        (Some(0), Some(1)),
        "{bob}"
    );
    let (_, both) = send(json!({"where": "name = \"Ann\"", "customers": ["c2"]})).await;
    assert_eq!(
        (both["invited"].as_array().map(Vec::len), both["without_consent"].as_i64()),
        (Some(0), Some(0)),
        "{both}"
    );
    let scored = rapport_reports::rfm::customers(app.db.as_ref(), None).await.unwrap().rows;
    let segment = scored[0].rfm.segment;
    let other = rapport_analytics::rfm::Segment::ALL.into_iter().find(|s| *s != segment).unwrap();
    let (_, none) = app
        .call(
            &key,
            Method::POST,
            "/api/v1/surveys/csat/send",
            Some(json!({"segment": other.as_str()})),
        )
        .await;
    assert_eq!(none["invited"].as_array().map(Vec::len), Some(0), "{none}");
    let (_, one) = app
        .call(
            &key,
            Method::POST,
            "/api/v1/surveys/csat/send",
            Some(json!({"segment": segment.as_str()})),
        )
        .await;
    assert_eq!(one["invited"][0]["customer"], "c1", "{one}");
    let page = app.http.get(&embed).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(
        csp.contains("frame-ancestors *") && page.headers().get("x-frame-options").is_none(),
        "{csp}"
    );

    for _ in 0..2 {
        let (status, html) = form(&app, &embed, &[("score", "5")]).await;
        assert_eq!(status, 200, "{html}");
    }
    let secret = app.db.survey(&ExternalId::parse("csat").unwrap()).await.unwrap().embed_secret;
    let (status, _) =
        form(&app, &embed, &[("score", "2"), ("customer", "c2"), ("signature", "00ff")]).await;
    assert_eq!(status, 403, "a customer the site did not sign for is refused");
    let sig = rapport_server::surveys::embed_signature(&secret, "c2");
    let (status, _) =
        form(&app, &embed, &[("score", "2"), ("customer", "c2"), ("signature", &sig)]).await;
    assert_eq!(status, 200);

    let (_, results) = app.call(&key, Method::GET, "/api/v1/surveys/csat/results", None).await;
    assert_eq!(results["responses"], 3);
    assert_eq!(results["score"]["distribution"], json!([0, 1, 0, 0, 2]));
    let (_, fb) = app.call(&key, Method::GET, "/api/v1/feedback?customer=c2", None).await;
    let items: &Vec<Value> = fb["items"].as_array().unwrap();
    assert_eq!(
        (items.len(), items[0]["source"].as_str(), items[0]["rating"].as_i64()),
        (1, Some("csat"), Some(2)),
        "{fb}"
    );
}

//! A campaign end to end: the real server creates and sends it over HTTP, the outbox worker
//! delivers to a real SMTP server on loopback, synthetic purchases follow with a known effect,
//! and the results' 95% interval contains that effect. On SQLite and PostgreSQL.

use super::{id, settings, smtp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rapport_core::*;
use rapport_server::outbox::Worker;
use rapport_server::{AppState, Settings, auth};
use rapport_store::story::{group, line_row};
use rapport_store::{Backend, IngestOptions};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

const CUSTOMERS: usize = 2000;
/// Purchase probabilities in the goal window: the campaign's true effect is their difference.
const TREATED: f64 = 0.30;
const HELD_OUT: f64 = 0.20;

/// Everyone bought once last year; one in ten withdrew marketing consent, one in twenty has
/// no address.
async fn company(db: &dyn Backend) {
    let o = IngestOptions::default();
    let name = |i: usize| format!("k{i:04}");
    let people = (0..CUSTOMERS)
        .map(|i| {
            let mut c = Customer::bare(id(&name(i)));
            c.name = Some(format!("Kim <{i}> Lee"));
            if i % 20 != 7 {
                c.email = Some(Email::parse(&format!("{}@example.com", name(i))).unwrap());
            }
            c
        })
        .collect();
    db.upsert_customers(people, &o).await.unwrap();
    let consents = (0..CUSTOMERS)
        .map(|i| Consent {
            id: id(&format!("m{i}")),
            customer: id(&name(i)),
            purpose: Purpose::Marketing,
            granted: i % 10 != 3,
            source: None,
            at: value::parse_timestamp("2025-06-01", None).unwrap(),
        })
        .collect();
    db.ingest_consents(consents, &o).await.unwrap();
    let orders = (0..CUSTOMERS)
        .map(|i| line_row(&format!("first-{i}"), &name(i), "2025-09-01", "mug", 1, "12"))
        .collect();
    db.ingest_orders(group(orders), &o).await.unwrap();
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    key: &str,
    m: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = http.request(m, format!("{base}{path}")).bearer_auth(key);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub async fn campaign_story(db: Arc<dyn Backend>) {
    let Some(python) = smtp::python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(&python, &dir.path().join("mail.jsonl"), 0.0, 0);
    company(db.as_ref()).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(db.clone(), Settings::default());
    tokio::spawn(rapport_server::launch(state, listener, async {
        stopped.await.ok();
    }));
    let http = reqwest::Client::new();
    let key = auth::create_api_key(db.as_ref(), "test", "write").await.unwrap().1;
    let post = |path: &str, body: Option<Value>| {
        let path = path.to_string();
        let (http, base, key) = (&http, &base, &key);
        async move { call(http, base, key, reqwest::Method::POST, &path, body).await }
    };

    let spec = json!({
        "name": "Autumn offer", "segment": "orders >= 1", "channel": "email",
        "subject": "{{ first_name }}, 10% off this week",
        "text": "Hello {{ name }},\nAutumn is here.\n",
        "html": "<p>Hello {{ name }},</p>",
        "goal": "purchase", "goal_days": 14, "holdout": 0.3, "seed": 42
    });
    let (s, bad) = post("/api/v1/campaigns", Some(json!({"name": "x", "goal": "likes"}))).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let (s, created) = post("/api/v1/campaigns", Some(spec)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let c = created["id"].as_i64().unwrap();
    assert_eq!(created["stage"], "draft");

    let (s, sent) = post(&format!("/api/v1/campaigns/{c}/send"), None).await;
    assert_eq!(s, StatusCode::OK, "{sent}");
    let counts = &sent["counts"];
    let n = |f: &str| counts[f].as_u64().unwrap();
    assert_eq!(n("segment"), CUSTOMERS as u64);
    assert_eq!(n("no_consent"), (CUSTOMERS / 10) as u64, "one in ten withdrew");
    assert_eq!(n("no_address"), 100, "one in twenty have no address (all of them consent)");
    assert_eq!(n("treatment") + n("holdout"), (CUSTOMERS - 200 - 100) as u64);
    let share = n("holdout") as f64 / (n("treatment") + n("holdout")) as f64;
    assert!((share - 0.3).abs() < 0.04, "holdout share {share}");
    assert_eq!(sent["queued"].as_u64(), Some(n("treatment")));
    let (s, again) = post(&format!("/api/v1/campaigns/{c}/send"), None).await;
    assert_eq!(s, StatusCode::CONFLICT, "never twice: {again}");

    // Delivery: one e-mail per treated customer, personalised and escaped, nobody else.
    let worker = Worker::new(db.clone(), settings(&sink.url(), Duration::ZERO)).unwrap();
    let d = worker.drain().await.unwrap();
    assert_eq!(d.sent as u64, n("treatment"));
    let mail = sink.received();
    let to: Vec<String> = mail.iter().map(|m| m["to"][0].as_str().unwrap().to_string()).collect();
    let treated: HashSet<String> =
        to.iter().map(|a| a.trim_end_matches("@example.com").to_string()).collect();
    assert_eq!(treated.len(), to.len(), "nobody twice");
    for who in &treated {
        let i: usize = who[1..].parse().unwrap();
        assert!(i % 10 != 3, "{who} withdrew consent and was sent");
    }
    let first = &mail[0];
    assert!(first["subject"].as_str().unwrap().starts_with("Kim, 10% off"), "{first}");
    assert!(first["html"].as_str().unwrap().contains("Kim &lt;"), "escaped: {first}");

    // Purchases in the window, with a known effect: 30% of the treated, 20% of the holdout.
    let (_, shown) =
        call(&http, &base, &key, reqwest::Method::GET, &format!("/api/v1/campaigns/{c}"), None)
            .await;
    let sent_at = value::parse_timestamp(shown["sent_at"].as_str().unwrap(), None).unwrap();
    let when = (sent_at + chrono::Duration::days(2)).to_rfc3339();
    let keys: HashMap<i64, String> = db
        .summaries(None, 10_000)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|r| (r.key, r.id.as_str().to_string()))
        .collect();
    let mut rng = StdRng::seed_from_u64(7);
    let mut orders = Vec::new();
    for r in db.campaign_outcomes(c).await.unwrap() {
        let who = &keys[&r.customer];
        let p = if treated.contains(who) { TREATED } else { HELD_OUT };
        if rng.random::<f64>() < p {
            orders.push(line_row(&format!("after-{who}"), who, &when, "mug", 1, "12"));
        }
    }
    db.ingest_orders(group(orders), &IngestOptions::default()).await.unwrap();

    let (s, r) =
        call(&http, &base, &key, reqwest::Method::GET, &format!("/api/v1/campaigns/{c}"), None)
            .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["stage"], "measuring");
    let lift = &r["overall"]["lift"];
    let (low, high) = (lift["ci_low"].as_f64().unwrap(), lift["ci_high"].as_f64().unwrap());
    let effect = TREATED - HELD_OUT;
    assert!(low < effect && effect < high, "the true effect {effect} in [{low}, {high}]: {lift}");
    assert!(low > 0.0 && lift["p_value"].as_f64().unwrap() < 0.05, "{lift}");
    assert_eq!(r["overall"]["treatment"].as_u64(), Some(n("treatment")));
    assert_eq!(r["outbox"]["sent"].as_u64(), Some(n("treatment")));
    assert!(!r["by_segment"].as_array().unwrap().is_empty());
    stop.send(()).ok();
}

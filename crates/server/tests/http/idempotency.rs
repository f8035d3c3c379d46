//! `Idempotency-Key` on POSTs under `/api/v1`.

use super::{App, spawn_app};
use rapport_server::api;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

/// A POST's status, headers and body text.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.body))
    }

    fn replayed(&self) -> bool {
        self.headers.get("idempotency-replayed").is_some_and(|v| v == "true")
    }
}

impl App {
    async fn post(&self, key: &str, path: &str, idem: Option<&str>, body: &Value) -> Answer {
        let mut req = self.http.post(self.url(path)).bearer_auth(key).json(body);
        if let Some(k) = idem {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await.unwrap();
        let (status, headers) = (res.status(), res.headers().clone());
        Answer { status, headers, body: res.text().await.unwrap() }
    }
}

#[tokio::test]
async fn a_retry_with_the_same_key_replays_the_response_and_creates_nothing_twice() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let ann = json!({"id": "c1", "name": "Ann"});

    let first = app.post(&key, "/api/v1/customers", Some("k-1"), &ann).await;
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(!first.replayed());
    let retry = app.post(&key, "/api/v1/customers", Some("k-1"), &ann).await;
    assert_eq!(retry.status, 201, "{}", retry.body);
    assert!(retry.replayed(), "{:?}", retry.headers);
    assert_eq!(retry.body, first.body, "byte for byte");
    assert_eq!(retry.headers["content-type"], "application/json");
    assert_eq!(app.db.counts().await.unwrap().customers, 1);

    // The draft's quoted form names the same key.
    let quoted = app.post(&key, "/api/v1/customers", Some("\"k-1\""), &ann).await;
    assert!(quoted.replayed() && quoted.status == 201, "{}", quoted.body);

    // Without a key the request runs again, and the customer exists.
    let unkeyed = app.post(&key, "/api/v1/customers", None, &ann).await;
    assert_eq!(
        (unkeyed.status, unkeyed.json()["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    assert!(!unkeyed.replayed());

    // Keys belong to their caller: another API key's "k-1" is a different key.
    let other = app.key("write").await;
    let theirs = app.post(&other, "/api/v1/customers", Some("k-1"), &ann).await;
    assert_eq!(theirs.status, 409, "ran (and found the customer): {}", theirs.body);
    assert!(!theirs.replayed());
}

/// A keyed create, its replay and a reused key (also run on PostgreSQL).
pub(super) async fn keyed_create_replays(app: &App, key: &str) {
    let body = json!({"id": "keyed", "name": "Kay"});
    let first = app.post(key, "/api/v1/customers", Some("pg-1"), &body).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let retry = app.post(key, "/api/v1/customers", Some("pg-1"), &body).await;
    assert!(retry.replayed() && retry.body == first.body, "{}", retry.body);
    let reused = app.post(key, "/api/v1/customers", Some("pg-1"), &json!({"id": "other"})).await;
    assert_eq!(reused.json()["code"], "idempotency_key_reused");
}

#[tokio::test]
async fn batches_replay_their_report_instead_of_counting_unchanged_rows() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let items = json!({"items": [
        {"customer": "c1", "name": "signed_in", "at": "2024-03-01"},
        {"customer": "c1", "name": "viewed", "at": "2024-03-02"},
    ]});
    let first = app.post(&key, "/api/v1/events:batch", Some("batch-7"), &items).await;
    assert_eq!((first.status, first.json()["inserted"].as_u64()), (StatusCode::OK, Some(2)));
    let retry = app.post(&key, "/api/v1/events:batch", Some("batch-7"), &items).await;
    assert!(retry.replayed());
    assert_eq!(retry.json(), first.json(), "the first report, not `unchanged: 2`");
    assert_eq!(app.db.counts().await.unwrap().events, 2);
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let first = app.post(&key, "/api/v1/customers", Some("k"), &json!({"id": "c1"})).await;
    assert_eq!(first.status, 201);
    for (path, body) in [
        ("/api/v1/customers", json!({"id": "c2"})),
        ("/api/v1/feedback:batch", json!({"id": "c1"})),
    ] {
        let res = app.post(&key, path, Some("k"), &body).await;
        assert_eq!(res.status, 422, "{path}: {}", res.body);
        assert_eq!(res.headers["content-type"], "application/problem+json");
        assert_eq!(res.json()["code"], "idempotency_key_reused");
    }
    assert_eq!(app.db.counts().await.unwrap().customers, 1, "c2 was not created");
}

#[tokio::test]
async fn client_errors_are_replayed_too_and_bad_keys_are_refused() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let bad = json!({"id": "c1", "email": "not-an-email"});
    let first = app.post(&key, "/api/v1/customers", Some("e"), &bad).await;
    assert_eq!(
        (first.status, first.json()["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field"))
    );
    let retry = app.post(&key, "/api/v1/customers", Some("e"), &bad).await;
    assert!(retry.replayed() && retry.status == 422);
    assert_eq!(retry.headers["content-type"], "application/problem+json");

    for k in ["has space", &"x".repeat(256), "tab\there"] {
        let res = app.post(&key, "/api/v1/customers", Some(k), &json!({"id": "c9"})).await;
        assert_eq!(res.status, 400, "{k:?}: {}", res.body);
        assert_eq!(res.json()["code"], "invalid_idempotency_key");
    }
    let longest = "x".repeat(255);
    assert_eq!(
        app.post(&key, "/api/v1/customers", Some(&longest), &json!({"id": "c9"})).await.status,
        201
    );
    // Without credentials nothing is remembered: the usual 401.
    let res = app.post("rpk_000000000000_forged", "/api/v1/customers", Some("z"), &json!({})).await;
    assert_eq!(res.status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_run_once() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let body = json!({"id": "race", "name": "Rae"});
    let sends = (0..8).map(|_| app.post(&key, "/api/v1/customers", Some("same"), &body));
    let answers = join_all(sends.collect()).await;
    let fresh = answers.iter().filter(|a| a.status == 201 && !a.replayed()).count();
    for a in &answers {
        let ok =
            a.status == 201 || (a.status == 409 && a.json()["code"] == "idempotency_key_in_flight");
        assert!(ok, "{} {}", a.status, a.body);
        if a.status == 409 {
            assert_eq!(a.headers["retry-after"], "1");
        }
    }
    assert_eq!(fresh, 1, "exactly one ran");
    assert_eq!(app.db.counts().await.unwrap().customers, 1);
}

/// Polls every request until all are answered, so they are in flight together.
async fn join_all<F: std::future::Future<Output = Answer>>(fs: Vec<F>) -> Vec<Answer> {
    let mut pinned: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<Answer>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none()
                && let std::task::Poll::Ready(v) = f.as_mut().poll(cx)
            {
                *slot = Some(v);
            }
        }
        if out.iter().all(Option::is_some) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[tokio::test]
async fn the_openapi_document_names_the_header_on_every_post() {
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut posts = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let Some(post) = ops.get("post") else { continue };
        let params = post["parameters"].as_array().unwrap_or_else(|| panic!("{path}: {post}"));
        assert!(
            params.iter().any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
            "{path}"
        );
        posts += 1;
    }
    assert!(posts >= 4, "{posts} POST operations");
}

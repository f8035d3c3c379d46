//! Black-box tests: the real server on a random port with a fresh database (a SQLite file;
//! PostgreSQL too where `TEST_DATABASE_URL` is set), driven over HTTP.

use rapport_core::access::Role;
use rapport_server::{AppState, Settings, api, auth, pages};
use rapport_store::Backend;
use reqwest::{Client, Method, StatusCode, redirect};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::Arc;

#[path = "http/batch.rs"]
mod batch;
#[path = "http/hooks.rs"]
mod hooks;
#[path = "http/ideas.rs"]
mod ideas;
#[path = "http/idempotency.rs"]
mod idempotency;
#[path = "http/inbox.rs"]
mod inbox;
#[path = "http/journeys.rs"]
mod journeys;
#[path = "http/loyalty.rs"]
mod loyalty;
#[path = "http/personas.rs"]
mod personas;
#[path = "http/recommend.rs"]
mod recommend;
#[path = "http/records.rs"]
mod records;
#[path = "http/reports.rs"]
mod reports;
#[path = "http/scorecard.rs"]
mod scorecard;
#[path = "http/segments.rs"]
mod segments;
#[path = "http/surveys.rs"]
mod surveys;

struct App {
    base: String,
    db: Arc<dyn Backend>,
    http: Client,
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            tx.send(()).ok();
        }
    }
}

async fn start(db: Arc<dyn Backend>, dir: Option<tempfile::TempDir>) -> App {
    start_with(db, dir, Settings::default()).await
}

async fn start_with(
    db: Arc<dyn Backend>,
    dir: Option<tempfile::TempDir>,
    settings: Settings,
) -> App {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(db.clone(), settings);
    tokio::spawn(rapport_server::launch(state, listener, async {
        rx.await.ok();
    }));
    let http = Client::builder().redirect(redirect::Policy::none()).build().unwrap();
    App { base, db, http, _dir: dir, shutdown: Some(tx) }
}

async fn spawn_app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let db = rapport_store_sqlite::SqliteStore::open(dir.path().join("t.db")).unwrap();
    start(Arc::new(db), Some(dir)).await
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn key(&self, scope: &str) -> String {
        auth::create_api_key(self.db.as_ref(), "test", scope).await.unwrap().1
    }

    async fn call(
        &self,
        key: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path)).bearer_auth(key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn user(&self, login: &str, role: Role) {
        let u = auth::new_user(login, "", role.as_str(), "a long password").unwrap();
        self.db.create_user(u).await.unwrap();
    }

    /// Signs in through the form; returns the session cookie header value.
    async fn sign_in(&self, login: &str, password: &str) -> reqwest::Response {
        let form = self.http.get(self.url("/login")).send().await.unwrap();
        let cookie =
            form.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let html = form.text().await.unwrap();
        let csrf = between(&html, "name=\"csrf\" value=\"", "\"");
        self.http
            .post(self.url("/login"))
            .header("cookie", cookie)
            .form(&[
                ("login", login),
                ("password", password),
                ("csrf", &csrf),
                ("next", "/customers"),
            ])
            .send()
            .await
            .unwrap()
    }
}

fn between(s: &str, a: &str, b: &str) -> String {
    let start = s.find(a).unwrap_or_else(|| panic!("{a} not in {s}")) + a.len();
    s[start..start + s[start..].find(b).unwrap()].to_string()
}

fn session_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with(auth::SESSION_COOKIE))
        .expect("session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn health_and_metrics_are_public_and_everything_else_needs_credentials() {
    let app = spawn_app().await;
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("rapport_http_requests_total"), "{metrics}");

    // Every API operation in the OpenAPI document (which is built from the router itself).
    let doc = serde_json::to_value(api::openapi()).unwrap();
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let res =
                app.http.request(m, app.url(&path.replace("{id}", "x"))).send().await.unwrap();
            assert_eq!(res.status(), 401, "{method} {path}");
            assert_eq!(res.headers()["content-type"], "application/problem+json");
            checked += 1;
        }
    }
    assert!(checked >= 6, "walked {checked} API operations");
    let doc_res = app.http.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(doc_res.status(), 401);

    // Every page: redirected to sign-in, except the public ones.
    for (path, _) in pages::table() {
        let path = path.replace("{id}", "1");
        for m in [Method::GET, Method::POST] {
            let res = app.http.request(m.clone(), app.url(&path)).send().await.unwrap();
            let status = res.status();
            if pages::PUBLIC.contains(&path.as_str()) || status == 405 {
                continue;
            }
            assert_eq!(status, 303, "{m} {path}");
            let to = res.headers()["location"].to_str().unwrap();
            assert!(to.starts_with("/login?next="), "{m} {path} -> {to}");
        }
    }
}

#[tokio::test]
async fn read_keys_and_viewers_cannot_write() {
    let app = spawn_app().await;
    let read = app.key("read").await;
    let doc = serde_json::to_value(api::openapi()).unwrap();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys().filter(|m| *m != "get") {
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let (status, body) =
                app.call(&read, m, &path.replace("{id}", "x"), Some(json!({"id": "x"}))).await;
            assert_eq!(status, 403, "{method} {path}: {body}");
            assert_eq!(body["code"], "forbidden");
        }
    }
    // A viewer signed in through the browser: reads work, writes are refused.
    app.user("vera@example.com", Role::Viewer).await;
    let cookie = session_cookie(&app.sign_in("vera@example.com", "a long password").await);
    let page =
        app.http.get(app.url("/settings/api-keys")).header("cookie", &cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Only admins can create"), "{html}");
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"");
    let post = app
        .http
        .post(app.url("/settings/api-keys"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("name", "x"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 403);
    let api_write = app
        .http
        .post(app.url("/api/v1/customers"))
        .header("cookie", &cookie)
        .header(auth::CSRF_HEADER, &csrf)
        .json(&json!({"id": "c1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(api_write.status(), 403);
    assert!(app.db.api_keys().await.unwrap().len() == 1, "only the test's own key exists");
}

#[tokio::test]
async fn customers_crud_search_paging_and_timeline() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    let ann = json!({"id": "c1", "name": "Ann Smith", "email": "ann@example.com", "country": "DE",
        "signup_at": "2024-01-10", "birth_year": 1980, "attributes": {"tier": "gold", "seats": 3}});
    let (status, body) = app.call(&key, Method::POST, "/api/v1/customers", Some(ann.clone())).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["name"], "Ann Smith");
    assert_eq!(body["attributes"]["seats"], 3);
    assert_eq!(body["summary"]["purchase_value"], "0.00");
    let (status, body) = app.call(&key, Method::POST, "/api/v1/customers", Some(ann)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    for (id, name) in [("c2", "Bob Jones"), ("c3", "Cleo Smith")] {
        let (s, b) = app
            .call(&key, Method::POST, "/api/v1/customers", Some(json!({"id": id, "name": name})))
            .await;
        assert_eq!(s, 201, "{b}");
    }

    let (status, body) = app
        .call(&key, Method::PATCH, "/api/v1/customers/c1", Some(json!({"city": "Berlin"})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["city"].as_str(), body["name"].as_str()), (Some("Berlin"), Some("Ann Smith")));
    let (status, _) =
        app.call(&key, Method::PATCH, "/api/v1/customers/nobody", Some(json!({"city": "X"}))).await;
    assert_eq!(status, 404);

    let (_, found) = app.call(&key, Method::GET, "/api/v1/customers?q=smi&sort=-name", None).await;
    let names: Vec<_> =
        found["items"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Cleo Smith", "Ann Smith"]);
    let (_, p1) = app.call(&key, Method::GET, "/api/v1/customers?limit=2", None).await;
    let next = p1["next"].as_str().unwrap();
    let (_, p2) =
        app.call(&key, Method::GET, &format!("/api/v1/customers?limit=2&after={next}"), None).await;
    assert_eq!(p2["items"][0]["id"], "c3");
    assert!(p2["next"].is_null());

    let (status, detail) = app.call(&key, Method::GET, "/api/v1/customers/c1", None).await;
    assert_eq!(status, 200);
    assert_eq!(detail["consents"], json!([]));
    let (status, tl) = app.call(&key, Method::GET, "/api/v1/customers/c1/timeline", None).await;
    assert_eq!((status, tl["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)));

    let (status, _) = app.call(&key, Method::DELETE, "/api/v1/customers/c1", None).await;
    assert_eq!(status, 204);
    let (status, body) = app.call(&key, Method::GET, "/api/v1/customers/c1", None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_never_a_500() {
    let app = spawn_app().await;
    let key = app.key("write").await;
    // Each body is refused with 422 `invalid_field`, naming the field where there is one.
    let cases: [(Value, Option<&str>); 6] = [
        (json!({"id": "c1", "name": 5}), Some("name")),
        (json!({"id": "c1", "nmae": "x"}), None),
        (json!({"id": "c1", "email": "not-an-email"}), Some("email")),
        (json!({"name": "no id"}), Some("id")),
        (json!({"id": "c1", "birth_year": 1700}), Some("birth_year")),
        (json!([1, 2]), None),
    ];
    for (body, field) in cases {
        let (s, b) = app.call(&key, Method::POST, "/api/v1/customers", Some(body.clone())).await;
        assert_eq!(
            (s, b["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_field")),
            "{body} -> {b}"
        );
        if let Some(f) = field {
            assert_eq!(b["field"], f, "{b}");
        }
        assert!(b["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let raw = |body: &'static str, ctype: &'static str| {
        app.http
            .post(app.url("/api/v1/customers"))
            .bearer_auth(&key)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let res = raw("{\"id\": ", "application/json").await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.json::<Value>().await.unwrap()["code"], "malformed_json");
    let res = raw("{}", "text/plain").await.unwrap();
    assert_eq!(res.status(), 400);
    let huge = format!(
        "{{\"id\": \"c1\", \"name\": \"{}\"}}",
        "x".repeat(rapport_server::BODY_LIMIT + 10)
    );
    let res = app
        .http
        .post(app.url("/api/v1/customers"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    for q in
        ["limit=0", "limit=abc", "sort=height", "signup_from=yesterday", "after=zzz", "colour=red"]
    {
        let (s, b) = app.call(&key, Method::GET, &format!("/api/v1/customers?{q}"), None).await;
        assert!(s.is_client_error(), "{q}: {s} {b}");
        assert!(b["code"].is_string(), "{q}: {b}");
    }
    let (s, _) =
        app.call(&key, Method::GET, "/api/v1/customers/c1/timeline?after=nonsense", None).await;
    assert_eq!(s, 400, "query parameters are 400 `invalid_parameter`");
    let (s, b) = app.call(&key, Method::GET, "/api/v1/nothing-here", None).await;
    assert_eq!((s, b["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let (s, _) = app.call("rpk_000000000000_forged", Method::GET, "/api/v1/customers", None).await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn sign_in_session_csrf_logout_and_throttling() {
    let app = spawn_app().await;
    app.user("ann@example.com", Role::Admin).await;
    let bad = app.sign_in("ann@example.com", "wrong password").await;
    assert_eq!(bad.status(), 401);
    let ok = app.sign_in("ANN@example.com", "a long password").await;
    assert_eq!(ok.status(), 303);
    let set = ok
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>();
    let session = set.iter().find(|c| c.starts_with(auth::SESSION_COOKIE)).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    let cookie = session_cookie(&ok);
    let page = app.http.get(app.url("/customers")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    let csrf = between(&html, "name=\"csrf\" value=\"", "\"");

    // A form without the right token is refused; with it, the key is created and shown once.
    let forged = app
        .http
        .post(app.url("/settings/api-keys"))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged"), ("name", "k"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let created = app
        .http
        .post(app.url("/settings/api-keys"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str()), ("name", "crm sync"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    let html = created.text().await.unwrap();
    let key = between(&html, "<code id=\"new-key\">", "</code>");
    let (s, _) = app.call(&key, Method::GET, "/api/v1/customers", None).await;
    assert_eq!(s, 200, "the key shown works");

    let out = app
        .http
        .post(app.url("/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let after = app.http.get(app.url("/customers")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), 303, "the session ended");

    // The first wrong password above counts for this address: four more make five.
    for _ in 0..4 {
        assert_eq!(app.sign_in("ann@example.com", "guess").await.status(), 401);
    }
    let blocked = app.sign_in("ann@example.com", "a long password").await;
    assert_eq!(blocked.status(), 429, "throttled even with the right password");
    assert!(blocked.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn the_same_api_story_on_postgresql() {
    let Some(url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        std::io::stderr()
            .write_all(b"SKIPPED: TEST_DATABASE_URL not set; PostgreSQL server tests not run\n")
            .ok();
        return;
    };
    let (store, schema) =
        rapport_store_postgres::PgStore::connect_fresh_schema(&url).await.unwrap();
    let app = start(Arc::new(store.clone()), None).await;
    let key = app.key("write").await;
    let (s, b) = app
        .call(&key, Method::POST, "/api/v1/customers", Some(json!({"id": "p1", "name": "Pia"})))
        .await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = app.call(&key, Method::GET, "/api/v1/customers?q=pia", None).await;
    assert_eq!((s, b["items"][0]["id"].as_str()), (StatusCode::OK, Some("p1")));
    let lines = json!([{"order": "o1", "customer": "p1", "placed_at": "2024-01-01", "amount": "2"},
        {"order": "o1", "sku": "x", "quantity": 2, "unit_price": 1.5}]);
    assert_eq!(app.batch(&key, "orders", lines.clone()).await["inserted"], 2);
    assert_eq!(app.batch(&key, "orders", lines).await["unchanged"], 2);
    idempotency::keyed_create_replays(&app, &key).await;
    hooks::signed_feedback_arrives(&app).await;
    surveys::sent_answered_once_and_reported(&app).await;
    ideas::created_linked_ranked_and_moved(&app).await;
    segments::saved_segments_story(&app).await;
    journeys::created_computed_and_deleted(&app).await;
    loyalty::loyalty_story(&app).await;
    let (s, _) = app.call(&key, Method::DELETE, "/api/v1/customers/p1", None).await;
    assert_eq!(s, 204);
    drop(app);
    store.drop_schema(&schema).await.unwrap();
}

/// Verified keys are remembered for a few seconds (`verified::TTL`) to spare a database read
/// per request: a key revoked on the settings page stops at once, one revoked by another
/// process (the CLI) within the TTL.
#[tokio::test]
async fn revoked_keys_stop_at_once_here_and_within_seconds_elsewhere() {
    let app = spawn_app().await;
    app.user("ada@example.com", Role::Admin).await;
    let cookie = session_cookie(&app.sign_in("ada@example.com", "a long password").await);
    let key = app.key("read").await;
    let (status, _) = app.call(&key, Method::GET, "/api/v1/customers", None).await;
    assert_eq!(status, 200);
    let id = app.db.api_keys().await.unwrap()[0].id;
    let page =
        app.http.get(app.url("/settings/api-keys")).header("cookie", &cookie).send().await.unwrap();
    let csrf = between(&page.text().await.unwrap(), "name=\"csrf\" value=\"", "\"");
    let revoke = app
        .http
        .post(app.url(&format!("/settings/api-keys/{id}/revoke")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 303);
    let (status, _) = app.call(&key, Method::GET, "/api/v1/customers", None).await;
    assert_eq!(status, 401, "revoked on the settings page: refused at once");

    let other = app.key("read").await;
    let (status, _) = app.call(&other, Method::GET, "/api/v1/customers", None).await;
    assert_eq!(status, 200);
    let other_id = app.db.api_keys().await.unwrap().iter().map(|k| k.id).max().unwrap();
    app.db.revoke_api_key(other_id, chrono::Utc::now()).await.unwrap();
    tokio::time::sleep(rapport_server::verified::TTL + std::time::Duration::from_millis(100)).await;
    let (status, _) = app.call(&other, Method::GET, "/api/v1/customers", None).await;
    assert_eq!(status, 401, "revoked elsewhere: refused once the TTL has passed");
}

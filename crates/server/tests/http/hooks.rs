//! Inbound webhooks: `POST /hooks/{feedback,tickets}/{source}`, signed per source.

use super::{App, spawn_app};
use chrono::Utc;
use rapport_core::access::{HookKind, SourceName};
use rapport_server::hooks::{self, signature};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

impl App {
    /// Adds a source; returns its secret.
    async fn source(&self, kind: &str, name: &str) -> String {
        hooks::create_source(self.db.as_ref(), kind, name).await.unwrap().1
    }

    /// Delivers `body` signed with `secret` at unix time `ts`.
    async fn deliver_at(
        &self,
        path: &str,
        secret: &str,
        body: &str,
        ts: i64,
    ) -> (StatusCode, Value) {
        let ts = ts.to_string();
        let res = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .header(signature::TIMESTAMP_HEADER, &ts)
            .header(signature::SIGNATURE_HEADER, signature::sign(secret, &ts, body.as_bytes()))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = res.status();
        if status.is_client_error() {
            assert_eq!(res.headers()["content-type"], "application/problem+json");
        }
        (status, res.json().await.unwrap())
    }

    async fn deliver(&self, path: &str, secret: &str, body: &Value) -> (StatusCode, Value) {
        self.deliver_at(path, secret, &body.to_string(), Utc::now().timestamp()).await
    }

    /// The customer's timeline items of one type.
    async fn timeline_of(&self, customer: &str, kind: &str) -> Vec<Value> {
        let key = self.key("read").await;
        let path = format!("/api/v1/customers/{customer}/timeline");
        let (status, tl) = self.call(&key, Method::GET, &path, None).await;
        assert_eq!(status, 200, "{tl}");
        tl["items"].as_array().unwrap().iter().filter(|i| i["type"] == kind).cloned().collect()
    }
}

const FEEDBACK: &str = "/hooks/feedback/typeform";

/// One signed delivery and its redelivery (also run on PostgreSQL).
pub(super) async fn signed_feedback_arrives(app: &App) {
    let secret = app.source("feedback", "typeform").await;
    let item = json!({"id": "r1", "customer": {"email": "pg@example.com"}, "text": "Fast",
        "at": "2024-05-01T10:00:00Z"});
    let (status, out) = app.deliver(FEEDBACK, &secret, &item).await;
    assert_eq!((status, out["outcome"].as_str()), (StatusCode::OK, Some("inserted")), "{out}");
    let (_, again) = app.deliver(FEEDBACK, &secret, &item).await;
    assert_eq!(again["outcome"], "unchanged");
    assert_eq!(app.timeline_of("email:pg@example.com", "feedback").await.len(), 1);
    let (status, _) = app.deliver(FEEDBACK, "whsec_wrong", &item).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn signed_feedback_lands_on_the_customer_timeline_once() {
    let app = spawn_app().await;
    let secret = app.source("feedback", "typeform").await;
    let item = json!({"id": "resp-1", "customer": {"id": "c1", "name": "Ann"},
        "text": "Love the new export", "rating": 9, "at": "2024-05-01T10:00:00Z",
        "url": "https://example.com/survey"});
    let (status, out) = app.deliver(FEEDBACK, &secret, &item).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out, json!({"id": "typeform:resp-1", "customer": "c1", "outcome": "inserted"}));
    let fb = app.timeline_of("c1", "feedback").await;
    assert_eq!(fb.len(), 1);
    assert_eq!(
        (fb[0]["text"].as_str(), fb[0]["rating"].as_i64()),
        (Some("Love the new export"), Some(9))
    );
    assert_eq!(fb[0]["source"], "typeform");

    // A redelivery (a new timestamp, so a new signature) stores nothing new.
    let (status, again) = app.deliver(FEEDBACK, &secret, &item).await;
    assert_eq!((status, again["outcome"].as_str()), (StatusCode::OK, Some("unchanged")));
    assert_eq!(app.timeline_of("c1", "feedback").await.len(), 1);
    assert_eq!(app.db.counts().await.unwrap().feedback, 1);

    // Without a sender id the id is derived from the content: the same again is the same item.
    let anon = json!({"customer": {"id": "c1"}, "text": "Too slow", "at": "2024-05-02"});
    let (_, a) = app.deliver(FEEDBACK, &secret, &anon).await;
    let (_, b) = app.deliver(FEEDBACK, &secret, &anon).await;
    assert_eq!((a["id"].clone(), b["outcome"].as_str()), (b["id"].clone(), Some("unchanged")));
    assert_eq!(app.db.counts().await.unwrap().feedback, 2);

    // Without `at` an item is stamped when it arrives, and a redelivery restamps the same item.
    let undated = json!({"id": "resp-2", "customer": {"id": "c1"}, "text": "Meh"});
    let (_, a) = app.deliver(FEEDBACK, &secret, &undated).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let (_, b) = app.deliver(FEEDBACK, &secret, &undated).await;
    assert_eq!((a["outcome"].as_str(), b["outcome"].as_str()), (Some("inserted"), Some("updated")));
    assert_eq!(app.db.counts().await.unwrap().feedback, 3);

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains(r#"rapport_ingested_rows_total{kind="feedback",outcome="unchanged"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn customers_are_found_by_email_or_created_from_it() {
    let app = spawn_app().await;
    let secret = app.source("feedback", "typeform").await;
    let key = app.key("write").await;
    let crm = json!({"id": "crm-7", "name": "Bob", "email": "bob@example.com"});
    assert_eq!(app.call(&key, Method::POST, "/api/v1/customers", Some(crm)).await.0, 201);

    let by_email = json!({"customer": {"email": "BOB@Example.com"}, "text": "ok"});
    let (status, out) = app.deliver(FEEDBACK, &secret, &by_email).await;
    assert_eq!((status, out["customer"].as_str()), (StatusCode::OK, Some("crm-7")), "{out}");

    let new = json!({"customer": {"email": "Cleo@Example.com", "name": "Cleo"}, "text": "hi",
        "at": "2024-05-03"});
    let (_, out) = app.deliver(FEEDBACK, &secret, &new).await;
    assert_eq!(out["customer"], "email:cleo@example.com");
    let (_, cleo) =
        app.call(&key, Method::GET, "/api/v1/customers/email:cleo@example.com", None).await;
    assert_eq!(
        (cleo["name"].as_str(), cleo["email"].as_str()),
        (Some("Cleo"), Some("Cleo@example.com"))
    );
    let (_, again) = app.deliver(FEEDBACK, &secret, &new).await;
    assert_eq!(
        (again["customer"].as_str(), again["outcome"].as_str()),
        (Some("email:cleo@example.com"), Some("unchanged"))
    );
    assert_eq!(app.db.counts().await.unwrap().customers, 2, "Bob and Cleo, once each");

    let nobody = json!({"customer": {"name": "No One"}, "text": "hi"});
    let (status, out) = app.deliver(FEEDBACK, &secret, &nobody).await;
    assert_eq!(
        (status, out["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("customer"))
    );
}

#[tokio::test]
async fn bad_signatures_unknown_or_revoked_sources_and_stale_timestamps_get_401() {
    let app = spawn_app().await;
    let secret = app.source("feedback", "typeform").await;
    let body = json!({"customer": {"id": "c1"}, "text": "hi"}).to_string();
    let now = Utc::now().timestamp();

    let (status, wrong) = app.deliver_at(FEEDBACK, "whsec_wrong", &body, now).await;
    assert_eq!(
        (status, wrong["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_signature"))
    );
    let (_, unknown) = app.deliver_at("/hooks/feedback/nosuch", &secret, &body, now).await;
    assert_eq!(unknown, wrong, "an unknown source looks like a bad signature");
    let (_, other_kind) = app.deliver_at("/hooks/tickets/typeform", &secret, &body, now).await;
    assert_eq!(other_kind, wrong, "sources are per kind");
    let (_, bad_name) = app.deliver_at("/hooks/feedback/Not%20A%20Name", &secret, &body, now).await;
    assert_eq!(bad_name, wrong);

    // Well past the 5 minutes (the boundary itself is a unit test: here the clocks tick).
    for ts in [now - 400, now + 400] {
        let (status, stale) = app.deliver_at(FEEDBACK, &secret, &body, ts).await;
        assert_eq!(
            (status, stale["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_signature"))
        );
    }
    let unsigned = app.http.post(app.url(FEEDBACK)).body(body.clone()).send().await.unwrap();
    assert_eq!(unsigned.status(), 401);

    assert_eq!(app.deliver_at(FEEDBACK, &secret, &body, now).await.0, 200);
    let name = SourceName::parse("typeform").unwrap();
    app.db.revoke_webhook_source(HookKind::Feedback, &name, Utc::now()).await.unwrap();
    let (status, revoked) = app.deliver_at(FEEDBACK, &secret, &body, now).await;
    assert_eq!((status, revoked), (StatusCode::UNAUTHORIZED, wrong));
    assert_eq!(app.db.counts().await.unwrap().feedback, 1, "only the good delivery");
}

#[tokio::test]
async fn signed_but_malformed_or_invalid_bodies_get_4xx() {
    let app = spawn_app().await;
    let secret = app.source("feedback", "typeform").await;
    let now = Utc::now().timestamp();
    let (status, out) = app.deliver_at(FEEDBACK, &secret, "{\"text\": ", now).await;
    assert_eq!((status, out["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")));
    let cases = [
        (json!({"customer": {"id": "c1"}, "text": "x", "rating": 11}), "rating"),
        (json!({"customer": {"id": "c1"}, "text": "x", "rating": 4.5}), "rating"),
        (json!({"customer": {"id": "c1"}, "text": "x", "at": "yesterday"}), "at"),
        (json!({"customer": {"email": "nope"}, "text": "x"}), "customer.email"),
        (json!({"customer": {"id": "c1"}, "text": "  "}), "text"),
        (json!({"customer": {"id": "c1"}, "text": "x", "colour": "red"}), "body"),
    ];
    for (body, field) in cases {
        let (status, out) = app.deliver(FEEDBACK, &secret, &body).await;
        assert_eq!(status, 422, "{body} -> {out}");
        assert!(
            out["field"].as_str().is_some_and(|f| f.contains(field) || field == "body"),
            "{body} -> {out}"
        );
    }
    assert_eq!(app.db.counts().await.unwrap().customers, 0, "nothing created for refused items");
}

#[tokio::test]
async fn tickets_become_support_interactions_updated_by_later_deliveries() {
    let app = spawn_app().await;
    let secret = app.source("tickets", "zendesk").await;
    let path = "/hooks/tickets/zendesk";
    let ticket = json!({"id": "4711", "customer": {"email": "ann@example.com"},
        "subject": "Refund request", "body": "Please refund order 12", "status": "open",
        "at": "2024-05-01T09:00:00Z"});
    let (status, out) = app.deliver(path, &secret, &ticket).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        out,
        json!({"id": "zendesk:4711", "customer": "email:ann@example.com", "outcome": "inserted"})
    );
    let (_, again) = app.deliver(path, &secret, &ticket).await;
    assert_eq!(again["outcome"], "unchanged");

    let reply = json!({"id": "4711", "customer": {"email": "ann@example.com"},
        "subject": "Re: Refund request", "direction": "outbound", "at": "2024-05-01T10:00:00Z"});
    let (_, updated) = app.deliver(path, &secret, &reply).await;
    assert_eq!(updated["outcome"], "updated", "{updated}");
    let items = app.timeline_of("email:ann@example.com", "interaction").await;
    assert_eq!(items.len(), 1, "one ticket, one interaction");
    assert_eq!(
        (
            items[0]["channel"].as_str(),
            items[0]["direction"].as_str(),
            items[0]["subject"].as_str()
        ),
        (Some("support"), Some("outbound"), Some("Re: Refund request"))
    );

    for bad in [
        json!({"id": "", "customer": {"id": "c1"}, "subject": "x"}),
        json!({"id": "1", "customer": {"id": "c1"}, "subject": "x", "direction": "sideways"}),
    ] {
        let (status, out) = app.deliver(path, &secret, &bad).await;
        assert_eq!(status, 422, "{bad} -> {out}");
    }
}

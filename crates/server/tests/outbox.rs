//! The outbox end to end with real servers: notifications planned (`core::notify::plan`),
//! rendered, queued, and delivered by the worker to a real SMTP server on loopback (Python's
//! aiosmtpd) and to a real HTTP receiver; on a SQLite file, and on PostgreSQL too where
//! `TEST_DATABASE_URL` is set.

#[path = "support/smtp.rs"]
mod smtp;

#[path = "outbox/campaign.rs"]
mod campaign;

use axum::http::{HeaderMap, StatusCode};
use rapport_core::access::{HookKind, NewWebhookSource, SourceName};
use rapport_core::notify::{ConsentState, Plan, Request, plan};
use rapport_core::*;
use rapport_server::hooks::signature;
use rapport_server::outbox::templates::{Shipped, Templates, shipped};
use rapport_server::outbox::{SmtpSettings, Worker, WorkerSettings};
use rapport_store::{
    Backend, IngestOptions, OutboxQuery, OutboxStatus, RetryPolicy, RowOutcome, TimelineItem,
};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

fn at(s: &str) -> Timestamp {
    rapport_core::value::parse_timestamp(s, None).unwrap()
}

fn dark_mode() -> Shipped {
    Shipped {
        topic: "idea:12".into(),
        title: "Dark mode".into(),
        description: Some("Every page now has a dark theme.".into()),
        url: Some("https://acme.example/changelog/dark-mode".into()),
    }
}

/// Customers c1..c4: c1 and c2 consent and have addresses, c3 withdrew, c4 asked through the
/// `typeform` webhook source.
async fn customers(db: &dyn Backend) {
    let person = |c: &str, name: &str| {
        let mut p = Customer::bare(id(c));
        p.name = Some(name.into());
        p.email = Some(Email::parse(&format!("{c}@example.com")).unwrap());
        p
    };
    let rows = vec![
        person("c1", "Ann Lee"),
        person("c2", "Bo Chan"),
        person("c3", "Cy Diaz"),
        person("c4", "Di Eng"),
    ];
    db.upsert_customers(rows, &IngestOptions::default()).await.unwrap();
}

fn requests() -> Vec<Request> {
    let r = |c: &str, name: &str, f: &str, text: &str| Request {
        customer: id(c),
        name: Some(name.into()),
        email: Some(Email::parse(&format!("{c}@example.com")).unwrap()),
        feedback: id(f),
        text: Some(text.into()),
    };
    vec![
        r("c1", "Ann Lee", "f1", "Please add a dark mode, my eyes hurt at night"),
        r("c2", "Bo Chan", "f2", "Dark theme <please> & soon"),
        r("c3", "Cy Diaz", "f3", "dark mode!"),
        r("c4", "Di Eng", "typeform:88", "night mode for the app"),
    ]
}

fn consents() -> HashMap<ExternalId, ConsentState> {
    let c = |granted, day| ConsentState { granted, at: at(day) };
    [
        (id("c1"), c(true, "2026-01-01")),
        (id("c2"), c(true, "2026-01-01")),
        (id("c3"), c(false, "2026-02-03")),
        (id("c4"), c(true, "2026-01-01")),
    ]
    .into()
}

async fn queue(db: &dyn Backend, p: &Plan) -> Vec<RowOutcome> {
    let t = Templates::shipped();
    let msgs = p.messages.iter().map(|m| shipped(&t, m, &dark_mode()).unwrap()).collect();
    db.enqueue(msgs, chrono::Utc::now()).await.unwrap()
}

fn settings(smtp_url: &str, retry_base: Duration) -> WorkerSettings {
    let smtp = SmtpSettings::parse(smtp_url, "Acme <news@acme.example>").unwrap();
    WorkerSettings {
        poll: Duration::from_millis(50),
        send_timeout: Duration::from_secs(10),
        retry: RetryPolicy { max_attempts: 4, base: retry_base, cap: Duration::from_secs(5) },
        ..WorkerSettings::new(smtp)
    }
}

/// (a) One e-mail per consenting requester, personalised, on their timeline; queueing the
/// same plan again sends nothing more; a 451 is retried.
async fn emails_once_each(db: Arc<dyn Backend>) {
    let Some(python) = smtp::python() else { return };
    let dir = tempfile::tempdir().unwrap();
    // The first message is refused for now (451): retried, then delivered.
    let sink = smtp::Sink::start(&python, &dir.path().join("mail.jsonl"), 0.0, 1);
    customers(db.as_ref()).await;
    let p = plan("idea:12", &requests(), &consents(), &HashMap::new());
    let reasons: Vec<_> = p.not_notified.iter().map(|n| n.reason.to_string()).collect();
    assert_eq!(reasons, ["product updates consent withdrawn on 2026-02-03"]);
    assert_eq!(queue(db.as_ref(), &p).await, vec![RowOutcome::Inserted; 3]);

    let worker = Worker::new(db.clone(), settings(&sink.url(), Duration::ZERO)).unwrap();
    let d = worker.drain().await.unwrap();
    assert_eq!((d.attempted, d.sent), (4, 3), "three sends and one 451");
    let mail = sink.received();
    let mut to: Vec<&str> = mail.iter().map(|m| m["to"][0].as_str().unwrap()).collect();
    to.sort();
    assert_eq!(to, ["c1@example.com", "c2@example.com", "c4@example.com"]);
    let c2 = mail.iter().find(|m| m["to"][0] == "c2@example.com").unwrap();
    assert_eq!(c2["subject"], "You asked, we built it: Dark mode");
    assert_eq!(c2["from"], "news@acme.example");
    let text = c2["text"].as_str().unwrap();
    assert!(text.starts_with("Hello Bo Chan,\n"), "{text}");
    assert!(text.contains("\"Dark theme <please> & soon\""), "their words: {text}");
    assert!(text.contains("Read more: https://acme.example/changelog/dark-mode"), "{text}");
    let html = c2["html"].as_str().unwrap();
    assert!(html.contains("Dark theme &lt;please&gt; &amp; soon"), "escaped: {html}");

    // Each send is on the customer's timeline; the refused attempt counted.
    for c in ["c1", "c2", "c4"] {
        let timeline = db.timeline(&id(c), None, 10).await.unwrap();
        let sent: Vec<_> = timeline
            .iter()
            .filter_map(|i| match i {
                TimelineItem::Interaction(i) if i.direction == Direction::Outbound => Some(i),
                _ => None,
            })
            .collect();
        assert_eq!(sent.len(), 1, "{c}: {timeline:?}");
        assert_eq!(sent[0].channel, Channel::Email);
        assert_eq!(sent[0].subject.as_deref(), Some("You asked, we built it: Dark mode"));
    }
    let msgs = db.outbox_messages(&OutboxQuery::default()).await.unwrap();
    assert_eq!(msgs.iter().map(|m| m.attempts).sum::<i32>(), 4);
    assert!(msgs.iter().all(|m| m.status == OutboxStatus::Sent));

    // Planning and queueing again (the idea shipped twice?) sends nobody anything.
    assert_eq!(queue(db.as_ref(), &p).await, vec![RowOutcome::Unchanged; 3]);
    assert_eq!(worker.drain().await.unwrap().attempted, 0);
    assert_eq!(sink.received().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_go_once_to_each_consenting_requester() {
    let dir = tempfile::tempdir().unwrap();
    let db = rapport_store_sqlite::SqliteStore::open(dir.path().join("o.db")).unwrap();
    emails_once_each(Arc::new(db)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn emails_go_once_to_each_consenting_requester_on_postgres() {
    let Some(url) = database_url() else { return };
    let (db, schema) = rapport_store_postgres::PgStore::connect_fresh_schema(&url).await.unwrap();
    let outcome = tokio::spawn(emails_once_each(Arc::new(db.clone()))).await;
    db.drop_schema(&schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

fn database_url() -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty());
    if url.is_none() {
        let line = "SKIPPED: TEST_DATABASE_URL not set; PostgreSQL outbox test not run\n";
        std::io::stderr().write_all(line.as_bytes()).ok();
    }
    url
}

/// What the webhook receiver saw: when, the headers and the body of every request.
type Seen = Arc<Mutex<Vec<(Instant, HeaderMap, Vec<u8>)>>>;

/// A real HTTP receiver on loopback that answers 500 to the first `fail_first` requests.
async fn receiver(fail_first: usize) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = log.clone();
            async move {
                let mut seen = log.lock().unwrap();
                seen.push((Instant::now(), headers, body.to_vec()));
                if seen.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (url, seen)
}

/// (b) Webhooks: signed with the source's secret, with Idempotency-Key and delivery id; a 500
/// is retried after the backoff, twice as long the second time.
#[tokio::test(flavor = "multi_thread")]
async fn webhooks_are_signed_idempotent_and_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("w.db")).unwrap());
    customers(db.as_ref()).await;
    let (url, seen) = receiver(2).await;
    let source = SourceName::parse("typeform").unwrap();
    let secret = "whsec_test_outbound";
    let new =
        NewWebhookSource { kind: HookKind::Feedback, name: source.clone(), secret: secret.into() };
    db.create_webhook_source(new).await.unwrap();
    db.set_webhook_notify_url(HookKind::Feedback, &source, Some(&url)).await.unwrap();
    let urls: HashMap<String, String> = db
        .webhook_sources()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|s| Some((s.name.as_str().to_string(), s.notify_url?)))
        .collect();
    let p = plan("idea:12", &requests()[3..], &consents(), &urls);
    assert_eq!(queue(db.as_ref(), &p).await, [RowOutcome::Inserted]);

    // No SMTP is reached for webhooks: the relay's address is never dialled.
    let base = Duration::from_millis(300);
    let worker = Worker::new(db.clone(), settings("smtp://127.0.0.1:9", base)).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.outbox_counts(None).await.unwrap().sent == 0 {
        assert!(Instant::now() < deadline, "not delivered in 10 s");
        worker.drain().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "two 500s, then 204");
    let (gap1, gap2) = (seen[1].0 - seen[0].0, seen[2].0 - seen[1].0);
    assert!(gap1 >= base && gap2 >= base * 2, "backoff {gap1:?} then {gap2:?}");
    let bodies: Vec<&Vec<u8>> = seen.iter().map(|s| &s.2).collect();
    let first: Value = serde_json::from_slice(bodies[0]).unwrap();
    for (_, headers, body) in seen.iter() {
        assert_eq!(headers["idempotency-key"], "idea:12:customer:c4");
        let ts = headers[signature::TIMESTAMP_HEADER].to_str().unwrap();
        assert!(signature::verify(secret, ts, body, headers), "signed with the source's secret");
        let v: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(v["delivery_id"], first["delivery_id"], "the same delivery each time");
    }
    assert_eq!(first["idempotency_key"], "idea:12:customer:c4");
    assert_eq!(first["data"]["event"], "shipped");
    assert_eq!(first["data"]["customer"]["id"], "c4");
    assert_eq!(first["data"]["asked"][0], "night mode for the app");
    assert_eq!(first["data"]["feedback"][0], "typeform:88");
    let m = &db.outbox_messages(&OutboxQuery::default()).await.unwrap()[0];
    assert_eq!((m.status, m.attempts), (OutboxStatus::Sent, 3));
    let timeline = db.timeline(&id("c4"), None, 10).await.unwrap();
    assert!(
        timeline
            .iter()
            .any(|i| matches!(i, TimelineItem::Interaction(i) if i.channel == Channel::Webhook)),
        "{timeline:?}"
    );
}

/// A webhook whose source was revoked has nothing to be signed with: failed, not sent.
#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_source_fails_its_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("r.db")).unwrap());
    customers(db.as_ref()).await;
    let (url, seen) = receiver(0).await;
    let urls: HashMap<_, _> = [("typeform".to_string(), url)].into();
    let p = plan("idea:12", &requests()[3..], &consents(), &urls);
    queue(db.as_ref(), &p).await;
    let worker = Worker::new(db.clone(), settings("smtp://127.0.0.1:9", Duration::ZERO)).unwrap();
    worker.drain().await.unwrap();
    assert!(seen.lock().unwrap().is_empty());
    let m = &db.outbox_messages(&OutboxQuery::default()).await.unwrap()[0];
    assert_eq!(m.status, OutboxStatus::Failed);
    assert!(m.last_error.as_deref().unwrap().contains("'typeform' is unknown or revoked"));
}

/// A customer erased while their e-mail is being sent: the worker goes on, and the erasure
/// stands (marking the send does not bring the customer or the message back).
#[tokio::test(flavor = "multi_thread")]
async fn erasure_during_a_send_stands() {
    let Some(python) = smtp::python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let sink = smtp::Sink::start(&python, &dir.path().join("mail.jsonl"), 0.5, 0);
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("e.db")).unwrap());
    customers(db.as_ref()).await;
    let p = plan("idea:12", &requests()[..1], &consents(), &HashMap::new());
    queue(db.as_ref(), &p).await;
    let worker = Worker::new(db.clone(), settings(&sink.url(), Duration::ZERO)).unwrap();
    let send = tokio::spawn(async move { worker.run_next().await });
    // Claimed: the sink takes half a second over it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while db.outbox_counts(None).await.unwrap().sending == 0 {
        assert!(Instant::now() < deadline, "never claimed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    db.delete_customer(&id("c1")).await.unwrap();
    let ran = send.await.unwrap().unwrap();
    assert!(matches!(ran, rapport_server::outbox::Ran::Done(_, OutboxStatus::Sent)), "{ran:?}");
    assert_eq!(sink.received().len(), 1);
    assert!(db.outbox_messages(&OutboxQuery::default()).await.unwrap().is_empty());
    assert!(db.customer(&id("c1")).await.is_err(), "not re-created by the interaction");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_skips_the_unconsenting_holds_out_and_measures_its_lift() {
    let dir = tempfile::tempdir().unwrap();
    let db = rapport_store_sqlite::SqliteStore::open(dir.path().join("c.db")).unwrap();
    campaign::campaign_story(Arc::new(db)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_end_to_end_on_postgres() {
    let Some(url) = database_url() else { return };
    let (db, schema) = rapport_store_postgres::PgStore::connect_fresh_schema(&url).await.unwrap();
    let outcome = tokio::spawn(campaign::campaign_story(Arc::new(db.clone()))).await;
    db.drop_schema(&schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

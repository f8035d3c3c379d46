//! `rapport outbox work` killed mid-batch and restarted sends nobody a second e-mail: the real
//! binary against a real SQLite file (and a PostgreSQL schema where `TEST_DATABASE_URL` is
//! set) and a real (slow) SMTP server on loopback.

#[path = "../../server/tests/support/smtp.rs"]
mod smtp;

use rapport_core::{Customer, Email, ExternalId};
use rapport_store::{Backend, IngestOptions, NewMessage, OutboxChannel, OutboxQuery, OutboxStatus};
use rapport_store_postgres::PgStore;
use rapport_store_sqlite::SqliteStore;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const MESSAGES: usize = 60;

fn rapport(db: impl AsRef<OsStr>, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rapport"));
    c.arg("--db").arg(db).args(args);
    c
}

fn worker(db: &OsStr, smtp_url: &str) -> Command {
    let args =
        ["outbox", "work", "--once", "--smtp-url", smtp_url, "--mail-from", "news@acme.example"];
    let mut c = rapport(db, &args);
    // A short send timeout, so the send the kill interrupted is judged abandoned soon.
    c.args(["--send-timeout", "1", "--retry-base", "0.1"]);
    c
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

async fn queue(db: &dyn Backend) {
    let customers = (0..MESSAGES)
        .map(|i| {
            let mut c = Customer::bare(ExternalId::parse(&format!("c{i}")).unwrap());
            c.email = Some(Email::parse(&format!("c{i}@example.com")).unwrap());
            c
        })
        .collect();
    db.upsert_customers(customers, &IngestOptions::default()).await.unwrap();
    let msgs = (0..MESSAGES)
        .map(|i| NewMessage {
            dedupe_key: format!("kill:customer:c{i}"),
            customer: ExternalId::parse(&format!("c{i}")).unwrap(),
            channel: OutboxChannel::Email,
            recipient: format!("c{i}@example.com"),
            source: None,
            subject: format!("Message {i}"),
            body: format!("Hello c{i}"),
            html: None,
            topic: "kill".into(),
        })
        .collect();
    db.enqueue(msgs, chrono::Utc::now()).await.unwrap();
}

fn wait_for(child: &mut Child, what: &str, deadline: Duration) {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < deadline, "{what} still running after {deadline:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn status(db: &OsStr) -> Value {
    serde_json::from_str(&ok(rapport(db, &["outbox", "status", "--format", "json"])
        .output()
        .unwrap()))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_batch_and_restarted_sends_no_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kill.db");
    let store = SqliteStore::open(&path).unwrap();
    killed_and_restarted(path.as_os_str(), &store, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_killed_mid_batch_and_restarted_sends_no_duplicate_on_postgres() {
    let Some(url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        let line = "SKIPPED: TEST_DATABASE_URL not set; PostgreSQL outbox kill test not run\n";
        std::io::stderr().write_all(line.as_bytes()).ok();
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (store, schema) = PgStore::connect_fresh_schema(&url).await.unwrap();
    // The binary works in the test's schema through the connection's search_path.
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let run = {
        let (store, dir) = (store.clone(), dir.path().to_path_buf());
        tokio::spawn(async move { killed_and_restarted(OsStr::new(&db), &store, &dir).await })
    };
    let outcome = run.await;
    store.drop_schema(&schema).await.unwrap();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn killed_and_restarted(db: &OsStr, store: &dyn Backend, dir: &Path) {
    let Some(python) = smtp::python() else { return };
    queue(store).await;
    // 50 ms per message: the batch takes about three seconds, so the kill lands inside it.
    let sink = smtp::Sink::start(&python, &dir.join("mail.jsonl"), 0.05, 0);

    let mut first = worker(db, &sink.url()).spawn().unwrap();
    let start = Instant::now();
    while sink.received().len() < 15 {
        assert!(start.elapsed() < Duration::from_secs(30), "the worker sends nothing");
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap(); // SIGKILL: no chance to finish the send in flight
    first.wait().unwrap();
    let at_kill = sink.received().len();
    assert!(at_kill < MESSAGES, "the kill landed after the batch ({at_kill})");

    // Restart until nothing is queued or in flight (the interrupted send is judged abandoned
    // once it is older than twice the send timeout).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut again = worker(db, &sink.url()).spawn().unwrap();
        wait_for(&mut again, "the restarted worker", Duration::from_secs(60));
        let counts = &status(db)["counts"];
        if counts["queued"] == 0 && counts["sending"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the queue did not drain: {counts}");
        std::thread::sleep(Duration::from_millis(500));
    }

    let received = sink.received();
    let mut per_recipient: BTreeMap<String, usize> = BTreeMap::new();
    for m in &received {
        *per_recipient.entry(m["to"][0].as_str().unwrap().to_string()).or_default() += 1;
    }
    let twice: Vec<_> = per_recipient.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "e-mailed twice: {twice:?}");
    assert!(received.len() > at_kill, "the restarted worker sent the rest");

    let q = OutboxQuery { limit: 1000, ..OutboxQuery::default() };
    let all = store.outbox_messages(&q).await.unwrap();
    assert_eq!(all.len(), MESSAGES);
    let recipients = |s: OutboxStatus| -> BTreeSet<String> {
        all.iter().filter(|m| m.status == s).map(|m| m.recipient.clone()).collect()
    };
    let (sent, unknown) = (recipients(OutboxStatus::Sent), recipients(OutboxStatus::Unknown));
    assert_eq!(sent.len() + unknown.len(), MESSAGES, "every message is sent or unknown");
    assert!(unknown.len() <= 1, "at most the one in flight is unknown: {unknown:?}");
    let got: BTreeSet<String> = per_recipient.keys().cloned().collect();
    assert!(sent.is_subset(&got), "every message marked sent was received");
    assert!(got.difference(&sent).all(|r| unknown.contains(r)), "received but not sent: unknown");
    assert_eq!(sent.len(), got.difference(&unknown).count(), "sent = distinct received");

    // The operator sees the unknown one and may requeue it; a sent one cannot be.
    let listed = status(db);
    assert_eq!(listed["counts"]["sent"], sent.len());
    assert_eq!(listed["attention"].as_array().unwrap().len(), unknown.len());
    if let Some(m) = listed["attention"].as_array().unwrap().first() {
        assert_eq!(m["status"], "unknown");
        let id = m["id"].to_string();
        ok(rapport(db, &["outbox", "requeue", &id]).output().unwrap());
        assert_eq!(status(db)["counts"]["queued"], 1);
    }
    let sent_id = all.iter().find(|m| m.status == OutboxStatus::Sent).unwrap().id.to_string();
    let refused = rapport(db, &["outbox", "requeue", &sent_id]).output().unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("only unknown or failed"));
}

#[test]
fn the_worker_names_missing_settings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let out = rapport(&db, &["outbox", "work", "--once"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--smtp-url"));
    let out =
        rapport(&db, &["outbox", "work", "--smtp-url", "smtp://127.0.0.1:1"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("--mail-from"));
}

/// `rapport serve --smtp-url ...` runs the worker beside the server, and stops both on SIGTERM.
#[tokio::test(flavor = "multi_thread")]
async fn the_server_runs_the_worker_when_given_a_relay() {
    let Some(python) = smtp::python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("serve.db");
    queue(&SqliteStore::open(&db).unwrap()).await;
    let sink = smtp::Sink::start(&python, &dir.path().join("mail.jsonl"), 0.0, 0);
    let url = sink.url();
    let args = ["serve", "--addr", "127.0.0.1:0", "--smtp-url", &url, "--poll", "0.1"];
    let mut server =
        rapport(&db, &args).env("RAPPORT_MAIL_FROM", "news@acme.example").spawn().unwrap();
    let start = Instant::now();
    while sink.received().len() < MESSAGES {
        assert!(start.elapsed() < Duration::from_secs(60), "{} sent", sink.received().len());
        std::thread::sleep(Duration::from_millis(50));
    }
    let term = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(term.success());
    wait_for(&mut server, "the server after SIGTERM", Duration::from_secs(20));
    assert_eq!(status(db.as_os_str())["counts"]["sent"], MESSAGES);
    assert_eq!(sink.received().len(), MESSAGES, "nothing more after the last");
}

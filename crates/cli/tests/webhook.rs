//! Black-box: `rapport webhook add|list|revoke` on a fresh SQLite file.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rapport(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["--db", "w.db"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("rapport runs")
}

fn ok(out: Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn webhook_sources_are_added_listed_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let added = ok(rapport(
        d,
        &["webhook", "add", "--kind", "feedback", "--source", "typeform", "--format", "json"],
    ));
    let added: Value = serde_json::from_str(&added).unwrap();
    assert_eq!(added["path"], "/hooks/feedback/typeform");
    assert!(added["secret"].as_str().is_some_and(|s| s.starts_with("whsec_") && s.len() > 40));

    let table = rapport(d, &["webhook", "add", "--kind", "tickets", "--source", "zendesk"]);
    let secret = ok(table.clone());
    assert!(secret.trim().starts_with("whsec_"), "the secret alone on stdout: {secret}");
    assert!(String::from_utf8_lossy(&table.stderr).contains("POST /hooks/tickets/zendesk"));

    let again = rapport(d, &["webhook", "add", "--kind", "feedback", "--source", "typeform"]);
    assert!(!again.status.success(), "a live source of that name exists");
    let bad = rapport(d, &["webhook", "add", "--kind", "feedback", "--source", "Type Form"]);
    assert!(!bad.status.success());

    ok(rapport(d, &["webhook", "revoke", "feedback", "typeform"]));
    assert!(!rapport(d, &["webhook", "revoke", "feedback", "nosuch"]).status.success());
    let listed: Value =
        serde_json::from_str(&ok(rapport(d, &["webhook", "list", "--format", "json"]))).unwrap();
    let rows: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["kind"].as_str().unwrap(), s["name"].as_str().unwrap(), s["revoked_at"].is_null())
        })
        .collect();
    assert_eq!(rows, [("feedback", "typeform", false), ("tickets", "zendesk", true)]);
    assert!(!listed.to_string().contains("whsec_"), "secrets are never listed");
    assert!(ok(rapport(d, &["webhook", "list"])).contains("/hooks/tickets/zendesk"));
}

#[test]
fn notify_urls_are_checked_set_listed_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = rapport(
        d,
        &["webhook", "add", "--kind", "feedback", "--source", "tf", "--notify-url", "ftp://x"],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--notify-url"), "names the flag");
    let listed = ok(rapport(d, &["webhook", "list", "--format", "json"]));
    assert_eq!(listed.trim(), "[]", "a refused URL creates no source");

    let url = "http://127.0.0.1:9/notify";
    let args = ["webhook", "add", "--kind", "feedback", "--source", "tf", "--notify-url", url];
    ok(rapport(d, &args));
    let notify = |d: &Path| -> Value {
        let listed: Value =
            serde_json::from_str(&ok(rapport(d, &["webhook", "list", "--format", "json"])))
                .unwrap();
        listed[0]["notify_url"].clone()
    };
    assert_eq!(notify(d), url);
    let https = rapport(d, &["webhook", "notify-url", "feedback", "tf", "https://tf.example/n"]);
    assert!(String::from_utf8_lossy(&https.stderr).contains("http:// only"), "warned");
    ok(https);
    assert_eq!(notify(d), "https://tf.example/n");
    ok(rapport(d, &["webhook", "notify-url", "feedback", "tf", "--clear"]));
    assert!(notify(d).is_null());
    assert!(!rapport(d, &["webhook", "notify-url", "feedback", "nosuch", url]).status.success());
}

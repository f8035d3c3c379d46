//! `rapport segment preview`: count, share and sample as JSON over a real SQLite file, and a
//! mistyped filter pointed at with exit status 2.

use std::path::Path;
use std::process::{Command, Output};

fn rapport(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("rapport runs")
}

#[test]
fn preview_counts_and_samples_the_members_and_points_at_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let csv = dir.path().join("customers.csv");
    let rows = "id,name,email,country\nc1,Ann Lee,ann@example.com,DE\nc2,Bo Ek,bo@example.com,SE\n\
                c3,Cy Roe,cy@example.com,AT\nc4,Di Fox,,DE\n";
    std::fs::write(&csv, rows).unwrap();
    let out = rapport(&db, &["import", "customers", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let filter = r#"country in ("DE", "AT") and email is not null"#;
    let out = rapport(&db, &["segment", "preview", filter, "--format", "json", "--limit", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["count"].as_u64(), v["customers"].as_u64()), (Some(2), Some(4)), "{v}");
    assert_eq!(v["share"].as_f64(), Some(0.5));
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(0));
    let sample = v["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 1, "--limit 1");
    assert_eq!(sample[0]["id"], "c1");
    assert_eq!(sample[0]["name"], "Ann Lee");
    assert_eq!(sample[0]["email"], "ann@example.com");
    assert_eq!(sample[0]["country"], "DE");
    assert!(v["load_ms"].is_u64() && v["eval_ms"].is_u64());

    let out = rapport(&db, &["segment", "preview", r#"contry = "DE""#]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean `country`") && err.contains("^^^^^^"), "{err}");

    let out = rapport(&db, &["segment", "preview", r#"country = "SE""#]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("1 of 4 customers (25.0%)"), "{table}");
    assert!(table.contains("Bo Ek"), "{table}");

    let out = rapport(&db, &["segment", "preview", "id = \"c1\"", "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2), "a bad --now is a usage error");
    let out = rapport(&db, &["segment", "preview", "id = \"c1\"", "--now", "2024-03-31"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("1 of 4"));
}

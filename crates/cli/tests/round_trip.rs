//! Black-box: everything `rapport export` writes, `rapport import` reads back to the same data,
//! in both formats, on the demo company (which uses every kind and field).

use std::path::Path;
use std::process::Command;

fn rapport(dir: &Path, db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["--db", db])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("rapport runs");
    assert!(out.status.success(), "rapport {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

const KINDS: [&str; 8] = [
    "companies",
    "customers",
    "products",
    "orders",
    "events",
    "interactions",
    "feedback",
    "consents",
];

#[test]
fn export_then_import_reproduces_every_kind_in_csv_and_jsonl() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rapport(d, "a.db", &["demo", "--customers", "400", "--seed", "7", "--no-serve"]);
    for (format, db) in [("csv", "b.db"), ("jsonl", "c.db")] {
        for kind in KINDS {
            let file = format!("{kind}.{format}");
            rapport(d, "a.db", &["export", kind, "--format", format, "--out", &file]);
            let r = rapport(d, db, &["import", kind, &file, "--format", "json"]);
            let r: serde_json::Value = serde_json::from_str(&r).unwrap();
            assert_eq!(r["rejected"], 0, "{kind} {format}: {r}");
            assert!(r["inserted"].as_u64().unwrap() > 0, "{kind} {format}: nothing exported? {r}");
            let again = format!("{kind}.again.{format}");
            rapport(d, db, &["export", kind, "--format", format, "--out", &again]);
            let (a, b) =
                (std::fs::read(d.join(&file)).unwrap(), std::fs::read(d.join(&again)).unwrap());
            assert!(a == b, "{kind} {format} differs after export -> import -> export");
        }
        let sa = rapport(d, "a.db", &["report", "summary", "--format", "json"]);
        let sb = rapport(d, db, &["report", "summary", "--format", "json"]);
        assert_eq!(sa, sb, "{format}");
        rapport(d, db, &["check"]);
    }
}

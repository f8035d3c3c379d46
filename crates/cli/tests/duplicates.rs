//! `rapport duplicates` and `rapport bench duplicates`: groups, line numbers, formats and
//! errors, on small files.

use serde_json::Value;
use std::process::{Command, Output};

fn rapport(dir: &std::path::Path, file: &str, body: &str, args: &[&str]) -> Output {
    let path = dir.join(file);
    std::fs::write(&path, body).unwrap();
    let (command, rest) = args.split_first().unwrap();
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(command.split(' '))
        .arg(&path)
        .args(rest)
        .output()
        .expect("rapport runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The line numbers of each group.
fn lines(doc: &Value) -> Vec<Vec<u64>> {
    let groups = doc["groups"].as_array().unwrap();
    groups
        .iter()
        .map(|g| g.as_array().unwrap().iter().map(|m| m["line"].as_u64().unwrap()).collect())
        .collect()
}

const LINES: &str = "\
Great product, fast delivery!
great product
bad product
Não recebi o produto e ninguém responde
great product fast delivery

nao recebi o produto e ninguem responde!!
GREAT PRODUCT, FAST DELIVERY
";

#[test]
fn one_text_per_line_groups_by_line_number_largest_first() {
    let dir = tempfile::tempdir().unwrap();
    let doc = json(&rapport(dir.path(), "t.txt", LINES, &["duplicates", "--format", "json"]));
    assert_eq!(doc["texts"], 8);
    assert_eq!(doc["grouped_texts"], 5);
    assert_eq!(lines(&doc), vec![vec![1, 5, 8], vec![4, 7]]);
    let first = &doc["groups"][1][0];
    assert_eq!(first["text"], "Não recebi o produto e ninguém responde");
    assert_eq!(first["jaccard"], 1.0);
}

#[test]
fn the_table_says_how_many_groups_and_shows_each_text() {
    let dir = tempfile::tempdir().unwrap();
    let out = rapport(dir.path(), "t.txt", LINES, &["duplicates"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "2 groups of near-duplicates among 8 texts (5 texts in groups; Jaccard ≥ 0.8)\n"
        ),
        "{text}"
    );
    assert!(text.contains("nao recebi o produto e ninguem responde!!"), "{text}");
    assert!(!text.contains("bad product"), "texts without duplicates are not listed: {text}");
    let none = rapport(dir.path(), "n.txt", "one\ntwo\n", &["duplicates"]);
    let none = String::from_utf8(none.stdout).unwrap();
    assert_eq!(
        none,
        "0 groups of near-duplicates among 2 texts (0 texts in groups; Jaccard ≥ 0.8)\n"
    );
}

#[test]
fn a_column_of_a_csv_with_quoted_line_breaks_reports_the_line_each_row_starts_on() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "id,text\n\
        1,\"Produto chegou antes do prazo,\nmuito bem embalado. Recomendo!\"\n\
        2,ok\n\
        3,produto chegou antes do prazo muito bem embalado recomendo\n";
    let doc = json(&rapport(
        dir.path(),
        "f.csv",
        csv,
        &["duplicates", "--column", "text", "--format", "json"],
    ));
    assert_eq!(lines(&doc), vec![vec![2, 5]]);
    let tsv = "a\tthe box arrived damaged and late\nb\tThe box arrived damaged, and late.\n";
    let doc = json(&rapport(
        dir.path(),
        "f.tsv",
        tsv,
        &["duplicates", "--column", "2", "--no-header", "--delimiter", "tab", "--format", "json"],
    ));
    assert_eq!(lines(&doc), vec![vec![1, 2]]);
}

#[test]
fn the_threshold_decides_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    // One changed word in 13: word-pair Jaccard 10/14 = 0.71.
    let body = "the parcel came two days late and the box was badly damaged inside\n\
                the parcel came three days late and the box was badly damaged inside\n";
    let strict = json(&rapport(dir.path(), "t.txt", body, &["duplicates", "--format", "json"]));
    assert_eq!(lines(&strict), Vec::<Vec<u64>>::new());
    let loose = rapport(
        dir.path(),
        "t.txt",
        body,
        &["duplicates", "--threshold", "0.6", "--format", "json"],
    );
    assert_eq!(lines(&json(&loose)), vec![vec![1, 2]]);
    let out = rapport(dir.path(), "t.txt", body, &["duplicates", "--threshold", "1.5"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--threshold: must be in (0, 1]"), "{err}");
}

#[test]
fn the_benchmark_reports_each_stage() {
    let dir = tempfile::tempdir().unwrap();
    let body: String = (0..300)
        .map(|i| format!("customer {} says the order {} was late\n", i % 40, i % 7))
        .collect();
    let doc = json(&rapport(dir.path(), "t.txt", &body, &["bench duplicates", "--probes", "30"]));
    assert_eq!(doc["texts"], 300);
    assert_eq!(doc["index_build"]["items"], 270, "the probes are held out of the build");
    assert_eq!(doc["new_item"]["probes"], 30);
    assert!(doc["new_item"]["total_us"]["p99"].as_f64().unwrap() > 0.0);
    assert!(doc["clusters"]["groups"].as_u64().unwrap() > 0);
    // Texts i and i + 280 are the same: 20 pairs, each in one group.
    assert_eq!(doc["clusters"]["all_pairs"]["pairs"], 20);
    assert_eq!(doc["clusters"]["all_pairs"]["in_one_group"], 20);
    let out = rapport(dir.path(), "t.txt", &body, &["bench duplicates", "--probes", "300"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("need more than --probes 300"));
}

//! `rapport themes` and `rapport bench themes`: small inline corpora written to temporary
//! files, and the real review sets in ../shared/data when present.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rapport(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport")).args(args).output().expect("rapport runs")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&stdout(out)).unwrap()
}

/// 600 rows, six planted topics, texts with commas and quotes (CSV), a few blank.
fn corpus(dir: &Path) -> PathBuf {
    let topics = [
        ["The battery life is short", "battery life could be better", "poor battery life"],
        [
            "late delivery again",
            "the courier was late, late delivery",
            "late delivery, box damaged",
        ],
        ["great customer service", "customer service answered fast", "customer service was rude"],
        ["the \"screen\" cracked", "screen cracked in a week", "cracked screen"],
        ["refund denied", "still waiting for my refund", "refund took a month"],
        ["app crashes", "the app crashes on login", "app crashes daily"],
    ];
    let filler =
        ["honestly", "overall", "we bought it in May", "my son says", "at home", "for work"];
    let mut csv = String::from("id,text\n");
    for i in 0..600 {
        let text = if i % 50 == 0 {
            String::new()
        } else {
            format!("{}, {}.", filler[(i / 7) % filler.len()], topics[i % 6][(i / 6) % 3])
        };
        csv.push_str(&format!("{i},\"{}\"\n", text.replace('"', "\"\"")));
    }
    let path = dir.join("feedback.csv");
    std::fs::write(&path, csv).unwrap();
    path
}

#[test]
fn themes_of_a_csv_column_name_the_planted_topics() {
    let dir = tempfile::tempdir().unwrap();
    let file = corpus(dir.path());
    let f = file.to_str().unwrap();
    let args = ["themes", f, "--column", "text", "--format", "json", "--top", "30"];
    let out = json(&rapport(&args));
    assert_eq!(out["texts"], 588, "blank texts are skipped");
    let themes = out["themes"].as_array().unwrap();
    // With more themes than topics a topic comes out split (by its wordings), each part pure.
    for phrase in ["battery life", "late delivery", "customer service", "refund", "screen"] {
        let named: Vec<&Value> =
            themes.iter().filter(|t| t["label"].as_str().unwrap().contains(phrase)).collect();
        let size: u64 = named.iter().map(|t| t["size"].as_u64().unwrap()).sum();
        assert!(size >= 80, "{phrase}: {size} texts in {named:?}");
        for theme in named {
            let examples = theme["examples"].as_array().unwrap();
            assert!((1..=3).contains(&examples.len()), "distinct texts, at most 3");
            for e in examples {
                let row = e["row"].as_u64().unwrap() as usize;
                assert!(e["text"].as_str().unwrap().to_lowercase().contains(phrase), "{e}");
                assert_ne!(row % 50, 1, "rows count every data row, blank ones too");
            }
            assert_eq!(theme["id"].as_str().unwrap().len(), 16);
        }
    }
    // The same run again gives the same themes; the table says the same in words.
    let again = json(&rapport(&args));
    assert_eq!(again, out);
    let table = stdout(&rapport(&["themes", f, "--column", "2", "--top", "2"]));
    assert!(table.starts_with("588 texts, "), "{table}");
    assert!(table.contains(" 1. ") && table.contains(" 2. ") && !table.contains(" 3. "), "{table}");
    assert!(table.contains("    phrases: "), "{table}");
}

#[test]
fn bench_themes_times_discovery_and_assignment() {
    let dir = tempfile::tempdir().unwrap();
    let file = corpus(dir.path());
    let out = json(&rapport(&["bench", "themes", file.to_str().unwrap(), "--column", "text"]));
    assert_eq!(out["texts"], 588);
    assert!(out["themes"].as_u64().unwrap() >= 3, "{out}");
    assert!(out["discovery_seconds"].as_f64().unwrap() > 0.0);
    assert!(out["assign_us_per_text"].as_f64().unwrap() > 0.0);
    assert_eq!(out["assign_same_as_discovery"], 1.0, "assignment agrees with discovery");
}

#[test]
fn bad_parameters_are_refused_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = corpus(dir.path());
    let out = rapport(&["themes", file.to_str().unwrap(), "--column", "text", "--themes", "0"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--themes: must be 1..=1000"), "{err}");
    let out = rapport(&["themes", file.to_str().unwrap(), "--column", "body"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the header has no such column (id, text)")
    );
}

fn data(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIPPED: {} not found; real-data test not run", p.display());
        None
    }
}

fn labels(out: &Value) -> Vec<String> {
    out["themes"].as_array().unwrap().iter().map(|t| t["label"].as_str().unwrap().into()).collect()
}

#[test]
fn olist_reviews_have_delivery_and_praise_themes_in_portuguese() {
    let Some(file) = data("olist/sample_8135_orders/olist_order_reviews_dataset.csv") else {
        return;
    };
    let f = file.to_str().unwrap();
    let out =
        json(&rapport(&["themes", f, "--column", "review_comment_message", "--format", "json"]));
    assert_eq!(out["texts"], 4109, "non-blank messages, newlines inside quotes included");
    let labels = labels(&out);
    for phrase in ["não recebi", "antes do prazo", "recomendo"] {
        assert!(labels.iter().any(|l| l.contains(phrase)), "{phrase}: {labels:?}");
    }
}

#[test]
fn amazon_snippets_have_product_themes() {
    let Some(file) = data("vader_groundtruth/amazonReviewSnippets_GroundTruth.txt") else {
        return;
    };
    let f = file.to_str().unwrap();
    let args =
        ["themes", f, "--column", "3", "--no-header", "--delimiter", "tab", "--format", "json"];
    let out = json(&rapport(&args));
    assert_eq!(out["texts"], 3708);
    let labels = labels(&out);
    for phrase in ["phone", "dvd player", "easy"] {
        assert!(labels.iter().any(|l| l.contains(phrase)), "{phrase}: {labels:?}");
    }
}

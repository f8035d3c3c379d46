//! Black-box: `rapport report rfm|repeat|retention|churn|health|nps|csat|ces` on a small imported history whose
//! answers are worked out by hand.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn rapport(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rapport"))
        .args(["--db", "r.db"])
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

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&ok(rapport(dir, &all))).unwrap()
}

/// a: Jan, Feb, Mar (two orders on one Jan day). b: Jan only. c: Feb, then a return in Mar.
/// d: Mar. Purchase months: Jan {a, b}, Feb {a, c}, Mar {a, d}.
const ORDERS: &str = "order,customer,placed_at,quantity,unit_price
o1,a,2024-01-05T10:00:00Z,1,10
o2,a,2024-01-05T12:00:00Z,1,10
o3,a,2024-02-07T10:00:00Z,2,10
o4,a,2024-03-30T10:00:00Z,1,40
o5,b,2024-01-20T10:00:00Z,1,5
o6,c,2024-02-02T10:00:00Z,1,30
o7,c,2024-03-03T10:00:00Z,-1,30
o8,d,2024-03-15T10:00:00Z,1,70
";

#[test]
fn reports_on_a_small_history_give_the_hand_worked_answers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("orders.csv"), ORDERS).unwrap();
    ok(rapport(d, &["import", "orders", "orders.csv"]));

    let repeat = json(d, &["report", "repeat"]);
    assert_eq!((repeat["buyers"].as_u64(), repeat["repeat_buyers"].as_u64()), (Some(4), Some(1)));

    // Jan -> Feb: a stayed, b left. Feb -> Mar: a stayed, c left (a return is no purchase).
    let churn = json(d, &["report", "churn", "--as-of", "2024-03-31"]);
    let months: Vec<(String, u64, u64)> = churn["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["month"].as_str().unwrap().to_string(),
                r["active_at_start"].as_u64().unwrap(),
                r["churned"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(months, [("2024-02-01".into(), 2, 1), ("2024-03-01".into(), 2, 1)]);

    // By default the report ends with the month of the last purchase (2024-03-30).
    let default = json(d, &["report", "churn"]);
    assert_eq!(
        (default["as_of"].as_str(), default["rows"].as_array().unwrap().len()),
        (Some("2024-03-30"), 2)
    );

    // Cohorts: Jan {a, b}: a in Feb and Mar. Feb {c}: not in Mar. Mar {d}.
    let csv = ok(rapport(d, &["report", "retention", "--as-of", "2024-03-31", "--format", "csv"]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "cohort,customers,m0,m1,m2");
    assert_eq!(
        &lines[1..],
        ["2024-01,2,1.000,0.500,0.500", "2024-02,1,1.000,0.000,", "2024-03,1,1.000,,"]
    );

    // RFM as of the day after the last purchase (2024-03-31): recency a 1, d 16, c 58, b 71.
    // R = 1 + floor(5 x share of buyers with more days): 4, 3, 2, 1 (four buyers: none has 5).
    let rfm = json(d, &["report", "rfm", "--by-customer"]);
    assert_eq!(rfm["as_of"], "2024-03-31");
    let rows = rfm["rows"].as_array().unwrap();
    let got: Vec<(&str, i64, i64, &str, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["customer_external_id"].as_str().unwrap(),
                r["recency_days"].as_i64().unwrap(),
                r["frequency"].as_i64().unwrap(),
                r["monetary"].as_str().unwrap(),
                r["r_score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a", 1, 4, "80.00", 4),
            ("b", 71, 1, "5.00", 1),
            ("c", 58, 1, "30.00", 2),
            ("d", 16, 1, "70.00", 3)
        ]
    );
    // CSV is one row per buyer, with the documented header; --segments gives the summary.
    let csv = ok(rapport(d, &["report", "rfm", "--format", "csv"]));
    let header =
        "customer_external_id,recency_days,frequency,monetary,r_score,f_score,m_score,segment";
    assert!(csv.starts_with(&format!("{header}\n")), "{csv}");
    assert!(csv.contains("\na,1,4,80.00,4,"), "{csv}");
    let csv = ok(rapport(d, &["report", "rfm", "--format", "csv", "--segments"]));
    assert!(csv.starts_with("segment,customers,share,"), "{csv}");
    let segments = json(d, &["report", "rfm"]);
    let total: u64 =
        segments["rows"].as_array().unwrap().iter().map(|r| r["customers"].as_u64().unwrap()).sum();
    assert_eq!(total, 4, "every buyer in exactly one segment");

    // Health: every buyer scored, the bands add up, and the CSV lists every customer with
    // --all. A weight that does not exist is refused by name.
    let health = json(d, &["report", "health", "--all"]);
    assert_eq!(health["scored"].as_u64(), Some(4));
    let bands: u64 =
        health["bands"].as_array().unwrap().iter().map(|b| b["customers"].as_u64().unwrap()).sum();
    assert_eq!(bands, 4);
    let csv = ok(rapport(d, &["report", "health", "--all", "--format", "csv"]));
    assert!(csv.starts_with("customer,name,health,band,predicted_value,value_at_risk"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let bad = rapport(d, &["report", "health", "--weight", "loyalty=2"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown health weight 'loyalty'"));

    let bad = rapport(d, &["report", "churn", "--as-of", "2024-02-30"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a YYYY-MM-DD date"));
}

#[test]
fn satisfaction_reports_score_their_source_per_period_with_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // NPS: January 10, 9, 8, 0 (2 promoters, 1 detractor of 4: 25); February 3 (-100).
    // A CSAT rating is another source and not counted.
    let csv = "id,customer,source,rating,created_at
f1,a,nps,10,2024-01-03
f2,b,nps,9,2024-01-04
f3,c,nps,8,2024-01-20
f4,d,nps,0,2024-01-31
f5,a,nps,3,2024-02-02
f6,b,csat,5,2024-02-02
";
    std::fs::write(d.join("feedback.csv"), csv).unwrap();
    ok(rapport(d, &["import", "feedback", "feedback.csv"]));
    let nps = json(d, &["report", "nps"]);
    let overall = &nps["overall"];
    // All five: 2 promoters, 2 detractors: 0.
    assert_eq!((overall["score"].as_f64(), overall["responses"].as_u64()), (Some(0.0), Some(5)));
    assert!(overall["low"].as_f64().unwrap() < 0.0 && overall["high"].as_f64().unwrap() > 0.0);
    let periods: Vec<(String, f64)> = nps["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["start"].as_str().unwrap().into(), p["estimate"]["score"].as_f64().unwrap()))
        .collect();
    assert_eq!(periods, [("2024-01-01".into(), 25.0), ("2024-02-01".into(), -100.0)]);
    let csat = json(d, &["report", "csat", "--period", "quarter"]);
    assert_eq!(csat["overall"]["score"].as_f64(), Some(100.0));
    assert_eq!(csat["overall"]["distribution"], serde_json::json!([0, 0, 0, 0, 1]));
    let ces = json(d, &["report", "ces"]);
    assert!(ces["overall"].is_null() && ces["periods"] == serde_json::json!([]));
    // Per RFM segment: nobody bought, so there are no segments to score by.
    let by = rapport(d, &["report", "nps", "--by-segment"]);
    assert!(String::from_utf8_lossy(&by.stderr).contains("no purchases to report on"));
    let table = ok(rapport(d, &["report", "nps", "--source", "csat"]));
    assert!(table.contains("all"), "{table}");
}

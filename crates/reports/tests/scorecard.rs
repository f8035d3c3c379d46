//! The scorecard on a real SQLite file with a small company whose figures can be worked out
//! by hand: every goal's series over the last complete periods, its latest value and status.

use chrono::NaiveDate;
use rapport_analytics::scorecard::{GoalSpec, Status};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_reports::ReportError;
use rapport_reports::scorecard::{self, Params};
use rapport_store::story::{group, id, line_row, ts};
use rapport_store::{IngestOptions, ScorecardStore, Store};
use rapport_store_sqlite::SqliteStore;

/// `steady` buys for 20 on the 10th of every month, January to June 2024; `fading` buys for
/// 1,000 in January and February; `once` buys for 30 on 20 June, the last purchase. NPS:
/// 3 in February, 2 in May, 10 on 21 June.
async fn company(s: &dyn Store) {
    let mut rows: Vec<_> = (1..=6)
        .map(|m| line_row(&format!("s{m}"), "steady", &format!("2024-0{m}-10 10:00"), "p", 1, "20"))
        .collect();
    rows.push(line_row("f1", "fading", "2024-01-05 10:00", "p", 10, "100"));
    rows.push(line_row("f2", "fading", "2024-02-05 10:00", "p", 10, "100"));
    rows.push(line_row("o1", "once", "2024-06-20 10:00", "p", 1, "30"));
    s.ingest_orders(group(rows), &IngestOptions::default()).await.unwrap();
    let rating = |n: &str, who: &str, r: i16, at: &str| FeedbackRow {
        id: id(n),
        customer: CustomerRef::Id(id(who)),
        source: "nps".into(),
        text: None,
        rating: Some(r),
        created_at: ts(at),
    };
    let feedback = vec![
        rating("r1", "steady", 3, "2024-02-01 10:00"),
        rating("r2", "fading", 2, "2024-05-01 10:00"),
        rating("r3", "once", 10, "2024-06-21 10:00"),
    ];
    s.ingest_feedback(feedback, &IngestOptions::default()).await.unwrap();
}

async fn goal(s: &SqliteStore, metric: &str, target: f64, period: &str) {
    let spec = GoalSpec {
        metric: metric.into(),
        target: Some(target),
        period: Some(period.into()),
        owner: "Ana".into(),
        ..GoalSpec::default()
    };
    s.create_goal(&spec.check().unwrap(), None, ts("2024-01-01")).await.unwrap();
}

fn params(periods: usize, as_of: Option<NaiveDate>) -> Params {
    Params { as_of, periods, ..Params::new(ts("2024-07-01")) }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_goal_measured_over_the_last_complete_periods() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("rapport.db")).unwrap();
    company(&s).await;
    let empty = scorecard::scorecard(&s, &params(3, None)).await.unwrap();
    assert!(empty.goals.is_empty());
    goal(&s, "revenue", 20.0, "month").await;
    goal(&s, "churn", 0.0, "month").await;
    goal(&s, "nps", 0.0, "month").await;
    goal(&s, "clv", 1_100.0, "month").await;
    goal(&s, "retention", 30.0, "month").await;
    goal(&s, "loyalty_liability", 1_000.0, "month").await;
    goal(&s, "orders", 6.0, "quarter").await;
    goal(&s, "repeat_rate", 100.0, "month").await;
    goal(&s, "active_customers", 2.0, "quarter").await;

    // The last purchase is on 20 June, so May is the last complete month and Q1 the last
    // complete quarter.
    let card = scorecard::scorecard(&s, &params(3, None)).await.unwrap();
    assert_eq!(card.as_of, NaiveDate::from_ymd_opt(2024, 6, 20).unwrap());
    let got: Vec<(&str, Vec<Option<f64>>, Status)> = card
        .goals
        .iter()
        .map(|g| {
            let values = g.series.iter().map(|p| p.value.map(|v| (v * 100.0).round() / 100.0));
            (g.record.goal.metric.name(), values.collect(), g.status)
        })
        .collect();
    let want: Vec<(&str, Vec<Option<f64>>, Status)> = vec![
        ("revenue", vec![Some(20.0), Some(20.0), Some(20.0)], Status::OnTrack),
        // March: of {steady, fading} active in February, fading did not buy.
        ("churn", vec![Some(50.0), Some(0.0), Some(0.0)], Status::OnTrack),
        // One detractor in May; nobody answered in March or April.
        ("nps", vec![None, None, Some(-100.0)], Status::OffTrack),
        // (5 × 20 + 2,000) / 2 buyers by the end of May: 1,050, within 5% of 1,100.
        ("clv", vec![Some(1_030.0), Some(1_040.0), Some(1_050.0)], Status::AtRisk),
        // Every buyer's first purchase was in January: no cohort in February, March or April.
        ("retention", vec![None, None, None], Status::NoData),
        // No loyalty programme.
        ("loyalty_liability", vec![None], Status::NoData),
        // Q3 and Q4 2023 had no orders; Q1 2024 had steady's three and fading's two.
        ("orders", vec![Some(0.0), Some(0.0), Some(5.0)], Status::OffTrack),
        ("repeat_rate", vec![Some(100.0), Some(100.0), Some(100.0)], Status::OnTrack),
        ("active_customers", vec![Some(0.0), Some(0.0), Some(2.0)], Status::OnTrack),
    ];
    assert_eq!(got, want);
    let labels: Vec<&str> = card.goals[0].series.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(labels, ["2024-03", "2024-04", "2024-05"]);
    assert_eq!(card.goals[6].latest.as_ref().unwrap().label, "2024-Q1");
    let customer = card.of(rapport_analytics::scorecard::Perspective::Customer).count();
    assert_eq!(customer, 5, "churn, nps, clv, retention and repeat rate");

    // As of the end of June, June is complete: steady's 20 and once's 30.
    let june = scorecard::scorecard(&s, &params(1, NaiveDate::from_ymd_opt(2024, 6, 30))).await;
    let june = june.unwrap();
    assert_eq!(june.goals[0].series[0].value, Some(50.0));
    assert_eq!(june.goals[2].series[0].value, Some(100.0), "one promoter in June");

    let err = scorecard::scorecard(&s, &params(0, None)).await.unwrap_err();
    assert!(matches!(err, ReportError::Invalid { field: "periods", .. }), "{err:?}");
}

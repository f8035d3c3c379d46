use super::*;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()
}

fn days_ago(d: i64) -> DateTime<Utc> {
    now() - chrono::Duration::days(d)
}

fn asker(revenue: f64) -> Requester {
    Requester {
        revenue,
        predicted_clv: 0.0,
        segment: None,
        segment_weight: 1.0,
        requested_at: days_ago(1),
        sentiment: None,
    }
}

fn usage(active: u64, used: u64) -> Usage {
    Usage { active, events: vec![("export_pdf".into(), used)], window_days: 90 }
}

fn s(kind: IdeaKind, rs: &[Requester], u: Option<&Usage>) -> Priority {
    score(kind, rs, u, now(), &Params::default())
}

#[test]
fn more_valuable_requesters_rank_higher() {
    let cheap = s(IdeaKind::New, &[asker(0.0), asker(50.0)], None);
    let rich = s(IdeaKind::New, &[asker(5_000.0), asker(20_000.0)], None);
    assert!(rich.score > cheap.score, "{} vs {}", rich.score, cheap.score);
    // Predicted value counts like revenue.
    let clv = Requester { predicted_clv: 900.0, ..asker(0.0) };
    assert!((Params::default().value(&clv) - 2.0).abs() < 1e-12);
}

#[test]
fn distinct_customers_outweigh_one_large_customer() {
    let many: Vec<Requester> = (0..10).map(|_| asker(100.0)).collect();
    let whale = [asker(1_000_000.0)];
    assert!(s(IdeaKind::New, &many, None).score > s(IdeaKind::New, &whale, None).score);
}

#[test]
fn recency_counts_fully_for_30_days_then_halves_every_90() {
    let p = Params::default();
    let at = |d| p.recency(&Requester { requested_at: days_ago(d), ..asker(0.0) }, now());
    assert_eq!(at(0), 1.0);
    assert_eq!(at(30), 1.0);
    assert!((at(120) - 0.5).abs() < 1e-12);
    assert!((at(210) - 0.25).abs() < 1e-12);
    let old = s(IdeaKind::New, &[Requester { requested_at: days_ago(300), ..asker(0.0) }], None);
    let fresh = s(IdeaKind::New, &[asker(0.0)], None);
    assert!(old.score < fresh.score / 4.0, "{} vs {}", old.score, fresh.score);
}

#[test]
fn strong_sentiment_either_way_weighs_more() {
    let p = Params::default();
    let with = |v| p.intensity(&Requester { sentiment: Some(v), ..asker(0.0) });
    assert_eq!(p.intensity(&asker(0.0)), 1.0);
    assert!((with(-0.8) - 1.4).abs() < 1e-12);
    assert_eq!(with(-0.8), with(0.8));
}

#[test]
fn segment_weights_multiply_each_requester() {
    let champion =
        Requester { segment: Some("champions".into()), segment_weight: 1.5, ..asker(0.0) };
    let a = s(IdeaKind::New, &[champion], None).score;
    let b = s(IdeaKind::New, &[asker(0.0)], None).score;
    assert!((a / b - 1.5).abs() < 1e-12);
}

#[test]
fn low_usage_lowers_improve_ideas_only() {
    let rs = [asker(100.0), asker(200.0)];
    let little = usage(1000, 40);
    let plain = s(IdeaKind::Improve, &rs, None).score;
    let improve = s(IdeaKind::Improve, &rs, Some(&little));
    assert!((improve.score / plain - 0.6).abs() < 1e-12, "{}", improve.score / plain);
    let usage_line = &improve.components.iter().find(|c| c.name == "usage").unwrap().explanation;
    assert_eq!(
        usage_line,
        "only 4% of active customers use `export_pdf`: an improve idea on a little-used \
         feature is weighted ×0.6"
    );
    // A new capability is not lowered by the same data, and common usage lowers nothing.
    assert_eq!(s(IdeaKind::New, &rs, Some(&little)).score, plain);
    assert_eq!(s(IdeaKind::Improve, &rs, Some(&usage(1000, 300))).score, plain);
    // Of several related events the most used one counts.
    let two = Usage { events: vec![("a".into(), 10), ("b".into(), 60)], ..usage(1000, 0) };
    assert!((s(IdeaKind::Improve, &rs, Some(&two)).score / plain - 0.7).abs() < 1e-12);
    // Nobody active: no data, no penalty.
    assert_eq!(s(IdeaKind::Improve, &rs, Some(&usage(0, 0))).score, plain);
}

#[test]
fn the_explanation_names_customers_and_their_value() {
    let rs = [
        Requester { predicted_clv: 18_000.0, ..asker(40_000.0) },
        Requester { predicted_clv: 900.4, ..asker(1_200.0) },
    ];
    let p = s(IdeaKind::New, &rs, None);
    assert_eq!(p.customers, 2);
    let names: Vec<&str> = p.components.iter().map(|c| c.name).collect();
    assert_eq!(names, ["customers", "value", "recency", "sentiment", "segment", "usage"]);
    assert_eq!(
        p.components[0].explanation,
        "2 distinct customers asked, worth 41,200 in revenue and 18,900 predicted CLV"
    );
    assert!(p.components[2].explanation.starts_with(
        "requests in the last 30 days count fully, older ones decay with a 90-day half-life"
    ));
}

#[test]
fn nobody_asked_scores_zero() {
    let p = s(IdeaKind::Improve, &[], Some(&usage(10, 1)));
    assert_eq!((p.score, p.customers), (0.0, 0));
}

#[test]
fn thousands_groups_digits() {
    assert_eq!(thousands(0.4), "0");
    assert_eq!(thousands(999.6), "1,000");
    assert_eq!(thousands(1_234_567.0), "1,234,567");
    assert_eq!(thousands(-41_200.0), "-41,200");
}

/// Regression: a BG/NBD fit on two buyers predicted an infinite value, which made the score
/// (and its JSON) null.
#[test]
fn non_finite_inputs_count_as_unknown() {
    let broken =
        Requester { predicted_clv: f64::INFINITY, sentiment: Some(f64::NAN), ..asker(300.0) };
    let p = s(IdeaKind::New, &[broken], None);
    let plain = s(IdeaKind::New, &[asker(300.0)], None);
    assert!(p.score.is_finite() && (p.score - plain.score).abs() < 1e-12, "{}", p.score);
    assert!(p.components.iter().all(|c| c.value.is_finite()));
    assert_eq!(
        p.components[0].explanation,
        "1 customer asked, worth 300 in revenue and 0 predicted CLV"
    );
}

//! Health, satisfaction and lifetime-value reports on a real SQLite file with a small company whose figures
//! can be worked out by hand.

use rapport_analytics::health::Band;
use rapport_analytics::rfm::Segment;
use rapport_analytics::satisfaction::Scale;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{Channel, Direction, Interaction};
use rapport_reports::{ReportError, clv, health, satisfaction};
use rapport_store::story::{group, id, line_row, ts};
use rapport_store::{IngestOptions, Store};
use rapport_store_sqlite::SqliteStore;

/// - `steady` buys every month from January to June 2024 and last rated CSAT 5.
/// - `fading` bought big in January and February, rated NPS 2 in May and had four support
///   tickets since April (all within 90 days of the as-of day, 2024-06-21).
/// - `once` bought once, on 20 June.
async fn company(s: &dyn Store) {
    let mut rows = Vec::new();
    for m in 1..=6 {
        rows.push(line_row(
            &format!("s{m}"),
            "steady",
            &format!("2024-0{m}-10 10:00"),
            "p",
            1,
            "20",
        ));
    }
    rows.push(line_row("f1", "fading", "2024-01-05 10:00", "p", 10, "100"));
    rows.push(line_row("f2", "fading", "2024-02-05 10:00", "p", 10, "100"));
    rows.push(line_row("o1", "once", "2024-06-20 10:00", "p", 1, "30"));
    s.ingest_orders(group(rows), &IngestOptions::default()).await.unwrap();
    let rating = |n: &str, who: &str, source: &str, r: i16, at: &str| FeedbackRow {
        id: id(n),
        customer: CustomerRef::Id(id(who)),
        source: source.into(),
        text: None,
        rating: Some(r),
        created_at: ts(at),
    };
    let feedback = vec![
        rating("r1", "steady", "nps", 3, "2024-02-01 10:00"),
        rating("r2", "steady", "csat", 5, "2024-06-11 10:00"),
        rating("r3", "fading", "nps", 2, "2024-05-01 10:00"),
        rating("r4", "once", "nps", 10, "2024-06-21 10:00"),
        FeedbackRow {
            text: Some("Today SUX!".into()),
            rating: None,
            ..rating("w1", "fading", "email", 0, "2024-06-01 10:00")
        },
        FeedbackRow {
            text: Some("The book was good.".into()),
            rating: None,
            ..rating("w2", "steady", "email", 0, "2024-02-01 10:00")
        },
    ];
    s.ingest_feedback(feedback, &IngestOptions::default()).await.unwrap();
    let tickets = ["2024-04-01", "2024-05-01", "2024-06-01", "2024-06-15"]
        .iter()
        .enumerate()
        .map(|(n, day)| Interaction {
            id: id(&format!("t{n}")),
            customer: id("fading"),
            channel: Channel::Support,
            direction: Direction::Inbound,
            subject: None,
            body: Some("still broken".into()),
            at: ts(&format!("{day} 09:00")),
        })
        .collect();
    s.ingest_interactions(tickets, &IngestOptions::default()).await.unwrap();
}

fn fresh() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("rapport.db")).unwrap();
    (dir, store)
}

#[tokio::test]
async fn health_scores_rank_the_fading_customer_at_risk_and_weights_are_honoured() {
    let (_d, s) = fresh();
    company(&s).await;
    let all = health::Params { top: None, ..Default::default() };
    let r = health::report(&s, &all).await.unwrap();
    assert_eq!(r.as_of.to_string(), "2024-06-21", "the day after the last purchase");
    assert_eq!(r.scored, 3);
    assert_eq!(r.histogram.iter().sum::<u64>(), 3);
    assert_eq!(r.bands.iter().map(|b| b.customers).sum::<u64>(), 3);
    let by = |who: &str| r.customers.iter().find(|c| c.customer.as_str() == who).unwrap();
    let (steady, fading) = (by("steady"), by("fading"));
    assert!(steady.score > 70.0 && fading.score < 40.0, "{steady:?}\n{fading:?}");
    assert_eq!((steady.band, fading.band), (Band::Healthy, Band::AtRisk));
    // Four tickets in the 90-day window, half load 2: 2 / (2 + 4).
    assert_eq!(fading.components.support, Some(1.0 / 3.0));
    assert_eq!(fading.components.satisfaction, Some(0.2), "NPS 2 of 10");
    assert_eq!(steady.components.satisfaction, Some(1.0), "the later CSAT 5, not the NPS 3");
    // Sentiment of the feedback in the window, on 0..1: "Today SUX!" is -0.5461.
    assert_eq!(fading.components.sentiment, Some((1.0 - 0.5461) / 2.0));
    assert_eq!(steady.components.sentiment, None, "its feedback is before the window");
    assert!(
        (fading.value_at_risk - fading.predicted_value * fading.churn_risk).abs() < 1e-9,
        "{fading:?}"
    );

    // The default list: at-risk customers only, by value at risk.
    let top = health::report(&s, &health::Params::default()).await.unwrap();
    let listed: Vec<&str> = top.customers.iter().map(|c| c.customer.as_str()).collect();
    assert_eq!(listed, ["fading"]);

    // Satisfaction alone: the score is the latest rating on 0..100.
    let mut only = all.clone();
    for name in rapport_analytics::health::Weights::NAMES {
        only.config.weights.set(name, if name == "satisfaction" { 1.0 } else { 0.0 }).unwrap();
    }
    let r = health::report(&s, &only).await.unwrap();
    let scores: Vec<(String, f64)> = r
        .customers
        .iter()
        .map(|c| (c.customer.to_string(), (c.score * 1e6).round() / 1e6))
        .collect();
    assert!(
        scores.contains(&("steady".into(), 100.0)) && scores.contains(&("fading".into(), 20.0))
    );
    assert!(scores.contains(&("once".into(), 100.0)), "{scores:?}");

    let early = health::Params { as_of: Some("2024-03-01".parse().unwrap()), ..all };
    let err = health::report(&s, &early).await.unwrap_err();
    assert!(
        matches!(err, ReportError::Invalid { field: "as_of", ref reason } if reason.contains("2024-06-20")),
        "{err}"
    );
}

#[tokio::test]
async fn satisfaction_within_and_per_rfm_segment() {
    let (_d, s) = fresh();
    company(&s).await;
    let mut p = satisfaction::Params::new(Scale::Nps);
    let all = satisfaction::report(&s, &p).await.unwrap();
    // 3 (detractor), 2 (detractor), 10 (promoter): (1 − 2) / 3.
    let overall = all.overall.unwrap();
    assert_eq!(overall.responses, 3);
    assert!((overall.score - -100.0 / 3.0).abs() < 1e-9);
    assert!(all.by_segment.is_none());

    // As of 2024-06-21, three buyers score 1 + ⌊5 × worse / 3⌋: once (1 day, 1 order) R 4 F 1
    // is promising, steady (11 days, 6 orders) R 2 F 4 is at risk, fading (137 days,
    // 2 orders) R 1 F 2 is hibernating.
    p.by_segment = true;
    let per = satisfaction::report(&s, &p).await.unwrap().by_segment.unwrap();
    let got: Vec<(Segment, f64)> = per.iter().map(|e| (e.segment, e.estimate.score)).collect();
    let want =
        [(Segment::Promising, 100.0), (Segment::AtRisk, -100.0), (Segment::Hibernating, -100.0)];
    assert_eq!(got, want);

    p.by_segment = false;
    p.segment = Some(Segment::Promising);
    let new = satisfaction::report(&s, &p).await.unwrap();
    assert_eq!(new.overall.as_ref().unwrap().responses, 1);
    assert_eq!((new.overall.unwrap().score, new.segment), (100.0, Some(Segment::Promising)));
}

#[tokio::test]
async fn lifetime_value_from_summaries_equals_lifetime_value_from_purchase_days() {
    let (_d, s) = fresh();
    let mut rows = Vec::new();
    // Forty customers with 1 to 5 purchase days each, spread over 2023, some days twice.
    for c in 0..40 {
        for k in 0..=(c % 5) {
            let day = 1 + (c * 7 + k * 37) % 360;
            let at = chrono::NaiveDate::from_yo_opt(2023, day as u32).unwrap();
            let id = format!("o{c}-{k}");
            rows.push(line_row(
                &id,
                &format!("c{c}"),
                &format!("{at} 10:00"),
                "p",
                1,
                &format!("{}", 5 + c),
            ));
            if k == 1 {
                rows.push(line_row(
                    &format!("{id}b"),
                    &format!("c{c}"),
                    &format!("{at} 15:00"),
                    "p",
                    2,
                    "3",
                ));
            }
        }
    }
    s.ingest_orders(group(rows), &IngestOptions::default()).await.unwrap();
    let quick = clv::report(&s, &clv::Params::default()).await.unwrap();
    let end = quick.calibration_end;
    let explicit = clv::Params { calibration_end: Some(end), ..Default::default() };
    let from_days = clv::report(&s, &explicit).await.unwrap();
    assert_eq!(quick.customers, 40);
    assert_eq!(quick.bgnbd.params, from_days.bgnbd.params);
    assert_eq!(quick.bgnbd.log_likelihood, from_days.bgnbd.log_likelihood);
    assert_eq!(
        quick.gamma_gamma.as_ref().map(|g| g.params),
        from_days.gamma_gamma.map(|g| g.params)
    );
    assert_eq!(quick.expected_value, from_days.expected_value);
}

/// Feedback about two planted topics (late deliveries, a great mobile app) among one-off
/// remarks: each topic comes out as a theme with its quotes, the late deliveries negative.
#[tokio::test(flavor = "multi_thread")]
async fn themes_of_stored_feedback() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(dir.path().join("t.db")).unwrap();
    assert!(matches!(
        rapport_reports::themes::report(&s, &Default::default()).await,
        Err(ReportError::NoData(_))
    ));
    let late = [
        "My delivery was late again",
        "The delivery was late and the box was damaged",
        "Late delivery, nobody called me",
        "Delivery late by two weeks, terrible",
        "Why is my delivery always late?",
    ];
    let app = [
        "The mobile app is great",
        "Great mobile app, I use it daily",
        "Love the mobile app, great design",
        "The mobile app is great and fast",
        "Such a great mobile app",
    ];
    // Enough else that neither topic's words are in a quarter of all texts (stop words).
    let other = [
        "Invoice address changed",
        "Can I get a catalogue",
        "Thanks for the flowers",
        "Where do I find the manual",
        "Opening hours on Sunday?",
        "Is there a student discount",
        "Please update my phone number",
        "Do you ship to Norway",
        "My password reset mail",
        "Gift wrapping option please",
        "Can I pay by bank transfer",
        "Lost my receipt",
        "Which size should I order",
        "Is the shop open at Easter",
        "Add a wishlist feature",
    ];
    let mut rows = Vec::new();
    for round in 0..8 {
        for (k, t) in late.iter().chain(&app).chain(&other).enumerate() {
            rows.push(FeedbackRow {
                id: id(&format!("f{round}-{k}")),
                customer: CustomerRef::Id(id(&format!("c{k}"))),
                source: "review".into(),
                text: Some(format!("{t} ({round})")),
                rating: None,
                created_at: ts(&format!("2024-0{}-0{} 10:00", 1 + round % 6, 1 + k % 9)),
            });
        }
    }
    s.ingest_feedback(rows, &IngestOptions::default()).await.unwrap();
    let r = rapport_reports::themes::report(&s, &Default::default()).await.unwrap();
    assert_eq!(r.items, 200);
    let find = |word: &str| r.themes.iter().find(|t| t.phrases.iter().any(|p| p.contains(word)));
    let late = find("late").expect("a late-delivery theme");
    let app = find("mobile").expect("a mobile-app theme");
    assert_ne!(late.id, app.id);
    // With more themes asked for than topics, a topic may split into a few themes (k is
    // fixed): count all of a topic's themes.
    let items = |word: &str| -> usize {
        r.themes
            .iter()
            .filter(|t| t.phrases.iter().any(|p| p.contains(word)))
            .map(|t| t.items)
            .sum()
    };
    assert!(
        items("late") >= 20 && items("mobile") >= 30,
        "{} / {}",
        items("late"),
        items("mobile")
    );
    assert!(late.sentiment < 0.0 && app.sentiment > 0.3, "{} / {}", late.sentiment, app.sentiment);
    assert!(
        late.examples.iter().all(|e| e.text.to_lowercase().contains("late")),
        "{:?}",
        late.examples
    );
    let again = rapport_reports::themes::report(&s, &Default::default()).await.unwrap();
    assert_eq!(
        again.themes.iter().map(|t| &t.id).collect::<Vec<_>>(),
        r.themes.iter().map(|t| &t.id).collect::<Vec<_>>(),
        "stable ids"
    );
}

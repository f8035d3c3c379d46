use super::*;
use rapport_store_sqlite::SqliteStore;

#[tokio::test]
async fn demo_is_complete_deterministic_and_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path().join("d.db")).unwrap();
    let b = SqliteStore::open(dir.path().join("e.db")).unwrap();
    let stats = build(&a, 300, 42).await.unwrap();
    build(&b, 300, 42).await.unwrap();
    assert_eq!(stats.customers, 300);
    assert!(stats.orders > 0 && stats.events > 0 && stats.feedback > 0, "{stats:?}");

    let c = a.counts().await.unwrap();
    assert_eq!(c, b.counts().await.unwrap(), "same seed, same company");
    assert_eq!((c.customers, c.companies, c.products), (300, 60, 80));
    let kinds = [c.orders, c.order_lines, c.events, c.interactions, c.feedback, c.consents];
    assert!(kinds.iter().all(|&n| n > 0), "{c:?}");
    assert!(c.return_orders > 0 && c.cancelled_orders > 0, "{c:?}");
    assert!(a.verify_summaries().await.unwrap().is_empty());

    // Surveys: the NPS survey went to the consenting customers and a third answered.
    use rapport_store::SurveyStore;
    let surveys = a.surveys().await.unwrap();
    assert_eq!(surveys.len(), 2);
    let nps = surveys.iter().find(|s| s.survey.id.as_str() == "nps-2026-q3").unwrap();
    assert!(
        nps.invited > 50 && nps.responses > nps.invited / 5,
        "{} of {}",
        nps.responses,
        nps.invited
    );
    let other = b.survey(&nps.survey.id).await.unwrap();
    assert_eq!((other.invited, other.responses), (nps.invited, nps.responses), "same seed");
    assert!(stats.survey_responses as i64 > nps.responses);

    // Feedback analysed, ideas backed by evidence, one shipped with its requesters told.
    let i = &stats.ideas;
    assert!(i.themed > 0 && i.ideas == 6 && i.linked > 0, "{i:?}");
    assert!(i.told > 0 && i.not_notified > 0, "some consent to product updates, some not: {i:?}");
    let topic = rapport_server::outbox::announce::topic(1);
    let counts = rapport_store::OutboxStore::outbox_counts(&a, Some(&topic)).await.unwrap();
    assert_eq!(counts.sent as usize, i.told, "every told requester's message is recorded sent");

    // The scorecard's statuses are mixed, and the report the page shows agrees with them.
    let [on, risk, off] = stats.scorecard;
    assert!(on > 0 && risk > 0 && off > 0, "{:?}", stats.scorecard);
    let params = rapport_reports::scorecard::Params::new(today());
    let card = rapport_reports::scorecard::scorecard(&a, &params).await.unwrap();
    let count = |s| card.goals.iter().filter(|g| g.status == s).count();
    use rapport_analytics::scorecard::Status;
    assert_eq!(
        [count(Status::OnTrack), count(Status::AtRisk), count(Status::OffTrack)],
        [on, risk, off]
    );
    let other = rapport_reports::scorecard::scorecard(&b, &params).await.unwrap();
    let targets = |c: &rapport_reports::scorecard::Scorecard| -> Vec<f64> {
        c.goals.iter().map(|g| g.record.goal.target).collect()
    };
    assert_eq!(targets(&card), targets(&other), "same seed, same goals");
}

#[tokio::test]
async fn demo_segments_are_saved_with_members() {
    use rapport_store::SegmentStore;
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path().join("d.db")).unwrap();
    let stats = build(&a, 600, 42).await.unwrap();
    let saved = a.saved_segments().await.unwrap();
    assert_eq!(saved.len(), stats.segments);
    for s in &saved {
        let size = s.size.unwrap_or(0);
        // Each is a real part of the company: someone, but not everyone.
        assert!(size > 0 && size < 600, "{}: {size} of 600", s.spec.name);
        assert_eq!(a.segment_history(&s.slug).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn demo_campaign_is_finished_with_a_visible_lift() {
    use rapport_reports::campaigns::{Stage, results};
    use rapport_store::CampaignStore;
    let dir = tempfile::tempdir().unwrap();
    let a = SqliteStore::open(dir.path().join("d.db")).unwrap();
    let stats = build(&a, 2_000, 42).await.unwrap();
    let (treated, held, extra) = stats.campaign;
    assert!(treated > 100 && held > 20 && extra > 0, "{:?}", stats.campaign);
    let all = a.campaigns().await.unwrap();
    assert_eq!(all.len(), 2, "a finished campaign and a draft");
    let sent = all.iter().find(|c| c.sent_at.is_some()).unwrap();
    let r = results(&a, sent.id, today()).await.unwrap();
    assert_eq!(r.stage, Stage::Finished);
    assert_eq!(r.outbox.sent as u64, treated, "every treated customer's message recorded sent");
    let lift = r.overall.unwrap().lift.unwrap();
    assert!(lift.absolute > 0.0, "the treatment bought more: {lift:?}");
    let effect = campaigns::EFFECT;
    assert!(lift.ci_low < effect + 0.02, "the interval reaches the simulated effect: {lift:?}");
}

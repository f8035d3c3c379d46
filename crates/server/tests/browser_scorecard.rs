//! The Scorecard page in a real browser (headless Chromium through chromedriver): a year of a
//! small company's purchases and NPS answers, seven goals whose targets are set from the
//! measured values so that some are on track, some at risk and some off track, grouped by
//! perspective with a sparkline each. The screenshot is `scorecard.png`.

use fantoccini::Locator;
use rapport_analytics::scorecard::{Goal, GoalSpec, Status};
use rapport_core::access::Role;
use rapport_core::record::{CustomerRef, FeedbackRow, OrderRow};
use rapport_core::{Currency, Customer, ExternalId, Money, OrderLine};
use rapport_reports::scorecard::{self, Params};
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, IngestOptions, OrderGroup};
use std::sync::Arc;

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

fn at(y: i32, m: u32, d: u32) -> rapport_core::Timestamp {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(y, m, d, 12, 0, 0).unwrap()
}

fn order(n: usize, k: usize, y: i32, m: u32, d: u32) -> OrderGroup {
    let price = Money::from_major(20 + n as i64);
    let row = OrderRow {
        order: id(&format!("o{n:02}-{k}")),
        customer: Some(id(&format!("c{n:02}"))),
        placed_at: Some(at(y, m, d)),
        currency: Some(Currency::parse("EUR").unwrap()),
        status: None,
        line: Some(OrderLine { sku: Some(id("p")), quantity: 1, unit_price: price, amount: price }),
    };
    OrderGroup { order: row.order.clone(), first_line_no: 1, rows: vec![row] }
}

/// 60 customers from April 2025 to March 2026: customer n first buys in month n % 12 and
/// then every 1 + n % 3 months (every fourth stops after three orders); NPS answers monthly
/// from a fifth of them. The last purchase is on 31 March 2026.
async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let people = (0..60).map(|n| Customer::bare(id(&format!("c{n:02}"))));
    db.upsert_customers(people.collect(), &o).await.unwrap();
    let month = |i: usize| (2025 + (3 + i as i32) / 12, ((3 + i) % 12) as u32 + 1);
    let mut orders = Vec::new();
    for n in 0..60 {
        let mut k = 0;
        let mut i = n % 12;
        while i < 12 && !(n % 4 == 0 && k == 3) {
            let (y, m) = month(i);
            orders.push(order(n, k, y, m, 1 + (n % 27) as u32));
            (k, i) = (k + 1, i + 1 + n % 3);
        }
    }
    orders.push(order(0, 9, 2026, 3, 31));
    db.ingest_orders(orders, &o).await.unwrap();
    let answers = (0..12).flat_map(|i| {
        let (y, m) = month(i);
        (0..60).filter(move |n| n % 5 == i % 5).map(move |n| FeedbackRow {
            id: id(&format!("nps-{n}-{i}")),
            customer: CustomerRef::Id(id(&format!("c{n:02}"))),
            source: "nps".into(),
            text: None,
            rating: Some(((n * 7 + i) % 11) as i16),
            created_at: at(y, m, 10),
        })
    });
    db.ingest_feedback(answers.collect(), &o).await.unwrap();
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
}

/// A target `want`s the goal to be, from the latest value: met exactly (on track), 3% beyond
/// it (at risk: the default margin is 5%), half again beyond it (off track).
fn target(goal: &Goal, latest: f64, want: Status) -> f64 {
    let lower = goal.direction == rapport_analytics::scorecard::Direction::Lower;
    let factor = match (want, lower) {
        (Status::AtRisk, false) => 1.03,
        (Status::AtRisk, true) => 0.97,
        (Status::OffTrack, false) => 1.5,
        (Status::OffTrack, true) => 0.5,
        _ => 1.0,
    };
    latest * factor
}

async fn goals(db: &dyn Backend) -> Vec<Status> {
    use Status::*;
    let plan = [
        ("nps", OnTrack, "CX team"),
        ("churn", AtRisk, "Retention squad"),
        ("repeat_rate", OnTrack, "CRM"),
        ("clv", AtRisk, "Finance"),
        ("revenue", OffTrack, "Sales"),
        ("orders", OffTrack, "Ops"),
        ("active_customers", AtRisk, "Growth"),
    ];
    let now = at(2026, 4, 2);
    for (metric, _, owner) in plan {
        let spec = GoalSpec {
            metric: metric.into(),
            target: Some(1.0),
            owner: owner.into(),
            ..GoalSpec::default()
        };
        db.create_goal(&spec.check().unwrap(), None, now).await.unwrap();
    }
    let card = scorecard::scorecard(db, &Params::new(now)).await.unwrap();
    for (g, (_, want, _)) in card.goals.iter().zip(plan) {
        let latest = g.latest.as_ref().and_then(|p| p.value);
        let latest = latest.unwrap_or_else(|| panic!("{} has a latest value: {g:?}", g.label));
        let mut spec = g.record.goal.spec();
        (spec.target, spec.at_risk_margin) = (Some(target(&g.record.goal, latest, want)), None);
        db.update_goal(g.record.id, &spec.check().unwrap(), now).await.unwrap();
    }
    plan.iter().map(|p| p.1).collect()
}

#[tokio::test]
async fn the_scorecard_page_shows_goals_by_perspective_with_status_and_trend() {
    let Some((_driver, c)) = browser().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("s.db")).unwrap());
    seed(db.as_ref()).await;
    let wanted = goals(db.as_ref()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(rapport_server::launch(
        AppState::new(db, Settings::default()),
        listener,
        std::future::pending(),
    ));
    kit::sign_in(&c, &base).await;

    c.find(Locator::LinkText("Scorecard")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("table.scorecard")).await.unwrap();
    let groups = c.find_all(Locator::Css("section.scorecard-group")).await.unwrap();
    let customer = groups[0].text().await.unwrap();
    let business = groups[1].text().await.unwrap();
    for shown in
        ["NPS", "Churn rate", "Repeat-purchase rate", "Historical CLV per buyer", "2026-03"]
    {
        assert!(customer.contains(shown), "{shown} in {customer}");
    }
    for shown in ["Revenue", "Orders", "Active customers", "Sales"] {
        assert!(business.contains(shown), "{shown} in {business}");
    }
    let mut badges = Vec::new();
    for b in c.find_all(Locator::Css("table.scorecard .badge")).await.unwrap() {
        badges.push(b.text().await.unwrap());
    }
    let labels: Vec<String> = wanted.iter().map(|s| s.label().to_string()).collect();
    assert_eq!(badges, labels, "statuses in page order (customer goals first)");
    let sparks =
        c.find_all(Locator::Css("table.scorecard svg.goal-spark[role=img]")).await.unwrap();
    assert_eq!(sparks.len(), 7, "a sparkline per goal");
    let desc = c.find(Locator::Css("svg.goal-spark desc")).await.unwrap();
    assert!(desc.html(true).await.unwrap().contains("Target"), "each chart is described");
    screenshot(&c, "scorecard").await;
}

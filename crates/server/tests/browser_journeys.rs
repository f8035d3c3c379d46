//! The journey pages in a real browser (headless Chromium through chromedriver): the list with
//! its small funnel, then a journey's map (the SVG funnel and emotion curve, the figures and
//! quotes per stage) over a seeded company of 60 customers, and a segment chosen in the form.
//! The map's screenshot is the README's (`docs/screenshots/journey.png`).

use fantoccini::Locator;
use rapport_analytics::journey::JourneySpec;
use rapport_analytics::themes::{Theme, ThemeId, ThemePhrase};
use rapport_core::access::Role;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::value::parse_timestamp;
use rapport_core::{Customer, Event, ExternalId, Timestamp};
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, IngestOptions, story};
use std::sync::Arc;

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

const CUSTOMERS: usize = 60;

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

fn day(d: i64) -> Timestamp {
    parse_timestamp("2026-01-01 09:00", None).unwrap() + chrono::Duration::days(d)
}

fn event(n: usize, k: usize, name: &str, at: Timestamp) -> Event {
    let who = id(&format!("jc{n:02}"));
    Event {
        id: id(&format!("je{n:02}-{k}")),
        customer: who,
        name: name.into(),
        at,
        properties: Default::default(),
    }
}

/// How far customer `n` gets: all visit; 45 consider; 30 buy; 24 onboard; 15 use it; 6 renew.
fn depth(n: usize) -> usize {
    [(6, 6), (15, 5), (24, 4), (30, 3), (45, 2), (CUSTOMERS, 1)]
        .iter()
        .find(|(upto, _)| n < *upto)
        .map_or(1, |d| d.1)
}

const SAID: [(&str, &str); 3] = [
    ("pricing", "Far too expensive for a team our size, the pricing is awful"),
    ("onboarding", "Setting up the integration was confusing and frustrating, I gave up"),
    ("support", "Support took a week to answer, really frustrating"),
];

async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let customers = (0..CUSTOMERS).map(|n| {
        let mut c = Customer::bare(id(&format!("jc{n:02}")));
        c.name = Some(format!("Customer {n:02}"));
        c.country = Some(if n % 2 == 0 { "DE" } else { "FR" }.into());
        c
    });
    db.upsert_customers(customers.collect(), &o).await.unwrap();
    let (mut events, mut orders, mut feedback) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..CUSTOMERS {
        let d = depth(n);
        let start = (n % 20) as i64;
        events.push(event(n, 0, "site_visit", day(start)));
        if d >= 2 {
            events.push(event(n, 1, "pricing_viewed", day(start + 2)));
        }
        if d >= 3 {
            let at = format!("2026-01-{:02} 12:00", start + 5 + (n % 4) as i64);
            orders.push(story::line_row(
                &format!("jo{n:02}"),
                &format!("jc{n:02}"),
                &at,
                "plan",
                1,
                "49",
            ));
        }
        if d >= 4 {
            events.push(event(n, 2, "integration_connected", day(start + 10)));
        }
        for k in 0..if d >= 5 { 6 } else { 2 } {
            events.push(event(n, 3 + k, "login", day(start + 11 + k as i64)));
        }
        if d >= 6 {
            let at = format!("2026-03-{:02} 12:00", 1 + n);
            orders.push(story::line_row(
                &format!("jr{n:02}"),
                &format!("jc{n:02}"),
                &at,
                "plan",
                1,
                "49",
            ));
        }
        // Those who stop early are detractors and say why; regular users are passive,
        // and only those who renew are promoters (a promoter's response renews too).
        let (score, text) = match d {
            1 | 2 => (2 + (n % 4) as i16, Some(SAID[0].1)),
            3 => (5, Some(SAID[1].1)),
            4 => (7, Some(SAID[2].1)),
            5 => (8, None),
            _ => (9 + (n % 2) as i16, None),
        };
        feedback.push(FeedbackRow {
            id: id(&format!("jf{n:02}")),
            customer: CustomerRef::Id(id(&format!("jc{n:02}"))),
            source: "nps".into(),
            text: text.map(Into::into),
            rating: Some(score),
            created_at: day(start + 30),
        });
    }
    db.ingest_events(events, &o).await.unwrap();
    db.ingest_orders(story::group(orders), &o).await.unwrap();
    db.ingest_feedback(feedback, &o).await.unwrap();
    themes(db).await;
    db.create_journey(&JourneySpec::default_journey(), None, day(100)).await.unwrap();
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
}

/// The themes the analysis job would give the complaints, by their text.
async fn themes(db: &dyn Backend) {
    let texts = db.feedback_texts(0, 1000).await.unwrap();
    let theme = |i: u64, label: &str| Theme {
        id: ThemeId(i + 1),
        label: label.into(),
        phrases: vec![ThemePhrase { text: label.into(), weight: 1.0, docs: 1 }],
        size: 1,
        examples: vec![0],
    };
    let all: Vec<Theme> = SAID.iter().enumerate().map(|(i, (l, _))| theme(i as u64, l)).collect();
    let assign = texts
        .iter()
        .map(|t| {
            let i = SAID.iter().position(|(_, said)| *said == t.text).unwrap();
            (t.key, Some(all[i].id.to_string()))
        })
        .collect();
    let through = texts.iter().map(|t| t.key).max().unwrap();
    db.save_themes(Some(all), assign, through, day(100)).await.unwrap();
}

#[tokio::test]
async fn the_journey_map_shows_where_customers_drop_and_why() {
    let Some((_driver, c)) = browser().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("j.db")).unwrap());
    seed(db.as_ref()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(rapport_server::launch(
        AppState::new(db, Settings::default()),
        listener,
        std::future::pending(),
    ));
    kit::sign_in(&c, &base).await;

    c.find(Locator::LinkText("Journeys")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("svg.jm-mini")).await.unwrap();
    let row = c.find(Locator::Css("table.journeys tbody tr")).await.unwrap().text().await.unwrap();
    assert!(row.contains("Customer journey") && row.contains("60"), "{row}");
    assert!(row.contains("6 (10%)"), "six customers renewed: {row}");
    c.find(Locator::LinkText("Customer journey")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("svg.journey-map")).await.unwrap();

    let bars = c.find_all(Locator::Css("svg.journey-map rect.jm-bar")).await.unwrap();
    assert_eq!(bars.len(), 6, "one bar per stage");
    let map = c.find(Locator::Css("svg.journey-map")).await.unwrap().text().await.unwrap();
    for figure in
        ["Awareness", "60", "45", "30", "24", "15", "Renewal / advocacy", "−15", "neutral"]
    {
        assert!(map.contains(figure), "{figure} is drawn: {map}");
    }
    let summary = c.find(Locator::Css(".jm-summary")).await.unwrap().text().await.unwrap();
    assert!(
        summary.contains("Renewal / advocacy") && summary.contains("60%"),
        "9 of 15 regular users did not renew: {summary}"
    );
    let stages = c.find_all(Locator::Css("section.jm-stage")).await.unwrap();
    let purchase = stages[2].text().await.unwrap();
    assert!(
        purchase.contains("pricing") && purchase.contains("Far too expensive"),
        "why they did not buy: {purchase}"
    );
    let onboarding = stages[3].text().await.unwrap();
    assert!(onboarding.contains("gave up"), "why they did not onboard: {onboarding}");
    let emotion = c.find_all(Locator::Css("svg.journey-map circle.jm-dot")).await.unwrap();
    assert!(emotion.len() >= 5, "an NPS point for each stage where someone stopped");
    c.set_window_size(1400, 1500).await.unwrap();
    screenshot(&c, "journey").await;

    let form = c.find(Locator::Css("input[name=segment]")).await.unwrap();
    form.send_keys("country = \"DE\"").await.unwrap();
    c.find(Locator::Css("form.filters button")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_element(Locator::XPath("//p[contains(@class,'jm-summary')]/strong[text()='30']"))
        .await
        .unwrap();
    c.close().await.unwrap();
}

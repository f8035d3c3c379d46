//! A campaign in a real browser (headless Chromium through chromedriver): written in the form,
//! sent with its button (the non-consenting left out, the holdout drawn), then, after purchases
//! in its window, its results page with the headline, both charts and the numbers. The
//! screenshot is `campaign.png`.

use fantoccini::Locator;
use rapport_core::access::Role;
use rapport_core::campaign::Arm;
use rapport_core::*;
use rapport_server::{AppState, Settings, auth};
use rapport_store::story::{group, line_row};
use rapport_store::{Backend, IngestOptions};
use std::collections::HashMap;
use std::sync::Arc;

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

const CUSTOMERS: usize = 600;

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// 600 customers who bought once; every sixth withdrew marketing consent.
async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let people = (0..CUSTOMERS).map(|n| {
        let mut c = Customer::bare(id(&format!("bc{n:03}")));
        c.name = Some(format!("Buyer {n:03}"));
        c.email = Some(Email::parse(&format!("bc{n:03}@example.com")).unwrap());
        c
    });
    db.upsert_customers(people.collect(), &o).await.unwrap();
    let consents = (0..CUSTOMERS).map(|n| Consent {
        id: id(&format!("bm{n}")),
        customer: id(&format!("bc{n:03}")),
        purpose: Purpose::Marketing,
        granted: n % 6 != 0,
        source: None,
        at: value::parse_timestamp("2025-01-01", None).unwrap(),
    });
    db.ingest_consents(consents.collect(), &o).await.unwrap();
    let orders = (0..CUSTOMERS)
        .map(|n| line_row(&format!("bo{n}"), &format!("bc{n:03}"), "2025-06-01", "tea", 1, "8"));
    db.ingest_orders(group(orders.collect()), &o).await.unwrap();
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
}

/// Half of the treated buy again in the window, one in five of the holdout.
async fn purchases_after(db: &dyn Backend, campaign: i64) {
    let sent = db.campaign(campaign).await.unwrap().sent_at.unwrap();
    let when = (sent + chrono::Duration::days(3)).to_rfc3339();
    let summaries = db.summaries(None, 10_000).await.unwrap().items;
    let ids: HashMap<i64, String> =
        summaries.into_iter().map(|s| (s.key, s.id.as_str().to_string())).collect();
    let mut rows = Vec::new();
    for (i, r) in db.campaign_outcomes(campaign).await.unwrap().into_iter().enumerate() {
        let buys = match r.arm {
            Arm::Treatment => i % 2 == 0,
            Arm::Holdout => i % 5 == 0,
        };
        if buys {
            let who = &ids[&r.customer];
            rows.push(line_row(&format!("again-{who}"), who, &when, "tea", 2, "8"));
        }
    }
    db.ingest_orders(group(rows), &IngestOptions::default()).await.unwrap();
}

/// Replaces what the new-campaign form's field `name` holds with `text`.
async fn type_into(c: &fantoccini::Client, name: &str, text: &str) {
    let css = format!("form[action='/campaigns'] [name={name}]");
    let field = c.find(Locator::Css(&css)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

#[tokio::test]
async fn a_campaign_is_written_sent_and_measured_in_the_browser() {
    let Some((_driver, c)) = browser().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("c.db")).unwrap());
    seed(db.as_ref()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Settings::default());
    tokio::spawn(rapport_server::launch(state, listener, std::future::pending()));
    kit::sign_in(&c, &base).await;

    c.find(Locator::LinkText("Campaigns")).await.unwrap().click().await.unwrap();
    let form = "form[action='/campaigns']";
    c.wait().for_element(Locator::Css(form)).await.unwrap();
    type_into(&c, "name", "Tea lovers, come back").await;
    type_into(&c, "segment", "orders >= 1").await;
    type_into(&c, "holdout_pct", "30").await;
    c.find(Locator::Css(&format!("{form} button"))).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[contains(., 'Tea lovers')]")).await.unwrap();
    let draft = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(draft.contains("Draft") && draft.contains("orders >= 1"), "{draft}");

    c.find(Locator::XPath("//button[text()='Send campaign']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("p.notice")).await.unwrap();
    let notice = c.find(Locator::Css("p.notice")).await.unwrap().text().await.unwrap();
    assert!(notice.contains("100 without marketing consent"), "{notice}");
    let campaign = db.campaigns().await.unwrap()[0].clone();
    let counts = campaign.counts.unwrap();
    assert_eq!(counts.treatment + counts.holdout, 500);
    assert!(notice.contains(&format!("{} messages queued", counts.treatment)), "{notice}");

    purchases_after(db.as_ref(), campaign.id).await;
    c.refresh().await.unwrap();
    c.wait().for_element(Locator::Css("p.headline")).await.unwrap();
    let headline = c.find(Locator::Css("p.headline")).await.unwrap().text().await.unwrap();
    assert!(headline.starts_with("Purchase rate: treatment 5"), "about half: {headline}");
    assert!(headline.contains("unlikely to be chance"), "{headline}");
    let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert_eq!(charts.len(), 2, "the groups' bars and the intervals");
    let dots = c.find_all(Locator::Css("svg.chart circle.dot")).await.unwrap();
    assert!(dots.len() >= 2, "overall and at least one segment");
    screenshot(&c, "campaign").await;
    c.close().await.unwrap();
}

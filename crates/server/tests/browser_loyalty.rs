//! The loyalty pages in a real browser (headless Chromium through chromedriver): a programme
//! with 30 members who earned on purchases and a few redemptions, the Loyalty page's figures,
//! tiers (a bar each) and rewards, then a member's Loyalty section on the customer page. The
//! screenshot is `loyalty.png`.

use fantoccini::Locator;
use rapport_core::access::Role;
use rapport_core::loyalty::{Programme, Reward};
use rapport_core::{Customer, ExternalId, Money};
use rapport_reports::loyalty::{self, Change};
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, IngestOptions};
use std::sync::Arc;

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// 30 members: member n spent 40 × (n + 1), so the last ones reach Silver (500) and one Gold
/// (2,000 with the ×1.25 of Silver); every fifth redeemed a 100-point reward.
async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let people = (0..30).map(|n| {
        let mut c = Customer::bare(id(&format!("lm{n:02}")));
        c.name = Some(format!("Member {n:02}"));
        c
    });
    db.upsert_customers(people.collect(), &o).await.unwrap();
    let now = chrono::Utc::now();
    loyalty::save_programme(db, &Programme::default(), now).await.unwrap();
    for (key, cost, active) in [("coffee", 100, true), ("umbrella", 900, false)] {
        let r = Reward { key: id(key), name: format!("A {key}"), cost, active };
        loyalty::save_reward(db, &r).await.unwrap();
    }
    for n in 0..30 {
        let who = id(&format!("lm{n:02}"));
        for k in 0..=(n / 6) {
            let amount = Money::from_major(40 * (n as i64 + 1));
            let order = id(&format!("lo{n:02}-{k}"));
            let buy = Change::Purchase { order, amount, at: now };
            loyalty::record(db, &who, buy, None, now).await.unwrap();
        }
        if n % 5 == 4 {
            let redeem = Change::Redeem { reward: id("coffee") };
            loyalty::record(db, &who, redeem, None, now).await.unwrap();
        }
    }
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
}

#[tokio::test]
async fn the_loyalty_page_shows_the_programme_and_a_member_their_points() {
    let Some((_driver, c)) = browser().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("l.db")).unwrap());
    seed(db.as_ref()).await;
    let members = loyalty::overview(db.as_ref(), chrono::Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(rapport_server::launch(
        AppState::new(db, Settings::default()),
        listener,
        std::future::pending(),
    ));
    kit::sign_in(&c, &base).await;

    c.find(Locator::LinkText("Loyalty")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("table.loyalty-tiers")).await.unwrap();
    let page = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Members\n30"), "{page}");
    let liability = format!("Points liability\n{}", members.figures.liability);
    assert!(page.contains(&liability), "{liability} in {page}");
    for shown in ["Bronze", "Silver", "Gold", "A coffee", "retired"] {
        assert!(page.contains(shown), "{shown} in {page}");
    }
    let bars = c.find_all(Locator::Css("table.loyalty-tiers rect.bar")).await.unwrap();
    assert_eq!(bars.len(), 3, "a bar per tier");
    let tiers: Vec<u64> = members.figures.tiers.iter().map(|t| t.members).collect();
    assert!(tiers[1] > 0 && tiers.iter().sum::<u64>() == 30, "{tiers:?}");
    screenshot(&c, "loyalty").await;

    c.goto(&format!("{base}/customers/lm29")).await.unwrap();
    let section = c.find(Locator::Css("section[aria-labelledby=loyalty-h]")).await.unwrap();
    let text = section.text().await.unwrap();
    assert!(text.contains("Tier") && text.contains("Gold"), "{text}");
}

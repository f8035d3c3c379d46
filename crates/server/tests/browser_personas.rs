//! Personas in a real browser: a small company of two kinds of customer (frequent, happy
//! buyers of electronics in Germany; lapsed buyers of garden goods in France who complain
//! about delivery), its feedback themed by the analysis job, two personas generated from it;
//! then the list, one persona's page and the comparison, with screenshots for the README.

use chrono::{Duration, TimeZone, Utc};
use fantoccini::Locator;
use rapport_core::access::Role;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::{Customer, Event, ExternalId, Gender, Product, Timestamp};
use rapport_reports::personas::{self, Source};
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, IngestOptions, story};
use std::sync::Arc;

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

const HAPPY: [&str; 4] = [
    "Love how easy it is to export reports, it saves me an hour every week.",
    "Great mobile app, I use it every day on the train.",
    "Amazing support team, quick and helpful.",
    "The dashboard gives me everything at a glance, wonderful.",
];
const UNHAPPY: [&str; 4] = [
    "The parcel arrived two weeks late and the box was damaged.",
    "Delivery is painfully slow, my order took a month to arrive.",
    "Prices went up again, far too expensive for what you get.",
    "Delivery was late again and nobody told me why.",
];

fn ext(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

fn day(n: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 10, 0, 0).unwrap() - Duration::days(n)
}

async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let product = |sku: &str, cat: &str| Product {
        sku: ext(sku),
        name: None,
        category: Some(cat.into()),
        price: None,
    };
    db.upsert_products(vec![product("tv", "Electronics"), product("rake", "Garden")], &o)
        .await
        .unwrap();
    let (mut people, mut lines, mut events, mut feedback) = (vec![], vec![], vec![], vec![]);
    for i in 0..40 {
        let happy = i < 20;
        let id = format!("c{i:02}");
        let mut c = Customer::bare(ext(&id));
        c.name = Some(format!("Customer {i}"));
        c.country = Some(if happy { "DE" } else { "FR" }.into());
        c.birth_year = Some(if happy { 1990 } else { 1962 } + (i % 5) as i16);
        c.gender = Some(if i % 2 == 0 { Gender::Female } else { Gender::Male });
        people.push(c);
        let (orders, sku, first) = if happy { (8, "tv", 20) } else { (2, "rake", 400) };
        for k in 0..orders {
            let at = day(first + 30 * k).format("%Y-%m-%d %H:%M").to_string();
            lines.push(story::line_row(&format!("o{i}-{k}"), &id, &at, sku, 1, "120"));
        }
        let name = if happy { "report_exported" } else { "login" };
        for k in 0..3 {
            events.push(Event {
                id: ext(&format!("e{i}-{k}")),
                customer: ext(&id),
                name: name.into(),
                at: day(10 + k),
                properties: Default::default(),
            });
        }
        let text = if happy { HAPPY[i % 4] } else { UNHAPPY[i % 4] };
        feedback.push(FeedbackRow {
            id: ext(&format!("f{i}")),
            customer: CustomerRef::Id(ext(&id)),
            source: "review".into(),
            text: Some(text.into()),
            rating: Some(if happy { 5 } else { 1 }),
            created_at: day(5 + i as i64),
        });
    }
    db.upsert_customers(people, &o).await.unwrap();
    db.ingest_orders(story::group(lines), &o).await.unwrap();
    db.ingest_events(events, &o).await.unwrap();
    db.ingest_feedback(feedback, &o).await.unwrap();
    rapport_reports::analysis::Analyser::default().full(db, day(0)).await.unwrap();
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
    for (name, filter) in
        [(None, "orders >= 5"), (Some("Lapsed gardeners".to_string()), "orders < 5")]
    {
        let source = Source::parse("filter", filter).unwrap();
        personas::create(db, name, String::new(), &source, day(0)).await.unwrap();
    }
}

#[tokio::test]
async fn open_the_personas_a_persona_and_the_comparison() {
    let Some((_driver, c)) = browser().await else { return };
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("p.db")).unwrap());
    seed(db.as_ref()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Settings::default());
    tokio::spawn(rapport_server::launch(state, listener, std::future::pending()));
    kit::sign_in(&c, &base).await;

    c.find(Locator::LinkText("Personas")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css(".persona-card")).await.unwrap();
    let cards = c.find_all(Locator::Css(".persona-card")).await.unwrap();
    assert_eq!(cards.len(), 2);
    let list = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(list.contains("Lapsed gardeners") && list.contains("20 members"), "{list}");
    screenshot(&c, "personas").await;

    c.find(Locator::XPath("//a[contains(., 'Lapsed gardeners')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css(".empathy")).await.unwrap();
    let page = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    // The quadrants' titles are upper-cased by the stylesheet.
    let lower = page.to_lowercase();
    for said in ["says", "thinks", "does", "feels", "pain points", "fr", "garden"] {
        assert!(lower.contains(said), "the persona page shows {said}: {page}");
    }
    assert!(UNHAPPY.iter().any(|q| page.contains(q)), "a member's own words: {page}");
    assert!(!HAPPY.iter().any(|q| page.contains(q)), "never another group's words");
    screenshot(&c, "persona").await;

    // Rename through the form; the page shows it.
    let name = c.find(Locator::Css("form[action$='/edit'] input[name=name]")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Late-delivery gardeners").await.unwrap();
    c.find(Locator::Css("form[action$='/edit'] button")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::XPath("//h1[text()='Late-delivery gardeners']")).await.unwrap();

    c.goto(&format!("{base}/personas")).await.unwrap();
    c.wait()
        .for_element(Locator::LinkText("Compare side by side"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("table.persona-compare")).await.unwrap();
    let table = c.find(Locator::Css("table.persona-compare")).await.unwrap().text().await.unwrap();
    // Table headings are upper-cased by the stylesheet.
    let table = table.to_lowercase();
    assert!(
        table.contains("late-delivery gardeners") && table.contains("share of revenue 80% 20%"),
        "{table}"
    );
    screenshot(&c, "persona-compare").await;
    c.close().await.unwrap();
}

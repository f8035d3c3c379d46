//! Segments in a real browser: the count updates while a filter is typed (and shows the
//! error with its caret for a bad one), a segment is saved from the form, and its page lists
//! its members and size history. Screenshots `segments.png` and `segment.png`.

use fantoccini::{Client, Locator};
use rapport_core::access::Role;
use rapport_core::{Customer, ExternalId};
use rapport_reports::saved_segments;
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, IngestOptions, SegmentSpec, story};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

const COUNTRIES: [&str; 4] = ["Germany", "Austria", "France", "Spain"];
const FIRST: [&str; 6] = ["Anna", "Ben", "Clara", "David", "Emma", "Felix"];
const LAST: [&str; 5] = ["Müller", "Martin", "García", "Rossi", "Smith"];

/// 240 customers in four countries; two in three bought, some of them often.
async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let mut people = Vec::new();
    let mut lines = Vec::new();
    for i in 0..240usize {
        let id = format!("c{i:03}");
        let mut c = Customer::bare(ExternalId::parse(&id).unwrap());
        c.name = Some(format!("{} {}", FIRST[i % 6], LAST[i % 5]));
        c.country = Some(COUNTRIES[i % 4].into());
        people.push(c);
        for k in 0..(i % 3) * (1 + i % 4) {
            let day = format!("2026-{:02}-{:02}", 1 + (i + k) % 10, 1 + k % 27);
            let price = format!("{}", 20 + (i * 7 + k * 13) % 180);
            lines.push(story::line_row(&format!("o{i}-{k}"), &id, &day, "sku", 1, &price));
        }
    }
    db.upsert_customers(people, &o).await.unwrap();
    db.ingest_orders(story::group(lines), &o).await.unwrap();
    let now = chrono::Utc::now();
    for (name, expr) in [
        ("DACH buyers", r#"country in ("Germany", "Austria") and purchase_orders > 0"#),
        ("Frequent buyers", "purchase_orders >= 4"),
    ] {
        let spec =
            SegmentSpec { name: name.into(), expression: expr.into(), description: String::new() };
        saved_segments::create(db, None, &spec, Some("admin"), now).await.unwrap();
    }
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
}

async fn spawn_app() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("s.db")).unwrap());
    seed(db.as_ref()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db, Settings::default());
    tokio::spawn(rapport_server::launch(state, listener, std::future::pending()));
    (base, dir)
}

/// Waits until the preview shows text containing `want`; returns it.
async fn preview_with(c: &Client, want: &str) -> String {
    let started = Instant::now();
    loop {
        let text = c.find(Locator::Id("preview")).await.unwrap().text().await.unwrap();
        if text.contains(want) {
            return text;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "preview never showed {want}: {text}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_count_follows_the_filter_and_a_segment_is_saved() {
    let Some((_driver, c)) = browser().await else { return };
    let (base, _dir) = spawn_app().await;
    kit::sign_in(&c, &base).await;
    c.goto(&format!("{base}/segments")).await.unwrap();
    let body = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(body.contains("DACH buyers") && body.contains("Frequent buyers"), "{body}");

    // Typing: a misspelt field shows the error and its suggestion, the fixed one the count.
    let name = c.find(Locator::Css("input[name=name]")).await.unwrap();
    name.send_keys("Spanish regulars").await.unwrap();
    let filter = c.find(Locator::Id("expression")).await.unwrap();
    filter.send_keys(r#"country = "Spain" and purchse_orders >= 2"#).await.unwrap();
    let error = preview_with(&c, "did you mean").await;
    assert!(
        error.contains("unknown field `purchse_orders`; did you mean `purchase_orders`?"),
        "{error}"
    );
    filter.clear().await.unwrap();
    filter.send_keys(r#"country = "Spain" and purchase_orders >= 2"#).await.unwrap();
    let count = preview_with(&c, "customers (").await;
    // Spain is every fourth customer (i % 4 = 3), who ordered (i % 3) · 4 times: 8, 4 or
    // none. Two in three of the 60 Spaniards.
    assert!(count.starts_with("40 of 240 customers (16.7%)"), "{count}");
    let ms: f64 = c
        .execute("return Number(document.getElementById('preview').dataset.ms)", vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    assert!(ms < 300.0, "the count came back in {ms} ms");
    screenshot(&c, "segments").await;

    // Saving leads to the segment's page: members, history, the filter.
    c.find(Locator::Css("#segment-form button[type=submit]")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Css("dd.count")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/segments/spanish-regulars");
    let size = c.find(Locator::Css("dd.count")).await.unwrap().text().await.unwrap();
    assert_eq!(size, "40");
    let rows = c.find_all(Locator::Css("section[aria-labelledby=members] tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 40);
    let chart = c.find(Locator::Css("svg.chart")).await.unwrap();
    assert!(chart.html(false).await.unwrap().contains("40 members (+40 −0)"));
    screenshot(&c, "segment").await;
}

//! The web UI in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`). Each test saves a screenshot under the test target dir.
//! Without chromedriver on the machine the tests say so and skip.

use fantoccini::Locator;
use rapport_core::access::Role;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::value::parse_timestamp;
use rapport_core::{Consent, Customer, Email, ExternalId, Purpose};
use rapport_server::{AppState, Settings, auth};
use rapport_store::{Backend, IngestOptions, story};
use std::sync::Arc;
use std::time::Duration;

#[path = "support/browser.rs"]
mod kit;
use kit::{PASSWORD, browser, screenshot};

struct App {
    base: String,
    db: Arc<dyn Backend>,
    _dir: tempfile::TempDir,
}

async fn spawn_app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Backend> =
        Arc::new(rapport_store_sqlite::SqliteStore::open(dir.path().join("b.db")).unwrap());
    seed(db.as_ref()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Settings::default());
    tokio::spawn(rapport_server::launch(state, listener, std::future::pending()));
    App { base, db, _dir: dir }
}

async fn seed(db: &dyn Backend) {
    let o = IngestOptions::default();
    let mut people = Vec::new();
    for (id, name, email) in [
        ("c1", "Ann Smith", "ann@example.com"),
        ("c2", "Bob Jones", "bob@example.com"),
        ("c3", "Cleo Smith", "cleo@example.com"),
    ] {
        let mut c = Customer::bare(ExternalId::parse(id).unwrap());
        c.name = Some(name.into());
        c.email = Some(Email::parse(email).unwrap());
        c.country = Some("DE".into());
        people.push(c);
    }
    db.upsert_customers(people, &o).await.unwrap();
    let fb = FeedbackRow {
        id: ExternalId::parse("f1").unwrap(),
        customer: CustomerRef::Id(ExternalId::parse("c1").unwrap()),
        source: "email".into(),
        text: Some("The export to PDF saves me an hour every week".into()),
        rating: Some(9),
        created_at: parse_timestamp("2024-05-01", None).unwrap(),
    };
    db.ingest_feedback(vec![fb], &o).await.unwrap();
    let rows = vec![
        story::line_row("o1", "c1", "2024-03-02 10:00", "pro-plan", 1, "490"),
        story::line_row("o1", "c1", "2024-03-02 10:00", "seat", 4, "25.50"),
        story::line_row("o2", "c1", "2024-06-14 09:30", "seat", 2, "25.50"),
    ];
    db.ingest_orders(story::group(rows), &o).await.unwrap();
    let consent = Consent {
        id: ExternalId::parse("k1").unwrap(),
        customer: ExternalId::parse("c1").unwrap(),
        purpose: Purpose::Marketing,
        granted: true,
        source: Some("signup form".into()),
        at: parse_timestamp("2024-03-01", None).unwrap(),
    };
    db.ingest_consents(vec![consent], &o).await.unwrap();
    let admin = auth::new_user("admin@example.com", "Ada Admin", Role::Admin.as_str(), PASSWORD);
    db.create_user(admin.unwrap()).await.unwrap();
}

#[tokio::test]
async fn sign_in_search_and_open_the_customer_360_page() {
    let Some((_driver, c)) = browser().await else { return };
    let app = spawn_app().await;
    kit::sign_in(&c, &app.base).await;
    screenshot(&c, "customers-list").await;
    let search = c.find(Locator::Css("input[name=q]")).await.unwrap();
    search.send_keys("smith").await.unwrap();
    c.find(Locator::Css("form.filters button")).await.unwrap().click().await.unwrap();
    // The unfiltered list shows Cleo Smith too: wait for the searched page itself.
    for _ in 0..100 {
        if c.current_url().await.unwrap().query().is_some_and(|q| q.contains("q=smith")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    c.wait().for_element(Locator::LinkText("Cleo Smith")).await.unwrap();
    let rows = c.find_all(Locator::Css("table.list tbody tr")).await.unwrap();
    assert_eq!(rows.len(), 2, "Ann Smith and Cleo Smith, not Bob Jones");
    c.find(Locator::LinkText("Ann Smith")).await.unwrap().click().await.unwrap();
    // The 360 page itself, not the page the click left (whose h1 can go stale under us).
    c.wait().for_element(Locator::Id("timeline-h")).await.unwrap();
    let h1 = c.find(Locator::Css("h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "Ann Smith");
    let timeline = c.find(Locator::Css("ol.timeline")).await.unwrap().text().await.unwrap();
    assert!(timeline.contains("saves me an hour"), "the feedback is on the timeline: {timeline}");
    screenshot(&c, "customer-360").await;
    c.close().await.unwrap();
}

#[tokio::test]
async fn create_an_api_key_that_then_works() {
    let Some((_driver, c)) = browser().await else { return };
    let app = spawn_app().await;
    kit::sign_in(&c, &app.base).await;
    c.find(Locator::LinkText("Settings")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::LinkText("API keys")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_element(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("CRM sync")
        .await
        .unwrap();
    c.find(Locator::Css("select[name=scope] option[value=write]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::XPath("//button[text()='Create key']")).await.unwrap().click().await.unwrap();
    let key = c.wait().for_element(Locator::Id("new-key")).await.unwrap().text().await.unwrap();
    screenshot(&c, "api-key-created").await;
    let keys = app.db.api_keys().await.unwrap();
    assert_eq!((keys.len(), keys[0].name.as_str()), (1, "CRM sync"));
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/customers?q=ann", app.base))
        .bearer_auth(key.trim())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the key shown once works for the API");
    c.close().await.unwrap();
}

/// More history for the dashboard: Bob bought monthly in summer 2023 and stopped, rated NPS 2
/// and has three support tickets in the last 90 days; Cleo bought once in June 2024.
async fn seed_dashboard(db: &dyn Backend) {
    let o = IngestOptions::default();
    let rows = vec![
        story::line_row("o3", "c2", "2023-06-05 10:00", "seat", 10, "25.50"),
        story::line_row("o4", "c2", "2023-07-05 10:00", "seat", 10, "25.50"),
        story::line_row("o5", "c2", "2023-08-05 10:00", "seat", 10, "25.50"),
        story::line_row("o6", "c3", "2024-06-01 10:00", "pro-plan", 1, "490"),
    ];
    db.ingest_orders(story::group(rows), &o).await.unwrap();
    let rating = |n: &str, who: &str, source: &str, r: i16, at: &str| FeedbackRow {
        id: ExternalId::parse(n).unwrap(),
        customer: CustomerRef::Id(ExternalId::parse(who).unwrap()),
        source: source.into(),
        text: None,
        rating: Some(r),
        created_at: parse_timestamp(at, None).unwrap(),
    };
    let feedback = vec![
        rating("f2", "c2", "nps", 2, "2024-04-02"),
        rating("f3", "c3", "csat", 5, "2024-06-02"),
        rating("f4", "c1", "ces", 6, "2024-06-03"),
    ];
    db.ingest_feedback(feedback, &o).await.unwrap();
    let tickets = ["2024-04-10", "2024-05-10", "2024-06-10"]
        .iter()
        .enumerate()
        .map(|(i, day)| rapport_core::Interaction {
            id: ExternalId::parse(&format!("t{i}")).unwrap(),
            customer: ExternalId::parse("c2").unwrap(),
            channel: rapport_core::Channel::Support,
            direction: rapport_core::Direction::Inbound,
            subject: Some("Seats missing".into()),
            body: None,
            at: parse_timestamp(day, None).unwrap(),
        })
        .collect();
    db.ingest_interactions(tickets, &o).await.unwrap();
}

#[tokio::test]
async fn the_dashboard_draws_accessible_charts_and_links_risk_to_the_360_page() {
    let Some((_driver, c)) = browser().await else { return };
    let app = spawn_app().await;
    seed_dashboard(app.db.as_ref()).await;
    kit::sign_in(&c, &app.base).await;
    c.find(Locator::LinkText("Dashboard")).await.unwrap().click().await.unwrap();
    c.wait().for_element(Locator::Id("churn-risk")).await.unwrap();
    screenshot(&c, "dashboard").await;
    // Every chart is an image with a title and a description, and its marks have titles.
    let charts = c.find_all(Locator::Css("svg.chart")).await.unwrap();
    assert!(charts.len() >= 6, "NPS, CSAT, CES, retention, RFM, CLV, health: {}", charts.len());
    for chart in &charts {
        assert_eq!(chart.attr("role").await.unwrap().as_deref(), Some("img"));
        let labelled = chart.attr("aria-labelledby").await.unwrap().unwrap();
        for id in labelled.split(' ') {
            let title = c.find(Locator::Id(id)).await.unwrap().prop("textContent").await.unwrap();
            assert!(title.is_some_and(|t| !t.is_empty()), "{id} names the chart");
        }
    }
    let nps = c.find(Locator::Css("#nps-h + figure svg")).await.unwrap().html(false).await.unwrap();
    assert!(nps.contains("2024-04: -100.0 (95% CI"), "the April NPS point says its value: {nps}");
    assert!(nps.contains("class=\"band\""), "the interval is drawn");
    // The numbers are there as a table too.
    c.find(Locator::Css("#rfm-h ~ details summary")).await.unwrap().click().await.unwrap();
    let table = c.find(Locator::Css("#rfm-h ~ details table")).await.unwrap().text().await.unwrap();
    let table = table.to_lowercase();
    assert!(table.contains("potential loyalists 1 33.3%"), "{table}");
    assert!(!table.contains("-0"), "no negative zeros: {table}");
    // Bob is at risk; his row links to his 360 page.
    c.find(Locator::Css("#churn-risk a")).await.unwrap().click().await.unwrap();
    // The 360 page itself, not the page the click left (whose h1 can go stale under us).
    c.wait().for_element(Locator::Id("timeline-h")).await.unwrap();
    let h1 = c.find(Locator::Css("h1")).await.unwrap();
    assert_eq!(h1.text().await.unwrap(), "Bob Jones");
    c.close().await.unwrap();
}

/// The product manager creates and sends a survey; the customer answers it on the hosted page
/// (phone-sized window, no JavaScript needed); the answer reaches the results, the timeline and
/// the NPS report, and the link cannot answer twice.
#[tokio::test]
async fn a_survey_is_created_sent_answered_once_and_reported() {
    let Some((_driver, c)) = browser().await else { return };
    let app = spawn_app().await;
    let consent = Consent {
        id: ExternalId::parse("k2").unwrap(),
        customer: ExternalId::parse("c2").unwrap(),
        purpose: Purpose::Surveys,
        granted: true,
        source: None,
        at: parse_timestamp("2024-03-01", None).unwrap(),
    };
    app.db.ingest_consents(vec![consent], &IngestOptions::default()).await.unwrap();
    kit::sign_in(&c, &app.base).await;
    c.find(Locator::LinkText("Surveys")).await.unwrap().click().await.unwrap();
    let field = |name: &'static str| {
        Locator::Css(match name {
            "id" => "form[action='/surveys'] input[name=id]",
            "name" => "form[action='/surveys'] input[name=name]",
            _ => "form[action='/surveys'] input[name=low_follow_up]",
        })
    };
    c.wait().for_element(field("id")).await.unwrap().send_keys("nps-q4").await.unwrap();
    c.find(field("name")).await.unwrap().send_keys("How are we doing?").await.unwrap();
    c.find(field("low")).await.unwrap().send_keys("What should we do better?").await.unwrap();
    c.find(Locator::XPath("//button[text()='Save survey']")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_element(Locator::XPath("//button[text()='Create links']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let csv = c.wait().for_element(Locator::Css("#sent ~ label textarea")).await.unwrap();
    let csv = csv.prop("value").await.unwrap().unwrap();
    assert_eq!(csv.lines().count(), 2, "only Bob consented to surveys: {csv}");
    assert!(csv.contains(r#""c2","Bob Jones","bob@example.com",http"#), "{csv}");
    let link = csv.lines().nth(1).unwrap().rsplit(',').next().unwrap().to_string();
    screenshot(&c, "survey-sent").await;

    c.set_window_size(390, 844).await.unwrap();
    c.goto(&link).await.unwrap();
    c.wait()
        .for_element(Locator::XPath("//fieldset[@id='q-score']//span[text()='4']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    screenshot(&c, "survey-answer-phone").await;
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    let why = c.wait().for_element(Locator::Css("textarea[name=why_low]")).await.unwrap();
    why.send_keys("Seats go missing after renewal").await.unwrap();
    c.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // Wait for the message page itself (the follow-up page has an h1 too, which goes stale).
    c.wait().for_element(Locator::Css("p[role=status]")).await.unwrap();
    let done = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(done, "Thank you");
    c.goto(&link).await.unwrap();
    c.wait().for_element(Locator::Css("p[role=status]")).await.unwrap();
    let again = c.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert_eq!(again, "Already answered");
    let second = reqwest::Client::new().post(&link).form(&[("score", "10")]).send().await.unwrap();
    assert_eq!(second.status(), 409, "a second answer with the same link is refused");

    c.set_window_size(1280, 900).await.unwrap();
    c.goto(&format!("{}/surveys/nps-q4", app.base)).await.unwrap();
    let figures =
        c.wait().for_element(Locator::Css("dl.figures")).await.unwrap().text().await.unwrap();
    assert!(figures.contains("NPS\n-100") && figures.contains("Response rate\n100%"), "{figures}");
    let page = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(page.contains("Seats go missing after renewal"), "the comment is listed: {page}");
    screenshot(&c, "survey-results").await;
    c.goto(&format!("{}/customers/c2", app.base)).await.unwrap();
    let timeline =
        c.wait().for_element(Locator::Css("ol.timeline")).await.unwrap().text().await.unwrap();
    assert!(timeline.contains("Seats go missing after renewal"), "on Bob's timeline: {timeline}");
    let nps = reqwest::Client::new()
        .get(format!("{}/api/v1/reports/nps", app.base))
        .bearer_auth(auth::create_api_key(app.db.as_ref(), "t", "read").await.unwrap().1)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(nps["overall"]["responses"], 1, "the NPS report counts the answer: {nps}");
    c.close().await.unwrap();
}

/// The product manager works the inbox: finds a request by search, merges its near-duplicate
/// from the item page, files it as evidence for a new idea, ships the idea, and the idea page
/// lists who is told and who is not (and why).
#[tokio::test]
async fn inbox_search_merge_idea_and_closing_the_loop() {
    let Some((_driver, c)) = browser().await else { return };
    let app = spawn_app().await;
    let o = IngestOptions::default();
    let said = |id: &str, who: &str, text: &str, day: &str| FeedbackRow {
        id: ExternalId::parse(id).unwrap(),
        customer: CustomerRef::Id(ExternalId::parse(who).unwrap()),
        source: "email".into(),
        text: Some(text.into()),
        rating: None,
        created_at: parse_timestamp(day, None).unwrap(),
    };
    let rows = vec![
        said("f2", "c2", "The export to PDF saves me an hour every week!", "2024-05-02"),
        said("f3", "c3", "Please add a dark mode, my eyes hurt at night", "2024-05-03"),
    ];
    app.db.ingest_feedback(rows, &o).await.unwrap();
    let consent = Consent {
        id: ExternalId::parse("k9").unwrap(),
        customer: ExternalId::parse("c1").unwrap(),
        purpose: Purpose::ProductUpdates,
        granted: true,
        source: None,
        at: parse_timestamp("2024-03-01", None).unwrap(),
    };
    app.db.ingest_consents(vec![consent], &o).await.unwrap();
    kit::sign_in(&c, &app.base).await;

    // Themes and the similarity index are built by the analysis job; run it now.
    c.goto(&format!("{}/feedback/themes", app.base)).await.unwrap();
    let rediscover = Locator::XPath("//button[text()='Rediscover now']");
    let when = Locator::Css("main > p.muted");
    let before = c.wait().for_element(when).await.unwrap().text().await.unwrap();
    c.find(rediscover).await.unwrap().click().await.unwrap();
    // Wait for the page after the run: it says when the themes were discovered.
    for _ in 0..100 {
        let now = c.find(when).await.map(|e| async move { e.text().await.ok() });
        if let Ok(t) = now
            && t.await.is_some_and(|t| t != before)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    c.goto(&format!("{}/feedback?q=export", app.base)).await.unwrap();
    let list = c.wait().for_element(Locator::Css("form#inbox table")).await.unwrap();
    let text = list.text().await.unwrap();
    assert!(text.contains("Ann Smith") && text.contains("Bob Jones"), "{text}");
    assert!(!text.contains("dark mode"), "search keeps to the word: {text}");
    screenshot(&c, "inbox").await;

    c.goto(&format!("{}/feedback/f1", app.base)).await.unwrap();
    let similar = c.wait().for_element(Locator::Css("li.similar")).await.unwrap();
    assert!(similar.text().await.unwrap().contains("Bob Jones"), "f2 is a near-duplicate");
    similar.find(Locator::Css("button")).await.unwrap().click().await.unwrap();
    let merged = c.wait().for_element(Locator::Css("ul[aria-labelledby=merged]")).await.unwrap();
    assert!(merged.text().await.unwrap().contains("Bob Jones"), "kept, under the item");
    screenshot(&c, "feedback-item").await;
    c.goto(&format!("{}/feedback?q=export", app.base)).await.unwrap();
    let text = c.wait().for_element(Locator::Css("form#inbox table")).await.unwrap();
    assert!(!text.text().await.unwrap().contains("Bob Jones"), "merged items leave the list");

    c.goto(&format!("{}/ideas", app.base)).await.unwrap();
    let title = c.wait().for_element(Locator::Css("form[action='/ideas'] input[name=title]"));
    title.await.unwrap().send_keys("Better PDF export").await.unwrap();
    c.find(Locator::XPath("//button[text()='Save idea']")).await.unwrap().click().await.unwrap();
    let link = c.wait().for_element(Locator::Css("input[name=feedback]")).await.unwrap();
    link.send_keys("f1").await.unwrap();
    c.find(Locator::XPath("//button[text()='Link']")).await.unwrap().click().await.unwrap();
    c.wait()
        .for_element(Locator::XPath("//ul[contains(@class,'quotes')]//code[text()='f1']"))
        .await
        .unwrap();
    // A customer added by hand, then taken off again.
    let who = Locator::Css("form[action$='/requesters'] input[name=customer]");
    c.find(who).await.unwrap().send_keys("c3").await.unwrap();
    c.find(Locator::XPath("//button[text()='Add']")).await.unwrap().click().await.unwrap();
    let remove = Locator::Css("button[aria-label='Remove Cleo Smith']");
    c.wait().for_element(remove).await.unwrap().click().await.unwrap();
    let askers = Locator::Css("section[aria-labelledby=customers]");
    for _ in 0..100 {
        // The old page's section can go stale mid-read: only a full read of the new one counts.
        if let Ok(e) = c.find(askers).await
            && let Ok(text) = e.text().await
            && text.contains("Ann Smith")
            && !text.contains("Cleo")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Each page offers only the next moves, so waiting for the option waits for the new page.
    for status in ["planned", "in_progress", "shipped"] {
        let option = format!("form[action$='/status'] option[value={status}]");
        c.wait().for_element(Locator::Css(&option)).await.unwrap().click().await.unwrap();
        c.find(Locator::Css("form[action$='/status'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
    let told = c.wait().for_element(Locator::Css("#told-counts")).await.unwrap();
    assert!(told.text().await.unwrap().contains("1 waiting"), "Ann consented: one message");
    let not = c.find(Locator::Css("#not-notified")).await.unwrap().text().await.unwrap();
    assert!(not.contains("Bob Jones") && !not.contains("Ann Smith"), "{not}");
    let customers = c.find(Locator::Css("section[aria-labelledby=customers]")).await.unwrap();
    let customers = customers.text().await.unwrap();
    assert!(customers.contains("Ann Smith") && customers.contains("Bob Jones"), "{customers}");
    assert!(!customers.contains("Cleo"), "removed by hand: {customers}");
    screenshot(&c, "idea-shipped").await;
    c.goto(&format!("{}/feedback/f1", app.base)).await.unwrap();
    let about = c.wait().for_element(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(about.contains("linked"), "linking set the item's triage: {about}");
    c.close().await.unwrap();
}

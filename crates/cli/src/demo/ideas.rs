//! The demo's feedback analysis and ideas: themes given to every item, RFM segments
//! materialised, six feature ideas backed by the feedback that asks for them (found with the
//! inbox's own search), and one shipped idea whose requesters were told.
//!
//! The demo has no mail server, so the shipped idea's messages are recorded as delivered the way
//! the outbox worker records a send (claim, then sent, which writes the timeline entry); with
//! `rapport serve --smtp-url` the worker sends real ones.

use super::today;
use anyhow::Context;
use chrono::Duration;
use rapport_core::idea::{Idea, IdeaSpec, IdeaStatus};
use rapport_reports::analysis::Analyser;
use rapport_store::{Actor, Backend, InboxQuery, Triage};

/// (title, description, kind, events, search words, at most this many linked items, RICE
/// reach, impact, confidence, effort).
type Spec = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    usize,
    u32,
    f64,
    u8,
    f64,
);

const IDEAS: &[Spec] = &[
    (
        "Reliable report exports",
        "CSV and PDF exports fail or drop columns; make them dependable.",
        "improve",
        &["report_exported"],
        "export broken",
        60,
        800,
        2.0,
        80,
        3.0,
    ),
    (
        "Faster dashboard",
        "The dashboard takes ages to load and confuses people.",
        "improve",
        &["dashboard_viewed"],
        "dashboard slow",
        50,
        1500,
        1.0,
        70,
        5.0,
    ),
    (
        "Stable mobile app",
        "The app crashes and logs people out.",
        "improve",
        &["mobile_app_opened"],
        "app crashes",
        50,
        600,
        2.0,
        60,
        8.0,
    ),
    (
        "Salesforce sync that stays connected",
        "The Salesforce sync stops working.",
        "improve",
        &["integration_connected"],
        "salesforce sync",
        30,
        200,
        1.0,
        50,
        4.0,
    ),
    (
        "Live delivery tracking",
        "Tell customers where their parcel is; tracking never updates today.",
        "new",
        &[],
        "tracking",
        40,
        2000,
        1.0,
        50,
        6.0,
    ),
    (
        "Price-lock for loyal customers",
        "Keep the old price for long-standing customers after an increase.",
        "new",
        &[],
        "price increase",
        30,
        900,
        0.5,
        40,
        2.0,
    ),
];

/// What the demo's analysis and ideas came to.
#[derive(Debug, Default)]
pub struct IdeaStats {
    pub themed: usize,
    pub ideas: usize,
    pub linked: usize,
    pub told: usize,
    pub not_notified: usize,
}

pub async fn build(store: &dyn Backend) -> anyhow::Result<IdeaStats> {
    let mut stats = IdeaStats::default();
    let run = Analyser::default().full(store, today()).await.context("themes")?;
    stats.themed = run.assigned;
    rapport_reports::analysis::materialise_rfm(store).await.context("segments")?;
    let mut shipped = None;
    for (n, spec) in IDEAS.iter().enumerate() {
        let (id, linked) = idea(store, spec).await?;
        stats.ideas += 1;
        stats.linked += linked;
        if n == 0 {
            shipped = Some(id);
        } else if n == 1 {
            step(store, id, IdeaStatus::Planned, 20).await?;
        }
    }
    if let Some(id) = shipped {
        for (to, days) in
            [(IdeaStatus::Planned, 60), (IdeaStatus::InProgress, 40), (IdeaStatus::Shipped, 14)]
        {
            step(store, id, to, days).await?;
        }
        let at = today() - Duration::days(14);
        let told = rapport_server::outbox::announce::shipped(store, id, at)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        stats.not_notified = told.not_notified.len();
        while let Some(m) = store.claim_next(at).await? {
            store.mark_sent(m.id, at).await?;
            stats.told += 1;
        }
    }
    Ok(stats)
}

async fn step(store: &dyn Backend, id: i64, to: IdeaStatus, days_ago: i64) -> anyhow::Result<()> {
    let who = Actor { by: Some("pm@demo.example".into()), at: today() - Duration::days(days_ago) };
    store.set_idea_status(id, to, &who).await?;
    Ok(())
}

/// Creates one idea and links the newest items its words find; returns its id and how many.
async fn idea(store: &dyn Backend, s: &Spec) -> anyhow::Result<(i64, usize)> {
    let &(title, description, kind, events, words, most, reach, impact, confidence, effort) = s;
    let spec = IdeaSpec {
        title: title.into(),
        description: Some(description.into()),
        kind: Some(kind.into()),
        reach: Some(reach),
        impact: Some(impact),
        confidence: Some(confidence),
        effort: Some(effort),
        events: events.iter().map(|e| e.to_string()).collect(),
    };
    let idea = Idea::parse(spec).map_err(|e| anyhow::anyhow!("idea '{title}': {e}"))?;
    let who = Actor { by: Some("pm@demo.example".into()), at: today() - Duration::days(90) };
    let id = store.create_idea(&idea, &who).await?;
    let q = InboxQuery {
        words: words.split(' ').map(str::to_string).collect(),
        limit: most,
        ..Default::default()
    };
    let items = store.inbox(&q).await?.items;
    for i in &items {
        store.link_feedback(id, &i.id, &Actor { at: i.created_at, ..who.clone() }).await?;
    }
    let ids: Vec<_> = items.iter().map(|i| i.id.clone()).collect();
    if !ids.is_empty() {
        store.set_triage(&ids, Triage::Linked).await?;
    }
    Ok((id, items.len()))
}

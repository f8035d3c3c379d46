//! The themes page: every theme found in the feedback with its volume, sentiment and weekly
//! trend, linked to the inbox filtered on it; and the button that rediscovers them now.

use super::charts::{self, Bar};
use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use crate::api::inbox::{ThemeOut, themes_out};
use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_core::access::Permission;

/// Weeks of history on the page.
const WEEKS: usize = 12;

struct Row {
    theme: ThemeOut,
    share: String,
    sentiment: String,
    band: &'static str,
    negative: String,
    spark: String,
}

#[derive(Template)]
#[template(path = "themes.html")]
struct ThemesPage {
    layout: Layout,
    rows: Vec<Row>,
    computed_at: String,
    volumes: String,
    moods: String,
    can_write: bool,
}

pub async fn show(State(s): State<AppState>, viewer: Viewer) -> Response {
    let out = match themes_out(s.db.as_ref(), WEEKS, chrono::Utc::now().date_naive()).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let bar = |t: &ThemeOut, value: f64, text: String| Bar { label: t.label.clone(), value, text };
    let volumes: Vec<Bar> =
        out.themes.iter().map(|t| bar(t, t.items as f64, t.items.to_string())).collect();
    let moods: Vec<Bar> = out
        .themes
        .iter()
        .map(|t| bar(t, t.negative * 100.0, format!("{:.0}% negative", t.negative * 100.0)))
        .collect();
    let page = ThemesPage {
        layout: viewer.layout("Feedback"),
        computed_at: out
            .computed_at
            .map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        volumes: charts::bars(
            "volumes",
            "Items per theme",
            &format!("Feedback items per theme over the last {WEEKS} weeks"),
            &volumes,
        ),
        moods: charts::bars(
            "moods",
            "Negative share per theme",
            "Share of each theme's items with a compound sentiment of −0.05 or below",
            &moods,
        ),
        rows: out
            .themes
            .into_iter()
            .map(|t| Row {
                share: format!("{:.1}%", t.share * 100.0),
                sentiment: t.sentiment.map_or("–".into(), |s| format!("{s:+.2}")),
                band: t.sentiment.map_or("", |s| rapport_store::SentimentBand::of(s).as_str()),
                negative: format!("{:.0}%", t.negative * 100.0),
                spark: spark(&t.weekly),
                theme: t,
            })
            .collect(),
        can_write: viewer.0.allows(Permission::Write),
    };
    render(&page)
}

/// A small column chart of weekly counts, each column with its count as a title.
fn spark(weekly: &[i64]) -> String {
    let max = weekly.iter().copied().max().unwrap_or(0).max(1) as f64;
    let w = 120.0 / weekly.len().max(1) as f64;
    let mut out = format!(
        r#"<svg class="spark" viewBox="0 0 120 28" role="img" aria-label="Items per week over {} weeks: {}">"#,
        weekly.len(),
        weekly.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
    );
    for (i, &n) in weekly.iter().enumerate() {
        let h = (n as f64 / max * 26.0).max(if n > 0 { 1.0 } else { 0.0 });
        out.push_str(&format!(
            r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}"><title>{n}</title></rect>"#,
            i as f64 * w + 0.5,
            28.0 - h,
            (w - 1.0).max(1.0)
        ));
    }
    out.push_str("</svg>");
    out
}

#[derive(serde::Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Rediscovers the themes over every item now (seconds at a million items).
pub async fn refresh(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    match s.analysis.full(s.db.as_ref()).await {
        Ok(run) => {
            tracing::info!(by = %viewer.0.label(), items = run.items, themes = run.themes, "themes rediscovered");
            Redirect::to("/feedback/themes").into_response()
        }
        Err(e) => page_error(e.into()),
    }
}

//! Journeys in the UI: the list (each journey with a small funnel) and a journey's map, drawn
//! in server-rendered SVG: stages as columns, a funnel (bars scaled to the population, joined
//! by bands, with the conversion and drop-off between stages) and an emotion curve (NPS of the
//! customers who stopped at each stage, feedback sentiment dashed, around a neutral line), then
//! per column the pain points and quotes of the customers who dropped before it.
//!
//! The geometry is computed here as numbers; every text goes through the template, which
//! escapes it (SVG text included).

use super::journey_view::{StageView, mini_funnel, stage_views};
use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use crate::api::journeys::map;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use rapport_core::access::Permission;
use rapport_reports::personas::segment_text;
use serde::Deserialize;

/// The map's drawing area, in SVG units.
pub(super) const COL: f64 = 190.0;
pub(super) const HEIGHT: f64 = 430.0;

struct Row {
    href: String,
    name: String,
    stages: String,
    population: String,
    completed: String,
    /// Bars of the small funnel: (x, y, width, height).
    bars: Vec<(f64, f64, f64, f64)>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "journeys.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
}

pub async fn list(viewer: Viewer, State(s): State<AppState>) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let journeys = match s.db.journeys().await {
        Ok(j) => j,
        Err(e) => return page_error(e.into()),
    };
    let mut rows = Vec::with_capacity(journeys.len());
    for j in journeys {
        let names: Vec<&str> = j.spec.stages.iter().map(|s| s.name.as_str()).collect();
        let mut row = Row {
            href: format!("/journeys/{}", j.id),
            name: j.spec.name.clone(),
            stages: names.join(" → "),
            population: String::new(),
            completed: String::new(),
            bars: Vec::new(),
            error: None,
        };
        match map(&s, &j, None).await {
            Ok(m) => {
                let last = m.stages.last().map_or(0, |s| s.result.reached);
                row.population = count(m.population);
                row.completed = format!("{} ({})", count(last), percent(share(last, m.population)));
                row.bars = mini_funnel(&m);
            }
            Err(e) => row.error = Some(e.to_string()),
        }
        rows.push(row);
    }
    render(&ListPage { layout: viewer.layout("Journeys"), rows })
}

#[derive(Template)]
#[template(path = "journey.html")]
struct MapPage {
    layout: Layout,
    id: i64,
    name: String,
    description: String,
    segment: String,
    /// The journey's own segment, when the map is not restricted to another.
    own_segment: Option<String>,
    /// Segments to pick from: (what to type, what it is), saved segments and personas.
    choices: Vec<(String, String)>,
    error: Option<String>,
    population: String,
    width: f64,
    height: f64,
    stages: Vec<StageView>,
    nps_line: String,
    sentiment_line: String,
    baseline: f64,
    /// Where the biggest drop happens, for the summary line above the map.
    worst: Option<(String, String, String)>,
}

#[derive(Deserialize)]
pub struct MapQuery {
    segment: Option<String>,
}

pub async fn show(
    viewer: Viewer,
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MapQuery>,
) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let Some(id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return page_error(ApiError::NotFound(format!("journey {id}")));
    };
    let j = match s.db.journey(id).await {
        Ok(j) => j,
        Err(e) => return page_error(e.into()),
    };
    let segment = q.segment.unwrap_or_default().trim().to_string();
    let mut page = MapPage {
        layout: viewer.layout("Journeys"),
        id,
        name: j.spec.name.clone(),
        description: j.spec.description.clone(),
        own_segment: j.spec.segment.clone().filter(|_| segment.is_empty()),
        segment: segment.clone(),
        choices: choices(&s).await,
        error: None,
        population: String::new(),
        width: COL * j.spec.stages.len().max(1) as f64,
        height: HEIGHT,
        stages: Vec::new(),
        nps_line: String::new(),
        sentiment_line: String::new(),
        baseline: 0.0,
        worst: None,
    };
    match map(&s, &j, Some(&segment)).await {
        Ok(m) => {
            page.population = count(m.population);
            let drawn = stage_views(&m);
            (page.stages, page.nps_line, page.sentiment_line) =
                (drawn.stages, drawn.nps, drawn.sentiment);
            page.baseline = drawn.baseline;
            page.worst = drawn.worst;
        }
        // A filter that does not parse is the reader's to fix: shown beside the form.
        Err(ApiError::Invalid { reason, .. }) => page.error = Some(reason),
        Err(e) => return page_error(e),
    }
    render(&page)
}

/// `12345` as `12,345`.
pub(super) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(super) fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

pub(super) fn percent(x: Option<f64>) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{:.0}%", 100.0 * v))
}

/// The saved segments (by slug) and the personas a filter describes, for the segment field.
async fn choices(s: &AppState) -> Vec<(String, String)> {
    let (saved, personas) = tokio::join!(s.db.saved_segments(), s.db.personas());
    let saved = saved.unwrap_or_default().into_iter().map(|g| (g.slug, g.spec.name));
    let personas = personas.unwrap_or_default().into_iter().filter_map(|p| {
        Some((segment_text(&p.source_kind, &p.source)?, format!("persona: {}", p.name)))
    });
    saved.chain(personas).collect()
}

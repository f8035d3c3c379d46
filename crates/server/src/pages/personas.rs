//! Personas in the UI: the list of cards (with a form for a new persona), each persona's page
//! (figures, demographics, behaviours, goals, pain points with quotes, the empathy map, and
//! forms to rename, annotate and regenerate it) and a side-by-side comparison.

use super::persona_view::{self as view, Card, Dimension, Pain, Quadrant, Said};
use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rapport_core::access::Permission;
use rapport_reports::personas::{self, Source};
use rapport_store::{PersonaEdit, PersonaRecord};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "personas.html")]
struct ListPage {
    layout: Layout,
    cards: Vec<Card>,
    compare: String,
    can_write: bool,
    error: Option<String>,
    form: NewPersona,
    kinds: &'static [(&'static str, &'static str)],
    /// The saved segments' slugs, to pick from.
    segments: Vec<String>,
}

/// The source kinds as the form offers them.
const KINDS: &[(&str, &str)] = &[
    ("filter", "a filter"),
    ("rfm", "an RFM segment"),
    ("segment", "a saved segment"),
    ("cluster", "a k-means cluster"),
];

#[derive(Debug, Default, Deserialize)]
pub struct NewPersona {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default = "filter_kind")]
    kind: String,
}

fn filter_kind() -> String {
    "filter".into()
}

async fn list_page(
    s: &AppState,
    viewer: &Viewer,
    form: NewPersona,
    error: Option<String>,
) -> Response {
    let (all, saved) = match tokio::try_join!(s.db.personas(), s.db.saved_segments()) {
        Ok(read) => read,
        Err(e) => return page_error(e.into()),
    };
    let ids: Vec<String> = all.iter().take(3).map(|p| p.id.to_string()).collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = ListPage {
        layout: viewer.layout("Personas"),
        cards: all.iter().map(view::card).collect(),
        compare: if ids.len() >= 2 {
            format!("/personas/compare?ids={}", ids.join(","))
        } else {
            String::new()
        },
        can_write: viewer.0.allows(Permission::Write),
        error,
        form,
        kinds: KINDS,
        segments: saved.into_iter().map(|s| s.slug).collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn list(State(s): State<AppState>, viewer: Viewer) -> Response {
    let form = NewPersona { kind: filter_kind(), ..NewPersona::default() };
    list_page(&s, &viewer, form, None).await
}

pub async fn create(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewPersona>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let source = match Source::resolve(s.db.as_ref(), &f.kind, &f.source).await {
        Ok(s) => s,
        Err(e) => return list_page(&s, &viewer, f, Some(e.to_string())).await,
    };
    let name = Some(f.name.trim().to_string()).filter(|n| !n.is_empty());
    let made = async {
        let id =
            personas::store_new(s.db.as_ref(), name, String::new(), &source, Utc::now()).await?;
        s.segment_frames.regenerate_persona(s.db.as_ref(), id).await
    };
    match made.await {
        Ok(p) => Redirect::to(&format!("/personas/{}", p.id)).into_response(),
        Err(e) => page_error(e.into()),
    }
}

#[derive(Template)]
#[template(path = "persona.html")]
struct PersonaPage {
    layout: Layout,
    card: Card,
    name_edited: bool,
    generated_name: String,
    notes: String,
    source: String,
    /// The saved segment's page, for a persona of one.
    source_link: Option<String>,
    generated_at: String,
    figures: Vec<(&'static str, String, String)>,
    demographics: Vec<Dimension>,
    behaviours: Vec<Dimension>,
    goals: Vec<Said>,
    pains: Vec<Pain>,
    quadrants: Vec<Quadrant>,
    traits: Vec<String>,
    mood: String,
    can_write: bool,
    error: Option<String>,
}

fn id_of(id: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::NotFound(format!("persona '{id}'")))
}

fn persona_page(viewer: &Viewer, p: &PersonaRecord, error: Option<String>) -> PersonaPage {
    let profile = p.profile.as_ref();
    let or_empty = |f: fn(&rapport_analytics::persona::PersonaProfile) -> Vec<Dimension>| {
        profile.map(f).unwrap_or_default()
    };
    PersonaPage {
        layout: viewer.layout("Personas"),
        card: view::card(p),
        name_edited: p.name_edited,
        generated_name: p.generated_name.clone().unwrap_or_default(),
        notes: p.notes.clone(),
        source: format!("{}: {}", p.source_kind, p.source),
        source_link: (p.source_kind == "segment").then(|| format!("/segments/{}", p.source)),
        generated_at: p
            .generated_at
            .map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
        figures: profile.map(view::figures).unwrap_or_default(),
        demographics: or_empty(view::demographics),
        behaviours: or_empty(view::behaviours),
        goals: profile.map(view::goals).unwrap_or_default(),
        pains: profile.map(view::pains).unwrap_or_default(),
        quadrants: profile.map(view::empathy).unwrap_or_default(),
        traits: profile
            .map(|p| p.traits.iter().map(view::trait_text).collect())
            .unwrap_or_default(),
        mood: profile.map_or(String::new(), |p| {
            let m = &p.sentiment;
            format!(
                "{} feedback items: {} positive, {} neutral, {} negative",
                m.items,
                view::pct(m.positive),
                view::pct(m.neutral),
                view::pct(m.negative)
            )
        }),
        can_write: viewer.0.allows(Permission::Write),
        error,
    }
}

pub async fn show(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let found = match id_of(&id) {
        Ok(id) => s.db.persona(id).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match found {
        Ok(p) => render(&persona_page(&viewer, &p, None)),
        Err(e) => page_error(e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    notes: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn may_write(viewer: &Viewer, csrf: &str) -> Result<(), ApiError> {
    viewer.check_csrf(csrf).and_then(|_| viewer.require(Permission::Write))
}

pub async fn edit(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<EditForm>,
) -> Response {
    let done = async {
        may_write(&viewer, &f.csrf)?;
        let id = id_of(&id)?;
        let edit = PersonaEdit { name: Some(f.name), notes: Some(f.notes) };
        s.db.edit_persona(id, &edit, Utc::now()).await?;
        Ok::<i64, ApiError>(id)
    };
    match done.await {
        Ok(id) => Redirect::to(&format!("/personas/{id}")).into_response(),
        Err(e) => page_error(e),
    }
}

pub async fn regenerate(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let done = async {
        may_write(&viewer, &f.csrf)?;
        let id = id_of(&id)?;
        s.segment_frames.regenerate_persona(s.db.as_ref(), id).await?;
        Ok::<i64, ApiError>(id)
    };
    match done.await {
        Ok(id) => Redirect::to(&format!("/personas/{id}")).into_response(),
        Err(e) => page_error(e),
    }
}

pub async fn delete(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let done = async {
        may_write(&viewer, &f.csrf)?;
        s.db.delete_persona(id_of(&id)?).await?;
        Ok::<(), ApiError>(())
    };
    match done.await {
        Ok(()) => Redirect::to("/personas").into_response(),
        Err(e) => page_error(e),
    }
}

#[derive(Template)]
#[template(path = "persona_compare.html")]
struct ComparePage {
    layout: Layout,
    cards: Vec<Card>,
    rows: Vec<(&'static str, Vec<String>)>,
}

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    #[serde(default)]
    ids: String,
}

/// Two or three personas side by side: `?ids=1,2[,3]`.
pub async fn compare(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<CompareQuery>,
) -> Response {
    let ids: Result<Vec<i64>, ApiError> =
        q.ids.split(',').map(str::trim).filter(|s| !s.is_empty()).map(id_of).collect();
    let ids = match ids {
        Ok(ids) if (2..=3).contains(&ids.len()) => ids,
        Ok(_) => {
            return page_error(ApiError::parameter(
                "ids",
                "give two or three persona ids: ?ids=1,2",
            ));
        }
        Err(e) => return page_error(e),
    };
    let mut all = Vec::with_capacity(ids.len());
    for id in ids {
        match s.db.persona(id).await {
            Ok(p) => all.push(p),
            Err(e) => return page_error(e.into()),
        }
    }
    let page = ComparePage {
        layout: viewer.layout("Personas"),
        cards: all.iter().map(view::card).collect(),
        rows: view::compare_rows(&all),
    };
    render(&page)
}

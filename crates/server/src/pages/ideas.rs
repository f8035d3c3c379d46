//! Ideas in the UI: the board (ranked list and one column per status) with a form for a new
//! idea, each idea's page (its score explained, RICE, evidence, the customers behind it, and
//! forms to change status, link feedback and add a customer), and the top ideas per segment.

use super::{Layout, Viewer, page_error, render, urlencode};
use crate::AppState;
use crate::api::ideas::{actor, model, note, status_error};
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::idea::{IMPACTS, Idea, IdeaSpec, IdeaStatus};
use rapport_reports::ideas::{self, Params, RankedIdea};
use serde::Deserialize;

struct Row {
    rank: usize,
    href: String,
    title: String,
    status: &'static str,
    kind: &'static str,
    score: String,
    /// The bar's width in percent of the top score.
    bar: u32,
    customers: i64,
    evidence: i64,
    rice: String,
}

fn row(r: &RankedIdea, top: f64) -> Row {
    Row {
        rank: r.rank,
        href: format!("/ideas/{}", r.idea.id),
        title: r.idea.idea.title.clone(),
        status: r.idea.status.label(),
        kind: r.idea.idea.kind.as_str(),
        score: format!("{:.1}", r.score),
        bar: if top > 0.0 { (100.0 * r.score / top).round() as u32 } else { 0 },
        customers: r.idea.requesters,
        evidence: r.idea.evidence,
        rice: r.rice.map_or("–".into(), |v| format!("{v:.1}")),
    }
}

struct Column {
    label: &'static str,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "ideas.html")]
struct BoardPage {
    layout: Layout,
    rows: Vec<Row>,
    columns: Vec<Column>,
    can_write: bool,
    error: Option<String>,
    form: NewIdea,
    impacts: Vec<String>,
}

/// The new-idea form; numbers arrive as text and are checked by field.
#[derive(Debug, Default, Deserialize)]
pub struct NewIdea {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    reach: String,
    #[serde(default)]
    impact: String,
    #[serde(default)]
    confidence: String,
    #[serde(default)]
    effort: String,
    #[serde(default)]
    events: String,
}

fn number<T: std::str::FromStr>(field: &str, v: &str) -> Result<Option<T>, ApiError> {
    match v.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(field, format!("'{t}' is not a number"))),
    }
}

fn spec_of(f: &NewIdea) -> Result<IdeaSpec, ApiError> {
    Ok(IdeaSpec {
        title: f.title.clone(),
        description: Some(f.description.clone()),
        kind: Some(f.kind.clone()),
        reach: number("reach", &f.reach)?,
        impact: number("impact", &f.impact)?,
        confidence: number("confidence", &f.confidence)?,
        effort: number("effort", &f.effort)?,
        events: f
            .events
            .split([',', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(String::from)
            .collect(),
    })
}

async fn board_page(
    s: &AppState,
    viewer: &Viewer,
    form: NewIdea,
    error: Option<String>,
) -> Response {
    let ranked = match model(s).await {
        Ok(m) => ideas::rank(s.db.as_ref(), &m, &Params::default()).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let ranked = match ranked {
        Ok(r) => r,
        Err(e) => return page_error(e),
    };
    let top = ranked.first().map_or(0.0, |r| r.score);
    let columns = IdeaStatus::ALL
        .into_iter()
        .map(|st| Column {
            label: st.label(),
            rows: ranked.iter().filter(|r| r.idea.status == st).map(|r| row(r, top)).collect(),
        })
        .collect();
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = BoardPage {
        layout: viewer.layout("Ideas"),
        rows: ranked.iter().map(|r| row(r, top)).collect(),
        columns,
        can_write: viewer.0.allows(Permission::Write),
        error,
        form,
        impacts: IMPACTS.iter().map(|i| i.to_string()).collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn board(State(s): State<AppState>, viewer: Viewer) -> Response {
    board_page(&s, &viewer, NewIdea::default(), None).await
}

pub async fn create(State(s): State<AppState>, viewer: Viewer, Form(f): Form<NewIdea>) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let idea = match spec_of(&f).and_then(|spec| Idea::parse(spec).map_err(ApiError::from)) {
        Ok(i) => i,
        Err(e) => return board_page(&s, &viewer, f, Some(e.to_string())).await,
    };
    match s.db.create_idea(&idea, &actor(&viewer.0)).await {
        Ok(id) => Redirect::to(&format!("/ideas/{id}")).into_response(),
        Err(e) => page_error(e.into()),
    }
}

struct Factor {
    name: &'static str,
    value: String,
    explanation: String,
}

struct Quote {
    feedback: String,
    href: String,
    who: String,
    source: String,
    at: String,
    text: String,
    mood: String,
}

struct Asker {
    /// The customer's id, when a team member added them (and so can take them off).
    added: Option<String>,
    href: String,
    name: String,
    email: String,
    revenue: String,
    first: String,
    how: String,
}

#[derive(Template)]
#[template(path = "idea.html")]
struct IdeaPage {
    layout: Layout,
    id: i64,
    title: String,
    description: String,
    status: &'static str,
    kind: &'static str,
    events: String,
    score: String,
    factors: Vec<Factor>,
    rice: String,
    rice_inputs: Vec<(&'static str, String)>,
    quotes: Vec<Quote>,
    askers: Vec<Asker>,
    history: Vec<String>,
    next: Vec<(&'static str, &'static str)>,
    can_write: bool,
    error: Option<String>,
    told: Option<Told>,
}

/// Who was told that a shipped idea shipped (the outbox's messages of its topic), and who was
/// not, with the reason.
struct Told {
    counts: rapport_store::OutboxCounts,
    not_notified: Vec<(String, String, String)>,
}

async fn told(s: &AppState, id: i64) -> Result<Told, ApiError> {
    use crate::outbox::announce;
    let counts = s.db.outbox_counts(Some(&announce::topic(id))).await?;
    let (plan, _) = announce::plan(s.db.as_ref(), id).await?;
    let not_notified = plan
        .not_notified
        .iter()
        .map(|n| {
            let name = n.name.clone().unwrap_or_else(|| n.customer.to_string());
            (customer_href(&n.customer), name, n.reason.to_string())
        })
        .collect();
    Ok(Told { counts, not_notified })
}

fn customer_href(id: &ExternalId) -> String {
    format!("/customers/{}", urlencode(id.as_str()))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("–".into(), |v| v.to_string())
}

async fn idea_page(s: &AppState, viewer: &Viewer, id: &str, error: Option<String>) -> Response {
    let Some(id) = id.parse::<i64>().ok().filter(|n| *n > 0) else {
        return page_error(ApiError::NotFound(format!("idea '{id}'")));
    };
    let explained = match model(s).await {
        Ok(m) => {
            ideas::explain(s.db.as_ref(), &m, id, &Params::default()).await.map_err(ApiError::from)
        }
        Err(e) => Err(e),
    };
    let (d, r) = match explained {
        Ok(v) => v,
        Err(e) => return page_error(e),
    };
    let told = match d.record.status {
        IdeaStatus::Shipped => match told(s, id).await {
            Ok(t) => Some(t),
            Err(e) => return page_error(e),
        },
        _ => None,
    };
    let i = &d.record.idea;
    let day = |t: rapport_core::Timestamp| t.format("%Y-%m-%d").to_string();
    let page = IdeaPage {
        told,
        layout: viewer.layout("Ideas"),
        id,
        title: i.title.clone(),
        description: i.description.clone().unwrap_or_default(),
        status: d.record.status.label(),
        kind: i.kind.as_str(),
        events: i.events.join(", "),
        score: format!("{:.1}", r.score),
        factors: r
            .priority
            .components
            .iter()
            .map(|c| Factor {
                name: c.name,
                // A count of customers reads as a whole number; factors as multipliers.
                value: if c.name == "customers" {
                    format!("{:.0}", c.value)
                } else {
                    format!("×{:.2}", c.value)
                },
                explanation: c.explanation.clone(),
            })
            .collect(),
        rice: r.rice.map_or("not estimated yet".into(), |v| format!("{v:.1}")),
        rice_inputs: vec![
            ("Reach", opt(i.rice.reach)),
            ("Impact", opt(i.rice.impact)),
            ("Confidence", i.rice.confidence.map_or("–".into(), |c| format!("{c}%"))),
            ("Effort (person-weeks)", opt(i.rice.effort)),
        ],
        quotes: d
            .evidence
            .iter()
            .map(|e| Quote {
                feedback: e.feedback.to_string(),
                href: customer_href(&e.customer),
                who: e.customer_name.clone().unwrap_or_else(|| e.customer.to_string()),
                source: e.source.clone(),
                at: day(e.created_at),
                text: e
                    .text
                    .clone()
                    .or_else(|| e.rating.map(|r| format!("(rating {r})")))
                    .unwrap_or_default(),
                mood: e.sentiment.map_or(String::new(), |v| format!("{v:+.2}")),
            })
            .collect(),
        askers: d
            .requesters
            .iter()
            .map(|q| Asker {
                added: q.added.then(|| q.customer.to_string()),
                href: customer_href(&q.customer),
                name: q.name.clone().unwrap_or_else(|| q.customer.to_string()),
                email: q.email.clone().unwrap_or_default(),
                revenue: q.revenue.to_string(),
                first: day(q.first_requested_at),
                how: asked_how(q),
            })
            .collect(),
        history: d
            .history
            .iter()
            .map(|h| {
                format!(
                    "{} · {} → {} · {}",
                    day(h.at),
                    h.from.label(),
                    h.to.label(),
                    h.by.as_deref().unwrap_or("")
                )
            })
            .collect(),
        next: d.record.status.next().iter().map(|s| (s.as_str(), s.label())).collect(),
        can_write: viewer.0.allows(Permission::Write),
        error,
    };
    let status =
        if page.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

/// "2 feedback items (email)", "added by user:ann: asked at the fair", or both.
fn asked_how(q: &rapport_store::Requester) -> String {
    let mut parts = Vec::new();
    if q.feedback > 0 {
        let items = if q.feedback == 1 {
            "1 feedback item".into()
        } else {
            format!("{} feedback items", q.feedback)
        };
        parts.push(match &q.via {
            Some(v) => format!("{items} ({v})"),
            None => items,
        });
    }
    if q.added {
        let by = q.added_by.as_deref().unwrap_or("a team member");
        parts.push(match &q.note {
            Some(n) => format!("added by {by}: {n}"),
            None => format!("added by {by}"),
        });
    }
    parts.join("; ")
}

pub async fn show(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    idea_page(&s, &viewer, &id, None).await
}

/// The forms of an idea's page: status, link feedback, add a customer.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    feedback: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    note: String,
}

async fn act(
    s: &AppState,
    viewer: &Viewer,
    id: &str,
    f: &ActionForm,
    what: &str,
) -> Result<(), ApiError> {
    viewer.check_csrf(&f.csrf)?;
    viewer.require(Permission::Write)?;
    let idea = id.parse::<i64>().map_err(|_| ApiError::NotFound(format!("idea '{id}'")))?;
    let by = actor(&viewer.0);
    let ext = |field: &str, v: &str| ExternalId::parse(v).map_err(|r| ApiError::invalid(field, r));
    match what {
        "status" => {
            let to = IdeaStatus::parse(&f.status).map_err(|r| ApiError::invalid("status", r))?;
            s.db.set_idea_status(idea, to, &by).await.map_err(status_error)?;
            if to == IdeaStatus::Shipped {
                crate::outbox::announce::shipped(s.db.as_ref(), idea, chrono::Utc::now()).await?;
            }
        }
        "feedback" => {
            let item = ext("feedback", &f.feedback)?;
            s.db.link_feedback(idea, &item, &by).await?;
            s.db.set_triage(&[item], rapport_store::Triage::Linked).await?;
        }
        // Unlinking leaves the item's triage alone: it may back another idea, and a team
        // member who unlinks by mistake links again.
        "unlink" => s.db.unlink_feedback(idea, &ext("feedback", &f.feedback)?).await?,
        "unrequest" => s.db.remove_requester(idea, &ext("customer", &f.customer)?).await?,
        _ => {
            let n = note(Some(&f.note))?;
            s.db.add_requester(idea, &ext("customer", &f.customer)?, n.as_deref(), &by).await?;
        }
    }
    Ok(())
}

async fn action(s: AppState, viewer: Viewer, id: String, f: ActionForm, what: &str) -> Response {
    match act(&s, &viewer, &id, &f, what).await {
        Ok(()) => Redirect::to(&format!("/ideas/{id}")).into_response(),
        // A wrong feedback or customer id is the form's fault: shown on the page.
        Err(e @ (ApiError::Invalid { .. } | ApiError::NotFound(_)))
            if id.parse::<i64>().is_ok() =>
        {
            idea_page(&s, &viewer, &id, Some(e.to_string())).await
        }
        Err(e) => page_error(e),
    }
}

pub async fn set_status(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    action(s, viewer, id, f, "status").await
}

pub async fn link(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    action(s, viewer, id, f, "feedback").await
}

pub async fn add_requester(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    action(s, viewer, id, f, "requester").await
}

pub async fn unlink(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    action(s, viewer, id, f, "unlink").await
}

pub async fn remove_requester(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(f): Form<ActionForm>,
) -> Response {
    action(s, viewer, id, f, "unrequest").await
}

struct SegmentView {
    name: String,
    weight: String,
    customers: usize,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "idea_segments.html")]
struct SegmentsPage {
    layout: Layout,
    segments: Vec<SegmentView>,
}

pub async fn segments(State(s): State<AppState>, viewer: Viewer) -> Response {
    let found = match model(&s).await {
        Ok(m) => ideas::by_segment(s.db.as_ref(), &m, &Params::default(), 5)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    let found = match found {
        Ok(f) => f,
        Err(e) => return page_error(e),
    };
    let segments = found
        .iter()
        .map(|g| {
            let top = g.ideas.first().map_or(0.0, |r| r.score);
            SegmentView {
                name: g.segment.as_str().replace('_', " "),
                weight: format!("{}", g.weight),
                customers: g.customers,
                rows: g.ideas.iter().map(|r| row(r, top)).collect(),
            }
        })
        .collect();
    render(&SegmentsPage { layout: viewer.layout("Ideas"), segments })
}

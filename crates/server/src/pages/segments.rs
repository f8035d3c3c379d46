//! Segments in the UI: the saved segments with their size trends, the built-in RFM segments,
//! a form for a new segment whose count updates while the filter is typed (`segments.js`
//! asks `/api/v1/segments/preview`; without script, a Preview button asks the page), and
//! each segment's page: definition, size history, members, edit, refresh and delete.

use super::charts::{self, Bar};
use super::{Layout, Viewer, page_error, render, urlencode};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_core::access::Permission;
use rapport_core::filter::parse;
use rapport_reports::ReportError;
use rapport_reports::saved_segments::{self, Preview};
use rapport_reports::segments::Needs;
use rapport_store::{SavedSegment, SegmentSpec};
use serde::Deserialize;

/// Members listed per page of a segment.
const MEMBERS_PAGE: usize = 50;

struct Row {
    href: String,
    name: String,
    expression: String,
    size: String,
    refreshed: String,
    spark: String,
}

fn row(s: &SavedSegment, sizes: &[f64]) -> Row {
    Row {
        href: format!("/segments/{}", urlencode(&s.slug)),
        name: s.spec.name.clone(),
        expression: s.spec.expression.clone(),
        size: s.size.map_or("–".into(), thousands),
        refreshed: s
            .refreshed_at
            .map_or("never".into(), |t| t.format("%Y-%m-%d %H:%M").to_string()),
        spark: charts::sparkline(
            &format!("{} members over its last refreshes", s.spec.name),
            sizes,
        ),
    }
}

fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// The new-segment and edit forms.
#[derive(Debug, Default, Deserialize)]
pub struct SegmentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    expression: String,
    #[serde(default)]
    description: String,
}

impl SegmentForm {
    fn spec(&self) -> SegmentSpec {
        SegmentSpec {
            name: self.name.clone(),
            expression: self.expression.clone(),
            description: self.description.clone(),
        }
    }
}

/// A preview as the page shows it: the count line, or the filter's error with its caret.
struct Shown {
    line: String,
    sample: Vec<String>,
    error: Option<String>,
}

fn shown(p: Result<Preview, String>) -> Shown {
    match p {
        Ok(p) => Shown {
            line: format!(
                "{} of {} customers ({:.1}%)",
                thousands(p.count as i64),
                thousands(p.customers as i64),
                p.share * 100.0
            ),
            sample: p.sample.into_iter().map(|m| m.name.unwrap_or(m.id)).collect(),
            error: None,
        },
        Err(e) => Shown { line: String::new(), sample: Vec::new(), error: Some(e) },
    }
}

async fn preview(s: &AppState, expression: &str) -> Result<Preview, String> {
    let filter = parse(expression).map_err(|e| e.to_string())?;
    let (frame, _) = s
        .segment_frames
        .get(s.db.as_ref(), &Needs::of(&filter))
        .await
        .map_err(|e| ApiError::from(e).to_string())?;
    Ok(saved_segments::preview(&frame.frame, &filter, chrono::Utc::now(), 5))
}

#[derive(Template)]
#[template(path = "segments.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    builtin: Vec<(String, String)>,
    can_write: bool,
    form: SegmentForm,
    preview: Option<Shown>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    /// A filter to preview (the Preview button without script).
    expression: Option<String>,
    name: Option<String>,
    description: Option<String>,
}

async fn list_page(
    s: &AppState,
    viewer: &Viewer,
    form: SegmentForm,
    preview: Option<Shown>,
    status: StatusCode,
) -> Response {
    let saved = match s.db.saved_segments().await {
        Ok(v) => v,
        Err(e) => return page_error(e.into()),
    };
    let mut rows = Vec::with_capacity(saved.len());
    for seg in &saved {
        let history = s.db.segment_history(&seg.slug).await.unwrap_or_default();
        let sizes: Vec<f64> = history.iter().rev().take(30).rev().map(|p| p.size as f64).collect();
        rows.push(row(seg, &sizes));
    }
    let builtin = match s.db.segments().await {
        Ok(v) => v
            .into_iter()
            .filter_map(|(name, n)| {
                name.strip_prefix("rfm:").map(|r| (r.replace('_', " "), thousands(n)))
            })
            .collect(),
        Err(e) => return page_error(e.into()),
    };
    let can_write = viewer.require(Permission::Write).is_ok();
    let page =
        ListPage { layout: viewer.layout("Segments"), rows, builtin, can_write, form, preview };
    (status, render(&page)).into_response()
}

pub async fn list(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Response {
    let shown = match q.expression.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(e) => Some(shown(preview(&s, e).await)),
        None => None,
    };
    let form = SegmentForm {
        name: q.name.unwrap_or_default(),
        expression: q.expression.unwrap_or_default(),
        description: q.description.unwrap_or_default(),
        ..SegmentForm::default()
    };
    list_page(&s, &viewer, form, shown, StatusCode::OK).await
}

/// A definition's error goes back to the form that sent it, with what was typed.
fn form_error(e: ReportError) -> Result<String, ApiError> {
    match e {
        ReportError::Invalid { field, reason } => Ok(format!("{field}: {reason}")),
        ReportError::Store(rapport_store::StoreError::Conflict(m)) => Ok(m),
        e => Err(e.into()),
    }
}

pub async fn create(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(form): Form<SegmentForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&form.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let by = viewer.0.label();
    let now = chrono::Utc::now();
    match saved_segments::create(s.db.as_ref(), None, &form.spec(), Some(&by), now).await {
        Ok((made, _)) => {
            Redirect::to(&format!("/segments/{}", urlencode(&made.slug))).into_response()
        }
        Err(e) => match form_error(e) {
            Ok(msg) => {
                let preview =
                    Some(Shown { line: String::new(), sample: Vec::new(), error: Some(msg) });
                list_page(&s, &viewer, form, preview, StatusCode::UNPROCESSABLE_ENTITY).await
            }
            Err(e) => page_error(e),
        },
    }
}

struct Member {
    href: String,
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "segment.html")]
struct SegmentPage {
    layout: Layout,
    segment: SavedSegment,
    size: String,
    refreshed: String,
    chart: String,
    history: Vec<(String, String, String, String)>,
    members: Vec<Member>,
    next: Option<String>,
    can_write: bool,
    form: SegmentForm,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    after: Option<i64>,
}

async fn segment_page(
    s: &AppState,
    viewer: &Viewer,
    slug: &str,
    after: Option<i64>,
    edit: Option<(SegmentForm, String)>,
) -> Result<Response, ApiError> {
    let segment = s.db.saved_segment(slug).await?;
    let history = s.db.segment_history(slug).await?;
    let page = s.db.segment_member_keys(slug, after, MEMBERS_PAGE).await?;
    let labels = s.db.customer_labels(&page.items).await?;
    let recent = &history[history.len().saturating_sub(30)..];
    let bars: Vec<Bar> = recent
        .iter()
        .map(|p| Bar {
            label: p.at.format("%m-%d %H:%M").to_string(),
            value: p.size as f64,
            text: format!("{} members (+{} −{})", thousands(p.size), p.entered, p.left),
        })
        .collect();
    let chart = charts::columns(
        "size",
        "Members at each refresh",
        "The segment's size at each of its last refreshes",
        "Refreshed",
        "Members",
        &bars,
    );
    let members = labels
        .into_iter()
        .map(|l| Member {
            href: format!("/customers/{}", urlencode(l.id.as_str())),
            id: l.id.as_str().to_string(),
            name: l.name.unwrap_or_default(),
        })
        .collect();
    let (form, error, status) = match edit {
        Some((f, e)) => (f, Some(e), StatusCode::UNPROCESSABLE_ENTITY),
        None => (
            SegmentForm {
                name: segment.spec.name.clone(),
                expression: segment.spec.expression.clone(),
                description: segment.spec.description.clone(),
                ..SegmentForm::default()
            },
            None,
            StatusCode::OK,
        ),
    };
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let page = SegmentPage {
        layout: viewer.layout("Segments"),
        size: segment.size.map_or("not materialised yet".into(), thousands),
        refreshed: segment.refreshed_at.map_or("never".into(), fmt),
        history: history
            .iter()
            .rev()
            .take(10)
            .map(|p| (fmt(p.at), thousands(p.size), p.entered.to_string(), p.left.to_string()))
            .collect(),
        segment,
        chart,
        members,
        next: page.next.map(|n| format!("/segments/{}?after={n}", urlencode(slug))),
        can_write: viewer.require(Permission::Write).is_ok(),
        form,
        error,
    };
    Ok((status, render(&page)).into_response())
}

pub async fn show(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    segment_page(&s, &viewer, &slug, q.after, None).await.unwrap_or_else(page_error)
}

pub async fn update(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<SegmentForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&form.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let result =
        saved_segments::update(s.db.as_ref(), &slug, &form.spec(), chrono::Utc::now()).await;
    match result.map_err(form_error) {
        Ok(_) => Redirect::to(&format!("/segments/{}", urlencode(&slug))).into_response(),
        Err(Ok(msg)) => segment_page(&s, &viewer, &slug, None, Some((form, msg)))
            .await
            .unwrap_or_else(page_error),
        Err(Err(e)) => page_error(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn refresh(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&form.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let only = [slug.clone()];
    match saved_segments::refresh(s.db.as_ref(), Some(&only), chrono::Utc::now()).await {
        Ok(_) => Redirect::to(&format!("/segments/{}", urlencode(&slug))).into_response(),
        Err(e) => page_error(e.into()),
    }
}

pub async fn delete(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(slug): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&form.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    match s.db.delete_segment(&slug).await {
        Ok(()) => Redirect::to("/segments").into_response(),
        Err(e) => page_error(e.into()),
    }
}

/// The filter language's guide, as written in the repository.
pub async fn guide(_: Viewer) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        include_str!("../../../../docs/filter-language.md"),
    )
        .into_response()
}

/// The script that counts while the filter is typed.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/segments.js"),
    )
        .into_response()
}

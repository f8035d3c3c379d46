//! The Scorecard page: goals grouped by perspective (customer, business), each with its target,
//! period, owner, latest value, status and a sparkline; a form to add a goal and a button to
//! remove one (members and admins).

use super::{Layout, Viewer, page_error, render, scorecard_view};
use crate::AppState;
use crate::api::scorecard::{ScorecardParams, load};
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rapport_analytics::scorecard::{Direction, GoalSpec, Metric, Perspective, Status};
use rapport_core::access::Permission;
use rapport_reports::scorecard::{self, GoalStatus};
use serde::Deserialize;

/// A goal's row, formatted (the template escapes every string but the SVG).
struct Row {
    id: i64,
    metric: &'static str,
    /// "≥ 40.0" or "≤ 3.0%".
    target: String,
    period: &'static str,
    owner: String,
    latest_label: String,
    latest: String,
    status: &'static str,
    status_class: &'static str,
    spark: String,
}

struct Group {
    id: &'static str,
    title: &'static str,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "scorecard.html")]
struct ScorecardPage {
    layout: Layout,
    as_of: String,
    groups: Vec<Group>,
    /// (status, class, goals) for the summary.
    counts: Vec<(&'static str, &'static str, usize)>,
    can_write: bool,
    metrics: Vec<(&'static str, String)>,
    form: GoalForm,
    error: Option<String>,
}

/// The add-goal form as submitted: strings, so a bad number is reported by field.
#[derive(Debug, Default, Deserialize)]
pub struct GoalForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    metric: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    period: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    at_risk_margin: String,
}

impl GoalForm {
    fn spec(&self) -> Result<GoalSpec, ApiError> {
        let number = |field: &str, s: &str| -> Result<Option<f64>, ApiError> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            let v = s
                .parse::<f64>()
                .map_err(|_| ApiError::invalid(field, format!("'{s}' is not a number")))?;
            Ok(Some(v))
        };
        Ok(GoalSpec {
            metric: self.metric.clone(),
            target: number("target", &self.target)?,
            period: Some(self.period.clone()),
            owner: self.owner.clone(),
            direction: Some(self.direction.clone()),
            at_risk_margin: number("at_risk_margin", &self.at_risk_margin)?,
        })
    }
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::OnTrack => "ok",
        Status::AtRisk => "risk",
        Status::OffTrack => "no",
        Status::NoData => "none",
    }
}

fn row(g: &GoalStatus) -> Row {
    let goal = &g.record.goal;
    let sign = match goal.direction {
        Direction::Higher => "≥",
        Direction::Lower => "≤",
    };
    let latest = g.latest.as_ref();
    Row {
        id: g.record.id,
        metric: g.label,
        target: format!("{sign} {}", g.unit.format(goal.target)),
        period: goal.period.name(),
        owner: goal.owner.clone(),
        latest_label: latest.map(|p| p.label.clone()).unwrap_or_default(),
        latest: latest.and_then(|p| p.value).map_or("–".into(), |v| g.unit.format(v)),
        status: g.status.label(),
        status_class: status_class(g.status),
        spark: scorecard_view::sparkline(g.record.id, g.label, &g.series, goal.target, g.unit),
    }
}

async fn page(s: &AppState, viewer: &Viewer, form: GoalForm, error: Option<String>) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let card = match load(s, &ScorecardParams::default()).await {
        Ok(c) => c,
        Err(e) => return page_error(e),
    };
    let group =
        |p: Perspective, id| Group { id, title: p.label(), rows: card.of(p).map(row).collect() };
    let count = |st: Status| card.goals.iter().filter(|g| g.status == st).count();
    let statuses = [Status::OnTrack, Status::AtRisk, Status::OffTrack, Status::NoData];
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = ScorecardPage {
        layout: viewer.layout("Scorecard"),
        as_of: card.as_of.to_string(),
        groups: vec![
            group(Perspective::Customer, "customer-h"),
            group(Perspective::Business, "business-h"),
        ],
        counts: statuses.iter().map(|&st| (st.label(), status_class(st), count(st))).collect(),
        can_write: viewer.0.allows(Permission::Write),
        metrics: Metric::ALL
            .iter()
            .map(|m| {
                (m.name(), format!("{} ({})", m.label(), m.perspective().label().to_lowercase()))
            })
            .collect(),
        form,
        error,
    };
    (status, render(&page)).into_response()
}

pub async fn show(State(s): State<AppState>, viewer: Viewer) -> Response {
    let form = GoalForm { period: "month".into(), ..GoalForm::default() };
    page(&s, &viewer, form, None).await
}

pub async fn create(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<GoalForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let goal = match f.spec().and_then(|spec| Ok(spec.check()?)) {
        Ok(g) => g,
        Err(e) => return page(&s, &viewer, f, Some(e.to_string())).await,
    };
    let by = viewer.0.label();
    match scorecard::create_goal(s.db.as_ref(), &goal, Some(&by), Utc::now()).await {
        Ok(_) => Redirect::to("/scorecard").into_response(),
        Err(e) => page_error(e.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn delete(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    match s.db.delete_goal(id).await {
        Ok(()) => Redirect::to("/scorecard").into_response(),
        Err(e) => page_error(e.into()),
    }
}

//! `/api/v1/scorecard`: the balanced scorecard (every goal with its series over the last
//! complete periods, its latest value and status) and its goals. Viewers read; members write.
//!
//! The computation is shared for a minute like the other reports, under a key that names every
//! goal's id and last change, so a goal added, changed or removed shows at once.

use crate::AppState;
use crate::api::reports::cached;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{NaiveDate, Utc};
use rapport_analytics::scorecard::GoalSpec;
use rapport_core::access::Permission;
use rapport_core::value::to_micros;
use rapport_reports::scorecard::{self, DEFAULT_PERIODS, Params, Scorecard};
use rapport_store::GoalRecord;
use serde::Deserialize;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScorecardParams {
    /// The day the scorecard is as of (YYYY-MM-DD); default: the day of the last purchase.
    /// Each goal is judged on the last period complete by then.
    pub as_of: Option<NaiveDate>,
    /// How many periods each series shows (1-60, default 12).
    pub periods: Option<usize>,
}

/// The scorecard, computed or shared from the last minute's computation of the same goals.
pub(crate) async fn load(s: &AppState, q: &ScorecardParams) -> ApiResult<Arc<Scorecard>> {
    let goals = s.db.goals().await?;
    let versions: Vec<String> =
        goals.iter().map(|g| format!("{}@{}", g.id, to_micros(g.updated_at))).collect();
    let (as_of, periods) = (q.as_of, q.periods.unwrap_or(DEFAULT_PERIODS));
    let key = format!("scorecard:{as_of:?}:{periods}:{}", versions.join(","));
    let (card, _) = cached(s, key, move |db| async move {
        let params = Params { as_of, periods, ..Params::new(Utc::now()) };
        scorecard::scorecard(db.as_ref(), &params).await
    })
    .await?;
    Ok(card)
}

/// Every goal with `series` (one point per period, oldest first: `start`, `label`, `value`,
/// null when nothing was measured), `latest` and `status` (`on_track`, `at_risk`,
/// `off_track`, `no_data`), its `perspective` (`customer`, `business`) and `unit`.
#[utoipa::path(get, path = "/api/v1/scorecard", tag = "scorecard", params(ScorecardParams),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ScorecardParams>,
) -> ApiResult<Json<Arc<Scorecard>>> {
    who.require(Permission::Read)?;
    Ok(Json(load(&s, &q).await?))
}

/// A goal as written: `metric` (`nps`, `csat`, `ces`, `retention`, `churn`, `repeat_rate`,
/// `clv`, `revenue`, `orders`, `active_customers`, `loyalty_liability`), `target` in the
/// metric's unit, `owner`, and optionally `period` (`month`, the default, or `quarter`),
/// `direction` (`higher` or `lower` is better; by default lower for churn and loyalty
/// liability) and `at_risk_margin` (default: 5% of the target, on a bounded scale at least 1%
/// of the scale).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct GoalIn(pub GoalSpec);

fn goal_id(id: &str) -> ApiResult<i64> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::parameter("id", format!("'{id}' is not a goal id")))
}

/// Add a goal.
#[utoipa::path(post, path = "/api/v1/scorecard/goals", tag = "scorecard", request_body = GoalIn,
    responses((status = 201, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Writer(who): Writer,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let spec: GoalSpec = body(&raw)?;
    let goal = spec.check()?;
    let made = scorecard::create_goal(s.db.as_ref(), &goal, Some(&who.label()), Utc::now()).await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// One goal.
#[utoipa::path(get, path = "/api/v1/scorecard/goals/{id}", tag = "scorecard",
    params(("id" = i64, Path, description = "Goal id")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get_goal(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<GoalRecord>> {
    who.require(Permission::Read)?;
    Ok(Json(s.db.goal(goal_id(&id)?).await?))
}

/// Replace a goal (the whole goal, as when adding it).
#[utoipa::path(put, path = "/api/v1/scorecard/goals/{id}", tag = "scorecard", request_body = GoalIn,
    params(("id" = i64, Path, description = "Goal id")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Json<GoalRecord>> {
    let id = goal_id(&id)?;
    let spec: GoalSpec = body(&raw)?;
    let goal = spec.check()?;
    Ok(Json(scorecard::update_goal(s.db.as_ref(), id, &goal, Utc::now()).await?))
}

/// Remove a goal.
#[utoipa::path(delete, path = "/api/v1/scorecard/goals/{id}", tag = "scorecard",
    params(("id" = i64, Path, description = "Goal id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.db.delete_goal(goal_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routes, with their documentation.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(get))
        .routes(routes!(create))
        .routes(routes!(get_goal, update, delete))
}

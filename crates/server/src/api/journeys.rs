//! `/api/v1/journeys`: journey definitions, and each journey's computed map (reach,
//! conversion, drop-off, median time, satisfaction and pain points per stage), optionally for
//! one segment (`?segment=FILTER`).

use crate::AppState;
use crate::api::reports::cached;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, parse_json};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use rapport_analytics::journey::JourneySpec;
use rapport_core::access::Permission;
use rapport_core::value::to_micros;
use rapport_reports::journeys::{self, JourneyReport};
use rapport_store::JourneyRecord;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A journey as written: `name`, `description`, `segment` (a filter expression, optional) and
/// `stages`, each `{name, conditions: [...]}` with conditions `{kind: "event", name,
/// min_count}`, `{kind: "purchase", min_count}`, `{kind: "survey", source: nps|csat|ces|any,
/// min_rating}` or `{kind: "filter", expr}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct JourneyIn(JourneySpec);

/// A journey's definition with its computed map.
#[derive(Debug, Serialize, ToSchema)]
pub struct JourneyOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub journey: JourneyRecord,
    #[schema(value_type = Object)]
    pub map: Arc<JourneyReport>,
}

/// A journey file (TOML, or JSON when it starts with `{`), as `rapport journey create FILE`
/// reads it.
pub fn parse_spec(text: &str) -> ApiResult<JourneySpec> {
    let bad = |reason: String| ApiError::invalid("definition", reason);
    let spec: JourneySpec = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad(format!("not a valid JSON journey: {e}")))?
    } else {
        toml::from_str(text)
            .map_err(|e| bad(format!("not a valid TOML journey: {}", e.to_string().trim())))?
    };
    Ok(spec)
}

fn journey_id(id: &str) -> ApiResult<i64> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::parameter("id", format!("'{id}' is not a journey id")))
}

/// A definition from a request body, checked (names, stages, filter expressions).
fn spec_of(raw: &serde_json::Value) -> ApiResult<JourneySpec> {
    let JourneyIn(spec) = parse_json(&serde_json::to_vec(raw).map_err(ApiError::internal)?)?;
    // A body's fields are 422 (`invalid_field`), not the 400 of a bad query parameter.
    journeys::check(&spec).map_err(|e| match e {
        rapport_reports::ReportError::Invalid { field, reason } => ApiError::invalid(field, reason),
        e => e.into(),
    })?;
    Ok(spec)
}

/// The map of a journey, shared through the report cache (keyed by the definition's version
/// and the segment), so the page and the API compute it once a minute at most.
pub(crate) async fn map(
    s: &AppState,
    j: &JourneyRecord,
    segment: Option<&str>,
) -> ApiResult<Arc<JourneyReport>> {
    let segment = segment.map(str::trim).filter(|f| !f.is_empty()).map(str::to_string);
    let key = format!(
        "journey:{}:{}:{}",
        j.id,
        to_micros(j.updated_at),
        segment.as_deref().unwrap_or("")
    );
    let spec = j.spec.clone();
    let (m, _) = cached(s, key, move |db| async move {
        journeys::journey(db.as_ref(), &spec, segment.as_deref(), Utc::now()).await
    })
    .await?;
    Ok(m)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MapParams {
    /// A filter expression (docs/filter-language.md): the map of that segment's customers,
    /// instead of the journey's own segment.
    pub segment: Option<String>,
}

/// Every journey's definition.
#[utoipa::path(get, path = "/api/v1/journeys", tag = "journeys",
    responses((status = 200, body = serde_json::Value, description = "`[{id, name, description, segment, stages: [{name, conditions}], created_at, updated_at, created_by}]`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Vec<JourneyRecord>>> {
    who.require(Permission::Read)?;
    Ok(Json(s.db.journeys().await?))
}

/// Create a journey; the response carries its computed map.
#[utoipa::path(post, path = "/api/v1/journeys", tag = "journeys", request_body = JourneyIn,
    responses((status = 201, body = JourneyOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Writer(who): Writer,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let spec = spec_of(&raw)?;
    let journey = s.db.create_journey(&spec, Some(&who.label()), Utc::now()).await?;
    let map = map(&s, &journey, None).await?;
    Ok((StatusCode::CREATED, Json(JourneyOut { journey, map })))
}

/// One journey with its map: per stage reached, conversion, drop-off, median days from the
/// previous stage, satisfaction of the customers who stopped there, and the pain points and
/// quotes of those who dropped before it.
#[utoipa::path(get, path = "/api/v1/journeys/{id}", tag = "journeys",
    params(("id" = i64, Path, description = "Journey id"), MapParams),
    responses((status = 200, body = JourneyOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MapParams>,
) -> ApiResult<Json<JourneyOut>> {
    who.require(Permission::Read)?;
    let journey = s.db.journey(journey_id(&id)?).await?;
    let map = map(&s, &journey, q.segment.as_deref()).await?;
    Ok(Json(JourneyOut { journey, map }))
}

/// Replace a journey's definition.
#[utoipa::path(put, path = "/api/v1/journeys/{id}", tag = "journeys",
    params(("id" = i64, Path, description = "Journey id")), request_body = JourneyIn,
    responses((status = 200, body = JourneyOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Json<JourneyOut>> {
    let id = journey_id(&id)?;
    let spec = spec_of(&raw)?;
    let journey = s.db.update_journey(id, &spec, Utc::now()).await?;
    let map = map(&s, &journey, None).await?;
    Ok(Json(JourneyOut { journey, map }))
}

/// Delete a journey.
#[utoipa::path(delete, path = "/api/v1/journeys/{id}", tag = "journeys",
    params(("id" = i64, Path, description = "Journey id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.db.delete_journey(journey_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

//! `/api/v1/campaigns`: customer-marketing campaigns. A campaign is created as a draft (its
//! templates and segment checked), sent once (`POST .../send`: consent checked per recipient,
//! the holdout drawn and recorded, the treatment's messages queued in the outbox), and read
//! with its results: treatment against holdout on its goal, overall and per RFM segment.

use crate::AppState;
use crate::auth::{Auth, Writer};
use crate::campaigns::{self, Launched};
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use rapport_core::access::Permission;
use rapport_core::campaign::CampaignSpec;
use rapport_reports::campaigns::{Results, Stage, results};
use rapport_store::StoredCampaign;
use serde::Serialize;

/// A campaign in the list.
#[derive(Debug, Serialize)]
pub struct Listed {
    #[serde(flatten)]
    pub campaign: StoredCampaign,
    pub stage: Stage,
}

/// Every campaign, newest first, with its stage (`draft`, `measuring`, `finished`).
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Json<Vec<Listed>>> {
    who.require(Permission::Read)?;
    let now = Utc::now();
    let all = s.db.campaigns().await?;
    let listed = all.into_iter().map(|c| Listed { stage: Stage::of(&c, now), campaign: c });
    Ok(Json(listed.collect()))
}

/// Create a draft: `name`, `segment` (a saved segment's slug or a filter), `channel` (`email`
/// or `webhook:<source>`), `subject`, `text`, `html` (optional; minijinja templates with
/// `name`, `first_name`, `points`, `tier`, `recommendations`, `campaign`; the HTML is
/// auto-escaped), `goal` (`purchase`, `retention`, `revenue`, `clv_change`), `goal_days`,
/// `holdout` (share, 0–0.5) and `seed`.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = Object,
    responses((status = 201, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Writer(_who): Writer,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<(StatusCode, Json<Results>)> {
    let spec: CampaignSpec = body(&raw)?;
    let now = Utc::now();
    let id = campaigns::create(s.db.as_ref(), &spec, now).await?;
    Ok((StatusCode::CREATED, Json(results(s.db.as_ref(), id, now).await?)))
}

/// A campaign with its results: the audience's counts, the messages' delivery, and the
/// treatment against the holdout on the goal (`overall`, `by_segment`: group sizes and `lift`
/// with the absolute and relative difference, its 95% interval and the p-value of a
/// two-proportion z-test or Welch's t-test).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Results>> {
    who.require(Permission::Read)?;
    Ok(Json(results(s.db.as_ref(), id, Utc::now()).await?))
}

/// Delete a draft (409 once sent: a sent campaign is the record of what was done).
#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.db.delete_campaign(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send a draft, once: 409 when it was sent before. Answers how the segment divided
/// (`counts`: segment, no_consent, no_address, treatment, holdout) and how many messages were
/// queued.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/send", tag = "campaigns",
    params(("id" = i64, Path, description = "Campaign id")),
    responses((status = 200, body = Launched), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn send(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<i64>,
) -> ApiResult<Json<Launched>> {
    Ok(Json(campaigns::launch_now(&s, id).await?))
}

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, delete))
        .routes(routes!(send))
}

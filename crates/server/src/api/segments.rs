//! `/api/v1/segments`: saved segments (a named filter whose members are materialised, with a
//! size history), their members, refreshes, and the preview count of a filter while it is
//! being written.

use crate::AppState;
use crate::auth::{Auth, Principal, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use rapport_core::access::Permission;
use rapport_core::filter::parse;
use rapport_reports::ReportError;
use rapport_reports::saved_segments::{self, Preview};
use rapport_reports::segments::Needs;
use rapport_store::{SavedSegment, SegmentSpec, SizePoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A definition: `name`, the filter `expression` (docs/filter-language.md), an optional
/// `description` and, on creation, an optional `slug` (default: made from the name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentIn {
    pub name: String,
    pub expression: String,
    #[serde(default)]
    pub description: String,
    pub slug: Option<String>,
}

/// A change: any of `name`, `expression`, `description` (the rest stay).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentPatch {
    pub name: Option<String>,
    pub expression: Option<String>,
    pub description: Option<String>,
}

/// A saved segment with its size history (oldest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub segment: SavedSegment,
    #[schema(value_type = Vec<Object>)]
    pub history: Vec<SizePoint>,
}

/// A definition's error is its field's: 422 naming `expression` (with the caret) or `name`.
fn invalid(e: ReportError) -> ApiError {
    match e {
        ReportError::Invalid { field, reason } => ApiError::invalid(field, reason),
        e => e.into(),
    }
}

async fn out(s: &AppState, slug: &str) -> ApiResult<SegmentOut> {
    let (segment, history) =
        tokio::try_join!(s.db.saved_segment(slug), s.db.segment_history(slug))?;
    Ok(SegmentOut { segment, history })
}

fn by(who: &Principal) -> String {
    who.label()
}

/// The saved segments, by name, with their latest size.
#[utoipa::path(get, path = "/api/v1/segments", tag = "segments",
    responses((status = 200, body = serde_json::Value, description = "`[{slug, name, expression, description, created_at, updated_at, created_by, refreshed_at, size}]`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> ApiResult<Json<Vec<SavedSegment>>> {
    who.require(Permission::Read)?;
    Ok(Json(s.db.saved_segments().await?))
}

/// Save a segment; its members are materialised at once.
#[utoipa::path(post, path = "/api/v1/segments", tag = "segments", request_body = SegmentIn,
    responses((status = 201, body = SegmentOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Writer(who): Writer,
    ApiJson(body): ApiJson<SegmentIn>,
) -> ApiResult<impl IntoResponse> {
    let spec =
        SegmentSpec { name: body.name, expression: body.expression, description: body.description };
    let now = chrono::Utc::now();
    let (made, _) =
        saved_segments::create(s.db.as_ref(), body.slug.as_deref(), &spec, Some(&by(&who)), now)
            .await
            .map_err(invalid)?;
    Ok((StatusCode::CREATED, Json(out(&s, &made.slug).await?)))
}

/// One saved segment with its size history.
#[utoipa::path(get, path = "/api/v1/segments/{slug}", tag = "segments",
    params(("slug" = String, Path, description = "The segment's slug")),
    responses((status = 200, body = SegmentOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(slug): Path<String>,
) -> ApiResult<Json<SegmentOut>> {
    who.require(Permission::Read)?;
    Ok(Json(out(&s, &slug).await?))
}

/// Change a segment's name, filter or description; its members are materialised again.
#[utoipa::path(patch, path = "/api/v1/segments/{slug}", tag = "segments",
    params(("slug" = String, Path, description = "The segment's slug")), request_body = SegmentPatch,
    responses((status = 200, body = SegmentOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(slug): Path<String>,
    ApiJson(body): ApiJson<SegmentPatch>,
) -> ApiResult<Json<SegmentOut>> {
    let current = s.db.saved_segment(&slug).await?.spec;
    let spec = SegmentSpec {
        name: body.name.unwrap_or(current.name),
        expression: body.expression.unwrap_or(current.expression),
        description: body.description.unwrap_or(current.description),
    };
    saved_segments::update(s.db.as_ref(), &slug, &spec, chrono::Utc::now())
        .await
        .map_err(invalid)?;
    Ok(Json(out(&s, &slug).await?))
}

/// Delete a segment, its members and its history.
#[utoipa::path(delete, path = "/api/v1/segments/{slug}", tag = "segments",
    params(("slug" = String, Path, description = "The segment's slug")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(slug): Path<String>,
) -> ApiResult<StatusCode> {
    s.db.delete_segment(&slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Materialise a segment's members again now (the server also does so on a schedule and
/// after data arrives).
#[utoipa::path(post, path = "/api/v1/segments/{slug}/refresh", tag = "segments",
    params(("slug" = String, Path, description = "The segment's slug")),
    responses((status = 200, body = SegmentOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn refresh(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(slug): Path<String>,
) -> ApiResult<Json<SegmentOut>> {
    let only = [slug.clone()];
    let done = saved_segments::refresh(s.db.as_ref(), Some(&only), chrono::Utc::now()).await?;
    if let Some(e) = done.into_iter().find_map(|r| r.error) {
        return Err(ApiError::Conflict(format!("the segment's filter no longer checks: {e}")));
    }
    Ok(Json(out(&s, &slug).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersParams {
    /// The `next` of the previous page.
    pub after: Option<i64>,
    /// Members per page (1–1000, default 50).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembersOut {
    pub items: Vec<MemberOut>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// A page of a segment's members as last materialised.
#[utoipa::path(get, path = "/api/v1/segments/{slug}/members", tag = "segments",
    params(("slug" = String, Path, description = "The segment's slug"), MembersParams),
    responses((status = 200, body = MembersOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn members(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(slug): Path<String>,
    ApiQuery(q): ApiQuery<MembersParams>,
) -> ApiResult<Json<MembersOut>> {
    who.require(Permission::Read)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::parameter("limit", "must be 1 to 1000"));
    }
    let page = s.db.segment_member_keys(&slug, q.after, limit).await?;
    let labels = s.db.customer_labels(&page.items).await?;
    let items = labels
        .into_iter()
        .map(|l| MemberOut { id: l.id.as_str().to_string(), name: l.name })
        .collect();
    Ok(Json(MembersOut { items, next: page.next }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PreviewParams {
    /// The filter (docs/filter-language.md).
    pub expression: String,
    /// Members to list (0–100, default 10).
    pub limit: Option<usize>,
}

/// What a preview answers: the count, a sample, and how old the customer data read is.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub preview: Preview,
    /// Seconds since the customers were read (previews evaluate on data held in memory for
    /// up to five minutes).
    pub data_age_seconds: u64,
    /// Milliseconds the evaluation took.
    pub eval_ms: f64,
}

/// How many customers a filter selects now, with a few of them: for a count while typing. A
/// filter that does not parse is 400 naming `expression`, with the position and a caret.
#[utoipa::path(get, path = "/api/v1/segments/preview", tag = "segments", params(PreviewParams),
    responses((status = 200, body = PreviewOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn preview(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<PreviewParams>,
) -> ApiResult<Json<PreviewOut>> {
    who.require(Permission::Read)?;
    let limit = q.limit.unwrap_or(10);
    if limit > 100 {
        return Err(ApiError::parameter("limit", "must be 0 to 100"));
    }
    let filter =
        parse(&q.expression).map_err(|e| ApiError::parameter("expression", e.to_string()))?;
    let (frame, built) = s.segment_frames.get(s.db.as_ref(), &Needs::of(&filter)).await?;
    let started = std::time::Instant::now();
    let preview = saved_segments::preview(&frame.frame, &filter, chrono::Utc::now(), limit);
    Ok(Json(PreviewOut {
        preview,
        data_age_seconds: built.elapsed().as_secs(),
        eval_ms: started.elapsed().as_secs_f64() * 1000.0,
    }))
}

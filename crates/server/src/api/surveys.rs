//! `/api/v1/surveys`: define surveys, send them, read their responses and results.

use crate::AppState;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::surveys::{self, Audience, Sent};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use rapport_analytics::rfm::Segment;
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::survey::{Survey, SurveySpec};
use rapport_reports::survey::Results;
use rapport_store::{AudienceFilter, ResponseRow, RowOutcome, SurveyInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A survey definition as written in a TOML or JSON file (`rapport survey create`): `id`,
/// `name`, `kind` (nps, csat, ces, custom), optional `question`, `intro`, `thanks`,
/// `expires_after_days`, and `questions` (each with `id`, `prompt`, `type` rating, single,
/// multiple or text, `choices`, `min`, `max`, `low`, `high`, `required`, `when` = "0-6").
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct SurveyIn(SurveySpec);

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyOut {
    /// The checked definition (the built-in score question first).
    #[schema(value_type = Object)]
    pub survey: Survey,
    /// The public page that website and in-app snippets link or post to.
    pub embed_url: String,
    pub invited: i64,
    pub responses: i64,
    #[schema(value_type = String)]
    pub created_at: rapport_core::Timestamp,
    #[schema(value_type = Option<String>)]
    pub last_response_at: Option<rapport_core::Timestamp>,
}

impl SurveyOut {
    fn new(i: SurveyInfo, base: &str) -> SurveyOut {
        SurveyOut {
            embed_url: format!("{base}/s/{}", i.embed_token),
            survey: i.survey,
            invited: i.invited,
            responses: i.responses,
            created_at: i.created_at,
            last_response_at: i.last_response_at,
        }
    }
}

/// The address this server is reached at, for links: the `Host` the client used (and
/// `X-Forwarded-Proto` behind a proxy).
pub fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|p| p.as_bytes().eq_ignore_ascii_case(b"https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

fn survey_id(id: &str) -> ApiResult<ExternalId> {
    ExternalId::parse(id).map_err(|r| ApiError::parameter("id", r))
}

/// Every survey, newest first.
#[utoipa::path(get, path = "/api/v1/surveys", tag = "surveys",
    responses((status = 200, body = Vec<SurveyOut>), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    headers: HeaderMap,
) -> ApiResult<Json<Vec<SurveyOut>>> {
    who.require(Permission::Read)?;
    let base = base_url(&headers);
    Ok(Json(s.db.surveys().await?.into_iter().map(|i| SurveyOut::new(i, &base)).collect()))
}

/// Create a survey, or replace the definition of the one with its id (201 created, 200
/// replaced or unchanged). Invitations and responses stay.
#[utoipa::path(post, path = "/api/v1/surveys", tag = "surveys", request_body = SurveyIn,
    responses((status = 201, body = SurveyOut), (status = 200, body = SurveyOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    _: Writer,
    headers: HeaderMap,
    ApiJson(SurveyIn(spec)): ApiJson<SurveyIn>,
) -> ApiResult<impl IntoResponse> {
    let (survey, outcome) = surveys::create(s.db.as_ref(), spec).await?;
    let info = s.db.survey(&survey.id).await?;
    let status = if outcome == RowOutcome::Inserted { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(SurveyOut::new(info, &base_url(&headers)))))
}

/// One survey.
#[utoipa::path(get, path = "/api/v1/surveys/{id}", tag = "surveys",
    params(("id" = String, Path, description = "Survey id")),
    responses((status = 200, body = SurveyOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<SurveyOut>> {
    who.require(Permission::Read)?;
    let info = s.db.survey(&survey_id(&id)?).await?;
    Ok(Json(SurveyOut::new(info, &base_url(&headers))))
}

/// Who to send to: `all`, or any of `country`, `segment` and `customers`. Only customers whose latest
/// surveys consent is a grant are invited, each once per survey.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SendIn {
    #[serde(default)]
    pub all: bool,
    pub country: Option<String>,
    #[serde(default)]
    pub customers: Vec<String>,
    /// Only the customers of this RFM segment (`champions`, `at_risk`...).
    pub segment: Option<String>,
    /// Only the customers this segment filter selects, e.g.
    /// `country in ("DE","AT") and last_purchase_days < 90` (docs/filter-language.md).
    #[serde(rename = "where")]
    pub matching: Option<String>,
}

/// Send a survey: one link per consenting customer of the audience who was not invited yet.
/// The links are in the answer and nowhere else (only their digests are stored).
#[utoipa::path(post, path = "/api/v1/surveys/{id}/send", tag = "surveys", request_body = SendIn,
    params(("id" = String, Path, description = "Survey id")),
    responses((status = 200, body = Sent), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn send(
    State(s): State<AppState>,
    _: Writer,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendIn>,
) -> ApiResult<Json<Sent>> {
    let filter = audience(body)?;
    Ok(Json(surveys::send(s.db.as_ref(), &survey_id(&id)?, &filter, &base_url(&headers)).await?))
}

/// An audience from a request: everyone only when asked for in so many words.
pub fn audience(body: SendIn) -> ApiResult<Audience> {
    let customers = body
        .customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ExternalId::parse(c).map_err(|r| ApiError::invalid(format!("customers[{i}]"), r))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let country = body.country.map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty());
    let segment = body
        .segment
        .filter(|s| !s.trim().is_empty())
        .map(|s| Segment::parse(&s).map_err(|r| ApiError::invalid("segment", r)))
        .transpose()?;
    let matching = body
        .matching
        .filter(|m| !m.trim().is_empty())
        .map(|m| {
            rapport_core::filter::parse(&m).map_err(|e| ApiError::invalid("where", e.to_string()))
        })
        .transpose()?;
    let chosen = country.is_some() || !customers.is_empty() || segment.is_some();
    if !body.all && !chosen && matching.is_none() {
        return Err(ApiError::invalid(
            "all",
            "say `all: true`, or choose a country, a segment, a filter (`where`) or customers",
        ));
    }
    Ok(Audience { filter: AudienceFilter { customers, country }, segment, matching })
}

/// A survey's responses, oldest first.
#[utoipa::path(get, path = "/api/v1/surveys/{id}/responses", tag = "surveys",
    params(("id" = String, Path, description = "Survey id")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn responses(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ResponseRow>>> {
    who.require(Permission::Read)?;
    Ok(Json(s.db.survey_responses(&survey_id(&id)?).await?))
}

/// A survey's results: score with its 95% interval, trend, and every question's answers.
#[utoipa::path(get, path = "/api/v1/surveys/{id}/results", tag = "surveys",
    params(("id" = String, Path, description = "Survey id")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn results(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Results>> {
    who.require(Permission::Read)?;
    Ok(Json(rapport_reports::survey::results(s.db.as_ref(), &survey_id(&id)?).await?))
}

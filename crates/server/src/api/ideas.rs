//! `/api/v1/ideas`: feature ideas ranked by priority (with its explanation and RICE), their
//! evidence, the customers who asked, status changes, and the top ideas per RFM segment.

use crate::AppState;
use crate::api::reports::cached;
use crate::auth::{Auth, Principal, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use rapport_analytics::priority::{Priority, Usage};
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::idea::{Idea, IdeaSpec, IdeaStatus};
use rapport_reports::ideas::{
    self, CustomerModel, Params, RankedIdea, SegmentIdeas, SegmentWeights,
};
use rapport_store::{Actor, IdeaDetail, StoreError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// An idea as written (`rapport idea create FILE`): `title`, `description`, `kind` (`new` or
/// `improve`), RICE inputs `reach`, `impact` (0.25, 0.5, 1, 2, 3), `confidence` (0–100),
/// `effort` (person-weeks, above 0), and `events` (names of related events).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct IdeaIn(IdeaSpec);

/// One idea: its fields, status, evidence, requesters and history, with its priority
/// explained and RICE beside it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IdeaOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub detail: IdeaDetail,
    pub score: f64,
    #[schema(value_type = Object)]
    pub priority: Priority,
    /// reach × impact × confidence / effort (the inputs are under `rice`).
    #[serde(rename = "rice_score")]
    pub rice: Option<f64>,
    #[schema(value_type = Option<Object>)]
    pub usage: Option<Usage>,
}

/// The customer model every ranking needs (predicted value and RFM segment of every
/// customer), shared through the report cache: seconds at a million customers, once a minute.
pub(crate) async fn model(s: &AppState) -> ApiResult<Arc<CustomerModel>> {
    let (m, _) = cached(s, "idea_customer_model".into(), |db| async move {
        ideas::customer_model(db.as_ref()).await
    })
    .await?;
    Ok(m)
}

/// `champions=1.5,lost=0.5`: weights over the defaults.
pub fn segment_weights(v: Option<&str>) -> ApiResult<SegmentWeights> {
    let mut w = SegmentWeights::default();
    for part in v.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            return Err(ApiError::parameter(
                "segment_weights",
                format!("'{part}' is not NAME=WEIGHT (e.g. champions=1.5)"),
            ));
        };
        w.set(name, value).map_err(|r| ApiError::parameter("segment_weights", r))?;
    }
    Ok(w)
}

/// An idea file (TOML, or JSON when it starts with `{`), as `rapport idea create FILE` reads it.
pub fn parse_spec(text: &str) -> ApiResult<IdeaSpec> {
    let bad = |reason: String| ApiError::invalid("definition", reason);
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad(format!("not a valid JSON idea: {e}")))
    } else {
        toml::from_str(text)
            .map_err(|e| bad(format!("not a valid TOML idea: {}", e.to_string().trim())))
    }
}

fn idea_id(id: &str) -> ApiResult<i64> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::parameter("id", format!("'{id}' is not an idea id")))
}

pub(crate) fn actor(who: &Principal) -> Actor {
    Actor { by: Some(who.label()), at: Utc::now() }
}

pub(crate) async fn one(s: &AppState, id: i64, p: &Params) -> ApiResult<IdeaOut> {
    let model = model(s).await?;
    let (detail, r) = ideas::explain(s.db.as_ref(), &model, id, p).await?;
    Ok(IdeaOut { detail, score: r.score, priority: r.priority, rice: r.rice, usage: r.usage })
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only ideas with this status: new, planned, in_progress, shipped, declined.
    pub status: Option<String>,
    /// Weights of RFM segments over the defaults: `champions=1.5,lost=0.5`.
    pub segment_weights: Option<String>,
}

impl ListParams {
    pub fn params(&self) -> ApiResult<Params> {
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(IdeaStatus::parse(v).map_err(|r| ApiError::parameter("status", r))?),
        };
        let weights = segment_weights(self.segment_weights.as_deref())?;
        Ok(Params { status, weights, ..Params::default() })
    }
}

/// Ideas ranked by priority, highest first, each with the explanation of its score and RICE.
#[utoipa::path(get, path = "/api/v1/ideas", tag = "ideas", params(ListParams),
    responses((status = 200, body = serde_json::Value, description = "`[{rank, id, title, description, kind, status, rice: {reach, impact, confidence, effort}, events, evidence_count, requester_count, score, priority: {score, customers, components: [{name, value, explanation}]}, rice_score, usage}]`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<Vec<RankedIdea>>> {
    who.require(Permission::Read)?;
    let model = model(&s).await?;
    Ok(Json(ideas::rank(s.db.as_ref(), &model, &q.params()?).await?))
}

/// Create an idea (status `new`).
#[utoipa::path(post, path = "/api/v1/ideas", tag = "ideas", request_body = IdeaIn,
    responses((status = 201, body = IdeaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Writer(who): Writer,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let IdeaIn(spec) = body(&raw)?;
    let idea = Idea::parse(spec)?;
    let id = s.db.create_idea(&idea, &actor(&who)).await?;
    Ok((StatusCode::CREATED, Json(one(&s, id, &Params::default()).await?)))
}

/// One idea with its evidence, requesters, history and explained priority.
#[utoipa::path(get, path = "/api/v1/ideas/{id}", tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 200, body = IdeaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<IdeaOut>> {
    who.require(Permission::Read)?;
    Ok(Json(one(&s, idea_id(&id)?, &Params::default()).await?))
}

/// Change an idea: any field of its definition (the rest stay), and `status` (new → planned →
/// in_progress → shipped; any open status → declined; declined or planned → new).
#[utoipa::path(patch, path = "/api/v1/ideas/{id}", tag = "ideas",
    params(("id" = i64, Path, description = "Idea id")), request_body = Object,
    responses((status = 200, body = IdeaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Writer(who): Writer,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<IdeaOut>> {
    let id = idea_id(&id)?;
    let current = s.db.idea(id).await?.record;
    let (idea, status) = patched(&current.idea, body)?;
    let by = actor(&who);
    if let Some(to) = status.filter(|to| *to != current.status) {
        s.db.set_idea_status(id, to, &by).await.map_err(status_error)?;
        if to == IdeaStatus::Shipped {
            crate::outbox::announce::shipped(s.db.as_ref(), id, chrono::Utc::now()).await?;
        }
    }
    if idea != current.idea {
        s.db.update_idea(id, &idea, &by).await?;
    }
    Ok(Json(one(&s, id, &Params::default()).await?))
}

/// The idea a patch makes (its fields over the current ones), and the status it asks for.
pub(crate) fn patched(
    current: &Idea,
    mut body: serde_json::Map<String, serde_json::Value>,
) -> ApiResult<(Idea, Option<IdeaStatus>)> {
    let status = match body.remove("status") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(v)) => {
            Some(IdeaStatus::parse(&v).map_err(|r| ApiError::invalid("status", r))?)
        }
        Some(_) => return Err(ApiError::invalid("status", "must be a string")),
    };
    let mut spec = serde_json::to_value(current.to_spec()).map_err(ApiError::internal)?;
    let fields = spec.as_object_mut().expect("a spec is an object");
    for (k, v) in body {
        fields.insert(k, v);
    }
    let spec: IdeaSpec =
        serde_json::from_value(spec).map_err(|e| ApiError::invalid("body", e.to_string()))?;
    Ok((Idea::parse(spec)?, status))
}

/// A move the status graph does not allow is the `status` field's fault.
pub(crate) fn status_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Invalid(why) => ApiError::invalid("status", why),
        e => e.into(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    /// The feedback item's id.
    pub feedback: String,
}

/// Link a feedback item as evidence; its customer thereby asked for the idea (201 linked, 200
/// already linked).
#[utoipa::path(post, path = "/api/v1/ideas/{id}/feedback", tag = "ideas", request_body = LinkIn,
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 201, body = IdeaOut), (status = 200, body = IdeaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn link(
    State(s): State<AppState>,
    Writer(who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let body: LinkIn = body(&raw)?;
    let id = idea_id(&id)?;
    let item = ExternalId::parse(&body.feedback).map_err(|r| ApiError::invalid("feedback", r))?;
    let linked = s.db.link_feedback(id, &item, &actor(&who)).await?;
    // Evidence for an idea is triaged as such in the inbox.
    s.db.set_triage(std::slice::from_ref(&item), rapport_store::Triage::Linked).await?;
    let status = if linked { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(one(&s, id, &Params::default()).await?)))
}

/// Unlink a feedback item.
#[utoipa::path(delete, path = "/api/v1/ideas/{id}/feedback/{feedback}", tag = "ideas",
    params(("id" = i64, Path, description = "Idea id"), ("feedback" = String, Path, description = "Feedback item id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn unlink(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path((id, feedback)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    who.require(Permission::Write)?;
    let item = ExternalId::parse(&feedback).map_err(|r| ApiError::parameter("feedback", r))?;
    s.db.unlink_feedback(idea_id(&id)?, &item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequesterIn {
    /// The customer's id.
    pub customer: String,
    /// Why or how they asked ("on the phone with their CTO").
    pub note: Option<String>,
}

/// Record that a customer asked for the idea, on their behalf (201 added, 200 already added:
/// the note is replaced).
#[utoipa::path(post, path = "/api/v1/ideas/{id}/requesters", tag = "ideas", request_body = RequesterIn,
    params(("id" = i64, Path, description = "Idea id")),
    responses((status = 201, body = IdeaOut), (status = 200, body = IdeaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn add_requester(
    State(s): State<AppState>,
    Writer(who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let body: RequesterIn = body(&raw)?;
    let id = idea_id(&id)?;
    let customer =
        ExternalId::parse(&body.customer).map_err(|r| ApiError::invalid("customer", r))?;
    let note = note(body.note.as_deref())?;
    let added = s.db.add_requester(id, &customer, note.as_deref(), &actor(&who)).await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(one(&s, id, &Params::default()).await?)))
}

/// A requester's note: trimmed, at most 500 characters, none when empty.
pub(crate) fn note(v: Option<&str>) -> ApiResult<Option<String>> {
    let n = v.map(|n| n.replace('\0', "").trim().to_string()).filter(|n| !n.is_empty());
    if n.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(ApiError::invalid("note", "is longer than 500 characters"));
    }
    Ok(n)
}

/// Remove a customer added by hand (their linked feedback still counts).
#[utoipa::path(delete, path = "/api/v1/ideas/{id}/requesters/{customer}", tag = "ideas",
    params(("id" = i64, Path, description = "Idea id"), ("customer" = String, Path, description = "Customer id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_requester(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path((id, customer)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    who.require(Permission::Write)?;
    let customer = ExternalId::parse(&customer).map_err(|r| ApiError::parameter("customer", r))?;
    s.db.remove_requester(idea_id(&id)?, &customer).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SegmentParams {
    /// Ideas per segment, 1 to 50 (default 5).
    pub top: Option<usize>,
    /// Weights of RFM segments over the defaults: `champions=1.5,lost=0.5`.
    pub segment_weights: Option<String>,
}

/// The top open ideas of each RFM segment, ranked on that segment's requesters only.
#[utoipa::path(get, path = "/api/v1/ideas/segments", tag = "ideas", params(SegmentParams),
    responses((status = 200, body = serde_json::Value, description = "`[{segment, weight, customers, ideas: [ranked ideas]}]`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn segments(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(q): ApiQuery<SegmentParams>,
) -> ApiResult<Json<Vec<SegmentIdeas>>> {
    who.require(Permission::Read)?;
    let top = match q.top.unwrap_or(5) {
        n @ 1..=50 => n,
        n => return Err(ApiError::parameter("top", format!("{n} is not between 1 and 50"))),
    };
    let p = Params { weights: segment_weights(q.segment_weights.as_deref())?, ..Params::default() };
    let model = model(&s).await?;
    Ok(Json(ideas::by_segment(s.db.as_ref(), &model, &p, top).await?))
}

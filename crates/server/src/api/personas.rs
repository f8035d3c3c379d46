//! `/api/v1/personas`: personas generated from a filter or an RFM segment, regenerated on
//! request, with a name and notes that survive regeneration.

use crate::AppState;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use rapport_analytics::persona::Avatar;
use rapport_core::access::Permission;
use rapport_reports::personas::{self, Source};
use rapport_store::{PersonaEdit, PersonaRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A persona: `id`, `name` (edited, else suggested), `name_edited`, `generated_name`, `notes`,
/// `source_kind` and `source`, `profile` (size, shares, demographics, behaviours, goals,
/// pain points with quotes, sentiment, empathy map, traits, suggested name; null until
/// generated), `generated_at`, `created_at`, `updated_at`, and its picture-free `avatar`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonaOut {
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub record: PersonaRecord,
    #[schema(value_type = Object)]
    pub avatar: Avatar,
}

impl From<PersonaRecord> for PersonaOut {
    fn from(record: PersonaRecord) -> PersonaOut {
        let avatar = Avatar::of(&record.id.to_string(), &record.name);
        PersonaOut { record, avatar }
    }
}

/// A persona to create: its members are the customers `source` selects (a filter
/// expression for `kind` `filter`, the default; an RFM segment name for `rfm`; a saved
/// segment's slug for `segment`; `k=4 cluster=0` (with optional `features`, `seed`,
/// `restarts`) for `cluster`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonaIn {
    pub source: String,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Name and/or notes; an empty name goes back to the suggested one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonaPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

pub(crate) fn persona_id(id: &str) -> ApiResult<i64> {
    id.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::parameter("id", format!("'{id}' is not a persona id")))
}

/// Every persona, by id.
#[utoipa::path(get, path = "/api/v1/personas", tag = "personas",
    responses((status = 200, body = [PersonaOut]), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Json<Vec<PersonaOut>>> {
    who.require(Permission::Read)?;
    Ok(Json(s.db.personas().await?.into_iter().map(PersonaOut::from).collect()))
}

/// Create a persona and generate it from the current data.
#[utoipa::path(post, path = "/api/v1/personas", tag = "personas", request_body = PersonaIn,
    responses((status = 201, body = PersonaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    Writer(_who): Writer,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<impl IntoResponse> {
    let p: PersonaIn = body(&raw)?;
    let source =
        Source::resolve(s.db.as_ref(), p.kind.as_deref().unwrap_or("filter"), &p.source).await?;
    let notes = p.notes.unwrap_or_default();
    let id = personas::store_new(s.db.as_ref(), p.name, notes, &source, Utc::now()).await?;
    let made = s.segment_frames.regenerate_persona(s.db.as_ref(), id).await?;
    Ok((StatusCode::CREATED, Json(PersonaOut::from(made))))
}

/// One persona with its profile.
#[utoipa::path(get, path = "/api/v1/personas/{id}", tag = "personas",
    params(("id" = i64, Path, description = "Persona id")),
    responses((status = 200, body = PersonaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonaOut>> {
    who.require(Permission::Read)?;
    Ok(Json(s.db.persona(persona_id(&id)?).await?.into()))
}

/// Change the name and/or notes.
#[utoipa::path(patch, path = "/api/v1/personas/{id}", tag = "personas",
    params(("id" = i64, Path, description = "Persona id")), request_body = PersonaPatch,
    responses((status = 200, body = PersonaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Json<PersonaOut>> {
    let id = persona_id(&id)?;
    let p: PersonaPatch = body(&raw)?;
    s.db.edit_persona(id, &PersonaEdit { name: p.name, notes: p.notes }, Utc::now()).await?;
    Ok(Json(s.db.persona(id).await?.into()))
}

/// Delete a persona.
#[utoipa::path(delete, path = "/api/v1/personas/{id}", tag = "personas",
    params(("id" = i64, Path, description = "Persona id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.db.delete_persona(persona_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Regenerate a persona from the current data; its name (if edited) and notes stay.
#[utoipa::path(post, path = "/api/v1/personas/{id}/regenerate", tag = "personas",
    params(("id" = i64, Path, description = "Persona id")),
    responses((status = 200, body = PersonaOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn regenerate(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
) -> ApiResult<Json<PersonaOut>> {
    let id = persona_id(&id)?;
    Ok(Json(s.segment_frames.regenerate_persona(s.db.as_ref(), id).await?.into()))
}

/// The routes, with their documentation.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(regenerate))
}

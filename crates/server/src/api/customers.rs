//! `/api/v1/customers`: list, get, create, update, delete, and the timeline.

use super::dto::{
    CustomerDetail, CustomerIn, CustomerOut, CustomerPage, TimelineOut, TimelinePage,
};
use crate::AppState;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Datelike;
use rapport_core::access::Permission;
use rapport_core::record::{ParseOptions, parse_customer};
use rapport_core::value::parse_timestamp;
use rapport_core::{Customer, ExternalId};
use rapport_store::{CustomerQuery, CustomerSort, IngestOptions, RowOutcome, TimelineCursor};
use serde::Deserialize;
use utoipa::IntoParams;

pub const MAX_LIMIT: usize = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words matched as prefixes of name, e-mail and id.
    pub q: Option<String>,
    pub country: Option<String>,
    /// Company id.
    pub company: Option<String>,
    /// Signed up at or after (RFC 3339 or YYYY-MM-DD).
    pub signup_from: Option<String>,
    /// Signed up before (RFC 3339 or YYYY-MM-DD).
    pub signup_to: Option<String>,
    /// id, name, signup_at, last_purchase_at or purchase_value; prefix with `-` for descending.
    pub sort: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
}

fn parse_time(field: &str, v: &Option<String>) -> ApiResult<Option<rapport_core::Timestamp>> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_timestamp(s, None).map_err(|r| ApiError::parameter(field, r)))
        .transpose()
}

pub fn limit(v: Option<usize>, default: usize) -> ApiResult<usize> {
    match v.unwrap_or(default) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::parameter("limit", format!("{n} is not between 1 and {MAX_LIMIT}"))),
    }
}

impl ListParams {
    pub fn query(&self) -> ApiResult<CustomerQuery> {
        let (descending, sort) = match self.sort.as_deref().unwrap_or("id") {
            s if s.starts_with('-') => (true, &s[1..]),
            s => (false, s),
        };
        let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        Ok(CustomerQuery {
            search: nonempty(&self.q),
            country: nonempty(&self.country),
            company: nonempty(&self.company)
                .map(|c| ExternalId::parse(&c).map_err(|r| ApiError::parameter("company", r)))
                .transpose()?,
            signup_from: parse_time("signup_from", &self.signup_from)?,
            signup_to: parse_time("signup_to", &self.signup_to)?,
            sort: CustomerSort::parse(sort).map_err(|r| ApiError::parameter("sort", r))?,
            descending,
            after: nonempty(&self.after),
            limit: limit(self.limit, 50)?,
        })
    }
}

/// List customers.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(ListParams),
    responses((status = 200, body = CustomerPage), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ListParams>,
) -> ApiResult<Json<CustomerPage>> {
    who.require(Permission::Read)?;
    let page = s.db.customers(&p.query()?).await?;
    let items = page.items.iter().map(|i| CustomerOut::new(&i.customer, &i.summary)).collect();
    Ok(Json(CustomerPage { items, next: page.next }))
}

/// One customer with company, summary and consents.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 200, body = CustomerDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<CustomerDetail>> {
    who.require(Permission::Read)?;
    let view = s.db.customer(&path_id(&id)?).await?;
    Ok(Json((&view).into()))
}

pub fn path_id(id: &str) -> ApiResult<ExternalId> {
    ExternalId::parse(id).map_err(|r| ApiError::parameter("id", r))
}

fn parse_body(body: &CustomerIn) -> ApiResult<Customer> {
    let o = ParseOptions::new(chrono::Utc::now().year());
    let mut c = parse_customer(&body.fields(), &o)?;
    if let Some(attrs) = &body.attributes {
        for (k, v) in attrs {
            if k.trim().is_empty() {
                return Err(ApiError::invalid("attributes", "attribute names cannot be empty"));
            }
            c.attributes.insert(k.clone(), v.clone().into());
        }
    }
    Ok(c)
}

/// Create a customer; 409 when the id exists.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerIn,
    responses((status = 201, body = CustomerDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(s): State<AppState>,
    _: Writer,
    ApiJson(body): ApiJson<CustomerIn>,
) -> ApiResult<impl IntoResponse> {
    let c = parse_body(&body)?;
    if s.db.customer(&c.id).await.is_ok() {
        return Err(ApiError::Conflict(format!("customer '{}' already exists", c.id)));
    }
    let id = c.id.clone();
    s.db.upsert_customers(vec![c], &IngestOptions::default()).await?;
    let view = s.db.customer(&id).await?;
    Ok((StatusCode::CREATED, Json(CustomerDetail::from(&view))))
}

/// Change some fields of a customer; absent fields keep their values.
#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers", request_body = CustomerIn,
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 200, body = CustomerDetail), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn update(
    State(s): State<AppState>,
    _: Writer,
    Path(id): Path<String>,
    ApiJson(mut body): ApiJson<CustomerIn>,
) -> ApiResult<Json<CustomerDetail>> {
    let id = path_id(&id)?;
    if body.id.as_deref().is_some_and(|b| b != id.as_str()) {
        return Err(ApiError::invalid("id", "cannot change a customer's id"));
    }
    s.db.customer(&id).await?;
    body.id = Some(id.to_string());
    let c = parse_body(&body)?;
    let out = s.db.upsert_customers(vec![c], &IngestOptions::default()).await?;
    if let Some(RowOutcome::Rejected(e)) = out.into_iter().next() {
        return Err(e.into());
    }
    Ok(Json((&s.db.customer(&id).await?).into()))
}

/// Erase a customer and everything recorded about them.
#[utoipa::path(delete, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    who.require(Permission::Write)?;
    s.db.delete_customer(&path_id(&id)?).await?;
    // Their quotes may be in a persona: the background job regenerates the personas next.
    s.segment_frames.erased();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TimelineParams {
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
}

/// Orders, events, interactions, feedback and consents, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "customers",
    params(("id" = String, Path, description = "Customer id"), TimelineParams),
    responses((status = 200, body = TimelinePage), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn timeline(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<TimelineParams>,
) -> ApiResult<Json<TimelinePage>> {
    who.require(Permission::Read)?;
    let limit = limit(p.limit, 50)?;
    let after = p
        .after
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|a| TimelineCursor::parse(a).map_err(|r| ApiError::parameter("after", r)))
        .transpose()?;
    let items = s.db.timeline(&path_id(&id)?, after.as_ref(), limit).await?;
    let next =
        items.last().filter(|_| items.len() == limit).map(|i| TimelineCursor::of(i).encode());
    Ok(Json(TimelinePage { items: items.iter().map(TimelineOut::from).collect(), next }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecommendParams {
    /// How many products, 1 to 50 (default 10).
    pub limit: Option<usize>,
}

/// Products to recommend to a customer, best first, without what they already bought: from
/// the model (`basis: model`), the most popular for a customer it does not know yet
/// (`popular`), none without consent to personalisation (`not_consented`) or before the first
/// training (`no_model`).
#[utoipa::path(get, path = "/api/v1/customers/{id}/recommendations", tag = "customers",
    params(("id" = String, Path, description = "Customer id"), RecommendParams),
    responses((status = 200, body = serde_json::Value, description = "`{customer, basis, items: [{sku, name, score}], trained_at}`"),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn recommendations(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<RecommendParams>,
) -> ApiResult<Json<rapport_reports::recommend::Recommendations>> {
    who.require(Permission::Read)?;
    let n = p.limit.unwrap_or(10);
    if !(1..=50).contains(&n) {
        return Err(ApiError::parameter("limit", "must be 1 to 50"));
    }
    let cat = s.models.current(s.db.as_ref()).await?;
    let r =
        rapport_reports::recommend::for_customer(s.db.as_ref(), cat.as_deref(), &path_id(&id)?, n)
            .await?;
    Ok(Json(r))
}

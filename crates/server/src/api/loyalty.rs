//! `/api/v1/loyalty` and `/api/v1/customers/{id}/loyalty`: the programme's settings, figures and
//! rewards catalogue; a member's balance and tier; earning, redeeming and adjusting points.
//!
//! A change is one store transaction per member (the ledger never goes negative, however many
//! requests race); a `key` in the body makes it idempotent at the ledger (`order:o-17`), beside
//! the `Idempotency-Key` header every write takes. A refused change is 422 with the rule's code
//! (`insufficient_points`, `reward_inactive`, ...).

use crate::AppState;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, body};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::loyalty::{EarnReason, Programme, Reward};
use rapport_reports::loyalty::{self, Change, Member, Overview};
use rapport_store::{Recorded, StoredEntry};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::customers::path_id;

/// The programme (`programme`: settings; `figures`: members, liability, earned, redeemed,
/// expired, deducted, members per tier; `redemption_rate`; `rewards`).
#[utoipa::path(get, path = "/api/v1/loyalty", tag = "loyalty",
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Json<Overview>> {
    who.require(Permission::Read)?;
    Ok(Json(loyalty::overview(s.db.as_ref(), Utc::now()).await?))
}

/// Set up or change the programme: `name`, `points_per_unit`, `survey_points`,
/// `review_points`, `referral_points`, `expiry_days` (null: never), `tier_window_days`, `tiers`
/// (`name`, `threshold`, `multiplier_pct`, `benefits`; the first at threshold 0).
#[utoipa::path(put, path = "/api/v1/loyalty", tag = "loyalty", request_body = Object,
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn put(
    State(s): State<AppState>,
    Writer(_who): Writer,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Overview>> {
    let p: Programme = body(&raw)?;
    p.check()?;
    loyalty::save_programme(s.db.as_ref(), &p, Utc::now()).await?;
    Ok(Json(loyalty::overview(s.db.as_ref(), Utc::now()).await?))
}

/// A reward of the catalogue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardIn {
    pub name: String,
    /// Points, above zero.
    pub cost: i64,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Add a reward or change one (deactivate it with `"active": false`; rewards are never
/// deleted, as redemptions name them).
#[utoipa::path(put, path = "/api/v1/loyalty/rewards/{key}", tag = "loyalty", request_body = RewardIn,
    params(("key" = String, Path, description = "The reward's key, e.g. voucher-10")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn put_reward(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(key): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Json<Reward>> {
    let r: RewardIn = body(&raw)?;
    let key = ExternalId::parse(&key).map_err(|e| ApiError::parameter("key", e))?;
    let reward = Reward { key, name: r.name, cost: r.cost, active: r.active };
    reward.check()?;
    loyalty::save_reward(s.db.as_ref(), &reward).await?;
    Ok(Json(reward))
}

/// A customer's membership: balance (after what is due to expire), tier and its benefits,
/// points earned in the tier window, the next tier and the points to it, the next expiry,
/// lifetime totals and the 20 latest entries. 404 for a customer who never earned.
#[utoipa::path(get, path = "/api/v1/customers/{id}/loyalty", tag = "loyalty",
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 200, body = Object), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn member(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Member>> {
    who.require(Permission::Read)?;
    let id = path_id(&id)?;
    loyalty::member(s.db.as_ref(), &id, Utc::now())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("loyalty membership of customer {id}")))
}

/// Points to credit: `points` with a `reason` (`{"type": "survey", "response": ID}`, `review`,
/// `referral`, `campaign`, `adjustment` with a `note`), or a purchase (`{"type": "purchase",
/// "order": ID, "amount": "49.90"}`, priced by the programme at the member's tier, no
/// `points`). `key` makes the credit idempotent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EarnIn {
    #[serde(default)]
    pub points: Option<i64>,
    #[schema(value_type = Object)]
    pub reason: EarnReason,
    #[serde(default)]
    pub key: Option<String>,
}

/// A reward to redeem by its key; `key` makes the redemption idempotent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemIn {
    pub reward: String,
    #[serde(default)]
    pub key: Option<String>,
}

/// A correction of either sign, with a note saying why.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustIn {
    pub points: i64,
    pub note: String,
    #[serde(default)]
    pub key: Option<String>,
}

/// What a change recorded: the entries appended (an expiry first when one was due) and the
/// balance after them. 201 when new, 200 when the key had already recorded them.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordedOut {
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<StoredEntry>,
    pub balance: i64,
}

/// Credit points.
#[utoipa::path(post, path = "/api/v1/customers/{id}/loyalty/earn", tag = "loyalty", request_body = EarnIn,
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 201, body = RecordedOut), (status = 200, body = RecordedOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn earn(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let e: EarnIn = body(&raw)?;
    let change = match (e.reason, e.points) {
        (EarnReason::Purchase { order, amount }, None) => {
            Change::Purchase { order, amount, at: Utc::now() }
        }
        (EarnReason::Purchase { .. }, Some(_)) => {
            return Err(ApiError::invalid("points", "a purchase is priced by the programme"));
        }
        (reason, Some(points)) => Change::Earn { points, reason },
        (_, None) => return Err(ApiError::invalid("points", "missing")),
    };
    change_points(&s, &id, change, e.key).await
}

/// Redeem a reward from the catalogue at its cost.
#[utoipa::path(post, path = "/api/v1/customers/{id}/loyalty/redeem", tag = "loyalty", request_body = RedeemIn,
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 201, body = RecordedOut), (status = 200, body = RecordedOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn redeem(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let r: RedeemIn = body(&raw)?;
    let reward = ExternalId::parse(&r.reward).map_err(|e| ApiError::invalid("reward", e))?;
    change_points(&s, &id, Change::Redeem { reward }, r.key).await
}

/// Correct a balance by hand.
#[utoipa::path(post, path = "/api/v1/customers/{id}/loyalty/adjust", tag = "loyalty", request_body = AdjustIn,
    params(("id" = String, Path, description = "Customer id")),
    responses((status = 201, body = RecordedOut), (status = 200, body = RecordedOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn adjust(
    State(s): State<AppState>,
    Writer(_who): Writer,
    Path(id): Path<String>,
    ApiJson(raw): ApiJson<serde_json::Value>,
) -> ApiResult<Response> {
    let a: AdjustIn = body(&raw)?;
    change_points(&s, &id, Change::Adjust { points: a.points, note: a.note }, a.key).await
}

async fn change_points(
    s: &AppState,
    id: &str,
    change: Change,
    key: Option<String>,
) -> ApiResult<Response> {
    let id = path_id(id)?;
    if let Some(k) = &key
        && (k.is_empty() || k.len() > 200)
    {
        return Err(ApiError::invalid("key", "must be 1 to 200 characters"));
    }
    let write = loyalty::write(s.db.as_ref(), &id, change, key, Utc::now()).await?;
    // Concurrent changes share one transaction (one flush), each decided in arrival order.
    let out = s.loyalty_writes.submit(write).await??;
    let (status, entries, balance) = match out {
        Recorded::New { entries, balance } => (StatusCode::CREATED, entries, balance),
        Recorded::Replayed { entries, balance } => (StatusCode::OK, entries, balance),
        Recorded::Refused(r) => {
            let field = if r.code() == "reward_inactive" { "reward" } else { "points" };
            return Err(ApiError::Invalid {
                code: r.code(),
                field: field.into(),
                reason: r.to_string(),
            });
        }
    };
    Ok((status, Json(RecordedOut { entries, balance })).into_response())
}

/// The routes, with their documentation.
pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(get, put))
        .routes(routes!(put_reward))
        .routes(routes!(member))
        .routes(routes!(earn))
        .routes(routes!(redeem))
        .routes(routes!(adjust))
}

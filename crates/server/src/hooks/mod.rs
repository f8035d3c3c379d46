//! Inbound webhooks: `POST /hooks/feedback/{source}` and `POST /hooks/tickets/{source}`.
//!
//! Other systems (survey tools, help desks) push one item per call. The credential is the
//! signature ([`signature`]): each source has its own secret, created with `rapport webhook
//! add`; no session, API key or CSRF token is involved. An unknown or revoked source gets the
//! same 401 as a bad signature, so sources cannot be discovered. Items go through the same
//! parsers and the same idempotent upserts as batches ([`payload`]), so a redelivery stores
//! nothing twice.

pub mod payload;
pub mod signature;

use crate::AppState;
use crate::api::batch::count_ingested;
use crate::auth::random_token;
use crate::error::{ApiError, ApiResult};
use crate::extract::{parse_json, read_body};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use payload::{FeedbackHook, TicketHook, Who};
use rapport_core::ExternalId;
use rapport_core::access::{HookKind, NewWebhookSource, SourceName, WebhookSource};
use rapport_core::record::CustomerRef;
use rapport_store::{AccessStore, IngestOptions, Kind, RowOutcome};
use serde::Serialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/feedback/{source}", post(feedback))
        .route("/hooks/tickets/{source}", post(tickets))
}

/// The path a source's deliveries go to.
pub fn path(kind: HookKind, name: &SourceName) -> String {
    format!("/hooks/{kind}/{}", name.as_str())
}

/// Creates a source with a new secret; returns it with the secret (shown once).
pub async fn create_source(
    db: &dyn AccessStore,
    kind: &str,
    name: &str,
) -> ApiResult<(WebhookSource, String)> {
    let kind = HookKind::parse(kind).map_err(|r| ApiError::invalid("kind", r))?;
    let name = SourceName::parse(name).map_err(|r| ApiError::invalid("source", r))?;
    let secret = format!("whsec_{}", random_token());
    let source =
        db.create_webhook_source(NewWebhookSource { kind, name, secret: secret.clone() }).await?;
    Ok((source, secret))
}

/// What a delivery became.
#[derive(Debug, Serialize)]
pub struct Delivered {
    /// The stored item's id.
    pub id: String,
    /// The customer it was filed under.
    pub customer: String,
    /// inserted, updated or unchanged (a redelivery).
    pub outcome: &'static str,
}

const BAD_SIGNATURE: &str = "the X-Rapport-Signature header does not match this source";
const STALE: &str = "X-Rapport-Timestamp is missing, not unix seconds, or more than 5 minutes from the server's clock";
/// Verified against when the source is unknown, so both paths do the same work.
const DECOY_SECRET: &str = "whsec_decoy_for_unknown_sources";

/// Reads the body and checks its signature against the source's secret.
async fn verified(
    s: &AppState,
    kind: HookKind,
    name: &str,
    req: Request,
) -> ApiResult<(SourceName, Bytes)> {
    let (parts, body) = read_body(req).await?;
    let timestamp = signature::fresh_timestamp(&parts.headers, Utc::now().timestamp())
        .ok_or(ApiError::InvalidSignature(STALE))?;
    let name = SourceName::parse(name).ok();
    let secret = match &name {
        Some(n) => s.db.webhook_secret(kind, n).await?,
        None => None,
    };
    let key = secret.as_deref().unwrap_or(DECOY_SECRET);
    let good = signature::verify(key, timestamp, &body, &parts.headers);
    match name {
        Some(name) if good && secret.is_some() => Ok((name, body)),
        _ => Err(ApiError::InvalidSignature(BAD_SIGNATURE)),
    }
}

fn delivered(
    kind: Kind,
    source: &SourceName,
    id: ExternalId,
    customer: ExternalId,
    outcomes: Vec<RowOutcome>,
) -> ApiResult<Json<Delivered>> {
    let outcome = match outcomes.into_iter().next() {
        Some(RowOutcome::Inserted) => "inserted",
        Some(RowOutcome::Updated) => "updated",
        Some(RowOutcome::Unchanged | RowOutcome::Exists) => "unchanged",
        Some(RowOutcome::Rejected(e)) => {
            count_ingested(kind, "rejected", 1);
            return Err(e.into());
        }
        None => return Err(ApiError::Internal(format!("no outcome for a {kind} row").into())),
    };
    count_ingested(kind, outcome, 1);
    tracing::info!(%kind, source = source.as_str(), id = %id, outcome, "webhook delivery");
    Ok(Json(Delivered { id: id.to_string(), customer: customer.to_string(), outcome }))
}

/// Store a feedback item pushed by a survey or review tool.
pub async fn feedback(
    State(s): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> ApiResult<Json<Delivered>> {
    let (source, body) = verified(&s, HookKind::Feedback, &name, req).await?;
    let item: FeedbackHook = parse_json(&body)?;
    let who = Who::parse(&item.customer)?;
    let mut row = item.to_row(&source, &who, Utc::now())?;
    let customer = who.resolve(s.db.as_ref()).await?;
    row.customer = CustomerRef::Id(customer.clone());
    let id = row.id.clone();
    let outcomes = s.db.ingest_feedback(vec![row], &IngestOptions::default()).await?;
    delivered(Kind::Feedback, &source, id, customer, outcomes)
}

/// Store a support ticket pushed by a help desk, as a `support` interaction.
pub async fn tickets(
    State(s): State<AppState>,
    Path(name): Path<String>,
    req: Request,
) -> ApiResult<Json<Delivered>> {
    let (source, body) = verified(&s, HookKind::Tickets, &name, req).await?;
    let item: TicketHook = parse_json(&body)?;
    let who = Who::parse(&item.customer)?;
    let mut it = item.to_interaction(&source, &who, Utc::now())?;
    let customer = who.resolve(s.db.as_ref()).await?;
    it.customer = customer.clone();
    let id = it.id.clone();
    let outcomes = s.db.ingest_interactions(vec![it], &IngestOptions::default()).await?;
    delivered(Kind::Interactions, &source, id, customer, outcomes)
}

//! `Idempotency-Key` for every POST under `/api/v1`, as one layer on the API router (IETF draft
//! "The Idempotency-Key HTTP Header Field", with Stripe's behaviour where the draft leaves a
//! choice).
//!
//! A POST with the header claims `(caller, key)` in the store with a fingerprint of the request
//! (SHA-256 of method, path and body) before it runs; the claim inserts a pending record under
//! a unique constraint, so of two concurrent requests only one runs. When the handler is done
//! its 2xx or 4xx response is stored and replayed to retries (with `Idempotency-Replayed:
//! true`); a 5xx, a panic or a dropped connection releases the claim so the client can retry.
//! The same key with another request is 422 `idempotency_key_reused`; a retry while the first
//! runs is 409 `idempotency_key_in_flight`. Records live 24 hours. Requests without the header
//! are untouched.

use crate::AppState;
use crate::auth::{Principal, authenticate};
use crate::error::{ApiError, ApiResult};
use crate::extract::read_body;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use rapport_store::{Backend, Claimed, IdempotencyClaim, StoredResponse};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotency-replayed";
/// How long a key is remembered.
pub const TTL: Duration = Duration::hours(24);
/// A pending record older than this belongs to a request whose process died: no request runs
/// this long (the largest batch takes seconds), and a crash must not block the key for a day.
const ABANDONED: Duration = Duration::minutes(10);
const MAX_KEY: usize = 255;

/// The layer: `axum::middleware::from_fn_with_state(state, idempotency::layer)`.
pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    match guarded(&s, req, next).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn guarded(s: &AppState, req: Request, next: Next) -> ApiResult<Response> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(raw) = req.headers().get(HEADER) else { return Ok(next.run(req).await) };
    let key = parse_key(raw)?;
    let (mut parts, body) = req.into_parts();
    let Some(who) = authenticate(s, &parts).await? else {
        // No credentials: the handler answers 401 as it always does; nothing to remember.
        return Ok(next.run(Request::from_parts(parts, body)).await);
    };
    // The handler's `Auth` finds the caller here instead of authenticating again.
    parts.extensions.insert(who.clone());
    let (parts, bytes) = read_body(Request::from_parts(parts, body)).await?;
    let claim = new_claim(&who, key, fingerprint(&parts, &bytes));
    match s.db.claim_idempotency_key(&claim).await? {
        Claimed::Fresh => {
            s.sweeper.maybe_purge(s.db.as_ref()).await;
            let req = Request::from_parts(parts, Body::from(bytes));
            Ok(run_and_store(s, claim, req, next).await)
        }
        Claimed::InFlight => Err(ApiError::IdempotencyKeyInFlight),
        Claimed::Mismatch => Err(ApiError::IdempotencyKeyReused),
        Claimed::Done(stored) => Ok(replay(stored)),
    }
}

/// 1 to 255 visible ASCII characters. The draft sends the key as a structured-field string
/// (`"abc"`); Stripe and most clients send it bare (`abc`): both are accepted, as the same key.
fn parse_key(raw: &HeaderValue) -> ApiResult<String> {
    let bad = |why: &str| ApiError::InvalidIdempotencyKey(why.into());
    let v = raw.to_str().map_err(|_| bad("must be visible ASCII characters"))?;
    let v = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) if !inner.contains(['"', '\\']) => inner,
        _ => v,
    };
    if v.is_empty() || v.len() > MAX_KEY {
        return Err(bad("must be 1 to 255 characters long"));
    }
    if !v.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("must be visible ASCII characters (no spaces or control characters)"));
    }
    Ok(v.to_string())
}

/// SHA-256 of method, path with query, and body, separated so no two requests run together.
fn fingerprint(parts: &Parts, body: &[u8]) -> String {
    let path = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let mut h = Sha256::new();
    h.update(parts.method.as_str().as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn new_claim(who: &Principal, key: String, fingerprint: String) -> IdempotencyClaim {
    let now = Utc::now();
    IdempotencyClaim {
        principal: who.identity(),
        key,
        fingerprint,
        now,
        expired_before: now - TTL,
        abandoned_before: now - ABANDONED,
    }
}

/// Runs the request under a fresh claim, stores what is worth replaying, releases otherwise.
async fn run_and_store(
    s: &AppState,
    claim: IdempotencyClaim,
    req: Request,
    next: Next,
) -> Response {
    let pending =
        Pending { db: s.db.clone(), principal: claim.principal, key: claim.key, armed: true };
    let res = next.run(req).await;
    if !replayable(res.status()) {
        return pending.release(res).await;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        let failed = ApiError::Internal("could not buffer the response body".into());
        return pending.release(failed.into_response()).await;
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(Into::into),
        body: bytes.to_vec(),
    };
    let res = Response::from_parts(parts, Body::from(bytes));
    pending.complete(&stored, res).await
}

/// What a retry should see again: successes and the client's own errors. Not 5xx (the client
/// should retry), nor 429 (a throttle says "later", not "never").
fn replayable(status: StatusCode) -> bool {
    status.is_success() || (status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS)
}

fn replay(stored: StoredResponse) -> Response {
    let mut res = Response::new(Body::from(Bytes::from(stored.body)));
    *res.status_mut() = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let headers = res.headers_mut();
    if let Some(ct) = stored.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    res
}

/// A claim the request holds. Dropped while armed (the handler panicked, or the client went
/// away and the request future was dropped), it releases the key in the background.
struct Pending {
    db: Arc<dyn Backend>,
    principal: String,
    key: String,
    armed: bool,
}

impl Pending {
    async fn complete(mut self, stored: &StoredResponse, res: Response) -> Response {
        match self.db.complete_idempotency_key(&self.principal, &self.key, stored).await {
            Ok(()) => self.armed = false,
            // The response still goes out; the key is released so a retry runs again.
            Err(e) => tracing::warn!(error = %e, "could not store an idempotent response"),
        }
        res
    }

    async fn release(mut self, res: Response) -> Response {
        if let Err(e) = self.db.release_idempotency_key(&self.principal, &self.key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        self.armed = false;
        res
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let (db, principal, key) = (self.db.clone(), self.principal.clone(), self.key.clone());
        rt.spawn(async move {
            if let Err(e) = db.release_idempotency_key(&principal, &key).await {
                tracing::warn!(error = %e, "could not release an idempotency key");
            }
        });
    }
}

/// Deletes expired records at most once a minute, on the way to a fresh claim.
#[derive(Debug, Default)]
pub struct Sweeper {
    last_minute: AtomicI64,
}

impl Sweeper {
    async fn maybe_purge(&self, db: &dyn Backend) {
        let now = Utc::now();
        let minute = now.timestamp() / 60;
        if self.last_minute.swap(minute, Ordering::Relaxed) == minute {
            return;
        }
        match db.purge_idempotency_keys(now - TTL).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "expired idempotency keys"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii_bare_or_quoted() {
        let key = |s: &str| parse_key(&HeaderValue::from_str(s).unwrap());
        assert_eq!(key("8e03978e-40d5").unwrap(), "8e03978e-40d5");
        assert_eq!(key("\"8e03978e-40d5\"").unwrap(), "8e03978e-40d5");
        assert_eq!(key(&"k".repeat(255)).unwrap().len(), 255);
        for bad in ["", "\"\"", "a b", &"k".repeat(256)] {
            assert!(key(bad).is_err(), "{bad:?}");
        }
        assert!(parse_key(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()).is_err());
    }

    #[test]
    fn fingerprints_separate_method_path_and_body() {
        let parts = |m: &str, uri: &str| {
            Request::builder().method(m).uri(uri).body(()).unwrap().into_parts().0
        };
        let a = fingerprint(&parts("POST", "/api/v1/customers"), b"{}");
        assert_eq!(a, fingerprint(&parts("POST", "/api/v1/customers"), b"{}"));
        assert_ne!(a, fingerprint(&parts("POST", "/api/v1/customers"), b"{ }"));
        assert_ne!(a, fingerprint(&parts("POST", "/api/v1/events:batch"), b"{}"));
        assert_ne!(a, fingerprint(&parts("PUT", "/api/v1/customers"), b"{}"));
    }

    #[test]
    fn only_successes_and_client_errors_are_replayed() {
        assert!(replayable(StatusCode::CREATED) && replayable(StatusCode::UNPROCESSABLE_ENTITY));
        assert!(!replayable(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(!replayable(StatusCode::TOO_MANY_REQUESTS));
    }
}

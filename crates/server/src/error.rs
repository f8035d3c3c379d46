//! The server's one error type and the one place it becomes HTTP: `application/problem+json`
//! (RFC 9457) with a stable snake_case `code`, the field at fault where there is one, and a
//! message written for the person calling the API. Internal causes are logged, never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rapport_core::FieldError;
use rapport_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("sign in or send an API key")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// Input that parsed as JSON but is not valid: which field, and why.
    #[error("{field}: {reason}")]
    Invalid { code: &'static str, field: String, reason: String },
    /// Input that could not be read at all (malformed JSON, wrong content type).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("too many attempts; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64 },
    /// The `Idempotency-Key` header is not 1 to 255 visible ASCII characters.
    #[error("the Idempotency-Key header {0}")]
    InvalidIdempotencyKey(String),
    #[error(
        "this Idempotency-Key was used for a different request; send a new key with a new request"
    )]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed; retry in a moment")]
    IdempotencyKeyInFlight,
    /// A webhook whose signature does not verify: wrong secret, unknown or revoked source (the
    /// same answer, so sources cannot be discovered), or a stale timestamp.
    #[error("{0}")]
    InvalidSignature(&'static str),
    /// The data holds nothing a report can be computed from (no purchases yet, say).
    #[error("{0}")]
    NoData(String),
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the problem type; `about:blank` as the status says it all.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable: clients branch on this, not on the message.
    pub code: String,
    /// What went wrong, for a person.
    pub detail: String,
    /// The field (a JSON pointer or parameter name) at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> ApiError {
        ApiError::Internal(Box::new(e))
    }

    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
        ApiError::Invalid { code: "invalid_field", field: field.into(), reason: reason.into() }
    }

    /// A query or path parameter that is unknown or not valid: 400 `invalid_parameter`, naming
    /// it (a body field that is not valid is 422 `invalid_field`).
    pub fn parameter(name: impl Into<String>, reason: impl Into<String>) -> ApiError {
        ApiError::Invalid { code: "invalid_parameter", field: name.into(), reason: reason.into() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Invalid { code: "invalid_parameter", .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::InvalidIdempotencyKey(_) => StatusCode::BAD_REQUEST,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::IdempotencyKeyInFlight => StatusCode::CONFLICT,
            ApiError::InvalidSignature(_) => StatusCode::UNAUTHORIZED,
            ApiError::NoData(_) => StatusCode::CONFLICT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::Invalid { code, .. } | ApiError::BadRequest { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::InvalidIdempotencyKey(_) => "invalid_idempotency_key",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::IdempotencyKeyInFlight => "idempotency_key_in_flight",
            ApiError::InvalidSignature(_) => "invalid_signature",
            ApiError::NoData(_) => "no_data",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let field = match self {
            ApiError::Invalid { field, .. } => Some(field.clone()),
            ApiError::InvalidIdempotencyKey(_)
            | ApiError::IdempotencyKeyReused
            | ApiError::IdempotencyKeyInFlight => Some("Idempotency-Key".into()),
            _ => None,
        };
        Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            code: self.code().to_string(),
            detail: self.to_string(),
            field,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(why) => ApiError::Conflict(why),
            StoreError::Invalid(why) => {
                ApiError::BadRequest { code: "invalid_request", message: why }
            }
            StoreError::Other(e) => ApiError::Internal(e),
        }
    }
}

impl From<rapport_reports::ReportError> for ApiError {
    fn from(e: rapport_reports::ReportError) -> ApiError {
        use rapport_reports::ReportError;
        match e {
            ReportError::Store(e) => e.into(),
            e @ ReportError::NoData(_) => ApiError::NoData(e.to_string()),
            ReportError::Invalid { field, reason } => ApiError::parameter(field, reason),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::invalid(e.field, e.reason)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, source = ?cause.source(), "internal error");
        }
        let status = self.status();
        let mut res = (status, axum::Json(self.problem())).into_response();
        let headers = res.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        match self {
            ApiError::RateLimited { retry_after } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            ApiError::IdempotencyKeyInFlight => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(1));
            }
            // Webhooks authenticate by signature, not by a bearer token.
            ApiError::Unauthenticated => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

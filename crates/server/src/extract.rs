//! Request extractors whose rejections are problem+json with a clear field and reason, instead
//! of axum's plain-text ones.

use crate::error::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON body. Request types use `deny_unknown_fields`, so a misspelt field is an error
/// rather than silently ignored.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(json_rejection(e)),
        }
    }
}

/// The whole body (within the body limit) and the rest of the request, for code that needs the
/// raw bytes: request fingerprints, webhook signatures.
pub async fn read_body(req: Request) -> ApiResult<(Parts, Bytes)> {
    let (parts, body) = req.into_parts();
    // The body limit travels in the request's extensions; keep them for the read.
    let mut only_body = Request::new(body);
    *only_body.extensions_mut() = parts.extensions.clone();
    let bytes = Bytes::from_request(only_body, &()).await.map_err(bytes_rejection)?;
    Ok((parts, bytes))
}

fn bytes_rejection(e: BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::PayloadTooLarge { limit: crate::BODY_LIMIT };
    }
    ApiError::BadRequest { code: "unreadable_body", message: e.body_text() }
}

/// A JSON body already read, judged as [`ApiJson`] judges one (without the content-type check:
/// webhook senders do not all set it).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    axum::Json::<T>::from_bytes(bytes).map(|axum::Json(v)| v).map_err(json_rejection)
}

/// A body read as JSON by the extractor, judged as `T` only once the caller may write: a
/// caller without the permission learns nothing about what a valid body is.
pub fn body<T: DeserializeOwned>(v: &serde_json::Value) -> ApiResult<T> {
    parse_json(&serde_json::to_vec(v).map_err(crate::error::ApiError::internal)?)
}

fn json_rejection(e: JsonRejection) -> ApiError {
    match e {
        JsonRejection::JsonDataError(e) => {
            // serde_path_to_error's message reads "path: reason"; keep both parts.
            let text = e.body_text();
            let detail = text
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ");
            let (field, reason) = match detail.split_once(": ") {
                Some((f, r)) if !f.contains(' ') => (f.to_string(), r.to_string()),
                _ => ("body".to_string(), detail.to_string()),
            };
            ApiError::Invalid { code: "invalid_field", field, reason }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            code: "malformed_json",
            message: e
                .body_text()
                .replace("Failed to parse the request body as JSON: ", "malformed JSON: "),
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::BadRequest {
            code: "unsupported_media_type",
            message: "send the body as JSON with `Content-Type: application/json`".into(),
        },
        JsonRejection::BytesRejection(e) => bytes_rejection(e),
        other => ApiError::BadRequest { code: "unreadable_body", message: other.body_text() },
    }
}

/// Query-string parameters, rejected as `invalid_parameter` with the parameter named.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => {
                let text = e.body_text();
                let detail = text.trim_start_matches("Failed to deserialize query string: ");
                let (field, reason) = match detail.split_once(": ") {
                    Some((f, r)) if !f.contains(' ') => (f.to_string(), r.to_string()),
                    _ => ("query".to_string(), detail.to_string()),
                };
                Err(ApiError::Invalid { code: "invalid_parameter", field, reason })
            }
            Err(other) => {
                Err(ApiError::BadRequest { code: "invalid_query", message: other.body_text() })
            }
        }
    }
}

//! Operations: `/healthz`, Prometheus `/metrics`, request metrics, security headers, and the
//! panic guard that turns a bug into a logged 500 rather than a dropped connection.

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use rapport_core::access::Permission;
use std::sync::OnceLock;
use std::time::Instant;

/// The process-wide Prometheus recorder (metrics are per process, like the `metrics` facade).
#[derive(Clone)]
pub struct Metrics(PrometheusHandle);

impl Metrics {
    pub fn get() -> Metrics {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        Metrics(
            HANDLE
                .get_or_init(|| {
                    let recorder = PrometheusBuilder::new().build_recorder();
                    let handle = recorder.handle();
                    // Another recorder may already be installed (an embedding program); then
                    // our handle simply renders nothing of theirs.
                    metrics::set_global_recorder(recorder).ok();
                    handle
                })
                .clone(),
        )
    }
}

pub fn routes() -> axum::Router<AppState> {
    axum::Router::new().route("/healthz", get(healthz)).route("/metrics", get(prometheus))
}

async fn healthz(State(s): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    // A cheap query proves the database answers, not just the process.
    s.db.session("healthz", chrono::Utc::now()).await?;
    Ok(Json(serde_json::json!({ "status": "ok", "backend": s.db.backend() })))
}

async fn prometheus(State(s): State<AppState>, auth: Option<Auth>) -> ApiResult<Response> {
    if !s.settings.public_metrics {
        auth.ok_or(ApiError::Unauthenticated)?.0.require(Permission::Read)?;
    }
    let body = s.metrics.0.render();
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response())
}

/// Counts requests and records latencies by method, route template and status.
pub async fn track(State(_): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let res = next.run(req).await;
    let labels =
        [("method", method), ("route", route), ("status", res.status().as_u16().to_string())];
    metrics::counter!("rapport_http_requests_total", &labels).increment(1);
    metrics::histogram!("rapport_http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    res
}

/// Headers on every response: no inline script or style, no framing, no MIME sniffing.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // A handler that sets its own policy (the survey pages that other sites may frame) keeps
    // it, and its `frame-ancestors` decides framing.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            ),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    res
}

pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::Internal("handler panicked".into()).into_response()
}

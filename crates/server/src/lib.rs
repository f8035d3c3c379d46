//! Rapport's HTTP server: the REST API under `/api/v1`, the server-rendered web UI, access
//! control and operational endpoints. Handlers parse, call the store, and map; the one
//! error-to-HTTP mapping lives in [`error`].
//!
//! The CLI and the tests start it the same way: build an [`AppState`], bind a listener, call
//! [`launch`].

pub mod analysis;
pub mod api;
pub mod auth;
pub mod campaigns;
pub mod error;
pub mod extract;
pub mod group_commit;
pub mod hooks;
pub mod idempotency;
pub mod limit;
mod observe;
pub mod outbox;
pub mod pages;
pub mod recommend;
pub mod report_cache;
pub mod segments;
pub mod surveys;
pub mod verified;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use rapport_store::Backend;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Largest request body accepted (JSON batches included).
pub const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Server settings, from flags and `RAPPORT_...` variables in the CLI.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Mark cookies `Secure` always (set when serving behind TLS). Without it they are marked
    /// `Secure` only when the request arrived over HTTPS (`X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// Serve `/metrics` without credentials (for a Prometheus scraper on a private network).
    pub public_metrics: bool,
    pub session_ttl: Duration,
    /// Compute the dashboard's reports when the server starts, so the first visit finds them
    /// ready (seconds of work at a million customers). Off in tests, which write after start.
    pub warm_reports: bool,
    /// Step the feedback analysis job (themes of new items, the near-duplicate index,
    /// segments) this often; `None` runs it only on request (tests, which control when).
    pub analysis_every: Option<Duration>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            secure_cookies: false,
            public_metrics: true,
            session_ttl: Duration::from_secs(14 * 24 * 3600),
            warm_reports: false,
            analysis_every: None,
        }
    }
}

/// Everything handlers share, behind one `Arc`: axum clones the state for every request, and
/// one reference count is cheaper than one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub db: Arc<dyn Backend>,
    pub settings: Arc<Settings>,
    pub key_uses: Arc<auth::KeyUses>,
    /// Credentials verified in the last seconds (see [`verified`]).
    pub credentials: Arc<verified::Credentials>,
    pub limiter: Arc<limit::LoginLimiter>,
    pub sweeper: Arc<idempotency::Sweeper>,
    pub metrics: observe::Metrics,
    /// Feedback items created one per request, committed in groups (see [`group_commit`]).
    pub feedback_creates: Arc<group_commit::GroupCommit<rapport_core::record::FeedbackRow>>,
    /// Reports computed in the last minute, shared by the API and the dashboard.
    pub reports: report_cache::ReportCache,
    /// Themes per feedback item, the near-duplicate index and materialised segments.
    pub analysis: analysis::AnalysisJob,
    /// The customers as a segment frame, for previews and saved-segment refreshes.
    pub segment_frames: segments::Frames,
    /// The recommendation model's products, held for scoring.
    pub models: recommend::Models,
}

impl AppState {
    pub fn new(db: Arc<dyn Backend>, settings: Settings) -> AppState {
        AppState(Arc::new(Shared {
            settings: Arc::new(settings),
            key_uses: Arc::default(),
            credentials: Arc::default(),
            limiter: Arc::new(limit::LoginLimiter::new(5, Duration::from_secs(15 * 60))),
            sweeper: Arc::default(),
            metrics: observe::Metrics::get(),
            feedback_creates: Arc::new(feedback_creates(db.clone())),
            reports: report_cache::ReportCache::default(),
            analysis: analysis::AnalysisJob::default(),
            segment_frames: segments::Frames::default(),
            models: recommend::Models::default(),
            db,
        }))
    }
}

fn feedback_creates(
    db: Arc<dyn Backend>,
) -> group_commit::GroupCommit<rapport_core::record::FeedbackRow> {
    let o = rapport_store::IngestOptions { create_only: true, ..Default::default() };
    group_commit::GroupCommit::new(move |rows| {
        let (db, o) = (db.clone(), o.clone());
        Box::pin(async move { db.ingest_feedback(rows, &o).await })
    })
}

/// The whole application: API, webhooks, pages, operational endpoints, and the layers every
/// response passes through (security headers, metrics, tracing, body limit, panic guard). Every
/// API route passes through the `Idempotency-Key` layer (it acts on POSTs with the header).
pub fn router(state: AppState) -> Router {
    let idempotent = axum::middleware::from_fn_with_state(state.clone(), idempotency::layer);
    Router::new()
        .merge(observe::routes())
        .merge(api::routes().route_layer(idempotent))
        .merge(hooks::routes())
        .merge(pages::routes())
        .merge(pages::respond::routes())
        .fallback(fallback)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(state.clone(), observe::track))
        .layer(axum::middleware::from_fn(observe::security_headers))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(observe::panic_response))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Unknown routes: problem+json under `/api`, an HTML page elsewhere.
async fn fallback(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") {
        error::ApiError::NotFound(format!("route {}", uri.path())).into_response()
    } else {
        pages::not_found_page().await
    }
}

/// Serves until `shutdown` resolves, then finishes in-flight requests.
pub async fn launch(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if state.settings.warm_reports {
        tokio::spawn(pages::warm_dashboard(state.clone()));
        tokio::spawn(segments::warm(state.clone()));
    }
    if let Some(every) = state.settings.analysis_every {
        tokio::spawn(analysis::run(state.clone(), every));
    }
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

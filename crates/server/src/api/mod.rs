//! The REST API under `/api/v1`, and its OpenAPI 3.1 document at `/api/openapi.json`,
//! generated from the handlers and types below (so it cannot drift from the code).

pub mod batch;
pub mod customers;
pub mod dto;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::Router;
use axum::routing::get;
use rapport_core::access::Permission;
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rapport API", version = "1", description = "Customers, orders, feedback and \
        everything Rapport knows, over HTTP. Authenticate with `Authorization: Bearer <API key>` \
        (create one with `rapport apikey create` or under Settings → API keys)."),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "customers", description = "Customers, their 360 view and timeline"),
        (name = "ingest", description = "Bulk ingest: up to 10,000 events, order lines or \
            feedback items per call, validated like file imports and idempotent on re-send"),
    ),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The API routes and their OpenAPI document, registered together so neither can miss a
/// route the other has.
pub fn router_and_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update, customers::delete))
        .routes(routes!(customers::timeline))
        .routes(routes!(batch::events))
        .routes(routes!(batch::orders))
        .routes(routes!(batch::feedback))
        .split_for_parts()
}

/// The OpenAPI document (built once).
pub fn openapi() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(|| router_and_doc().1)
}

pub fn routes() -> Router<AppState> {
    router_and_doc().0.route("/api/openapi.json", get(openapi_json))
}

async fn openapi_json(Auth(who): Auth) -> ApiResult<Json<&'static utoipa::openapi::OpenApi>> {
    who.require(Permission::Read)?;
    Ok(Json(openapi()))
}

//! The REST API under `/api/v1`, and its OpenAPI 3.1 document at `/api/openapi.json`,
//! generated from the handlers and types below (so it cannot drift from the code).

pub mod batch;
pub mod campaigns;
pub mod customers;
pub mod dto;
pub mod ideas;
pub mod inbox;
pub mod journeys;
pub mod loyalty;
pub mod personas;
pub mod record_dto;
pub mod record_query;
pub mod record_write;
pub mod records;
pub mod reports;
pub mod scorecard;
pub mod segments;
pub mod surveys;

use crate::AppState;
use crate::auth::Auth;
use crate::error::{ApiResult, Problem};
use axum::Json;
use axum::Router;
use axum::routing::get;
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_store::CustomerSort;
use std::sync::OnceLock;
use utoipa::openapi::RefOr;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{
    AnyOfBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Required, header::HeaderBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Rapport API", version = "1", description = "Customers, orders, feedback and \
        everything Rapport knows, over HTTP. Authenticate with `Authorization: Bearer <API key>` \
        (create one with `rapport apikey create` or under Settings → API keys).\n\n\
        Every POST accepts an `Idempotency-Key` header (1 to 255 visible ASCII characters, e.g. \
        a UUID; per API key or user; remembered 24 hours). A retry with the same key and the \
        same request gets the first response again, with `Idempotency-Replayed: true`, and \
        changes nothing. The same key with a different request is refused (422 \
        `idempotency_key_reused`); a retry while the first is still running gets 409 \
        `idempotency_key_in_flight` (retry after a second). Server errors (5xx) are not \
        remembered, so retrying them runs the request again."),
    components(schemas(Problem)),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "customers", description = "Customers, their 360 view and timeline"),
        (name = "ingest", description = "Bulk ingest: up to 10,000 events, order lines or \
            feedback items per call, validated like file imports and idempotent on re-send"),
        (name = "reports", description = "The reports of `rapport report`, as the JSON it prints \
            with `--format json`; shared for up to a minute (the `Age` header says how old)"),
        (name = "inbox", description = "The feedback inbox: every channel's items with \
            sentiment, theme and triage status, full-text search and filters, near-duplicates \
            merged without losing any, and the themes found across all feedback."),
        (name = "surveys", description = "NPS, CSAT, CES and custom surveys: definitions, \
            sending (one link per consenting customer), responses and results. Customers answer \
            at `/s/{token}`, a public page."),
        (name = "ideas", description = "Feature ideas ranked by a priority score explained \
            factor by factor (distinct customers who asked, their value, recency, sentiment, \
            segment, feature usage), RICE beside it; evidence from feedback, requesters on \
            behalf of customers, a status graph, and the top ideas per RFM segment."),
        (name = "segments", description = "Saved segments: a filter in the segment language \
            (docs/filter-language.md) whose members are materialised, refreshed on a schedule \
            and after data arrives, with a history of the segment's size; and a preview count \
            for a filter being written."),
        (name = "personas", description = "Personas and empathy maps generated from a filter, an \
            RFM segment, a saved segment or a k-means cluster, kept current by the server; the \
            name and notes survive regeneration."),
        (name = "journeys", description = "Journey maps: ordered stages (events, purchases, \
            survey responses, filters) with reach, conversion, drop-off, median time between \
            stages, satisfaction and the pain points of the customers who dropped, per segment."),
        (name = "loyalty", description = "The loyalty programme: settings, tiers and rewards; \
            each member's append-only points ledger (earn, redeem, adjust, expiry oldest first), \
            which never goes negative under concurrent requests; programme figures."),
        (name = "scorecard", description = "The balanced scorecard: goals on customer metrics \
            (NPS, CSAT, CES, retention, churn, repeat purchase, CLV) and business metrics \
            (revenue, orders, active customers, loyalty liability), each with a target, period, \
            owner and a status from the latest complete period."),
        (name = "campaigns", description = "Customer-marketing campaigns to a segment by e-mail \
            or webhook, with personalised templates, marketing consent checked per recipient, a \
            seeded random holdout, and the lift on the goal with a 95% interval and a p-value."),
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

/// The `Idempotency-Key` header parameter, as every POST operation documents it.
fn idempotency_key_parameter() -> Parameter {
    let schema = ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some("^[!-~]+$"))
        .min_length(Some(1))
        .max_length(Some(255));
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same key with the same request within 24 hours returns the \
             first response (with `Idempotency-Replayed: true`) instead of running again.",
        ))
        .schema(Some(schema))
        .build()
}

/// Adds the idempotency header to every POST operation (the layer serves them all, so the
/// document says so for all of them, including POSTs added later), and documents the
/// replay header on their responses.
fn document_idempotency(doc: &mut utoipa::openapi::OpenApi) {
    let replayed = HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("`true` when this is the stored response to an earlier request with the same `Idempotency-Key`."))
        .build();
    for item in doc.paths.paths.values_mut() {
        let Some(op) = item.post.as_mut() else { continue };
        op.parameters.get_or_insert_with(Vec::new).push(idempotency_key_parameter());
        for response in op.responses.responses.values_mut() {
            if let utoipa::openapi::RefOr::T(r) = response {
                r.headers.insert("Idempotency-Replayed".into(), replayed.clone());
            }
        }
    }
}

/// What an id accepts ([`rapport_core::ExternalId::parse`]): something besides white space,
/// no control characters (U+0000–U+001F, U+007F–U+009F).
const ID_PATTERN: &str = r"^\s*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// Tightens the parameter schemas to what the handlers accept, in one place for every
/// operation (the parameter derives only know "string"): ids, times, page sizes, sort orders
/// and the idempotency key. Schema-driven clients and fuzzers then send what would be valid.
fn refine_parameters(doc: &mut utoipa::openapi::OpenApi) {
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let id = || string().pattern(Some(ID_PATTERN)).max_length(Some(ExternalId::MAX_LEN));
    let time = || {
        AnyOfBuilder::new()
            .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))))
            .item(string().format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))))
            .item(string().max_length(Some(0)).description(Some("Empty: no bound.")))
    };
    // Empty: the default order.
    let customer_sorts: Vec<String> = std::iter::once(String::new())
        .chain(
            CustomerSort::ALL.iter().flat_map(|(name, _)| [name.to_string(), format!("-{name}")]),
        )
        .collect();
    let words = |w: &[&str]| string().enum_values(Some(w.iter().map(|s| s.to_string())));
    let segments: Vec<&str> = std::iter::once("")
        .chain(rapport_analytics::rfm::Segment::ALL.iter().map(|s| s.as_str()))
        .collect();
    let integer = |lo: i64, hi: i64| {
        ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(lo)).maximum(Some(hi))
    };
    let number = |hi: Option<f64>| {
        ObjectBuilder::new().schema_type(Type::Number).minimum(Some(0.0)).maximum(hi)
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let ops = [&mut item.get, &mut item.post, &mut item.patch, &mut item.delete];
        for op in ops.into_iter().flatten() {
            for p in op.parameters.iter_mut().flatten() {
                let ideas =
                    path.starts_with("/api/v1/ideas") || path.starts_with("/api/v1/personas");
                let journeys = path.starts_with("/api/v1/journeys");
                let schema: Option<RefOr<Schema>> = match p.name.as_str() {
                    // Ideas are numbered by the store.
                    "id" if ideas || journeys => Some(integer(1, i64::MAX).into()),
                    // A journey's segment is a filter expression, not an RFM segment.
                    "segment" if journeys => Some(string().max_length(Some(4000)).into()),
                    "customer" | "feedback" if ideas => Some(id().into()),
                    "top" if ideas => Some(integer(1, 50).into()),
                    "status" if ideas => Some(
                        words(&["", "new", "planned", "in_progress", "shipped", "declined"]).into(),
                    ),
                    "id" => Some(id().into()),
                    // An empty filter is no filter.
                    "customer" | "company" => Some(
                        AnyOfBuilder::new().item(id()).item(string().max_length(Some(0))).into(),
                    ),
                    "from" | "to" | "signup_from" | "signup_to" => Some(time().into()),
                    "as_of" | "calibration_end" | "holdout_end" => Some(
                        AnyOfBuilder::new()
                            .item(
                                string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
                            )
                            .item(string().max_length(Some(0)))
                            .into(),
                    ),
                    "period" => Some(words(&["", "day", "week", "month", "quarter"]).into()),
                    "unit" => Some(words(&["", "day", "week"]).into()),
                    "segment" => Some(words(&segments).into()),
                    "horizon" => Some(integer(1, 520).into()),
                    "top" => Some(integer(1, 500).into()),
                    "source" => Some(string().max_length(Some(40)).into()),
                    "since" => Some(
                        AnyOfBuilder::new()
                            .item(
                                string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Date))),
                            )
                            .item(string().max_length(Some(0)))
                            .into(),
                    ),
                    "window_days" => Some(integer(1, 3650).into()),
                    "discount" => Some(number(Some(1.0)).into()),
                    w if w.starts_with("weight_") => Some(number(None).into()),
                    "limit" => Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1))
                            .maximum(Some(customers::MAX_LIMIT))
                            .default(Some(50.into()))
                            .into(),
                    ),
                    "sort" if path == "/api/v1/customers" => {
                        Some(string().enum_values(Some(customer_sorts.clone())).into())
                    }
                    _ => None,
                };
                if schema.is_some() {
                    p.schema = schema;
                }
            }
        }
    }
}

/// The API routes and their OpenAPI document, registered together so neither can miss a
/// route the other has.
pub fn router_and_doc() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(customers::list, customers::create))
        .routes(routes!(customers::get, customers::update, customers::delete))
        .routes(routes!(customers::timeline))
        .routes(routes!(customers::recommendations))
        .routes(routes!(batch::events))
        .routes(routes!(batch::orders))
        .routes(routes!(batch::feedback))
        .merge(records::router())
        .routes(routes!(reports::rfm))
        .routes(routes!(reports::repeat))
        .routes(routes!(reports::retention))
        .routes(routes!(reports::churn))
        .routes(routes!(reports::nps))
        .routes(routes!(reports::csat))
        .routes(routes!(reports::ces))
        .routes(routes!(reports::clv))
        .routes(routes!(reports::health))
        .routes(routes!(reports::themes))
        .routes(routes!(surveys::list, surveys::create))
        .routes(routes!(surveys::get))
        .routes(routes!(surveys::send))
        .routes(routes!(surveys::responses))
        .routes(routes!(surveys::results))
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::triage))
        .routes(routes!(inbox::merge))
        .routes(routes!(inbox::get))
        .routes(routes!(inbox::unmerge))
        .routes(routes!(inbox::themes))
        .routes(routes!(inbox::refresh))
        .routes(routes!(ideas::list, ideas::create))
        .routes(routes!(ideas::segments))
        .routes(routes!(ideas::get, ideas::update))
        .routes(routes!(ideas::link))
        .routes(routes!(ideas::unlink))
        .routes(routes!(ideas::add_requester))
        .routes(routes!(ideas::remove_requester))
        .routes(routes!(segments::list, segments::create))
        .routes(routes!(segments::preview))
        .routes(routes!(segments::get, segments::update, segments::delete))
        .routes(routes!(segments::refresh))
        .routes(routes!(segments::members))
        .merge(personas::router())
        .merge(loyalty::router())
        .merge(scorecard::router())
        .merge(campaigns::router())
        .routes(routes!(journeys::list, journeys::create))
        .routes(routes!(journeys::get, journeys::update, journeys::delete))
        .split_for_parts();
    document_idempotency(&mut doc);
    refine_parameters(&mut doc);
    (router, doc)
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

//! `/api/v1/{companies,products,orders,events,interactions,feedback,consents}`: list, get,
//! create, update and delete every kind of record but customers (`customers.rs`). One set of
//! generic handlers serves the seven kinds; [`resource!`] gives each kind its documented routes.
//! Handlers parse, call the store, map: the lists' parameters are in [`super::record_query`],
//! bodies become records in [`super::record_write`], the shapes are in [`super::record_dto`].

use super::customers::path_id;
use super::dto::{CompanyOut, ConsentOut, EventOut, FeedbackOut, FieldList, InteractionOut};
use super::record_dto::*;
use super::record_query::{list_parameters, list_query};
use super::record_write::{Write, overlay};
use crate::AppState;
use crate::auth::{Auth, Principal};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::record::Fields;
use rapport_store::{Entity, Kind};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::openapi::path::{Parameter, ParameterIn};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// What the generic handlers need of a kind: implemented by its body type.
pub trait Resource: DeserializeOwned + Send + 'static {
    const KIND: Kind;
    /// The canonical field holding the id (`sku` for products, `order` for orders).
    const ID: &'static str = "id";
    type Out: Serialize + ToSchema + Send;
    /// The canonical fields the body carries.
    fn fields(&self) -> FieldList;
    /// An order's lines, each as canonical fields; `None` when the body has no `lines`.
    fn lines(&self) -> Option<Vec<FieldList>> {
        None
    }
    /// The API shape of a stored record of this kind (`None` for another kind's).
    fn out(e: &Entity) -> Option<Self::Out>;
}

fn out<R: Resource>(e: &Entity) -> ApiResult<R::Out> {
    R::out(e).ok_or_else(|| {
        let why = format!("the store returned a {} for a {} read", e.kind(), R::KIND);
        ApiError::Internal(why.into())
    })
}

/// Checks the caller may write before reading the body (a refused caller learns nothing
/// about it), then reads it.
async fn read_body<R: Resource>(who: &Principal, req: Request) -> ApiResult<R> {
    who.require(Permission::Write)?;
    let ApiJson(body) = ApiJson::<R>::from_request(req, &()).await?;
    Ok(body)
}

async fn list<R: Resource>(
    s: &AppState,
    who: &Principal,
    params: Vec<(String, String)>,
) -> ApiResult<Json<RecordPage<R::Out>>> {
    who.require(Permission::Read)?;
    let page = s.db.records(&list_query(R::KIND, params)?).await?;
    let items = page.items.iter().map(out::<R>).collect::<ApiResult<_>>()?;
    Ok(Json(RecordPage { items, next: page.next }))
}

async fn get<R: Resource>(s: &AppState, who: &Principal, id: &str) -> ApiResult<Json<R::Out>> {
    who.require(Permission::Read)?;
    let e = s.db.record(R::KIND, &path_id(id)?).await?;
    Ok(Json(out::<R>(&e)?))
}

async fn create<R: Resource>(
    s: &AppState,
    who: &Principal,
    req: Request,
) -> ApiResult<(StatusCode, Json<R::Out>)> {
    let body = read_body::<R>(who, req).await?;
    let write = Write::parse(R::KIND, &body.fields(), body.lines().as_deref())?;
    let id = write.id().clone();
    let known = write.as_stored();
    write.create(s).await?;
    let e = match known {
        Some(e) => e,
        None => s.db.record(R::KIND, &id).await?,
    };
    Ok((StatusCode::CREATED, Json(out::<R>(&e)?)))
}

async fn update<R: Resource>(
    s: &AppState,
    who: &Principal,
    id: &str,
    req: Request,
) -> ApiResult<Json<R::Out>> {
    let body = read_body::<R>(who, req).await?;
    let id = path_id(id)?;
    let given = body.fields();
    if given.get(R::ID).is_some_and(|b| ExternalId::parse(b).ok().as_ref() != Some(&id)) {
        let field = if R::ID == "order" { "id" } else { R::ID };
        let why = format!("cannot change a{} {}'s id", an(R::KIND), R::KIND.singular());
        return Err(ApiError::invalid(field, why));
    }
    let stored = s.db.record(R::KIND, &id).await?;
    let lines = body.lines();
    let write = Write::parse(R::KIND, &overlay(&stored, given), lines.as_deref())?;
    write.update(s, lines.is_some()).await?;
    Ok(Json(out::<R>(&s.db.record(R::KIND, &id).await?)?))
}

fn an(kind: Kind) -> &'static str {
    if kind.singular().starts_with(['a', 'e', 'i', 'o', 'u']) { "n" } else { "" }
}

async fn delete(s: &AppState, who: &Principal, kind: Kind, id: &str) -> ApiResult<StatusCode> {
    who.require(Permission::Write)?;
    s.db.delete_record(kind, &path_id(id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One kind's five documented handlers (in module `$m`, paths `/api/v1/$tag[/{id}]`) over the
/// generic ones, and its list parameters for the document (`$Params`).
macro_rules! resource {
    ($m:ident, $tag:tt, $one:tt, $Fields:ident, $Out:ident, $Params:ident) => {
        #[doc = concat!("The query parameters of the ", $tag, " list, for the OpenAPI document.")]
        pub struct $Params;

        impl IntoParams for $Params {
            fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
                list_parameters(<$Fields as Resource>::KIND)
            }
        }

        pub mod $m {
            use super::*;

            #[utoipa::path(get, path = concat!("/api/v1/", $tag), tag = $tag,
                operation_id = concat!("list_", $tag), summary = concat!("List ", $tag),
                description = "Filtered, sorted and paged: pass `next` as `after` for the next page.",
                params($Params),
                responses((status = 200, body = RecordPage<$Out>),
                    (status = "4XX", body = Problem, content_type = "application/problem+json")))]
            pub async fn list(
                State(s): State<AppState>,
                Auth(who): Auth,
                ApiQuery(params): ApiQuery<Vec<(String, String)>>,
            ) -> ApiResult<Json<RecordPage<$Out>>> {
                super::list::<$Fields>(&s, &who, params).await
            }

            #[utoipa::path(get, path = concat!("/api/v1/", $tag, "/{id}"), tag = $tag,
                operation_id = concat!("get_", $one), summary = concat!("Get one ", $one),
                params(("id" = String, Path, description = "The record's id (a product's SKU)")),
                responses((status = 200, body = $Out),
                    (status = "4XX", body = Problem, content_type = "application/problem+json")))]
            pub async fn get(
                State(s): State<AppState>,
                Auth(who): Auth,
                Path(id): Path<String>,
            ) -> ApiResult<Json<$Out>> {
                super::get::<$Fields>(&s, &who, &id).await
            }

            #[utoipa::path(post, path = concat!("/api/v1/", $tag), tag = $tag,
                operation_id = concat!("create_", $one), summary = concat!("Create one ", $one),
                description = "Validated as imports validate rows; 409 `conflict` when the id exists.",
                request_body = $Fields,
                responses((status = 201, body = $Out),
                    (status = "4XX", body = Problem, content_type = "application/problem+json")))]
            pub async fn create(
                State(s): State<AppState>,
                Auth(who): Auth,
                req: Request,
            ) -> ApiResult<(StatusCode, Json<$Out>)> {
                super::create::<$Fields>(&s, &who, req).await
            }

            #[utoipa::path(patch, path = concat!("/api/v1/", $tag, "/{id}"), tag = $tag,
                operation_id = concat!("update_", $one), summary = concat!("Change one ", $one),
                description = "Fields given replace stored ones; absent fields keep their values. \
                    The id cannot change.",
                params(("id" = String, Path, description = "The record's id (a product's SKU)")),
                request_body = $Fields,
                responses((status = 200, body = $Out),
                    (status = "4XX", body = Problem, content_type = "application/problem+json")))]
            pub async fn update(
                State(s): State<AppState>,
                Auth(who): Auth,
                Path(id): Path<String>,
                req: Request,
            ) -> ApiResult<Json<$Out>> {
                super::update::<$Fields>(&s, &who, &id, req).await
            }

            #[utoipa::path(delete, path = concat!("/api/v1/", $tag, "/{id}"), tag = $tag,
                operation_id = concat!("delete_", $one), summary = concat!("Delete one ", $one),
                params(("id" = String, Path, description = "The record's id (a product's SKU)")),
                responses((status = 204),
                    (status = "4XX", body = Problem, content_type = "application/problem+json")))]
            pub async fn delete(
                State(s): State<AppState>,
                Auth(who): Auth,
                Path(id): Path<String>,
            ) -> ApiResult<StatusCode> {
                super::delete(&s, &who, <$Fields as Resource>::KIND, &id).await
            }
        }
    };
}

resource!(companies, "companies", "company", CompanyFields, CompanyOut, CompanyParams);
resource!(products, "products", "product", ProductFields, ProductOut, ProductParams);
resource!(orders, "orders", "order", OrderFields, OrderDetailOut, OrderParams);
resource!(events, "events", "event", EventFields, EventOut, EventParams);
resource!(
    interactions,
    "interactions",
    "interaction",
    InteractionFields,
    InteractionOut,
    InteractionParams
);
resource!(feedback, "feedback", "feedback", FeedbackFields, FeedbackOut, FeedbackParams);
resource!(consents, "consents", "consent", ConsentFields, ConsentOut, ConsentParams);

#[derive(OpenApi)]
#[openapi(tags(
    (name = "companies", description = "Companies; customers belong to one through their `company`. \
        Deleting a company keeps its members, without a company."),
    (name = "products", description = "The product catalogue, by SKU. Deleting a product keeps \
        the order lines that name its SKU."),
    (name = "orders", description = "Orders with their lines. Customer summaries follow every \
        change, deletions included."),
    (name = "events", description = "Product-usage events."),
    (name = "interactions", description = "Tickets, calls, meetings, e-mails and notes."),
    (name = "feedback", description = "Reviews, survey answers, ratings."),
    (name = "consents", description = "The consent log: the latest decision per purpose is in force."),
))]
struct RecordsDoc;

/// Every record route, documented, with the kinds' tags.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(RecordsDoc::openapi())
        .routes(routes!(companies::list, companies::create))
        .routes(routes!(companies::get, companies::update, companies::delete))
        .routes(routes!(products::list, products::create))
        .routes(routes!(products::get, products::update, products::delete))
        .routes(routes!(orders::list, orders::create))
        .routes(routes!(orders::get, orders::update, orders::delete))
        .routes(routes!(events::list, events::create))
        .routes(routes!(events::get, events::update, events::delete))
        .routes(routes!(interactions::list, interactions::create))
        .routes(routes!(interactions::get, interactions::update, interactions::delete))
        .routes(routes!(feedback::list, feedback::create))
        .routes(routes!(feedback::get, feedback::update, feedback::delete))
        .routes(routes!(consents::list, consents::create))
        .routes(routes!(consents::get, consents::update, consents::delete))
}

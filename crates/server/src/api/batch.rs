//! Bulk ingest: `POST /api/v1/events:batch`, `/api/v1/orders:batch`, `/api/v1/feedback:batch`.
//!
//! A batch is what one file import batch is: items judged by the same parsers
//! (`rapport_core::record`), stored in one transaction with the same upsert by external id
//! (ids derived from content where an item has none), order rows grouped by the same
//! [`OrderGrouper`]. So re-sending a batch changes nothing, and an item that fails is reported
//! with its index while the others are stored. A body that is not the documented shape (wrong
//! JSON types, unknown fields) is refused whole: that is a bug in the client, not bad data.

use super::dto::FieldList;
use crate::AppState;
use crate::auth::{Auth, Principal};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use chrono::Datelike;
use rapport_core::FieldError;
use rapport_core::access::Permission;
use rapport_core::record::{ParseOptions, parse_event, parse_feedback, parse_order_row};
use rapport_ingest::OrderGrouper;
use rapport_store::{IngestOptions, Kind, RowOutcome};
use serde::de::{DeserializeOwned, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};

/// Most items accepted in one batch.
pub const MAX_ITEMS: usize = 10_000;

/// A batch of items, stored in one transaction.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Batch<T> {
    /// 0 to 10,000 items; errors refer to them by 0-based index.
    #[schema(max_items = 10000)]
    pub items: Vec<T>,
}

/// One event: something a customer did at a moment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// Your id for the event. Without one, an id is derived from the event's content, so
    /// sending the same event again changes nothing.
    pub id: Option<String>,
    /// The customer's id; an unknown customer is created.
    #[schema(required)]
    pub customer: Option<String>,
    #[schema(required)]
    pub name: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    #[schema(required)]
    pub at: Option<String>,
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

/// One order line (or an order header without line fields). Consecutive items of the same
/// order form the order, its lines numbered in item order: send an order's lines together,
/// in the same order each time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    /// The order id; without one, the customer's purchase at `placed_at` is the order.
    pub order: Option<String>,
    /// Needed for a new order; an unknown customer is created.
    pub customer: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`; needed for a new order.
    pub placed_at: Option<String>,
    pub sku: Option<String>,
    /// Whole number, default 1; negative for a returned line.
    pub quantity: Option<i64>,
    pub unit_price: Option<Decimal>,
    /// The line total. `unit_price` or `amount` (or both) makes the item a line.
    pub amount: Option<Decimal>,
    /// ISO 4217 code; new orders without one get the server's default.
    pub currency: Option<String>,
    /// purchase, return or cancelled.
    pub status: Option<String>,
}

/// One piece of feedback: a review, a survey answer, a support rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackIn {
    /// Your id; without one, an id is derived from the content.
    pub id: Option<String>,
    /// The customer's id (created if unknown); or give `order` to name them by their order.
    pub customer: Option<String>,
    pub order: Option<String>,
    /// Where it came from (`nps`, `app_store`...); default `api`.
    pub source: Option<String>,
    /// `text` or `rating` (or both) is required.
    pub text: Option<String>,
    /// Whole number from 0 to 10.
    pub rating: Option<i64>,
    /// RFC 3339 or `YYYY-MM-DD`.
    #[schema(required)]
    pub created_at: Option<String>,
}

/// A decimal amount sent as a string (exact) or a JSON number (read as written, e.g. `12.5`).
#[derive(Debug, Clone)]
pub struct Decimal(pub String);

impl utoipa::PartialSchema for Decimal {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Number]))
            .description(Some("A decimal amount: a string such as \"12.50\" (exact) or a number."))
            .examples(["12.50"])
            .into()
    }
}

impl ToSchema for Decimal {}

impl<'de> Deserialize<'de> for Decimal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Decimal;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a decimal string or a number")
            }
            fn visit_str<E>(self, v: &str) -> Result<Decimal, E> {
                Ok(Decimal(v.to_string()))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Decimal, E> {
                Ok(Decimal(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Decimal, E> {
                Ok(Decimal(v.to_string()))
            }
            // f64's Display is the shortest exact round trip and never uses an exponent.
            fn visit_f64<E>(self, v: f64) -> Result<Decimal, E> {
                Ok(Decimal(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

fn put(f: &mut Vec<(&'static str, String)>, k: &'static str, v: Option<String>) {
    if let Some(v) = v {
        f.push((k, v));
    }
}

impl EventIn {
    fn fields(&self) -> FieldList {
        let mut f = Vec::new();
        put(&mut f, "id", self.id.clone());
        put(&mut f, "customer", self.customer.clone());
        put(&mut f, "name", self.name.clone());
        put(&mut f, "at", self.at.clone());
        let props = self.properties.as_ref().map(|p| serde_json::Value::Object(p.clone()));
        put(&mut f, "properties", props.map(|p| p.to_string()));
        FieldList(f)
    }
}

impl OrderIn {
    fn fields(&self) -> FieldList {
        let mut f = Vec::new();
        put(&mut f, "order", self.order.clone());
        put(&mut f, "customer", self.customer.clone());
        put(&mut f, "placed_at", self.placed_at.clone());
        put(&mut f, "sku", self.sku.clone());
        put(&mut f, "quantity", self.quantity.map(|q| q.to_string()));
        put(&mut f, "unit_price", self.unit_price.clone().map(|d| d.0));
        put(&mut f, "amount", self.amount.clone().map(|d| d.0));
        put(&mut f, "currency", self.currency.clone());
        put(&mut f, "status", self.status.clone());
        FieldList(f)
    }
}

impl FeedbackIn {
    fn fields(&self) -> FieldList {
        let mut f = Vec::new();
        put(&mut f, "id", self.id.clone());
        put(&mut f, "customer", self.customer.clone());
        put(&mut f, "order", self.order.clone());
        put(&mut f, "source", self.source.clone());
        put(&mut f, "text", self.text.clone());
        put(&mut f, "rating", self.rating.map(|r| r.to_string()));
        put(&mut f, "created_at", self.created_at.clone());
        FieldList(f)
    }
}

/// What became of a batch: `read = inserted + updated + unchanged + rejected`, always.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct BatchReport {
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Items identical to what was stored (a re-sent batch is all unchanged).
    pub unchanged: u64,
    pub rejected: u64,
    /// One per rejected item, by index.
    pub errors: Vec<ItemError>,
}

/// Why one item was not stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemError {
    /// The item's 0-based position in `items`.
    pub index: usize,
    pub field: String,
    pub reason: String,
}

/// Checks the caller may write (before reading the body: a refused caller learns nothing
/// about it), then reads the batch.
async fn read_batch<T: DeserializeOwned>(who: &Principal, req: Request) -> ApiResult<Vec<T>> {
    who.require(Permission::Write)?;
    let ApiJson(batch) = ApiJson::<Batch<T>>::from_request(req, &()).await?;
    if batch.items.len() > MAX_ITEMS {
        return Err(ApiError::Invalid {
            code: "too_many_items",
            field: "items".into(),
            reason: format!(
                "{} items is more than {MAX_ITEMS}; split the batch",
                batch.items.len()
            ),
        });
    }
    Ok(batch.items)
}

/// How API bodies are parsed (batches and the record API): feedback without a source is `api`.
pub(super) fn parse_options() -> ParseOptions {
    let mut o = ParseOptions::new(chrono::Utc::now().year());
    o.default_source = "api".into();
    o
}

/// Items that parsed (with their indexes), and a report counting those that did not.
struct Parsed<T> {
    rows: Vec<T>,
    indexes: Vec<usize>,
    report: BatchReport,
}

fn parse_all<I, T>(items: &[I], parse: impl Fn(&I) -> Result<T, FieldError>) -> Parsed<T> {
    let mut p = Parsed { rows: Vec::new(), indexes: Vec::new(), report: BatchReport::default() };
    for (index, item) in items.iter().enumerate() {
        match parse(item) {
            Ok(row) => {
                p.rows.push(row);
                p.indexes.push(index);
            }
            Err(e) => p.report.reject(index, e),
        }
    }
    p.report.read = items.len() as u64;
    p
}

impl BatchReport {
    fn reject(&mut self, index: usize, e: FieldError) {
        self.rejected += 1;
        self.errors.push(ItemError { index, field: e.field, reason: e.reason });
    }

    /// Adds the store's outcomes (one per parsed item, in item order) and counts the batch.
    fn finish(
        mut self,
        kind: Kind,
        who: &Principal,
        indexes: &[usize],
        outcomes: Vec<RowOutcome>,
    ) -> ApiResult<Json<BatchReport>> {
        if outcomes.len() != indexes.len() {
            let why = format!("{} outcomes for {} {kind} rows", outcomes.len(), indexes.len());
            return Err(ApiError::Internal(why.into()));
        }
        for (&index, outcome) in indexes.iter().zip(outcomes) {
            match outcome {
                RowOutcome::Inserted => self.inserted += 1,
                RowOutcome::Updated => self.updated += 1,
                // Batches upsert (never create-only): `Exists` cannot happen.
                RowOutcome::Unchanged | RowOutcome::Exists => self.unchanged += 1,
                RowOutcome::Rejected(e) => self.reject(index, e),
            }
        }
        self.errors.sort_by_key(|e| e.index);
        for (outcome, n) in [
            ("inserted", self.inserted),
            ("updated", self.updated),
            ("unchanged", self.unchanged),
            ("rejected", self.rejected),
        ] {
            count_ingested(kind, outcome, n);
        }
        tracing::info!(%kind, who = %who.label(), read = self.read, inserted = self.inserted,
            updated = self.updated, unchanged = self.unchanged, rejected = self.rejected,
            "batch ingested");
        Ok(Json(self))
    }
}

/// Counts rows in `rapport_ingested_rows_total` (batches and webhooks alike).
pub(crate) fn count_ingested(kind: Kind, outcome: &'static str, n: u64) {
    metrics::counter!("rapport_ingested_rows_total", "kind" => kind.as_str(), "outcome" => outcome)
        .increment(n);
}

/// Store events; each is upserted by id.
#[utoipa::path(post, path = "/api/v1/events:batch", tag = "ingest", request_body = Batch<EventIn>,
    responses((status = 200, body = BatchReport), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn events(
    State(s): State<AppState>,
    Auth(who): Auth,
    req: Request,
) -> ApiResult<Json<BatchReport>> {
    let items = read_batch::<EventIn>(&who, req).await?;
    let o = parse_options();
    let p = parse_all(&items, |i| parse_event(&i.fields(), &o));
    let outcomes = s.db.ingest_events(p.rows, &IngestOptions::default()).await?;
    s.segment_frames.invalidate();
    p.report.finish(Kind::Events, &who, &p.indexes, outcomes)
}

/// Store order lines; consecutive items of one order make up that order.
#[utoipa::path(post, path = "/api/v1/orders:batch", tag = "ingest", request_body = Batch<OrderIn>,
    responses((status = 200, body = BatchReport), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn orders(
    State(s): State<AppState>,
    Auth(who): Auth,
    req: Request,
) -> ApiResult<Json<BatchReport>> {
    let items = read_batch::<OrderIn>(&who, req).await?;
    let o = parse_options();
    let p = parse_all(&items, |i| parse_order_row(&i.fields(), &o));
    let mut groups = OrderGrouper::new();
    p.rows.into_iter().for_each(|r| groups.push(r));
    let outcomes = s.db.ingest_orders(groups.finish(), &IngestOptions::default()).await?;
    s.segment_frames.invalidate();
    p.report.finish(Kind::Orders, &who, &p.indexes, outcomes)
}

/// Store feedback; each item is upserted by id.
#[utoipa::path(post, path = "/api/v1/feedback:batch", tag = "ingest", request_body = Batch<FeedbackIn>,
    responses((status = 200, body = BatchReport), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn feedback(
    State(s): State<AppState>,
    Auth(who): Auth,
    req: Request,
) -> ApiResult<Json<BatchReport>> {
    let items = read_batch::<FeedbackIn>(&who, req).await?;
    let o = parse_options();
    let p = parse_all(&items, |i| parse_feedback(&i.fields(), &o));
    let outcomes = s.db.ingest_feedback(p.rows, &IngestOptions::default()).await?;
    s.segment_frames.invalidate();
    p.report.finish(Kind::Feedback, &who, &p.indexes, outcomes)
}

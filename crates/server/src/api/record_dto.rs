//! The JSON shapes of the record API: companies, products, orders, events, interactions,
//! feedback and consents. Inputs (`...Fields`) are one shape for create and update: every field
//! optional, unknown fields refused, values handed to the import parsers as canonical fields.
//! A field documented as required is required on create; on update absent fields keep their
//! stored values.

use super::batch::Decimal;
use super::dto::{CompanyOut, ConsentOut, EventOut, FeedbackOut, FieldList, InteractionOut};
use super::records::Resource;
use chrono::{DateTime, Utc};
use rapport_core::OrderLine;
use rapport_store::{Entity, Kind, OrderDetail};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Collects the canonical fields a body carries.
#[derive(Default)]
struct Put(Vec<(&'static str, String)>);

impl Put {
    fn s(mut self, k: &'static str, v: &Option<String>) -> Self {
        if let Some(v) = v {
            self.0.push((k, v.clone()));
        }
        self
    }

    fn d(self, k: &'static str, v: &Option<Decimal>) -> Self {
        self.s(k, &v.as_ref().map(|d| d.0.clone()))
    }

    fn n(self, k: &'static str, v: Option<impl ToString>) -> Self {
        self.s(k, &v.map(|n| n.to_string()))
    }

    fn done(self) -> FieldList {
        FieldList(self.0)
    }
}

/// A company. Customers join it through their `company` field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompanyFields {
    /// The company's id in your systems; required on create.
    pub id: Option<String>,
    pub name: Option<String>,
    pub industry: Option<String>,
    /// Head-count band or number as you record it ("11-50", "250").
    pub size: Option<String>,
    pub plan: Option<String>,
    /// Monthly recurring revenue.
    pub mrr: Option<Decimal>,
}

impl Resource for CompanyFields {
    const KIND: Kind = Kind::Companies;
    type Out = CompanyOut;

    fn fields(&self) -> FieldList {
        Put::default()
            .s("id", &self.id)
            .s("name", &self.name)
            .s("industry", &self.industry)
            .s("size", &self.size)
            .s("plan", &self.plan)
            .d("mrr", &self.mrr)
            .done()
    }

    fn out(e: &Entity) -> Option<CompanyOut> {
        if let Entity::Company(c) = e { Some(c.into()) } else { None }
    }
}

/// A product of the catalogue, known by its SKU (order lines name products by SKU).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductFields {
    /// Required on create; it is the product's id in paths.
    pub sku: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
    /// List price.
    pub price: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductOut {
    pub sku: String,
    pub name: Option<String>,
    pub category: Option<String>,
    /// A decimal string (exact).
    pub price: Option<String>,
}

impl Resource for ProductFields {
    const KIND: Kind = Kind::Products;
    const ID: &'static str = "sku";
    type Out = ProductOut;

    fn fields(&self) -> FieldList {
        Put::default()
            .s("sku", &self.sku)
            .s("name", &self.name)
            .s("category", &self.category)
            .d("price", &self.price)
            .done()
    }

    fn out(e: &Entity) -> Option<ProductOut> {
        let Entity::Product(p) = e else { return None };
        Some(ProductOut {
            sku: p.sku.to_string(),
            name: p.name.clone(),
            category: p.category.clone(),
            price: p.price.map(|m| m.to_string()),
        })
    }
}

/// An order with its lines.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderFields {
    /// Your order number. Without one, the customer's purchase at `placed_at` is the order
    /// (its id derived from them, as imports do).
    pub id: Option<String>,
    /// The customer's id (required on create; an unknown customer is created).
    pub customer: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`; required on create.
    pub placed_at: Option<String>,
    /// ISO 4217 code; new orders without one get the server's default.
    pub currency: Option<String>,
    /// purchase, return or cancelled. Without one a new order is a purchase, or a return when a
    /// line has a negative quantity.
    pub status: Option<String>,
    /// The order's lines, in order. On update, `lines` replaces all of them (`[]` removes
    /// them); leave it out to keep them.
    pub lines: Option<Vec<LineFields>>,
}

/// One order line: `unit_price` or `amount` (or both) is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineFields {
    pub sku: Option<String>,
    /// Whole number, default 1; negative for a returned line.
    pub quantity: Option<i64>,
    pub unit_price: Option<Decimal>,
    /// The line total, when it is not quantity × unit price (discounts).
    pub amount: Option<Decimal>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LineOut {
    pub sku: Option<String>,
    pub quantity: i64,
    /// Decimal strings (exact).
    pub unit_price: String,
    pub amount: String,
}

impl From<&OrderLine> for LineOut {
    fn from(l: &OrderLine) -> LineOut {
        LineOut {
            sku: l.sku.as_ref().map(|s| s.to_string()),
            quantity: l.quantity,
            unit_price: l.unit_price.to_string(),
            amount: l.amount.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderDetailOut {
    pub id: String,
    /// The customer's id.
    pub customer: String,
    pub placed_at: DateTime<Utc>,
    pub currency: String,
    /// purchase, return or cancelled.
    pub status: String,
    /// The sum of the lines' amounts, a decimal string (exact).
    pub total: String,
    pub lines: Vec<LineOut>,
}

impl From<&OrderDetail> for OrderDetailOut {
    fn from(o: &OrderDetail) -> OrderDetailOut {
        OrderDetailOut {
            id: o.order.id.to_string(),
            customer: o.order.customer.to_string(),
            placed_at: o.order.placed_at,
            currency: o.order.currency.as_str().to_string(),
            status: o.order.status.to_string(),
            total: o.total.to_string(),
            lines: o.lines.iter().map(Into::into).collect(),
        }
    }
}

impl Resource for OrderFields {
    const KIND: Kind = Kind::Orders;
    const ID: &'static str = "order";
    type Out = OrderDetailOut;

    fn fields(&self) -> FieldList {
        Put::default()
            .s("order", &self.id)
            .s("customer", &self.customer)
            .s("placed_at", &self.placed_at)
            .s("currency", &self.currency)
            .s("status", &self.status)
            .done()
    }

    fn lines(&self) -> Option<Vec<FieldList>> {
        let lines = self.lines.as_ref()?.iter().map(|l| {
            Put::default()
                .s("sku", &l.sku)
                .n("quantity", l.quantity)
                .d("unit_price", &l.unit_price)
                .d("amount", &l.amount)
                .done()
        });
        Some(lines.collect())
    }

    fn out(e: &Entity) -> Option<OrderDetailOut> {
        if let Entity::Order(o) = e { Some(o.into()) } else { None }
    }
}

/// An event: something a customer did at a moment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventFields {
    /// Your id for the event. Without one, an id is derived from the content (as imports do).
    pub id: Option<String>,
    /// The customer's id (required on create; an unknown customer is created).
    pub customer: Option<String>,
    /// Required on create.
    pub name: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`; required on create.
    pub at: Option<String>,
    /// On update, keys given overwrite stored ones; others stay.
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Resource for EventFields {
    const KIND: Kind = Kind::Events;
    type Out = EventOut;

    fn fields(&self) -> FieldList {
        let props = self.properties.as_ref().map(|p| serde_json::Value::Object(p.clone()));
        Put::default()
            .s("id", &self.id)
            .s("customer", &self.customer)
            .s("name", &self.name)
            .s("at", &self.at)
            .s("properties", &props.map(|p| p.to_string()))
            .done()
    }

    fn out(e: &Entity) -> Option<EventOut> {
        if let Entity::Event(v) = e { Some(v.into()) } else { None }
    }
}

/// A conversation with a customer: a ticket, a call, a meeting, an e-mail.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionFields {
    /// Your id. Without one, an id is derived from the content (as imports do).
    pub id: Option<String>,
    /// The customer's id (required on create; an unknown customer is created).
    pub customer: Option<String>,
    /// support, chat, call, meeting, email, social, note or webhook (outbound notifications);
    /// required on create.
    pub channel: Option<String>,
    /// inbound (the default), outbound or internal.
    pub direction: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`; required on create.
    pub at: Option<String>,
}

impl Resource for InteractionFields {
    const KIND: Kind = Kind::Interactions;
    type Out = InteractionOut;

    fn fields(&self) -> FieldList {
        Put::default()
            .s("id", &self.id)
            .s("customer", &self.customer)
            .s("channel", &self.channel)
            .s("direction", &self.direction)
            .s("subject", &self.subject)
            .s("body", &self.body)
            .s("at", &self.at)
            .done()
    }

    fn out(e: &Entity) -> Option<InteractionOut> {
        if let Entity::Interaction(v) = e { Some(v.into()) } else { None }
    }
}

/// A piece of feedback: a review, a survey answer, a support rating.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackFields {
    /// Your id. Without one, an id is derived from the content (as imports do).
    pub id: Option<String>,
    /// The customer's id (created if unknown); or give `order` to name them by their order.
    pub customer: Option<String>,
    pub order: Option<String>,
    /// Where it came from (`nps`, `app_store`...); default `api`.
    pub source: Option<String>,
    /// `text` or `rating` (or both) is required on create.
    pub text: Option<String>,
    /// Whole number from 0 to 10.
    pub rating: Option<i64>,
    /// RFC 3339 or `YYYY-MM-DD`; required on create.
    pub created_at: Option<String>,
}

impl Resource for FeedbackFields {
    const KIND: Kind = Kind::Feedback;
    type Out = FeedbackOut;

    fn fields(&self) -> FieldList {
        Put::default()
            .s("id", &self.id)
            .s("customer", &self.customer)
            .s("order", &self.order)
            .s("source", &self.source)
            .s("text", &self.text)
            .n("rating", self.rating)
            .s("created_at", &self.created_at)
            .done()
    }

    fn out(e: &Entity) -> Option<FeedbackOut> {
        if let Entity::Feedback(v) = e { Some(v.into()) } else { None }
    }
}

/// One consent decision. Consents are a log: the latest decision per purpose is in force.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentFields {
    /// Your id. Without one, an id is derived from the content (as imports do).
    pub id: Option<String>,
    /// The customer's id (required on create; an unknown customer is created).
    pub customer: Option<String>,
    /// surveys, analytics, personalisation, marketing or product_updates; required on create.
    pub purpose: Option<String>,
    /// Granted (`true`) or revoked (`false`); required on create.
    pub granted: Option<bool>,
    /// Where the decision was made (a form, a call...).
    pub source: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`; required on create.
    pub at: Option<String>,
}

impl Resource for ConsentFields {
    const KIND: Kind = Kind::Consents;
    type Out = ConsentOut;

    fn fields(&self) -> FieldList {
        Put::default()
            .s("id", &self.id)
            .s("customer", &self.customer)
            .s("purpose", &self.purpose)
            .n("granted", self.granted)
            .s("source", &self.source)
            .s("at", &self.at)
            .done()
    }

    fn out(e: &Entity) -> Option<ConsentOut> {
        if let Entity::Consent(v) = e { Some(v.into()) } else { None }
    }
}

/// A page of a record list.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordPage<T> {
    pub items: Vec<T>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

//! The API's JSON shapes. They are the contract (the OpenAPI document is generated from them),
//! so they are separate from the domain types: the domain can change without breaking clients.
//! Input shapes deny unknown fields and go through the same parsers as file imports.

use chrono::{DateTime, Utc};
use rapport_core::record::Fields;
use rapport_core::{
    AttrValue, Company, Consent, Customer, CustomerSummary, Event, Feedback, Interaction,
};
use rapport_store::{CustomerView, OrderEntry, TimelineItem};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A custom attribute value: a boolean, a number or a string.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Attr {
    Bool(bool),
    Int(i64),
    Number(f64),
    Text(String),
}

/// Written by hand: the derived `oneOf` would list integer and number, and a whole number is
/// both, which makes every integer attribute invalid against `oneOf` (exactly one must match).
impl utoipa::PartialSchema for Attr {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        let of = |t: Type| ObjectBuilder::new().schema_type(t);
        OneOfBuilder::new()
            .item(of(Type::Boolean))
            .item(of(Type::Number))
            .item(of(Type::String))
            .description(Some("A custom attribute value: a boolean, a number or a string."))
            .into()
    }
}

impl ToSchema for Attr {}

impl From<Attr> for AttrValue {
    fn from(a: Attr) -> AttrValue {
        match a {
            Attr::Bool(b) => AttrValue::Bool(b),
            Attr::Int(i) => AttrValue::Int(i),
            Attr::Number(n) => AttrValue::Number(n),
            Attr::Text(t) => AttrValue::Text(t),
        }
    }
}

impl From<&AttrValue> for Attr {
    fn from(a: &AttrValue) -> Attr {
        match a {
            AttrValue::Bool(b) => Attr::Bool(*b),
            AttrValue::Int(i) => Attr::Int(*i),
            AttrValue::Number(n) => Attr::Number(*n),
            AttrValue::Text(t) => Attr::Text(t.clone()),
        }
    }
}

/// Customer fields a client sends. On create `id` is required; on update it must be absent
/// (the id is in the path) and absent fields keep their stored values.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    /// The customer's id in your systems.
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Country name or ISO code, as you record it.
    pub country: Option<String>,
    pub city: Option<String>,
    /// From 1900 to the current year.
    #[schema(minimum = 1900)]
    pub birth_year: Option<i32>,
    /// female, male, other or undisclosed.
    pub gender: Option<String>,
    /// RFC 3339 or `YYYY-MM-DD`.
    pub signup_at: Option<String>,
    /// The id of the customer's company.
    pub company: Option<String>,
    /// Typed custom attributes; set a key to overwrite it.
    pub attributes: Option<BTreeMap<String, Attr>>,
}

/// Presents a JSON body to the import parsers as a record of canonical fields.
pub struct FieldList(pub Vec<(&'static str, String)>);

impl Fields for FieldList {
    fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| *k == field)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.trim().is_empty())
    }

    fn extras(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }
}

impl CustomerIn {
    pub fn fields(&self) -> FieldList {
        let mut f = Vec::new();
        let mut put = |k: &'static str, v: &Option<String>| {
            if let Some(v) = v {
                f.push((k, v.clone()));
            }
        };
        put("id", &self.id);
        put("name", &self.name);
        put("email", &self.email);
        put("phone", &self.phone);
        put("country", &self.country);
        put("city", &self.city);
        put("gender", &self.gender);
        put("signup_at", &self.signup_at);
        put("company", &self.company);
        put("birth_year", &self.birth_year.map(|y| y.to_string()));
        FieldList(f)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CompanyOut {
    pub id: String,
    pub name: Option<String>,
    pub industry: Option<String>,
    pub size: Option<String>,
    pub plan: Option<String>,
    /// Monthly recurring revenue, a decimal string (exact).
    pub mrr: Option<String>,
}

impl From<&Company> for CompanyOut {
    fn from(c: &Company) -> CompanyOut {
        CompanyOut {
            id: c.id.to_string(),
            name: c.name.clone(),
            industry: c.industry.clone(),
            size: c.size.clone(),
            plan: c.plan.clone(),
            mrr: c.mrr.map(|m| m.to_string()),
        }
    }
}

/// Figures kept current at every import. Money is a decimal string (exact, never float).
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryOut {
    pub orders: i64,
    pub purchase_orders: i64,
    /// Distinct days with a purchase.
    pub purchase_occasions: i64,
    pub purchase_value: String,
    pub first_purchase_at: Option<DateTime<Utc>>,
    pub last_purchase_at: Option<DateTime<Utc>>,
    pub returns: i64,
    pub return_value: String,
    pub events: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    pub feedback: i64,
    pub last_feedback_at: Option<DateTime<Utc>>,
    pub interactions: i64,
    pub last_interaction_at: Option<DateTime<Utc>>,
}

impl From<&CustomerSummary> for SummaryOut {
    fn from(s: &CustomerSummary) -> SummaryOut {
        SummaryOut {
            orders: s.orders,
            purchase_orders: s.purchase_orders,
            purchase_occasions: s.purchase_occasions,
            purchase_value: s.purchase_value.to_string(),
            first_purchase_at: s.first_purchase_at,
            last_purchase_at: s.last_purchase_at,
            returns: s.returns,
            return_value: s.return_value.to_string(),
            events: s.events,
            last_event_at: s.last_event_at,
            feedback: s.feedback,
            last_feedback_at: s.last_feedback_at,
            interactions: s.interactions,
            last_interaction_at: s.last_interaction_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub birth_year: Option<i16>,
    pub gender: Option<String>,
    pub signup_at: Option<DateTime<Utc>>,
    pub company: Option<String>,
    pub attributes: BTreeMap<String, Attr>,
    pub summary: SummaryOut,
}

impl CustomerOut {
    pub fn new(c: &Customer, s: &CustomerSummary) -> CustomerOut {
        CustomerOut {
            id: c.id.to_string(),
            name: c.name.clone(),
            email: c.email.as_ref().map(|e| e.as_str().to_string()),
            phone: c.phone.as_ref().map(|p| p.as_str().to_string()),
            country: c.country.clone(),
            city: c.city.clone(),
            birth_year: c.birth_year,
            gender: c.gender.map(|g| g.to_string()),
            signup_at: c.signup_at,
            company: c.company.as_ref().map(|c| c.to_string()),
            attributes: c.attributes.iter().map(|(k, v)| (k.clone(), v.into())).collect(),
            summary: s.into(),
        }
    }
}

/// A customer with company and consents: the 360 view.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerDetail {
    #[serde(flatten)]
    pub customer: CustomerOut,
    pub company_detail: Option<CompanyOut>,
    /// The decision in force per purpose.
    pub consents: Vec<ConsentOut>,
}

impl From<&CustomerView> for CustomerDetail {
    fn from(v: &CustomerView) -> CustomerDetail {
        CustomerDetail {
            customer: CustomerOut::new(&v.customer, &v.summary),
            company_detail: v.company.as_ref().map(Into::into),
            consents: v.consents.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentOut {
    pub id: String,
    /// The customer's id.
    pub customer: String,
    /// surveys, analytics, personalisation, marketing or product_updates.
    pub purpose: String,
    pub granted: bool,
    pub source: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<&Consent> for ConsentOut {
    fn from(c: &Consent) -> ConsentOut {
        ConsentOut {
            id: c.id.to_string(),
            customer: c.customer.to_string(),
            purpose: c.purpose.to_string(),
            granted: c.granted,
            source: c.source.clone(),
            at: c.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderOut {
    pub id: String,
    pub placed_at: DateTime<Utc>,
    pub currency: String,
    /// purchase, return or cancelled.
    pub status: String,
    pub total: String,
    pub lines: i64,
}

impl From<&OrderEntry> for OrderOut {
    fn from(o: &OrderEntry) -> OrderOut {
        OrderOut {
            id: o.order.id.to_string(),
            placed_at: o.order.placed_at,
            currency: o.order.currency.as_str().to_string(),
            status: o.order.status.to_string(),
            total: o.total.to_string(),
            lines: o.lines,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: String,
    /// The customer's id.
    pub customer: String,
    pub name: String,
    pub at: DateTime<Utc>,
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InteractionOut {
    pub id: String,
    /// The customer's id.
    pub customer: String,
    pub channel: String,
    pub direction: String,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOut {
    pub id: String,
    /// The customer's id.
    pub customer: String,
    pub source: String,
    pub text: Option<String>,
    pub rating: Option<i16>,
    pub created_at: DateTime<Utc>,
}

/// One entry of a customer's timeline, newest first; `type` says which.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineOut {
    Order(OrderOut),
    Event(EventOut),
    Interaction(InteractionOut),
    Feedback(FeedbackOut),
    Consent(ConsentOut),
}

impl From<&TimelineItem> for TimelineOut {
    fn from(t: &TimelineItem) -> TimelineOut {
        match t {
            TimelineItem::Order(o) => TimelineOut::Order(o.into()),
            TimelineItem::Event(e) => TimelineOut::Event(e.into()),
            TimelineItem::Interaction(i) => TimelineOut::Interaction(i.into()),
            TimelineItem::Feedback(f) => TimelineOut::Feedback(f.into()),
            TimelineItem::Consent(c) => TimelineOut::Consent(c.into()),
        }
    }
}

impl From<&Event> for EventOut {
    fn from(e: &Event) -> EventOut {
        EventOut {
            id: e.id.to_string(),
            customer: e.customer.to_string(),
            name: e.name.clone(),
            at: e.at,
            properties: e.properties.clone(),
        }
    }
}

impl From<&Interaction> for InteractionOut {
    fn from(i: &Interaction) -> InteractionOut {
        InteractionOut {
            id: i.id.to_string(),
            customer: i.customer.to_string(),
            channel: i.channel.to_string(),
            direction: i.direction.to_string(),
            subject: i.subject.clone(),
            body: i.body.clone(),
            at: i.at,
        }
    }
}

impl From<&Feedback> for FeedbackOut {
    fn from(f: &Feedback) -> FeedbackOut {
        FeedbackOut {
            id: f.id.to_string(),
            customer: f.customer.to_string(),
            source: f.source.clone(),
            text: f.text.clone(),
            rating: f.rating,
            created_at: f.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineOut>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<String>,
}

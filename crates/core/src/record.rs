//! Raw records (a CSV row, a JSON object) into domain types: the one place input is judged.
//!
//! A record is reached through [`Fields`], which answers by *canonical* field name (`customer`,
//! `placed_at`...) whatever the source's column was called. Errors name the canonical field and
//! say why in words a person fixing the file understands.

use crate::entity::*;
use crate::error::FieldError;
use crate::money::{Currency, Money};
use crate::value::{AttrValue, Attributes, ExternalId, Timestamp, parse_text, parse_timestamp};

/// Access to one raw record by canonical field name.
pub trait Fields {
    /// The trimmed value of a canonical field; `None` when unmapped or empty.
    fn get(&self, field: &str) -> Option<&str>;
    /// Source columns that map to no canonical field, with their values (custom attributes,
    /// event properties). Empty values are skipped.
    fn extras(&self) -> Vec<(&str, &str)>;
}

/// Settings that shape parsing but are not in the record.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// strftime format for every date field; `None` accepts ISO 8601 shapes.
    pub date_format: Option<String>,
    /// Latest acceptable birth year (the core reads no clock).
    pub this_year: i32,
    /// Feedback source for records that have none.
    pub default_source: String,
}

impl ParseOptions {
    pub fn new(this_year: i32) -> Self {
        ParseOptions { date_format: None, this_year, default_source: "import".into() }
    }
}

/// Canonical field names per kind, documented in `rapport import --help`.
pub mod fields {
    pub const CUSTOMER: &[&str] = &[
        "id",
        "name",
        "email",
        "phone",
        "country",
        "city",
        "birth_year",
        "gender",
        "signup_at",
        "company",
    ];
    pub const COMPANY: &[&str] = &["id", "name", "industry", "size", "plan", "mrr"];
    pub const PRODUCT: &[&str] = &["sku", "name", "category", "price"];
    pub const ORDER: &[&str] = &[
        "order",
        "customer",
        "placed_at",
        "sku",
        "quantity",
        "unit_price",
        "amount",
        "currency",
        "status",
    ];
    pub const EVENT: &[&str] = &["id", "customer", "name", "at", "properties"];
    pub const INTERACTION: &[&str] =
        &["id", "customer", "channel", "direction", "subject", "body", "at"];
    pub const FEEDBACK: &[&str] =
        &["id", "customer", "order", "source", "text", "rating", "created_at"];
    pub const CONSENT: &[&str] = &["id", "customer", "purpose", "granted", "source", "at"];
}

fn req<'a>(f: &'a dyn Fields, name: &str) -> Result<&'a str, FieldError> {
    f.get(name).ok_or_else(|| FieldError::missing(name))
}

fn opt<T>(
    f: &dyn Fields,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<Option<T>, FieldError> {
    f.get(name).map(parse).transpose().map_err(|reason| FieldError::new(name, reason))
}

fn id(f: &dyn Fields, name: &str) -> Result<ExternalId, FieldError> {
    ExternalId::parse(req(f, name)?).map_err(|r| FieldError::new(name, r))
}

fn time(f: &dyn Fields, name: &str, o: &ParseOptions) -> Result<Option<Timestamp>, FieldError> {
    opt(f, name, |s| parse_timestamp(s, o.date_format.as_deref()))
}

fn text(f: &dyn Fields, name: &str, max: usize) -> Result<Option<String>, FieldError> {
    opt(f, name, |s| parse_text(s, max))
}

pub fn parse_customer(f: &dyn Fields, o: &ParseOptions) -> Result<Customer, FieldError> {
    let mut attributes = Attributes::new();
    for (k, v) in f.extras() {
        attributes.insert(k.to_string(), AttrValue::infer(v));
    }
    Ok(Customer {
        id: id(f, "id")?,
        name: text(f, "name", 200)?,
        email: opt(f, "email", Email::parse)?,
        phone: opt(f, "phone", Phone::parse)?,
        country: text(f, "country", 100)?,
        city: text(f, "city", 100)?,
        birth_year: opt(f, "birth_year", |s| parse_birth_year(s, o.this_year))?,
        gender: opt(f, "gender", Gender::parse)?,
        signup_at: time(f, "signup_at", o)?,
        company: opt(f, "company", ExternalId::parse)?,
        attributes,
    })
}

pub fn parse_company(f: &dyn Fields, _o: &ParseOptions) -> Result<Company, FieldError> {
    Ok(Company {
        id: id(f, "id")?,
        name: text(f, "name", 200)?,
        industry: text(f, "industry", 100)?,
        size: text(f, "size", 40)?,
        plan: text(f, "plan", 100)?,
        mrr: opt(f, "mrr", Money::parse)?,
    })
}

pub fn parse_product(f: &dyn Fields, _o: &ParseOptions) -> Result<Product, FieldError> {
    Ok(Product {
        sku: id(f, "sku")?,
        name: text(f, "name", 300)?,
        category: text(f, "category", 100)?,
        price: opt(f, "price", Money::parse)?,
    })
}

/// One row of an order file: a line of an order, and/or the order's header fields.
///
/// Rows that carry no line fields are header-only (an orders table imported before its items
/// table, as Olist ships them); rows without `customer`/`placed_at` enrich an order that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub order: ExternalId,
    pub customer: Option<ExternalId>,
    pub placed_at: Option<Timestamp>,
    pub currency: Option<Currency>,
    pub status: Option<OrderStatus>,
    pub line: Option<OrderLine>,
}

impl OrderRow {
    /// The status the row implies: as given, else a negative quantity means a return (the
    /// convention of invoice systems such as the UCI Online Retail data's `C` invoices).
    pub fn effective_status(&self) -> Option<OrderStatus> {
        self.status.or(match &self.line {
            Some(l) if l.quantity < 0 => Some(OrderStatus::Return),
            _ => None,
        })
    }
}

pub fn parse_order_row(f: &dyn Fields, o: &ParseOptions) -> Result<OrderRow, FieldError> {
    let customer = opt(f, "customer", ExternalId::parse)?;
    let placed_at = time(f, "placed_at", o)?;
    let order = match f.get("order") {
        Some(s) => ExternalId::parse(s).map_err(|r| FieldError::new("order", r))?,
        // No order number: the customer's purchase at that moment is the order.
        None => {
            let c = customer.as_ref().ok_or_else(|| FieldError::missing("customer"))?;
            let t = placed_at.ok_or_else(|| FieldError::missing("placed_at"))?;
            ExternalId::derived(&[c.as_str(), &t.to_rfc3339()])
        }
    };
    Ok(OrderRow {
        order,
        customer,
        placed_at,
        currency: opt(f, "currency", Currency::parse)?,
        status: opt(f, "status", OrderStatus::parse)?,
        line: parse_line(f)?,
    })
}

fn parse_line(f: &dyn Fields) -> Result<Option<OrderLine>, FieldError> {
    let has_line = ["sku", "quantity", "unit_price", "amount"].iter().any(|k| f.get(k).is_some());
    if !has_line {
        return Ok(None);
    }
    let sku = opt(f, "sku", ExternalId::parse)?;
    let quantity = opt(f, "quantity", |s| {
        s.parse::<i64>().map_err(|_| format!("'{s}' is not a whole number"))
    })?
    .unwrap_or(1);
    let unit_price = opt(f, "unit_price", Money::parse)?;
    let amount = opt(f, "amount", Money::parse)?;
    let (unit_price, amount) = match (unit_price, amount) {
        (Some(p), Some(a)) => (p, a),
        (Some(p), None) => {
            let a = p.times(quantity).ok_or_else(|| FieldError::new("amount", "overflows"))?;
            (p, a)
        }
        (None, Some(a)) => (if quantity == 0 { a } else { a.div_round(quantity) }, a),
        (None, None) => {
            return Err(FieldError::new("unit_price", "unit_price or amount is required"));
        }
    };
    Ok(Some(OrderLine { sku, quantity, unit_price, amount }))
}

pub fn parse_event(f: &dyn Fields, o: &ParseOptions) -> Result<Event, FieldError> {
    let customer = id(f, "customer")?;
    let name = text(f, "name", 200)?.ok_or_else(|| FieldError::missing("name"))?;
    let at = time(f, "at", o)?.ok_or_else(|| FieldError::missing("at"))?;
    let mut properties = match f.get("properties") {
        None => serde_json::Map::new(),
        Some(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => return Err(FieldError::new("properties", "is not a JSON object")),
        },
    };
    for (k, v) in f.extras() {
        properties.insert(k.to_string(), attr_to_json(AttrValue::infer(v)));
    }
    let event_id = match f.get("id") {
        Some(s) => ExternalId::parse(s).map_err(|r| FieldError::new("id", r))?,
        None => {
            let props = serde_json::Value::Object(properties.clone()).to_string();
            ExternalId::derived(&[customer.as_str(), &name, &at.to_rfc3339(), &props])
        }
    };
    Ok(Event { id: event_id, customer, name, at, properties })
}

fn attr_to_json(v: AttrValue) -> serde_json::Value {
    match v {
        AttrValue::Bool(b) => b.into(),
        AttrValue::Int(i) => i.into(),
        AttrValue::Number(n) => n.into(),
        AttrValue::Text(t) => t.into(),
    }
}

pub fn parse_interaction(f: &dyn Fields, o: &ParseOptions) -> Result<Interaction, FieldError> {
    let customer = id(f, "customer")?;
    let channel = Channel::parse(req(f, "channel")?).map_err(|r| FieldError::new("channel", r))?;
    let direction = opt(f, "direction", Direction::parse)?.unwrap_or(Direction::Inbound);
    let subject = text(f, "subject", 500)?;
    let body = text(f, "body", 100_000)?;
    let at = time(f, "at", o)?.ok_or_else(|| FieldError::missing("at"))?;
    let iid = match f.get("id") {
        Some(s) => ExternalId::parse(s).map_err(|r| FieldError::new("id", r))?,
        None => ExternalId::derived(&[
            customer.as_str(),
            channel.as_str(),
            &at.to_rfc3339(),
            subject.as_deref().unwrap_or(""),
            body.as_deref().unwrap_or(""),
        ]),
    };
    Ok(Interaction { id: iid, customer, channel, direction, subject, body, at })
}

/// Who a feedback item is from: named directly, or through the order it reviews (Olist's
/// reviews carry only an order id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerRef {
    Id(ExternalId),
    Order(ExternalId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedbackRow {
    pub id: ExternalId,
    pub customer: CustomerRef,
    pub source: String,
    pub text: Option<String>,
    pub rating: Option<i16>,
    pub created_at: Timestamp,
}

pub fn parse_feedback(f: &dyn Fields, o: &ParseOptions) -> Result<FeedbackRow, FieldError> {
    let customer = match (f.get("customer"), f.get("order")) {
        (Some(c), _) => {
            CustomerRef::Id(ExternalId::parse(c).map_err(|r| FieldError::new("customer", r))?)
        }
        (None, Some(ord)) => {
            CustomerRef::Order(ExternalId::parse(ord).map_err(|r| FieldError::new("order", r))?)
        }
        (None, None) => return Err(FieldError::new("customer", "customer (or order) is required")),
    };
    let source = opt(f, "source", parse_source)?.unwrap_or_else(|| o.default_source.clone());
    let text_v = text(f, "text", 100_000)?;
    let rating = opt(f, "rating", parse_rating)?;
    if text_v.is_none() && rating.is_none() {
        return Err(FieldError::new("text", "text or rating is required"));
    }
    let created_at = time(f, "created_at", o)?.ok_or_else(|| FieldError::missing("created_at"))?;
    let fid = match f.get("id") {
        Some(s) => ExternalId::parse(s).map_err(|r| FieldError::new("id", r))?,
        None => {
            let who = match &customer {
                CustomerRef::Id(c) => format!("c:{c}"),
                CustomerRef::Order(ord) => format!("o:{ord}"),
            };
            let r = rating.map(|r| r.to_string()).unwrap_or_default();
            ExternalId::derived(&[
                &who,
                &source,
                &created_at.to_rfc3339(),
                &r,
                text_v.as_deref().unwrap_or(""),
            ])
        }
    };
    Ok(FeedbackRow { id: fid, customer, source, text: text_v, rating, created_at })
}

fn parse_rating(s: &str) -> Result<i16, String> {
    // Sources write "4", "4.0" or "4/5"; fractions of a point do not occur on survey scales.
    let head = s.split('/').next().unwrap_or(s).trim();
    let head = head.strip_suffix(".0").unwrap_or(head);
    match head.parse::<i16>() {
        Ok(v) if (0..=10).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a whole-number rating from 0 to 10")),
    }
}

pub fn parse_consent(f: &dyn Fields, o: &ParseOptions) -> Result<Consent, FieldError> {
    let customer = id(f, "customer")?;
    let purpose = Purpose::parse(req(f, "purpose")?).map_err(|r| FieldError::new("purpose", r))?;
    let granted = parse_granted(req(f, "granted")?).map_err(|r| FieldError::new("granted", r))?;
    let source = text(f, "source", 200)?;
    let at = time(f, "at", o)?.ok_or_else(|| FieldError::missing("at"))?;
    let cid = match f.get("id") {
        Some(s) => ExternalId::parse(s).map_err(|r| FieldError::new("id", r))?,
        None => ExternalId::derived(&[
            customer.as_str(),
            purpose.as_str(),
            if granted { "1" } else { "0" },
            &at.to_rfc3339(),
        ]),
    };
    Ok(Consent { id: cid, customer, purpose, granted, source, at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Row(HashMap<&'static str, &'static str>);
    impl Fields for Row {
        fn get(&self, field: &str) -> Option<&str> {
            self.0.get(field).copied().filter(|v| !v.is_empty())
        }
        fn extras(&self) -> Vec<(&str, &str)> {
            Vec::new()
        }
    }
    fn row(kv: &[(&'static str, &'static str)]) -> Row {
        Row(kv.iter().copied().collect())
    }

    #[test]
    fn order_rows_infer_returns_and_derive_ids() {
        let o = ParseOptions::new(2026);
        let r = parse_order_row(
            &row(&[
                ("order", "C536379"),
                ("customer", "14527"),
                ("sku", "D"),
                ("quantity", "-1"),
                ("unit_price", "27.50"),
            ]),
            &o,
        )
        .unwrap();
        assert_eq!(r.effective_status(), Some(OrderStatus::Return));
        assert_eq!(r.line.unwrap().amount, Money::parse("-27.5").unwrap());

        let a = row(&[("customer", "00001"), ("placed_at", "1997-01-01"), ("amount", "11.77")]);
        let (x, y) = (parse_order_row(&a, &o).unwrap(), parse_order_row(&a, &o).unwrap());
        assert_eq!(x.order, y.order);
        assert_eq!(x.line.unwrap().quantity, 1);
    }

    #[test]
    fn errors_name_the_field() {
        let o = ParseOptions::new(2026);
        let e =
            parse_order_row(&row(&[("order", "1"), ("quantity", "two"), ("unit_price", "1")]), &o)
                .unwrap_err();
        assert_eq!(e.field, "quantity");
        let e = parse_feedback(&row(&[("customer", "c"), ("created_at", "2024-01-01")]), &o)
            .unwrap_err();
        assert_eq!(e.field, "text");
        let e = parse_feedback(
            &row(&[("customer", "c"), ("rating", "11"), ("created_at", "2024-01-01")]),
            &o,
        )
        .unwrap_err();
        assert_eq!(e.field, "rating");
    }
}

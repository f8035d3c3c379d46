//! Record bodies into stored records. The import parsers judge the fields (deriving ids from
//! content where a body has none, as imports do); an update first overlays the body on the
//! stored record's fields, so absent fields keep their values; the store's upsert and ingest
//! methods write, bringing summaries up to date as they do for imports.

use super::batch::parse_options;
use super::dto::FieldList;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use chrono::SecondsFormat;
use rapport_core::record::*;
use rapport_core::{
    Company, Consent, Event, ExternalId, Feedback, FieldError, Interaction, Money, Product,
    Timestamp,
};
use rapport_store::{Entity, IngestOptions, Kind, OrderGroup, RowOutcome};
use serde_json::Value;

/// A parsed body, ready for the store.
pub enum Write {
    Company(Company),
    Product(Product),
    Order(OrderGroup),
    Event(Event),
    Interaction(Interaction),
    Feedback(FeedbackRow),
    Consent(Consent),
}

/// The body's name for a canonical field (an order's `order` is its `id`).
fn body_field(kind: Kind, field: &str) -> String {
    match (kind, field) {
        (Kind::Orders, "order") => "id".into(),
        _ => field.into(),
    }
}

/// A field the parsers or the store refused: 422 naming the body's field.
pub fn field_error(kind: Kind, e: FieldError) -> ApiError {
    ApiError::invalid(body_field(kind, &e.field), e.reason)
}

impl Write {
    /// Parses a body's canonical fields (and an order's lines) as an import parses a row.
    pub fn parse(kind: Kind, f: &FieldList, lines: Option<&[FieldList]>) -> ApiResult<Write> {
        let o = parse_options();
        let e = |e: FieldError| field_error(kind, e);
        Ok(match kind {
            Kind::Companies => Write::Company(parse_company(f, &o).map_err(e)?),
            Kind::Products => Write::Product(parse_product(f, &o).map_err(e)?),
            Kind::Orders => Write::Order(order_group(f, lines.unwrap_or_default(), &o)?),
            Kind::Events => Write::Event(parse_event(f, &o).map_err(e)?),
            Kind::Interactions => Write::Interaction(parse_interaction(f, &o).map_err(e)?),
            Kind::Feedback => Write::Feedback(parse_feedback(f, &o).map_err(e)?),
            Kind::Consents => Write::Consent(parse_consent(f, &o).map_err(e)?),
            Kind::Customers => {
                return Err(ApiError::Internal("customers are not written as records".into()));
            }
        })
    }

    pub fn kind(&self) -> Kind {
        match self {
            Write::Company(_) => Kind::Companies,
            Write::Product(_) => Kind::Products,
            Write::Order(_) => Kind::Orders,
            Write::Event(_) => Kind::Events,
            Write::Interaction(_) => Kind::Interactions,
            Write::Feedback(_) => Kind::Feedback,
            Write::Consent(_) => Kind::Consents,
        }
    }

    pub fn id(&self) -> &ExternalId {
        match self {
            Write::Company(c) => &c.id,
            Write::Product(p) => &p.sku,
            Write::Order(g) => &g.order,
            Write::Event(e) => &e.id,
            Write::Interaction(i) => &i.id,
            Write::Feedback(f) => &f.id,
            Write::Consent(c) => &c.id,
        }
    }

    /// Creates the record: 409 `conflict` when its id is stored. The existence check is part
    /// of the write's transaction, so of two concurrent creates of one id exactly one succeeds.
    /// Single feedback items go through the group commit: the busiest single-item write.
    pub async fn create(self, s: &AppState) -> ApiResult<()> {
        let (kind, id) = (self.kind(), self.id().clone());
        let o = IngestOptions { create_only: true, ..IngestOptions::default() };
        let outcome = match self {
            Write::Feedback(f) => s.feedback_creates.submit(f).await?,
            other => other.write(s, &o, false).await?,
        };
        match outcome {
            RowOutcome::Exists => {
                Err(ApiError::Conflict(format!("{} '{id}' already exists", kind.singular())))
            }
            other => refused(kind, other),
        }
    }

    /// Updates the record with the same upsert as imports. An order with `replace_lines` gets
    /// exactly the lines given; otherwise its stored lines stay.
    pub async fn update(self, s: &AppState, replace_lines: bool) -> ApiResult<()> {
        let kind = self.kind();
        refused(kind, self.write(s, &IngestOptions::default(), replace_lines).await?)
    }

    async fn write(
        self,
        s: &AppState,
        o: &IngestOptions,
        replace_lines: bool,
    ) -> ApiResult<RowOutcome> {
        let db = s.db.as_ref();
        let outcomes = match self {
            Write::Company(c) => db.upsert_companies(vec![c], o).await?,
            Write::Product(p) => db.upsert_products(vec![p], o).await?,
            Write::Order(g) if replace_lines => db.replace_order(g, o).await?,
            Write::Order(g) => db.ingest_orders(vec![g], o).await?,
            Write::Event(e) => db.ingest_events(vec![e], o).await?,
            Write::Interaction(i) => db.ingest_interactions(vec![i], o).await?,
            Write::Feedback(f) => db.ingest_feedback(vec![f], o).await?,
            Write::Consent(c) => db.ingest_consents(vec![c], o).await?,
        };
        // An order's rows (one per line) share one fate; the first rejection names the field.
        let rejected = outcomes.iter().find(|r| matches!(r, RowOutcome::Rejected(_))).cloned();
        rejected
            .or_else(|| outcomes.into_iter().next())
            .ok_or_else(|| ApiError::Internal("the store returned no outcome for a record".into()))
    }

    /// The record as the store will hold it, when the body alone says so (no order totals, no
    /// customer found through an order, no JSON to normalise): a create answers with it
    /// instead of reading the record back.
    pub fn as_stored(&self) -> Option<Entity> {
        match self {
            Write::Interaction(i) => Some(Entity::Interaction(i.clone())),
            Write::Consent(c) => Some(Entity::Consent(c.clone())),
            Write::Feedback(f) => match &f.customer {
                CustomerRef::Id(customer) => Some(Entity::Feedback(Feedback {
                    id: f.id.clone(),
                    customer: customer.clone(),
                    source: f.source.clone(),
                    text: f.text.clone(),
                    rating: f.rating,
                    created_at: f.created_at,
                })),
                CustomerRef::Order(_) => None,
            },
            _ => None,
        }
    }
}

/// A row the store refused (an unknown order named by feedback...): 422 naming the field.
fn refused(kind: Kind, outcome: RowOutcome) -> ApiResult<()> {
    match outcome {
        RowOutcome::Rejected(e) => Err(field_error(kind, e)),
        _ => Ok(()),
    }
}

/// An order's rows as the importer groups them: one per line, header fields on each (or one
/// header-only row for an order without lines), numbered from line 1.
fn order_group(head: &FieldList, lines: &[FieldList], o: &ParseOptions) -> ApiResult<OrderGroup> {
    let header = parse_order_row(head, o).map_err(|e| field_error(Kind::Orders, e))?;
    let mut rows = Vec::with_capacity(lines.len().max(1));
    for (i, line) in lines.iter().enumerate() {
        let at = |field: &str| format!("lines[{i}].{field}");
        if line.0.is_empty() {
            return Err(ApiError::invalid(at("unit_price"), "unit_price or amount is required"));
        }
        let fields = FieldList(head.0.iter().chain(&line.0).cloned().collect());
        let row =
            parse_order_row(&fields, o).map_err(|e| ApiError::invalid(at(&e.field), e.reason))?;
        rows.push(row);
    }
    if rows.is_empty() {
        rows.push(header.clone());
    }
    Ok(OrderGroup { order: header.order, first_line_no: 1, rows })
}

/// The stored record's fields with the body's non-empty ones overlaid: what an update parses.
/// Event properties merge key by key (as customer attributes do); feedback's `customer` and
/// `order` name the same thing, so giving either replaces both.
pub fn overlay(stored: &Entity, body: FieldList) -> FieldList {
    let mut out = stored_fields(stored);
    let given: Vec<_> = body.0.into_iter().filter(|(_, v)| !v.trim().is_empty()).collect();
    let who = |k: &str| k == "customer" || k == "order";
    if stored.kind() == Kind::Feedback && given.iter().any(|(k, _)| who(k)) {
        out.retain(|(k, _)| !who(k));
    }
    for (k, v) in given {
        match out.iter_mut().find(|(x, _)| *x == k) {
            Some((_, old)) if k == "properties" => *old = merge_objects(old, &v),
            Some((_, old)) => *old = v,
            None => out.push((k, v)),
        }
    }
    FieldList(out)
}

fn merge_objects(old: &str, new: &str) -> String {
    match (serde_json::from_str(old), serde_json::from_str(new)) {
        (Ok(Value::Object(mut a)), Ok(Value::Object(b))) => {
            a.extend(b);
            Value::Object(a).to_string()
        }
        _ => new.to_string(),
    }
}

/// A stored record as canonical fields, in the forms the parsers read back unchanged.
fn stored_fields(e: &Entity) -> Vec<(&'static str, String)> {
    let t = |ts: &Timestamp| Some(ts.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    let m = |v: &Option<Money>| v.map(|m| m.to_string());
    let id = |v: &ExternalId| Some(v.to_string());
    let fields: Vec<(&'static str, Option<String>)> = match e {
        Entity::Company(c) => vec![
            ("id", id(&c.id)),
            ("name", c.name.clone()),
            ("industry", c.industry.clone()),
            ("size", c.size.clone()),
            ("plan", c.plan.clone()),
            ("mrr", m(&c.mrr)),
        ],
        Entity::Product(p) => vec![
            ("sku", id(&p.sku)),
            ("name", p.name.clone()),
            ("category", p.category.clone()),
            ("price", m(&p.price)),
        ],
        Entity::Order(o) => vec![
            ("order", id(&o.order.id)),
            ("customer", id(&o.order.customer)),
            ("placed_at", t(&o.order.placed_at)),
            ("currency", Some(o.order.currency.as_str().to_string())),
            ("status", Some(o.order.status.as_str().to_string())),
        ],
        Entity::Event(v) => vec![
            ("id", id(&v.id)),
            ("customer", id(&v.customer)),
            ("name", Some(v.name.clone())),
            ("at", t(&v.at)),
            ("properties", Some(Value::Object(v.properties.clone()).to_string())),
        ],
        Entity::Interaction(i) => vec![
            ("id", id(&i.id)),
            ("customer", id(&i.customer)),
            ("channel", Some(i.channel.as_str().to_string())),
            ("direction", Some(i.direction.as_str().to_string())),
            ("subject", i.subject.clone()),
            ("body", i.body.clone()),
            ("at", t(&i.at)),
        ],
        Entity::Feedback(f) => vec![
            ("id", id(&f.id)),
            ("customer", id(&f.customer)),
            ("source", Some(f.source.clone())),
            ("text", f.text.clone()),
            ("rating", f.rating.map(|r| r.to_string())),
            ("created_at", t(&f.created_at)),
        ],
        Entity::Consent(c) => vec![
            ("id", id(&c.id)),
            ("customer", id(&c.customer)),
            ("purpose", Some(c.purpose.as_str().to_string())),
            ("granted", Some(c.granted.to_string())),
            ("source", c.source.clone()),
            ("at", t(&c.at)),
        ],
    };
    fields.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapport_core::value::parse_timestamp;

    #[test]
    fn stored_fields_parse_back_to_the_same_record() {
        let at = parse_timestamp("2024-03-01T10:11:12.345678Z", None).unwrap();
        let mut properties = serde_json::Map::new();
        properties.insert("n".into(), 1.5.into());
        let event = Event {
            id: ExternalId::parse("e1").unwrap(),
            customer: ExternalId::parse("c1").unwrap(),
            name: "login".into(),
            at,
            properties,
        };
        let merged = overlay(&Entity::Event(event.clone()), FieldList(vec![]));
        let Write::Event(back) = Write::parse(Kind::Events, &merged, None).unwrap() else {
            panic!()
        };
        assert_eq!(back, event);
        let body = FieldList(vec![("properties", r#"{"m":2}"#.into()), ("name", " ".into())]);
        let merged = overlay(&Entity::Event(event), body);
        let Write::Event(changed) = Write::parse(Kind::Events, &merged, None).unwrap() else {
            panic!()
        };
        assert_eq!((changed.properties.len(), changed.name.as_str()), (2, "login"));
    }
}

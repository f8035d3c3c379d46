//! The record API of every kind but customers (which have the richer customers list, 360 view
//! and erasure): one record by external id, a filtered, sorted, keyset-paginated list, and
//! deletion that keeps summaries exact. The kind-specific parts (time field, filters) are data
//! here, so both backends and the server drive one generic implementation from them.

use crate::{Kind, ListPage, StoreError, StoreResult};
use rapport_core::value::{parse_text, to_micros, try_from_micros};
use rapport_core::*;

/// An order with its lines, as the record API reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetail {
    pub order: Order,
    /// The sum of the lines' amounts.
    pub total: Money,
    /// In line order.
    pub lines: Vec<OrderLine>,
}

/// One stored record of any kind but customers.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    Company(Company),
    Product(Product),
    Order(OrderDetail),
    Event(Event),
    Interaction(Interaction),
    Feedback(Feedback),
    Consent(Consent),
}

impl Entity {
    pub fn kind(&self) -> Kind {
        match self {
            Entity::Company(_) => Kind::Companies,
            Entity::Product(_) => Kind::Products,
            Entity::Order(_) => Kind::Orders,
            Entity::Event(_) => Kind::Events,
            Entity::Interaction(_) => Kind::Interactions,
            Entity::Feedback(_) => Kind::Feedback,
            Entity::Consent(_) => Kind::Consents,
        }
    }

    /// The external id (the SKU of a product).
    pub fn id(&self) -> &ExternalId {
        match self {
            Entity::Company(c) => &c.id,
            Entity::Product(p) => &p.sku,
            Entity::Order(o) => &o.order.id,
            Entity::Event(e) => &e.id,
            Entity::Interaction(i) => &i.id,
            Entity::Feedback(f) => &f.id,
            Entity::Consent(c) => &c.id,
        }
    }

    /// The value of the kind's [time field](Kind::time_field).
    pub fn time(&self) -> Option<Timestamp> {
        match self {
            Entity::Company(_) | Entity::Product(_) => None,
            Entity::Order(o) => Some(o.order.placed_at),
            Entity::Event(e) => Some(e.at),
            Entity::Interaction(i) => Some(i.at),
            Entity::Feedback(f) => Some(f.created_at),
            Entity::Consent(c) => Some(c.at),
        }
    }
}

/// Each kind's filters: the field a list filters on, which is also its column in both
/// backends' schemas.
const FILTERS: &[(Kind, &str)] = &[
    (Kind::Companies, "industry"),
    (Kind::Companies, "plan"),
    (Kind::Products, "category"),
    (Kind::Orders, "status"),
    (Kind::Events, "name"),
    (Kind::Interactions, "channel"),
    (Kind::Interactions, "direction"),
    (Kind::Feedback, "source"),
    (Kind::Feedback, "q"),
    (Kind::Consents, "purpose"),
    (Kind::Consents, "granted"),
];

impl Kind {
    /// The noun for one record, for messages ("order 'o1' not found").
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Customers => "customer",
            Kind::Companies => "company",
            Kind::Products => "product",
            Kind::Orders => "order",
            Kind::Events => "event",
            Kind::Interactions => "interaction",
            Kind::Feedback => "feedback",
            Kind::Consents => "consent",
        }
    }

    /// The field holding a record's time, which lists sort by and filter on with `from`/`to`
    /// (also its column name); `None` for kinds without one.
    pub fn time_field(self) -> Option<&'static str> {
        match self {
            Kind::Orders => Some("placed_at"),
            Kind::Events | Kind::Interactions | Kind::Consents => Some("at"),
            Kind::Feedback => Some("created_at"),
            Kind::Customers | Kind::Companies | Kind::Products => None,
        }
    }

    /// Whether each record belongs to a customer (and lists filter by one).
    pub fn has_customer(self) -> bool {
        matches!(
            self,
            Kind::Orders | Kind::Events | Kind::Interactions | Kind::Feedback | Kind::Consents
        )
    }

    /// The kind-specific filters of its list.
    pub fn filter_fields(self) -> impl Iterator<Item = &'static str> {
        FILTERS.iter().filter(move |(k, _)| *k == self).map(|(_, f)| *f)
    }
}

/// A list filter on a kind-specific field, with its value parsed as the field's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordFilter {
    Industry(String),
    Plan(String),
    Category(String),
    Status(OrderStatus),
    Name(String),
    Channel(Channel),
    Direction(Direction),
    Source(String),
    Purpose(Purpose),
    Granted(bool),
    /// Full-text search of feedback text: every word must occur (see [`search_words`]).
    Search(Vec<String>),
}

/// A filter value as the backends bind it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterValue<'a> {
    Text(&'a str),
    Bool(bool),
    /// Words that must all occur in the text (full-text index).
    Words(&'a [String]),
}

/// The words of a full-text search: runs of letters and digits, lowercased, as both backends'
/// indexes split text (SQLite FTS5 `unicode61`, PostgreSQL's `simple` configuration), so a
/// query means the same on both. At most 16.
pub fn search_words(query: &str) -> Result<Vec<String>, String> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    match words.len() {
        0 => Err("has no words to search for (letters or digits)".into()),
        n if n > 16 => Err(format!("has {n} words; at most 16 are searched for")),
        _ => Ok(words),
    }
}

impl RecordFilter {
    /// Parses `field=value` for a list of `kind`, with the same rules as imports (vocabularies
    /// with their synonyms, feedback source slugs...). The error says why, without the field.
    pub fn parse(kind: Kind, field: &str, value: &str) -> Result<RecordFilter, String> {
        use RecordFilter as F;
        Ok(match (kind, field) {
            (Kind::Companies, "industry") => F::Industry(parse_text(value, 100)?),
            (Kind::Companies, "plan") => F::Plan(parse_text(value, 100)?),
            (Kind::Products, "category") => F::Category(parse_text(value, 100)?),
            (Kind::Orders, "status") => F::Status(OrderStatus::parse(value)?),
            (Kind::Events, "name") => F::Name(parse_text(value, 200)?),
            (Kind::Interactions, "channel") => F::Channel(Channel::parse(value)?),
            (Kind::Interactions, "direction") => F::Direction(Direction::parse(value)?),
            (Kind::Feedback, "source") => F::Source(parse_source(value)?),
            (Kind::Feedback, "q") => F::Search(search_words(&parse_text(value, 500)?)?),
            (Kind::Consents, "purpose") => F::Purpose(Purpose::parse(value)?),
            (Kind::Consents, "granted") => F::Granted(parse_granted(value)?),
            _ => {
                let names: Vec<_> = kind.filter_fields().collect();
                return Err(format!("is not a filter of {kind} (filters: {})", names.join(", ")));
            }
        })
    }

    /// The filtered field; also its column in both backends.
    pub fn field(&self) -> &'static str {
        match self {
            RecordFilter::Industry(_) => "industry",
            RecordFilter::Plan(_) => "plan",
            RecordFilter::Category(_) => "category",
            RecordFilter::Status(_) => "status",
            RecordFilter::Name(_) => "name",
            RecordFilter::Channel(_) => "channel",
            RecordFilter::Direction(_) => "direction",
            RecordFilter::Source(_) => "source",
            RecordFilter::Purpose(_) => "purpose",
            RecordFilter::Granted(_) => "granted",
            RecordFilter::Search(_) => "q",
        }
    }

    /// The value as stored.
    pub fn value(&self) -> FilterValue<'_> {
        match self {
            RecordFilter::Industry(s)
            | RecordFilter::Plan(s)
            | RecordFilter::Category(s)
            | RecordFilter::Name(s)
            | RecordFilter::Source(s) => FilterValue::Text(s),
            RecordFilter::Status(v) => FilterValue::Text(v.as_str()),
            RecordFilter::Channel(v) => FilterValue::Text(v.as_str()),
            RecordFilter::Direction(v) => FilterValue::Text(v.as_str()),
            RecordFilter::Purpose(v) => FilterValue::Text(v.as_str()),
            RecordFilter::Granted(b) => FilterValue::Bool(*b),
            RecordFilter::Search(words) => FilterValue::Words(words),
        }
    }

    fn applies_to(&self, kind: Kind) -> bool {
        FILTERS.contains(&(kind, self.field()))
    }
}

/// The order of a record list. Both are total: time ties break on the internal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordSort {
    /// Insertion order (the default, and the cheapest).
    #[default]
    Id,
    /// By the kind's [time field](Kind::time_field).
    Time,
}

impl RecordSort {
    /// `id` or the name of the kind's time field.
    pub fn parse(kind: Kind, s: &str) -> Result<RecordSort, String> {
        match (s, kind.time_field()) {
            ("id", _) => Ok(RecordSort::Id),
            (s, Some(t)) if s == t => Ok(RecordSort::Time),
            (s, Some(t)) => Err(format!("'{s}' is not one of: id, {t}")),
            (s, None) => Err(format!("'{s}' is not one of: id")),
        }
    }
}

/// A position in a record list: the internal id and (time sort) the time of the last record
/// of the previous page. Clients see it as an opaque string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordCursor {
    pub id: i64,
    pub time: Option<Timestamp>,
}

impl RecordCursor {
    /// `{id}`, or `{id}:{micros}` for the time sort.
    pub fn encode(&self) -> String {
        match self.time {
            None => self.id.to_string(),
            Some(t) => format!("{}:{}", self.id, to_micros(t)),
        }
    }

    /// Parses a cursor issued for a list in `sort` order.
    pub fn parse(s: &str, sort: RecordSort) -> Result<RecordCursor, String> {
        let bad = || format!("'{s}' is not a cursor this list issued");
        let (id, time) = match (sort, s.split_once(':')) {
            (RecordSort::Id, None) => (s, None),
            (RecordSort::Time, Some((id, t))) => {
                let micros = t.parse().map_err(|_| bad())?;
                (id, Some(try_from_micros(micros).ok_or_else(bad)?))
            }
            _ => return Err(bad()),
        };
        Ok(RecordCursor { id: id.parse().map_err(|_| bad())?, time })
    }
}

/// Filters, order and page position for a record list.
#[derive(Debug, Clone)]
pub struct RecordQuery {
    pub kind: Kind,
    /// Only this customer's records (kinds that have a customer).
    pub customer: Option<ExternalId>,
    /// Time field at or after (kinds with a time field).
    pub from: Option<Timestamp>,
    /// Time field before (exclusive).
    pub to: Option<Timestamp>,
    /// All must match.
    pub filters: Vec<RecordFilter>,
    pub sort: RecordSort,
    pub descending: bool,
    pub after: Option<RecordCursor>,
    pub limit: usize,
}

impl RecordQuery {
    /// Every record of `kind` in insertion order, `limit` at a time.
    pub fn new(kind: Kind, limit: usize) -> RecordQuery {
        RecordQuery {
            kind,
            customer: None,
            from: None,
            to: None,
            filters: Vec::new(),
            sort: RecordSort::Id,
            descending: false,
            after: None,
            limit,
        }
    }

    /// Refuses a query whose parts do not fit its kind (the server only builds fitting ones).
    pub fn check(&self) -> StoreResult<()> {
        let kind = self.kind;
        let bad = |why: String| Err(StoreError::Invalid(format!("{kind} list: {why}")));
        if kind == Kind::Customers {
            return bad("customers have their own list".into());
        }
        if self.customer.is_some() && !kind.has_customer() {
            return bad("has no customer filter".into());
        }
        let timed = kind.time_field().is_some();
        if !timed && (self.from.is_some() || self.to.is_some() || self.sort == RecordSort::Time) {
            return bad("has no time field".into());
        }
        if let Some(f) = self.filters.iter().find(|f| !f.applies_to(kind)) {
            return bad(format!("has no filter on {}", f.field()));
        }
        if self.after.is_some_and(|a| a.time.is_some() != (self.sort == RecordSort::Time)) {
            return bad("the cursor is for another sort".into());
        }
        Ok(())
    }

    /// A page from the rows read (internal id, record), at most `limit` of them: full pages
    /// carry the cursor of their last row.
    pub fn page(&self, rows: Vec<(i64, Entity)>) -> ListPage<Entity> {
        let next = match rows.last() {
            Some((id, e)) if rows.len() == self.limit => {
                let time = if self.sort == RecordSort::Time { e.time() } else { None };
                Some(RecordCursor { id: *id, time }.encode())
            }
            _ => None,
        };
        ListPage { items: rows.into_iter().map(|(_, e)| e).collect(), next }
    }
}

/// `NotFound` for a record of `kind` that does not exist.
pub fn record_not_found(kind: Kind, id: &ExternalId) -> StoreError {
    StoreError::NotFound(format!("{} '{id}'", kind.singular()))
}

/// `Invalid` for a kind the record API does not serve (customers).
pub fn not_a_record_kind(kind: Kind) -> StoreError {
    StoreError::Invalid(format!("{kind} are not served by the record API"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_must_match_the_sort() {
        let t = rapport_core::value::from_micros(1_700_000_000_123_456);
        for (c, sort) in [
            (RecordCursor { id: 7, time: None }, RecordSort::Id),
            (RecordCursor { id: 7, time: Some(t) }, RecordSort::Time),
        ] {
            assert_eq!(RecordCursor::parse(&c.encode(), sort), Ok(c));
        }
        for (s, sort) in [("7", RecordSort::Time), ("7:1", RecordSort::Id), ("x", RecordSort::Id)] {
            assert!(RecordCursor::parse(s, sort).is_err(), "{s}");
        }
    }

    #[test]
    fn filters_parse_like_imports_and_belong_to_their_kind() {
        let f = RecordFilter::parse(Kind::Orders, "status", "Refunded").unwrap();
        assert_eq!(f.value(), FilterValue::Text("return"));
        let err = RecordFilter::parse(Kind::Orders, "status", "foo").unwrap_err();
        assert!(err.contains("purchase"), "{err}");
        let err = RecordFilter::parse(Kind::Events, "status", "purchase").unwrap_err();
        assert!(err.contains("filters: name"), "{err}");
        let g = RecordFilter::parse(Kind::Consents, "granted", "revoked").unwrap();
        assert_eq!(g.value(), FilterValue::Bool(false));
        let mut q = RecordQuery::new(Kind::Events, 10);
        q.filters.push(f);
        assert!(q.check().is_err(), "an order filter on events");
        assert!(RecordQuery::new(Kind::Customers, 10).check().is_err());
    }
}

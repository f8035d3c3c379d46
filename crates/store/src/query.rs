//! Read models for the API and the web UI: the customers list, the customer 360 view and the
//! merged timeline.

use rapport_core::{
    Company, Consent, Customer, CustomerSummary, Event, ExternalId, Feedback, Interaction, Money,
    Order, Purpose, Timestamp,
};
use serde::Serialize;

/// Sort orders for the customers list. Every sort is total: ties break on the internal id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CustomerSort {
    /// Insertion order (the default, and the cheapest).
    #[default]
    Id,
    Name,
    SignupAt,
    LastPurchaseAt,
    PurchaseValue,
}

impl CustomerSort {
    pub const ALL: &'static [(&'static str, CustomerSort)] = &[
        ("id", CustomerSort::Id),
        ("name", CustomerSort::Name),
        ("signup_at", CustomerSort::SignupAt),
        ("last_purchase_at", CustomerSort::LastPurchaseAt),
        ("purchase_value", CustomerSort::PurchaseValue),
    ];

    pub fn parse(s: &str) -> Result<CustomerSort, String> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, v)| *v).ok_or_else(|| {
            let names: Vec<_> = Self::ALL.iter().map(|(n, _)| *n).collect();
            format!("'{s}' is not one of: {}", names.join(", "))
        })
    }

    pub fn as_str(self) -> &'static str {
        Self::ALL.iter().find(|(_, v)| *v == self).map(|(n, _)| *n).unwrap_or("id")
    }
}

/// Filters, order and page position for the customers list.
#[derive(Debug, Clone, Default)]
pub struct CustomerQuery {
    /// Words matched as prefixes against name, e-mail and external id ("ann smi" finds
    /// "Ann Smith").
    pub search: Option<String>,
    pub country: Option<String>,
    pub company: Option<ExternalId>,
    pub signup_from: Option<Timestamp>,
    /// Exclusive.
    pub signup_to: Option<Timestamp>,
    pub sort: CustomerSort,
    pub descending: bool,
    /// An opaque cursor returned as `next` by the previous page.
    pub after: Option<String>,
    pub limit: usize,
}

/// One row of the customers list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerListItem {
    pub customer: Customer,
    pub summary: CustomerSummary,
}

/// A page of a list with an opaque cursor to the next one.
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// Everything the customer 360 page shows apart from the timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerView {
    pub customer: Customer,
    pub company: Option<Company>,
    pub summary: CustomerSummary,
    /// The latest consent decision per purpose; purposes never asked are absent.
    pub consents: Vec<Consent>,
}

impl CustomerView {
    /// Whether the customer's latest decision for `purpose` is a grant.
    pub fn consents_to(&self, purpose: Purpose) -> bool {
        self.consents.iter().any(|c| c.purpose == purpose && c.granted)
    }
}

/// An order on the timeline: the header, its total and its line count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderEntry {
    #[serde(flatten)]
    pub order: Order,
    pub total: Money,
    pub lines: i64,
}

/// One entry of a customer's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TimelineItem {
    Order(OrderEntry),
    Event(Event),
    Interaction(Interaction),
    Feedback(Feedback),
    Consent(Consent),
}

impl TimelineItem {
    pub fn at(&self) -> Timestamp {
        match self {
            TimelineItem::Order(o) => o.order.placed_at,
            TimelineItem::Event(e) => e.at,
            TimelineItem::Interaction(i) => i.at,
            TimelineItem::Feedback(f) => f.created_at,
            TimelineItem::Consent(c) => c.at,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            TimelineItem::Order(_) => "order",
            TimelineItem::Event(_) => "event",
            TimelineItem::Interaction(_) => "interaction",
            TimelineItem::Feedback(_) => "feedback",
            TimelineItem::Consent(_) => "consent",
        }
    }

    pub fn id(&self) -> &ExternalId {
        match self {
            TimelineItem::Order(o) => &o.order.id,
            TimelineItem::Event(e) => &e.id,
            TimelineItem::Interaction(i) => &i.id,
            TimelineItem::Feedback(f) => &f.id,
            TimelineItem::Consent(c) => &c.id,
        }
    }

    /// Newest first; equal times order by kind then id, so pages never skip or repeat.
    pub fn sort_key(&self) -> (std::cmp::Reverse<Timestamp>, &'static str, &str) {
        (std::cmp::Reverse(self.at()), self.kind(), self.id().as_str())
    }
}

/// Merges per-stream lists (each newest first) into one timeline page of at most `limit`.
/// Shared by the backends so both order ties the same way.
pub fn merge_timeline(mut items: Vec<TimelineItem>, limit: usize) -> Vec<TimelineItem> {
    items.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    items.truncate(limit);
    items
}

/// A position in a timeline: the sort key of the last item of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    pub at: Timestamp,
    pub kind: String,
    pub id: String,
}

impl TimelineCursor {
    pub fn of(item: &TimelineItem) -> TimelineCursor {
        TimelineCursor { at: item.at(), kind: item.kind().into(), id: item.id().as_str().into() }
    }

    /// `micros.kind.id` (ids may contain anything but the first two parts cannot hold a dot).
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", rapport_core::value::to_micros(self.at), self.kind, self.id)
    }

    pub fn parse(s: &str) -> Result<TimelineCursor, String> {
        let bad = || format!("'{s}' is not a timeline cursor");
        let mut parts = s.splitn(3, '.');
        let micros: i64 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
        let kind = parts.next().ok_or_else(bad)?.to_string();
        let id = parts.next().ok_or_else(bad)?.to_string();
        let at = rapport_core::value::try_from_micros(micros).ok_or_else(bad)?;
        Ok(TimelineCursor { at, kind, id })
    }

    /// Whether `item` comes after this position (belongs on a later page).
    pub fn admits(&self, item: &TimelineItem) -> bool {
        item.sort_key() > (std::cmp::Reverse(self.at), self.kind.as_str(), self.id.as_str())
    }
}

/// How many rows each stream reads beyond `limit`: rows that share the cursor's exact time
/// are read again and filtered out by [`TimelineCursor::admits`].
pub const TIMELINE_SLACK: usize = 64;

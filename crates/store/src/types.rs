use rapport_core::record::OrderRow;
use rapport_core::{
    Company, Consent, Currency, Customer, CustomerSummary, Event, ExternalId, Feedback, FieldError,
    Interaction, Money, Product,
};
use serde::Serialize;

/// What happened to one input row. Every row ends in exactly one of these, which is what lets
/// an import's summary add up: read = inserted + updated + unchanged + rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Inserted,
    Updated,
    Unchanged,
    Rejected(FieldError),
    /// The id is already stored and the write was a create ([`IngestOptions::create_only`]):
    /// nothing was changed. Never the outcome of an upsert.
    Exists,
}

#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Create customers (known only by id) that orders, events... refer to; otherwise reject.
    pub create_customers: bool,
    /// Do everything, then roll back: the outcomes say what a real run would do.
    pub dry_run: bool,
    /// Currency of new orders whose rows name none.
    pub default_currency: Currency,
    /// A bulk load (file import, demo): a commit need not reach the disk before the next batch
    /// starts. A power cut can lose the last batches (whole, never half of one) and re-running
    /// the import completes them. Off for API writes, which are durable when the call returns.
    pub bulk: bool,
    /// Create, never update: a row whose id is already stored is left alone and reported as
    /// [`RowOutcome::Exists`]. The check and the insert are one transaction, so two concurrent
    /// creates of one id cannot both succeed (the API's `POST` relies on this).
    pub create_only: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            create_customers: true,
            dry_run: false,
            default_currency: Currency::parse("USD").expect("valid code"),
            bulk: false,
            create_only: false,
        }
    }
}

/// The rows of one order within one import, in file order. Lines are numbered from
/// `first_line_no`: an order whose rows are split across batches (or that reappears later in the
/// same file) continues its numbering, so a re-import maps every line onto itself.
/// A continuation (`first_line_no > 1`) never changes an existing order's header fields: the
/// order's first rows in the file set them, so re-imports cannot flip-flop between values.
#[derive(Debug, Clone)]
pub struct OrderGroup {
    pub order: ExternalId,
    pub first_line_no: u32,
    pub rows: Vec<OrderRow>,
}

/// A customer's purchases on one UTC day (a purchase occasion). `customer` is the store's
/// internal number: only comparable with other `PurchaseDay`s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PurchaseDay {
    pub customer: i64,
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    /// The sum of that day's purchase order totals.
    pub value: Money,
}

/// Rows read in chunks through a bounded channel: a read that streams. An error arrives as
/// the last item.
pub type Chunks<T> = tokio::sync::mpsc::Receiver<crate::StoreResult<Vec<T>>>;

/// Chunks of (customer key, UTC day) purchase occasions, from
/// [`crate::Store::purchase_occasion_chunks`].
pub type OccasionChunks = Chunks<(i64, i64)>;

/// How many rows a chunk holds (a megabyte of occasions).
pub const CHUNK: usize = 65_536;

/// One rated feedback item. `customer` is the store's internal number, as in [`PurchaseDay`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rating {
    pub customer: i64,
    pub at: rapport_core::Timestamp,
    pub rating: i16,
}

/// What lifetime-value models need of one buyer's summary, without the rest of the row or the
/// customer's identity. `key` is the store's internal number, as in [`SummaryRow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurchaseHistory {
    pub key: i64,
    pub first_purchase_at: rapport_core::Timestamp,
    pub last_purchase_at: rapport_core::Timestamp,
    pub purchase_occasions: i64,
    pub purchase_value: Money,
    pub first_day_value: Money,
}

impl PurchaseHistory {
    /// From a summary's columns (amounts × 10⁴): `None` for a customer who never purchased.
    pub fn from_summary(
        key: i64,
        first: Option<rapport_core::Timestamp>,
        last: Option<rapport_core::Timestamp>,
        occasions: i64,
        value_e4: i64,
        first_day_value_e4: i64,
    ) -> Option<PurchaseHistory> {
        Some(PurchaseHistory {
            key,
            first_purchase_at: first?,
            last_purchase_at: last?,
            purchase_occasions: occasions,
            purchase_value: Money::from_e4(value_e4),
            first_day_value: Money::from_e4(first_day_value_e4),
        })
        .filter(|_| occasions > 0)
    }
}

/// What the health score needs of one customer's summary, without the rest of the row or the
/// customer's identity: the purchase history of a buyer (`None` for a customer who never
/// bought) and the last product-usage event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerActivity {
    pub key: i64,
    pub history: Option<PurchaseHistory>,
    pub last_event_at: Option<rapport_core::Timestamp>,
}

/// Who a customer is, for the few rows a report lists by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerLabel {
    pub key: i64,
    pub id: ExternalId,
    pub name: Option<String>,
}

/// A customer's summary with its identity: `key` is the store's internal number (the keyset
/// cursor, and the `customer` of [`PurchaseDay`] and [`Rating`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub key: i64,
    pub id: ExternalId,
    pub name: Option<String>,
    pub summary: CustomerSummary,
}

/// Entity counts and totals for `report summary`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub customers: i64,
    pub companies: i64,
    pub products: i64,
    pub orders: i64,
    pub order_lines: i64,
    pub events: i64,
    pub interactions: i64,
    pub feedback: i64,
    pub consents: i64,
    pub purchase_orders: i64,
    pub return_orders: i64,
    pub cancelled_orders: i64,
    pub customers_with_purchases: i64,
    /// Sum of purchase order line amounts, from the lines themselves.
    pub purchase_value: Money,
    /// The same sum over the per-customer summaries; equal to `purchase_value` when consistent.
    pub summarised_purchase_value: Money,
    pub return_value: Money,
}

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Cursor for the next page; `None` on the last page.
    pub next: Option<i64>,
}

/// One event as a segment filter reads it (see [`crate::Store::event_times`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTime {
    pub customer: i64,
    /// Index into the asked names.
    pub name: u32,
    pub at: rapport_core::Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryMismatch {
    pub customer: ExternalId,
    pub stored: CustomerSummary,
    pub recomputed: CustomerSummary,
}

/// One exported row. Orders export one row per line (header fields repeated), and one
/// header-only row for an order without lines, which is exactly what the importer reads back.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Customer(Customer),
    Company(Company),
    Product(Product),
    OrderRow(OrderRow),
    Event(Event),
    Interaction(Interaction),
    Feedback(Feedback),
    Consent(Consent),
}

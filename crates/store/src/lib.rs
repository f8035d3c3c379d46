//! The storage boundary: one [`Store`] trait, one small error type, and the behavioural story
//! suite ([`story`]) that every backend runs, so SQLite and PostgreSQL behave the same.
//!
//! Writes are batch-shaped (imports and bulk API calls stream batches), transactional per batch,
//! and idempotent: every row is upserted by its external id, so a retried or re-run batch
//! changes nothing. Per-customer summaries are brought up to date in the same transaction.

mod access;
mod campaign;
mod error;
mod idea;
mod idempotency;
mod inbox;
mod journey;
mod kind;
mod loyalty;
mod outbox;
mod persona;
mod query;
mod recommend;
mod records;
mod scorecard;
mod segment;
pub mod story;
pub mod story_campaigns;
pub mod story_ideas;
pub mod story_idempotency;
pub mod story_inbox;
pub mod story_journeys;
pub mod story_loyalty;
pub mod story_outbox;
pub mod story_personas;
pub mod story_recommend;
pub mod story_records;
pub mod story_scorecard;
pub mod story_segments;
pub mod story_surveys;
pub mod story_views;
mod survey;
mod types;

pub use access::AccessStore;
pub use campaign::*;
pub use error::{StoreError, StoreResult};
pub use idea::*;
pub use idempotency::{Claimed, IdempotencyClaim, IdempotencyStore, StoredResponse};
pub use inbox::*;
pub use journey::*;
pub use kind::Kind;
pub use loyalty::*;
pub use outbox::*;
pub use persona::*;
pub use query::*;
pub use recommend::*;
pub use records::*;
pub use scorecard::*;
pub use segment::*;
pub use survey::*;
pub use types::*;

use async_trait::async_trait;
use rapport_core::record::FeedbackRow;
use rapport_core::{
    Company, Consent, Customer, CustomerSummary, Event, ExternalId, Interaction, Product,
};

#[async_trait]
pub trait Store: Send + Sync {
    /// "sqlite" or "postgres", for logs and `report summary`.
    fn backend(&self) -> &'static str;

    async fn upsert_customers(
        &self,
        rows: Vec<Customer>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    async fn upsert_companies(
        &self,
        rows: Vec<Company>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    async fn upsert_products(
        &self,
        rows: Vec<Product>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    /// Order rows arrive grouped by order; outcomes come back flattened in row order.
    async fn ingest_orders(
        &self,
        groups: Vec<OrderGroup>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    async fn ingest_events(
        &self,
        rows: Vec<Event>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    async fn ingest_interactions(
        &self,
        rows: Vec<Interaction>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    async fn ingest_feedback(
        &self,
        rows: Vec<FeedbackRow>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
    async fn ingest_consents(
        &self,
        rows: Vec<Consent>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;

    /// Entity counts and reconciled totals.
    async fn counts(&self) -> StoreResult<Counts>;

    async fn customer_summary(&self, customer: &ExternalId) -> StoreResult<CustomerSummary>;

    /// Every purchase occasion: one per customer and UTC day with a purchase order, with the
    /// day's purchase value, for cohort, churn and lifetime-value reports.
    /// Streamed like [`Store::purchase_occasion_chunks`]: one channel per partition of the
    /// customers, each in (customer, day) order.
    async fn purchase_day_chunks(&self) -> StoreResult<Vec<Chunks<PurchaseDay>>>;

    /// [`Store::purchase_day_chunks`] gathered: for tests and small data.
    async fn purchase_days(&self) -> StoreResult<Vec<PurchaseDay>> {
        let mut out = Vec::new();
        for mut partition in self.purchase_day_chunks().await? {
            while let Some(chunk) = partition.recv().await {
                out.extend(chunk?);
            }
        }
        Ok(out)
    }

    /// Every distinct (customer, UTC day) with a purchase order on or after `from_day` (days
    /// since 1970-01-01; all days without it), without values: what cohorts, churn and
    /// purchase trends need, read from an index alone. They come in chunks through one channel
    /// per partition of the customers; each partition is in (customer, day) order, and the
    /// partitions are read concurrently. Reports fold the chunks as they arrive, so ten
    /// million orders are never in memory at once.
    async fn purchase_occasion_chunks(
        &self,
        from_day: Option<i64>,
    ) -> StoreResult<Vec<OccasionChunks>>;

    /// [`Store::purchase_occasion_chunks`] gathered, partition after partition: for tests and
    /// small data.
    async fn purchase_occasions(&self, from_day: Option<i64>) -> StoreResult<Vec<(i64, i64)>> {
        let mut out = Vec::new();
        for mut partition in self.purchase_occasion_chunks(from_day).await? {
            while let Some(chunk) = partition.recv().await {
                out.extend(chunk?);
            }
        }
        Ok(out)
    }

    /// The rated feedback of one source (`nps`, `csat`...), for the satisfaction and health
    /// reports.
    async fn ratings(&self, source: &str) -> StoreResult<Vec<Rating>>;

    /// How many interactions of `channel` each customer had at or after `since` (customers
    /// with none are left out): the support load of the health score.
    async fn interaction_counts(
        &self,
        channel: rapport_core::Channel,
        since: rapport_core::Timestamp,
    ) -> StoreResult<Vec<(i64, u32)>>;

    /// The mean sentiment (−1..1) of each customer's feedback with text created at or after
    /// `since`, and how many items it averages (customers with none are left out): the
    /// sentiment of the health score.
    async fn feedback_sentiment(
        &self,
        since: rapport_core::Timestamp,
    ) -> StoreResult<Vec<(i64, f64, u32)>>;

    /// Every buyer's purchase history from their summary (customers with a purchase only), in
    /// key order: a few numbers per buyer, for lifetime value at a million customers.
    async fn purchase_histories(&self) -> StoreResult<Vec<PurchaseHistory>>;

    /// The latest purchase of any customer (`None` before the first), from an index of the
    /// summaries: what reports take as "now" by default.
    async fn last_purchase_at(&self) -> StoreResult<Option<rapport_core::Timestamp>>;

    /// Every customer's [`CustomerActivity`] from their summary, in key order: a few numbers per
    /// customer, for the health score at a million customers.
    async fn activities(&self) -> StoreResult<Vec<CustomerActivity>>;

    /// The identity of the customers with these keys, in key order; unknown keys are left out.
    async fn customer_labels(&self, keys: &[i64]) -> StoreResult<Vec<CustomerLabel>>;

    /// Summaries in customer-id order, `limit` at a time after `after` (keyset pagination).
    async fn summaries(&self, after: Option<i64>, limit: usize) -> StoreResult<Page<SummaryRow>>;

    /// After a bulk load: brings the query planner's statistics up to date, so searches and
    /// lists plan for the rows now there. PostgreSQL's autovacuum analyses a table only minutes
    /// after a load, and until then plans for an empty table (a rare word searched newest first
    /// took 1.4 s instead of 8 ms at a million items). SQLite plans without statistics by design.
    async fn refresh_statistics(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Recomputes every summary from the raw rows and lists the customers whose stored summary
    /// differs (empty when consistent). A consistency check for operators and tests.
    async fn verify_summaries(&self) -> StoreResult<Vec<SummaryMismatch>>;

    /// Every event of these names as (customer key, index of its name in `names`, time),
    /// in no particular order: what segment filters with `did(...)` and `events(...)` read,
    /// from the `(name, at, customer_id)` index alone rather than every event's properties.
    async fn event_times(&self, names: &[String]) -> StoreResult<Vec<EventTime>>;

    /// One page of an entity's rows for export, in insertion order.
    async fn export(
        &self,
        kind: Kind,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<Record>>;

    /// One page of the customers list.
    async fn customers(&self, q: &CustomerQuery) -> StoreResult<ListPage<CustomerListItem>>;

    /// The customer whose e-mail address is `email`, compared case-insensitively; the
    /// earliest stored when several share it. `None` when nobody has it.
    async fn customer_by_email(&self, email: &str) -> StoreResult<Option<ExternalId>>;

    /// The customer 360 view; `NotFound` for an unknown customer.
    async fn customer(&self, id: &ExternalId) -> StoreResult<CustomerView>;

    /// Up to `limit` timeline items after `after` (newest first); `NotFound` for an unknown
    /// customer.
    async fn timeline(
        &self,
        id: &ExternalId,
        after: Option<&TimelineCursor>,
        limit: usize,
    ) -> StoreResult<Vec<TimelineItem>>;

    /// Erases a customer and everything recorded about them (orders, lines, events,
    /// interactions, feedback, consents). `NotFound` for an unknown customer.
    async fn delete_customer(&self, id: &ExternalId) -> StoreResult<()>;

    /// One page of a kind's records, filtered and sorted: every kind but customers (which
    /// have [`Store::customers`]); `Invalid` for a query that does not fit its kind.
    async fn records(&self, q: &RecordQuery) -> StoreResult<ListPage<Entity>>;

    /// One record by its external id (the SKU of a product); `NotFound` when absent.
    async fn record(&self, kind: Kind, id: &ExternalId) -> StoreResult<Entity>;

    /// Deletes one record, bringing its customer's summary up to date in the same
    /// transaction. A company's members stay (without a company); order lines keep the SKU
    /// of a deleted product. `NotFound` when absent.
    async fn delete_record(&self, kind: Kind, id: &ExternalId) -> StoreResult<()>;

    /// Writes one order (a group from line 1) as `ingest_orders` does, then removes the stored
    /// lines beyond the group's, so that the order's lines are exactly the group's; one
    /// transaction. Outcomes as `ingest_orders` reports them.
    async fn replace_order(
        &self,
        group: OrderGroup,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>>;
}

/// What the server needs of a database: customer data, access control, idempotency records,
/// surveys, the feedback inbox, ideas, the outbox, saved segments, personas, journeys,
/// the recommendation model, loyalty, campaigns and the scorecard's goals, on one backend.
pub trait Backend:
    Store
    + AccessStore
    + IdempotencyStore
    + SurveyStore
    + InboxStore
    + IdeaStore
    + OutboxStore
    + SegmentStore
    + RecommendStore
    + PersonaStore
    + JourneyStore
    + LoyaltyStore
    + ScorecardStore
    + CampaignStore
{
}

impl<T> Backend for T where
    T: Store
        + AccessStore
        + IdempotencyStore
        + SurveyStore
        + InboxStore
        + IdeaStore
        + OutboxStore
        + SegmentStore
        + RecommendStore
        + PersonaStore
        + JourneyStore
        + LoyaltyStore
        + ScorecardStore
        + CampaignStore
{
}

/// Reads every page of an export, for tests and small tables.
pub async fn export_all(store: &dyn Store, kind: Kind) -> StoreResult<Vec<Record>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.export(kind, after, 1000).await?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

//! PostgreSQL implementation of the Rapport [`Store`], for deployments that outgrow the embedded
//! SQLite file. It tells the same story as the SQLite store (the shared suite in
//! [`rapport_store::story`] runs against both): the same row outcomes, summaries and exports.
//!
//! # Design
//!
//! * **One transaction per batch, set-based.** A batch costs a handful of round trips whatever
//!   its size: referenced customers are created and resolved with one `unnest` array statement,
//!   existing rows are loaded with `= ANY($1)`, outcomes are decided in Rust exactly as the SQLite
//!   store decides them row by row, and the changes are written with multi-row `unnest`
//!   statements. Summaries of the touched customers are then recomputed (orders) or bumped
//!   (activity streams) with one statement each.
//! * **One writer at a time per schema.** Every write transaction first takes a transaction-level
//!   advisory lock, so batches apply one after another just as they do on SQLite's single writer.
//!   That is what keeps outcomes (inserted vs updated) and recomputed summaries exact when several
//!   importers run at once; readers are never blocked (MVCC).
//! * **Dry runs** do all the work and roll back.
//! * **Reads made of several queries** (the customer view, a timeline page, an export page of
//!   orders) run in one read-only REPEATABLE READ transaction, so they see one snapshot.
//! * **Access control** (users, sessions, API keys, webhook sources; `access.rs`) and
//!   **idempotency records** (`idempotency.rs`) write without the writer lock: those rows
//!   never touch summaries, and a sign-in or an API request must not wait behind an import
//!   batch.
//!
//! Schema decisions (identity ids, `TIMESTAMPTZ`, `BIGINT` money, `JSON` rather than `JSONB`)
//! are commented in `migrations/0001_init.sql`.

mod access;
mod activity;
mod campaign;
mod customers;
mod idea;
mod idempotency;
mod inbox;
mod journey;
mod loyalty;
mod orders;
mod outbox;
mod persona;
mod read;
mod recommend;
mod records;
mod resolve;
mod scorecard;
mod segment;
mod summary;
mod survey;
mod view;

use async_trait::async_trait;
use rapport_core::record::FeedbackRow;
use rapport_core::{
    Company, Consent, Customer, CustomerSummary, Event, ExternalId, FieldError, Interaction,
    Product,
};
use rapport_store::{
    Counts, CustomerListItem, CustomerQuery, CustomerView, Entity, IngestOptions, Kind, ListPage,
    OrderGroup, Page, Record, RecordQuery, RowOutcome, Store, StoreError, StoreResult,
    SummaryMismatch, TimelineCursor, TimelineItem,
};
use sqlx::error::ErrorKind;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{
    AssertSqlSafe, ConnectOptions, Connection, Executor, PgConnection, Postgres, Row, Transaction,
};
use std::str::FromStr;

static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// A Rapport store in a PostgreSQL database (in the first schema of the connection's
/// `search_path`).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d)
            if matches!(d.kind(), ErrorKind::UniqueViolation | ErrorKind::ForeignKeyViolation) =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::other(e),
    }
}

/// A column of a result row, with decoding errors mapped.
pub(crate) fn get<'r, T>(r: &'r PgRow, i: usize) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
{
    r.try_get(i).map_err(db_err)
}

/// A stored value that no longer parses as its domain type.
pub(crate) fn invalid(what: &str, reason: String) -> StoreError {
    StoreError::Invalid(format!("stored {what}: {reason}"))
}

pub(crate) fn ext_id(s: String) -> StoreResult<ExternalId> {
    ExternalId::parse(&s).map_err(|r| invalid("external id", r))
}

/// PostgreSQL text cannot hold NUL characters (SQLite's can). A field that carries one is
/// rejected with the row, rather than failing the whole batch.
pub(crate) fn nul_check<'a>(
    fields: impl IntoIterator<Item = (&'static str, Option<&'a str>)>,
) -> Option<FieldError> {
    fields
        .into_iter()
        .find(|(_, v)| v.is_some_and(|s| s.contains('\0')))
        .map(|(f, _)| FieldError::new(f, "contains a NUL character, which PostgreSQL cannot store"))
}

/// Quotes an identifier for SQL.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host/db`) and applies pending migrations.
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        Self::connect_with(options).await
    }

    /// Connects with explicit options (pool of up to 16 connections) and applies pending
    /// migrations. Use `options([("search_path", schema)])` to keep the tables in a schema.
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<PgStore> {
        // sqlx warns of every statement over a second; an import batch of 20,000 rows takes
        // about that long by design, and the warnings buried the import's own output.
        let options =
            options.log_slow_statements(log::LevelFilter::Warn, std::time::Duration::from_secs(5));
        let pool =
            PgPoolOptions::new().max_connections(16).connect_with(options).await.map_err(db_err)?;
        MIGRATOR.run(&pool).await.map_err(StoreError::other)?;
        let scored = activity::backfill_sentiment(&pool).await?;
        if scored > 0 {
            tracing::info!(scored, "scored the sentiment of feedback stored before it was kept");
        }
        Ok(PgStore { pool })
    }

    /// For tests: creates a new, uniquely named schema (`rapport_test_<random>`) and connects
    /// with `search_path` set to it. Returns the store and the schema name, for
    /// [`drop_schema`](Self::drop_schema).
    pub async fn connect_fresh_schema(url: &str) -> StoreResult<(PgStore, String)> {
        let options = PgConnectOptions::from_str(url).map_err(db_err)?;
        let schema = format!("rapport_test_{:016x}", unique_suffix());
        let mut conn = PgConnection::connect_with(&options).await.map_err(db_err)?;
        conn.execute(AssertSqlSafe(format!("CREATE SCHEMA {}", quote_ident(&schema))))
            .await
            .map_err(db_err)?;
        conn.close().await.map_err(db_err)?;
        let store = Self::connect_with(options.options([("search_path", schema.as_str())])).await?;
        Ok((store, schema))
    }

    /// Drops a schema and everything in it (the cleanup of
    /// [`connect_fresh_schema`](Self::connect_fresh_schema)).
    pub async fn drop_schema(&self, name: &str) -> StoreResult<()> {
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(name));
        self.pool.execute(AssertSqlSafe(sql)).await.map_err(db_err)?;
        Ok(())
    }

    /// Closes the pool's connections (waits for checked-out ones to come back).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The underlying pool, for operational queries outside the [`Store`] trait.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Begins a write batch: a transaction holding the schema's writer lock.
    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // 0x52617070 = "Rapp"; the second key separates schemas sharing a database.
        sqlx::query("SELECT pg_advisory_xact_lock(1382117488, hashtext(current_schema()))")
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        Ok(tx)
    }
}

/// Commits a write batch, or rolls it back for a dry run.
async fn finish(tx: Transaction<'static, Postgres>, dry_run: bool) -> StoreResult<()> {
    if dry_run { tx.rollback().await } else { tx.commit().await }.map_err(db_err)
}

/// 64 bits that differ between processes, calls and runs, without a random-number dependency.
fn unique_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    h.write_u128(now.map(|d| d.as_nanos()).unwrap_or_default());
    h.finish()
}

/// Runs one write batch: begin (with the writer lock), `$body` on the connection, finish.
macro_rules! write_batch {
    ($self:ident, $o:expr, |$conn:ident| $body:expr) => {{
        let mut tx = $self.begin().await?;
        if $o.bulk {
            // A bulk load's commit need not wait for the WAL flush (see `IngestOptions::bulk`).
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        let out = {
            let $conn: &mut PgConnection = &mut tx;
            $body.await?
        };
        finish(tx, $o.dry_run).await?;
        Ok(out)
    }};
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn upsert_customers(
        &self,
        rows: Vec<Customer>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| customers::upsert_customers(c, &rows))
    }

    async fn upsert_companies(
        &self,
        rows: Vec<Company>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| customers::upsert_companies(c, &rows, o.create_only))
    }

    async fn upsert_products(
        &self,
        rows: Vec<Product>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| customers::upsert_products(c, &rows, o.create_only))
    }

    async fn ingest_orders(
        &self,
        groups: Vec<OrderGroup>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| orders::ingest(c, &groups, o))
    }

    async fn ingest_events(
        &self,
        rows: Vec<Event>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| activity::events(c, &rows, o))
    }

    async fn ingest_interactions(
        &self,
        rows: Vec<Interaction>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| activity::interactions(c, &rows, o))
    }

    async fn ingest_feedback(
        &self,
        rows: Vec<FeedbackRow>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| activity::feedback(c, &rows, o))
    }

    async fn ingest_consents(
        &self,
        rows: Vec<Consent>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| activity::consents(c, &rows, o))
    }

    async fn counts(&self) -> StoreResult<Counts> {
        read::counts(&self.pool).await
    }

    async fn customer_summary(&self, customer: &ExternalId) -> StoreResult<CustomerSummary> {
        read::customer_summary(&self.pool, customer).await
    }

    async fn purchase_day_chunks(
        &self,
    ) -> StoreResult<Vec<rapport_store::Chunks<rapport_store::PurchaseDay>>> {
        Ok(vec![read::purchase_day_chunks(self.pool.clone())])
    }

    async fn purchase_occasion_chunks(
        &self,
        from_day: Option<i64>,
    ) -> StoreResult<Vec<rapport_store::OccasionChunks>> {
        // One partition: PostgreSQL sorts and sends the rows from its own process.
        Ok(vec![read::purchase_occasion_chunks(self.pool.clone(), from_day)])
    }

    async fn ratings(&self, source: &str) -> StoreResult<Vec<rapport_store::Rating>> {
        read::ratings(&self.pool, source).await
    }

    async fn interaction_counts(
        &self,
        channel: rapport_core::Channel,
        since: rapport_core::Timestamp,
    ) -> StoreResult<Vec<(i64, u32)>> {
        read::interaction_counts(&self.pool, channel, since).await
    }

    async fn feedback_sentiment(
        &self,
        since: rapport_core::Timestamp,
    ) -> StoreResult<Vec<(i64, f64, u32)>> {
        read::feedback_sentiment(&self.pool, since).await
    }

    async fn purchase_histories(&self) -> StoreResult<Vec<rapport_store::PurchaseHistory>> {
        read::purchase_histories(&self.pool).await
    }

    async fn last_purchase_at(&self) -> StoreResult<Option<rapport_core::Timestamp>> {
        read::last_purchase_at(&self.pool).await
    }

    async fn activities(&self) -> StoreResult<Vec<rapport_store::CustomerActivity>> {
        read::activities(&self.pool).await
    }

    async fn customer_labels(
        &self,
        keys: &[i64],
    ) -> StoreResult<Vec<rapport_store::CustomerLabel>> {
        read::customer_labels(&self.pool, keys).await
    }

    async fn summaries(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<rapport_store::SummaryRow>> {
        read::summaries(&self.pool, after, limit).await
    }

    async fn verify_summaries(&self) -> StoreResult<Vec<SummaryMismatch>> {
        summary::verify(&self.pool).await
    }

    async fn refresh_statistics(&self) -> StoreResult<()> {
        self.pool.execute("ANALYZE").await.map_err(db_err)?;
        Ok(())
    }

    async fn event_times(&self, names: &[String]) -> StoreResult<Vec<rapport_store::EventTime>> {
        segment::event_times(&self.pool, names).await
    }

    async fn export(
        &self,
        kind: Kind,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<Record>> {
        read::export(&self.pool, kind, after, limit).await
    }

    async fn customers(&self, q: &CustomerQuery) -> StoreResult<ListPage<CustomerListItem>> {
        view::customers(&self.pool, q).await
    }

    async fn customer_by_email(&self, email: &str) -> StoreResult<Option<ExternalId>> {
        view::customer_by_email(&self.pool, email).await
    }

    async fn customer(&self, id: &ExternalId) -> StoreResult<CustomerView> {
        view::customer(&self.pool, id).await
    }

    async fn timeline(
        &self,
        id: &ExternalId,
        after: Option<&TimelineCursor>,
        limit: usize,
    ) -> StoreResult<Vec<TimelineItem>> {
        view::timeline(&self.pool, id, after, limit).await
    }

    /// A write like any batch (the writer lock): erasure takes the customer's orders and
    /// activity with it, and must not interleave with a batch recomputing their summary.
    async fn delete_customer(&self, id: &ExternalId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        view::delete_customer(&mut tx, id).await?;
        finish(tx, false).await
    }

    async fn records(&self, q: &RecordQuery) -> StoreResult<ListPage<Entity>> {
        records::list(&self.pool, q).await
    }

    async fn record(&self, kind: Kind, id: &ExternalId) -> StoreResult<Entity> {
        records::one(&self.pool, kind, id).await
    }

    /// A write like any batch (the writer lock): it recomputes a summary.
    async fn delete_record(&self, kind: Kind, id: &ExternalId) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        records::delete(&mut tx, kind, id).await?;
        finish(tx, false).await
    }

    async fn replace_order(
        &self,
        group: OrderGroup,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        write_batch!(self, o, |c| records::replace_order(c, &group, o))
    }
}

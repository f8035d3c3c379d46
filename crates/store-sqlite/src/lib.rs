//! SQLite implementation of the Rapport [`Store`]: the embedded default (`./rapport.db`).
//!
//! One writer connection in WAL mode. SQLite work is synchronous and fast (microseconds per
//! statement), so each call runs a whole batch on a blocking thread inside one transaction
//! rather than awaiting per statement.

mod activity;
mod customers;
mod orders;
mod read;
mod resolve;
mod summary;

use async_trait::async_trait;
use rapport_core::record::FeedbackRow;
use rapport_core::{
    Company, Consent, Customer, CustomerSummary, Event, ExternalId, Interaction, Product,
};
use rapport_store::{
    Counts, IngestOptions, Kind, OrderGroup, Page, Record, RowOutcome, Store, StoreError,
    StoreResult, SummaryMismatch,
};
use rusqlite::{Connection, Transaction};
use std::path::Path;
use std::sync::{Arc, Mutex};

const MIGRATIONS: &[(i64, &str, &str)] =
    &[(1, "init", include_str!("../migrations/0001_init.sql"))];

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ => StoreError::other(e),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<SqliteStore> {
        let mut conn = Connection::open(path).map_err(db_err)?;
        // WAL: readers never block the writer. synchronous=NORMAL is durable against process
        // crashes (a SIGKILL loses nothing committed); only an OS crash can lose the last commits.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 10000;
             PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(db_err)?;
        migrate(&mut conn)?;
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` on a blocking thread with the connection.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(StoreError::other)?
    }

    /// Runs a write batch in one transaction: committed, or rolled back for a dry run.
    async fn write<T: Send + 'static>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.run(move |c| {
            let tx = c.transaction().map_err(db_err)?;
            let out = f(&tx)?;
            if dry_run { tx.rollback() } else { tx.commit() }.map_err(db_err)?;
            Ok(out)
        })
        .await
    }
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .map_err(db_err)?;
    let tx = conn.transaction().map_err(db_err)?;
    let current: i64 = tx
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(db_err)?;
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tracing::info!(version, name, "applying SQLite migration");
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, datetime('now'))",
            (version, name),
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn upsert_customers(
        &self,
        rows: Vec<Customer>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        self.write(o.dry_run, move |tx| customers::upsert_customers(tx, &rows)).await
    }

    async fn upsert_companies(
        &self,
        rows: Vec<Company>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        self.write(o.dry_run, move |tx| customers::upsert_companies(tx, &rows)).await
    }

    async fn upsert_products(
        &self,
        rows: Vec<Product>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        self.write(o.dry_run, move |tx| customers::upsert_products(tx, &rows)).await
    }

    async fn ingest_orders(
        &self,
        groups: Vec<OrderGroup>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let o = o.clone();
        self.write(o.dry_run, move |tx| orders::ingest(tx, &groups, &o)).await
    }

    async fn ingest_events(
        &self,
        rows: Vec<Event>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let o = o.clone();
        self.write(o.dry_run, move |tx| activity::events(tx, &rows, &o)).await
    }

    async fn ingest_interactions(
        &self,
        rows: Vec<Interaction>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let o = o.clone();
        self.write(o.dry_run, move |tx| activity::interactions(tx, &rows, &o)).await
    }

    async fn ingest_feedback(
        &self,
        rows: Vec<FeedbackRow>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let o = o.clone();
        self.write(o.dry_run, move |tx| activity::feedback(tx, &rows, &o)).await
    }

    async fn ingest_consents(
        &self,
        rows: Vec<Consent>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let o = o.clone();
        self.write(o.dry_run, move |tx| activity::consents(tx, &rows, &o)).await
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.run(read::counts).await
    }

    async fn customer_summary(&self, customer: &ExternalId) -> StoreResult<CustomerSummary> {
        let customer = customer.clone();
        self.run(move |c| read::customer_summary(c, &customer)).await
    }

    async fn summaries(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<(ExternalId, CustomerSummary)>> {
        self.run(move |c| read::summaries(c, after, limit)).await
    }

    async fn verify_summaries(&self) -> StoreResult<Vec<SummaryMismatch>> {
        self.run(summary::verify).await
    }

    async fn export(
        &self,
        kind: Kind,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<Record>> {
        self.run(move |c| read::export(c, kind, after, limit)).await
    }
}

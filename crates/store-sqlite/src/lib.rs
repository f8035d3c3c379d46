//! SQLite implementation of the Rapport [`Store`]: the embedded default (`./rapport.db`).
//!
//! One writer connection in WAL mode. SQLite work is synchronous and fast, so each call runs a
//! whole batch on a blocking thread in one transaction rather than awaiting per statement.

mod access;
mod activity;
mod campaign;
mod customers;
mod idea;
mod idempotency;
mod inbox;
mod journey;
mod loyalty;
mod migrate;
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
use chrono::Utc;
use rapport_core::Timestamp;
use rapport_core::access::{
    ApiKey, HookKind, Login, NewApiKey, NewUser, NewWebhookSource, Session, SourceName, User,
    WebhookSource,
};
use rapport_core::record::FeedbackRow;
use rapport_core::{
    Company, Consent, Customer, CustomerSummary, Event, ExternalId, Interaction, Product,
};
use rapport_store::{
    AccessStore, Claimed, Counts, CustomerListItem, CustomerQuery, CustomerView, Entity,
    IdempotencyClaim, IdempotencyStore, IngestOptions, Kind, ListPage, OrderGroup, Page, Record,
    RecordQuery, RowOutcome, Store, StoreError, StoreResult, StoredResponse, SummaryMismatch,
    TimelineCursor, TimelineItem,
};
use rusqlite::{Connection, Transaction};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc::{Receiver, Sender};

/// Read connections: at most this many reads run at once, each on its own connection, kept
/// open for reuse. A fixed pool bounds memory (each connection has its own page cache) and
/// spares opening connections under load; more concurrent reads than cores gain nothing.
const READERS: usize = 8;

#[derive(Clone)]
pub struct SqliteStore {
    /// The one writer: SQLite serialises writers anyway, and one connection lets batches reuse
    /// cached statements.
    conn: Arc<Mutex<Connection>>,
    /// Idle read-only connections. In WAL mode readers see the last commit and never wait for
    /// the writer, so the server's pages stay fast during an import.
    readers: Arc<Mutex<Vec<Connection>>>,
    /// One permit per read connection; a read waits (asynchronously) for one.
    read_permits: Arc<tokio::sync::Semaphore>,
    path: Arc<std::path::PathBuf>,
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
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path).map_err(db_err)?;
        // WAL: readers never block the writer. synchronous=FULL: a commit is on disk when it
        // returns (bulk loads relax this per batch, see `ingest`).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = ON;
             PRAGMA busy_timeout = 10000;
             PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY;",
        )
        .map_err(db_err)?;
        // An order ingest cycles ~20 statements: the default cache (16) would re-prepare some.
        conn.set_prepared_statement_cache_capacity(64);
        migrate::migrate(&mut conn)?;
        let scored = activity::backfill_sentiment(&mut conn)?;
        if scored > 0 {
            tracing::info!(scored, "scored the sentiment of feedback stored before it was kept");
        }
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            readers: Arc::new(Mutex::new(Vec::new())),
            read_permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
            path: Arc::new(path),
        })
    }

    /// A read-only connection with an 8 MB page cache (the file's pages are in the OS cache
    /// anyway; [`READERS`] of them bound the server's memory).
    fn open_reader(&self) -> StoreResult<Connection> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&*self.path, flags).map_err(db_err)?;
        conn.execute_batch("PRAGMA busy_timeout = 10000; PRAGMA cache_size = -8192;")
            .map_err(db_err)?;
        Ok(conn)
    }

    /// Runs `f` with an idle reader connection (or a new one) on this thread.
    fn on_reader<T>(&self, f: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let idle = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => self.open_reader()?,
        };
        let out = f(&conn);
        self.readers.lock().unwrap_or_else(|p| p.into_inner()).push(conn);
        out
    }

    /// Starts a read that sends its rows in chunks, on a blocking thread with a pooled
    /// read-only connection, and returns the receiving end at once. The read stops early when
    /// the receiver is dropped; an error arrives as the last item.
    async fn read_chunks<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &Sender<StoreResult<T>>) -> StoreResult<()> + Send + 'static,
    ) -> StoreResult<Receiver<StoreResult<T>>> {
        let this = self.clone();
        let permit = self.read_permits.clone().acquire_owned().await.map_err(StoreError::other)?;
        // A few chunks of slack, so the reader runs ahead of the report while it folds.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            if let Err(e) = this.on_reader(|c| f(c, &tx)) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        Ok(rx)
    }

    /// Starts `scan` over two halves of the customer keys, each on its own connection: the
    /// scan of an index is SQLite's own work on one core, so halving it nearly halves the wait
    /// at ten million orders. One channel of chunks per half, in key order.
    async fn read_halves<T: Send + 'static>(
        &self,
        scan: impl Fn(&Connection, i64, i64, &Sender<StoreResult<Vec<T>>>) -> StoreResult<()>
        + Clone
        + Send
        + 'static,
    ) -> StoreResult<Vec<rapport_store::Chunks<T>>> {
        let Some((lo, hi)) = self.read(read::customer_key_range).await? else {
            return Ok(Vec::new());
        };
        let mid = lo + (hi - lo) / 2;
        let mut out = Vec::new();
        for (from, to) in [(lo, mid), (mid + 1, hi)] {
            let scan = scan.clone();
            out.push(self.read_chunks(move |c, tx| scan(c, from, to, tx)).await?);
        }
        Ok(out)
    }

    /// Runs a read on a blocking thread with a pooled read-only connection.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let this = self.clone();
        let permit = self.read_permits.clone().acquire_owned().await.map_err(StoreError::other)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            this.on_reader(f)
        })
        .await
        .map_err(StoreError::other)?
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

    /// Runs an ingest batch: [`write`](Self::write), with a bulk load's commits not waiting for
    /// the disk (synchronous=NORMAL: still safe against a killed process, a re-run completes
    /// what a power cut lost).
    async fn ingest<T: Send + 'static>(
        &self,
        o: &IngestOptions,
        f: impl FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (dry_run, bulk) = (o.dry_run, o.bulk);
        self.run(move |c| {
            if bulk {
                c.execute_batch("PRAGMA synchronous = NORMAL").map_err(db_err)?;
            }
            let out = write_tx(c, dry_run, f);
            if bulk {
                c.execute_batch("PRAGMA synchronous = FULL").map_err(db_err)?;
            }
            out
        })
        .await
    }

    /// Runs a write batch in one transaction: committed, or rolled back for a dry run.
    async fn write<T: Send + 'static>(
        &self,
        dry_run: bool,
        f: impl FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        self.run(move |c| write_tx(c, dry_run, f)).await
    }
}

fn write_tx<T>(
    c: &mut Connection,
    dry_run: bool,
    f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>,
) -> StoreResult<T> {
    let tx = c.transaction().map_err(db_err)?;
    let out = f(&tx)?;
    if dry_run { tx.rollback() } else { tx.commit() }.map_err(db_err)?;
    Ok(out)
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
        self.ingest(o, move |tx| customers::upsert_customers(tx, &rows)).await
    }

    async fn upsert_companies(
        &self,
        rows: Vec<Company>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let create_only = o.create_only;
        self.ingest(o, move |tx| customers::upsert_companies(tx, &rows, create_only)).await
    }

    async fn upsert_products(
        &self,
        rows: Vec<Product>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let create_only = o.create_only;
        self.ingest(o, move |tx| customers::upsert_products(tx, &rows, create_only)).await
    }

    async fn ingest_orders(
        &self,
        groups: Vec<OrderGroup>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let opts = o.clone();
        self.ingest(o, move |tx| orders::ingest(tx, &groups, &opts)).await
    }

    async fn ingest_events(
        &self,
        rows: Vec<Event>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let opts = o.clone();
        self.ingest(o, move |tx| activity::events(tx, &rows, &opts)).await
    }

    async fn ingest_interactions(
        &self,
        rows: Vec<Interaction>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let opts = o.clone();
        self.ingest(o, move |tx| activity::interactions(tx, &rows, &opts)).await
    }

    async fn ingest_feedback(
        &self,
        rows: Vec<FeedbackRow>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let opts = o.clone();
        self.ingest(o, move |tx| activity::feedback(tx, &rows, &opts)).await
    }

    async fn ingest_consents(
        &self,
        rows: Vec<Consent>,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let opts = o.clone();
        self.ingest(o, move |tx| activity::consents(tx, &rows, &opts)).await
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.run(read::counts).await
    }

    async fn customer_summary(&self, customer: &ExternalId) -> StoreResult<CustomerSummary> {
        let customer = customer.clone();
        self.run(move |c| read::customer_summary(c, &customer)).await
    }

    async fn purchase_day_chunks(
        &self,
    ) -> StoreResult<Vec<rapport_store::Chunks<rapport_store::PurchaseDay>>> {
        self.read_halves(read::purchase_days).await
    }

    async fn purchase_occasion_chunks(
        &self,
        from_day: Option<i64>,
    ) -> StoreResult<Vec<rapport_store::OccasionChunks>> {
        self.read_halves(move |c, lo, hi, tx| read::purchase_occasions(c, from_day, lo, hi, tx))
            .await
    }

    async fn ratings(&self, source: &str) -> StoreResult<Vec<rapport_store::Rating>> {
        let source = source.to_string();
        self.read(move |c| read::ratings(c, &source)).await
    }

    async fn interaction_counts(
        &self,
        channel: rapport_core::Channel,
        since: rapport_core::Timestamp,
    ) -> StoreResult<Vec<(i64, u32)>> {
        self.read(move |c| read::interaction_counts(c, channel, since)).await
    }

    async fn feedback_sentiment(
        &self,
        since: rapport_core::Timestamp,
    ) -> StoreResult<Vec<(i64, f64, u32)>> {
        self.read(move |c| read::feedback_sentiment(c, since)).await
    }

    async fn purchase_histories(&self) -> StoreResult<Vec<rapport_store::PurchaseHistory>> {
        self.read(read::purchase_histories).await
    }

    async fn last_purchase_at(&self) -> StoreResult<Option<rapport_core::Timestamp>> {
        self.read(read::last_purchase_at).await
    }

    async fn activities(&self) -> StoreResult<Vec<rapport_store::CustomerActivity>> {
        self.read(read::activities).await
    }

    async fn customer_labels(
        &self,
        keys: &[i64],
    ) -> StoreResult<Vec<rapport_store::CustomerLabel>> {
        let keys = keys.to_vec();
        self.read(move |c| read::customer_labels(c, &keys)).await
    }

    async fn summaries(
        &self,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<rapport_store::SummaryRow>> {
        self.read(move |c| read::summaries(c, after, limit)).await
    }

    async fn verify_summaries(&self) -> StoreResult<Vec<SummaryMismatch>> {
        self.run(summary::verify).await
    }

    async fn event_times(&self, names: &[String]) -> StoreResult<Vec<rapport_store::EventTime>> {
        let names = names.to_vec();
        self.read(move |c| segment::event_times(c, &names)).await
    }

    async fn export(
        &self,
        kind: Kind,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<Record>> {
        self.run(move |c| read::export(c, kind, after, limit)).await
    }

    async fn customers(&self, q: &CustomerQuery) -> StoreResult<ListPage<CustomerListItem>> {
        let q = q.clone();
        self.read(move |c| view::customers(c, &q)).await
    }

    async fn customer_by_email(&self, email: &str) -> StoreResult<Option<ExternalId>> {
        let email = email.to_string();
        self.read(move |c| view::customer_by_email(c, &email)).await
    }

    async fn customer(&self, id: &ExternalId) -> StoreResult<CustomerView> {
        let id = id.clone();
        self.read(move |c| view::customer(c, &id)).await
    }

    async fn timeline(
        &self,
        id: &ExternalId,
        after: Option<&TimelineCursor>,
        limit: usize,
    ) -> StoreResult<Vec<TimelineItem>> {
        let (id, after) = (id.clone(), after.cloned());
        self.read(move |c| view::timeline(c, &id, after.as_ref(), limit)).await
    }

    async fn delete_customer(&self, id: &ExternalId) -> StoreResult<()> {
        let id = id.clone();
        self.write(false, move |tx| view::delete_customer(tx, &id)).await
    }

    async fn records(&self, q: &RecordQuery) -> StoreResult<ListPage<Entity>> {
        let q = q.clone();
        self.read(move |c| records::list(c, &q)).await
    }

    async fn record(&self, kind: Kind, id: &ExternalId) -> StoreResult<Entity> {
        let id = id.clone();
        self.read(move |c| records::one(c, kind, &id)).await
    }

    async fn delete_record(&self, kind: Kind, id: &ExternalId) -> StoreResult<()> {
        let id = id.clone();
        self.write(false, move |tx| records::delete(tx, kind, &id)).await
    }

    async fn replace_order(
        &self,
        group: OrderGroup,
        o: &IngestOptions,
    ) -> StoreResult<Vec<RowOutcome>> {
        let o = o.clone();
        self.write(o.dry_run, move |tx| records::replace_order(tx, &group, &o)).await
    }
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        self.run(move |c| access::create_user(c, &user, Utc::now())).await
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        self.read(access::users).await
    }

    async fn user_credentials(&self, login: &Login) -> StoreResult<Option<(User, String)>> {
        let login = login.clone();
        self.read(move |c| access::user_credentials(c, &login)).await
    }

    async fn remove_user(&self, login: &Login) -> StoreResult<()> {
        let login = login.clone();
        self.run(move |c| access::remove_user(c, &login)).await
    }

    async fn create_session(
        &self,
        token_digest: &str,
        user_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let (d, csrf) = (token_digest.to_string(), csrf.to_string());
        self.run(move |c| access::create_session(c, &d, user_id, &csrf, expires_at)).await
    }

    async fn session(&self, token_digest: &str, now: Timestamp) -> StoreResult<Option<Session>> {
        let d = token_digest.to_string();
        self.read(move |c| access::session(c, &d, now)).await
    }

    async fn delete_session(&self, token_digest: &str) -> StoreResult<()> {
        let d = token_digest.to_string();
        self.run(move |c| access::delete_session(c, &d)).await
    }

    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<ApiKey> {
        self.run(move |c| access::create_api_key(c, &key, Utc::now())).await
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.read(access::api_keys).await
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<(ApiKey, String)>> {
        let p = prefix.to_string();
        self.read(move |c| access::api_key_by_prefix(c, &p)).await
    }

    async fn touch_api_key(&self, id: i64, at: Timestamp) -> StoreResult<()> {
        self.run(move |c| access::touch_api_key(c, id, at)).await
    }

    async fn revoke_api_key(&self, id: i64, at: Timestamp) -> StoreResult<()> {
        self.run(move |c| access::revoke_api_key(c, id, at)).await
    }

    async fn create_webhook_source(&self, source: NewWebhookSource) -> StoreResult<WebhookSource> {
        self.run(move |c| access::create_webhook_source(c, &source, Utc::now())).await
    }

    async fn webhook_sources(&self) -> StoreResult<Vec<WebhookSource>> {
        self.read(access::webhook_sources).await
    }

    async fn webhook_secret(
        &self,
        kind: HookKind,
        name: &SourceName,
    ) -> StoreResult<Option<String>> {
        let name = name.clone();
        self.read(move |c| access::webhook_secret(c, kind, &name)).await
    }

    async fn set_webhook_notify_url(
        &self,
        kind: HookKind,
        name: &SourceName,
        url: Option<&str>,
    ) -> StoreResult<()> {
        let (name, url) = (name.clone(), url.map(str::to_string));
        self.run(move |c| access::set_webhook_notify_url(c, kind, &name, url.as_deref())).await
    }

    async fn revoke_webhook_source(
        &self,
        kind: HookKind,
        name: &SourceName,
        at: Timestamp,
    ) -> StoreResult<()> {
        let name = name.clone();
        self.run(move |c| access::revoke_webhook_source(c, kind, &name, at)).await
    }
}

#[async_trait]
impl IdempotencyStore for SqliteStore {
    async fn claim_idempotency_key(&self, claim: &IdempotencyClaim) -> StoreResult<Claimed> {
        let claim = claim.clone();
        self.run(move |c| idempotency::claim(c, &claim)).await
    }

    async fn complete_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        response: &StoredResponse,
    ) -> StoreResult<()> {
        let (p, k, r) = (principal.to_string(), key.to_string(), response.clone());
        self.run(move |c| idempotency::complete(c, &p, &k, &r)).await
    }

    async fn release_idempotency_key(&self, principal: &str, key: &str) -> StoreResult<()> {
        let (p, k) = (principal.to_string(), key.to_string());
        self.run(move |c| idempotency::release(c, &p, &k)).await
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> StoreResult<u64> {
        self.run(move |c| idempotency::purge(c, before)).await
    }
}

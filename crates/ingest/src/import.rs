//! The import pipeline: a reader thread parses rows into batches; the caller's task hands each
//! batch to the store (one transaction per batch) and accounts for every row.

use crate::error::IngestError;
use crate::mapping::{ColumnRef, Mapping};
use crate::source::{self, Delimiter, Format, RawRow, Rows};
use rapport_core::FieldError;
use rapport_core::record::{self as rec, ParseOptions};
use rapport_store::{IngestOptions, Kind, OrderGroup, RowOutcome, Store};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub kind: Kind,
    pub format: Option<Format>,
    pub delimiter: Option<Delimiter>,
    pub has_header: bool,
    pub map: Vec<(String, ColumnRef)>,
    pub parse: ParseOptions,
    pub ingest: IngestOptions,
    /// Where rejected rows go; created only if a row is rejected.
    pub rejects: PathBuf,
    /// Rows per store transaction.
    pub batch_rows: usize,
}

/// The accounting of an import: read = inserted + updated + unchanged + rejected, always.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejects_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
}

enum Payload {
    Customers(Vec<rapport_core::Customer>),
    Companies(Vec<rapport_core::Company>),
    Products(Vec<rapport_core::Product>),
    Orders(Vec<OrderGroup>),
    Events(Vec<rapport_core::Event>),
    Interactions(Vec<rapport_core::Interaction>),
    Feedback(Vec<rec::FeedbackRow>),
    Consents(Vec<rapport_core::Consent>),
}

/// One batch: the parsed rows (in `rows` order), the rows that failed to parse, and the
/// raw rows behind `payload` for the rejects file.
struct Batch {
    header: Vec<String>,
    raw: Vec<RawRow>,
    failed: Vec<(RawRow, FieldError)>,
    payload: Payload,
}

/// Rows written by one import from which the store's planner statistics are refreshed.
const STATISTICS_AFTER: u64 = 10_000;

pub async fn import(
    store: &dyn Store,
    path: &Path,
    o: &ImportOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, IngestError> {
    let bytes = Arc::new(AtomicU64::new(0));
    let (format, delim) = source::detect(path);
    let format = o.format.unwrap_or(format);
    let input = source::open(path, bytes.clone())?;
    let rows = source::rows(input, format, o.delimiter.unwrap_or(delim), o.has_header)?;
    let mut mapping = Mapping::new(o.kind.fields(), o.map.clone())?;
    mapping.resolve(rows.header(), o.has_header && format == Format::Delimited)?;

    let (tx, mut rx) = mpsc::channel::<Result<Batch, IngestError>>(2);
    let opts = o.clone();
    let reader = std::thread::spawn(move || read_batches(rows, mapping, &opts, &tx));
    let mut report = ImportReport::default();
    let mut rejects = Rejects::new(o.rejects.clone());
    while let Some(batch) = rx.recv().await {
        let batch = batch?;
        store_batch(store, batch, o, &mut report, &mut rejects).await?;
        progress(Progress { rows: report.read, bytes: bytes.load(Ordering::Relaxed) });
    }
    reader.join().map_err(|_| IngestError::Read("the reader thread panicked".into()))?;
    report.rejects_file = rejects.finish()?;
    // A load this size changes what the planner should choose; a few rows do not.
    if report.inserted + report.updated >= STATISTICS_AFTER {
        store.refresh_statistics().await?;
    }
    Ok(report)
}

async fn store_batch(
    store: &dyn Store,
    b: Batch,
    o: &ImportOptions,
    report: &mut ImportReport,
    rejects: &mut Rejects,
) -> Result<(), IngestError> {
    report.read += (b.raw.len() + b.failed.len()) as u64;
    for (raw, e) in &b.failed {
        rejects.write(&b.header, raw, e)?;
        report.rejected += 1;
    }
    let i = &o.ingest;
    let outcomes = match b.payload {
        Payload::Customers(v) => store.upsert_customers(v, i).await?,
        Payload::Companies(v) => store.upsert_companies(v, i).await?,
        Payload::Products(v) => store.upsert_products(v, i).await?,
        Payload::Orders(v) => store.ingest_orders(v, i).await?,
        Payload::Events(v) => store.ingest_events(v, i).await?,
        Payload::Interactions(v) => store.ingest_interactions(v, i).await?,
        Payload::Feedback(v) => store.ingest_feedback(v, i).await?,
        Payload::Consents(v) => store.ingest_consents(v, i).await?,
    };
    debug_assert_eq!(outcomes.len(), b.raw.len());
    for (raw, outcome) in b.raw.iter().zip(outcomes) {
        match outcome {
            RowOutcome::Inserted => report.inserted += 1,
            RowOutcome::Updated => report.updated += 1,
            // Imports never create-only, so an existing id is an upsert's "unchanged".
            RowOutcome::Unchanged | RowOutcome::Exists => report.unchanged += 1,
            RowOutcome::Rejected(e) => {
                rejects.write(&b.header, raw, &e)?;
                report.rejected += 1;
            }
        }
    }
    Ok(())
}

/// Reader thread: parses rows and sends batches; stops early if the receiver is gone.
fn read_batches(
    mut rows: Box<dyn Rows>,
    mut mapping: Mapping,
    o: &ImportOptions,
    tx: &mpsc::Sender<Result<Batch, IngestError>>,
) {
    let mut b = Builder::new(o.kind);
    while let Some(next) = rows.next_row() {
        let raw = match next {
            Ok(raw) => raw,
            Err((line, why)) => {
                b.failed.push((RawRow { line, cells: Vec::new() }, FieldError::new("row", why)));
                continue;
            }
        };
        if let Err(e) = mapping.resolve(rows.columns_now(), false) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        b.add(&mapping, raw, &o.parse);
        if b.len() - b.open_len() >= o.batch_rows {
            let batch = b.take(rows.columns_now());
            if tx.blocking_send(Ok(batch)).is_err() {
                return;
            }
        }
    }
    b.orders.close();
    let _ = tx.blocking_send(Ok(b.take(rows.columns_now())));
}

/// Accumulates one batch; order rows go through an [`OrderGrouper`].
struct Builder {
    kind: Kind,
    raw: Vec<RawRow>,
    failed: Vec<(RawRow, FieldError)>,
    items: Vec<Item>,
    orders: OrderGrouper,
}

enum Item {
    Customer(rapport_core::Customer),
    Company(rapport_core::Company),
    Product(rapport_core::Product),
    Event(rapport_core::Event),
    Interaction(rapport_core::Interaction),
    Feedback(rec::FeedbackRow),
    Consent(rapport_core::Consent),
}

impl Builder {
    fn new(kind: Kind) -> Builder {
        Builder {
            kind,
            raw: Vec::new(),
            failed: Vec::new(),
            items: Vec::new(),
            orders: OrderGrouper::new(),
        }
    }

    fn len(&self) -> usize {
        self.raw.len() + self.failed.len()
    }

    /// Rows of the order group still being read (they wait for the next batch).
    fn open_len(&self) -> usize {
        self.orders.open_len()
    }

    fn add(&mut self, m: &Mapping, raw: RawRow, p: &ParseOptions) {
        let f = m.row(&raw.cells);
        let parsed = match self.kind {
            Kind::Customers => rec::parse_customer(&f, p).map(Item::Customer),
            Kind::Companies => rec::parse_company(&f, p).map(Item::Company),
            Kind::Products => rec::parse_product(&f, p).map(Item::Product),
            Kind::Events => rec::parse_event(&f, p).map(Item::Event),
            Kind::Interactions => rec::parse_interaction(&f, p).map(Item::Interaction),
            Kind::Feedback => rec::parse_feedback(&f, p).map(Item::Feedback),
            Kind::Consents => rec::parse_consent(&f, p).map(Item::Consent),
            Kind::Orders => match rec::parse_order_row(&f, p) {
                Ok(row) => {
                    self.orders.push(row);
                    self.raw.push(raw);
                    return;
                }
                Err(e) => Err(e),
            },
        };
        match parsed {
            Ok(item) => {
                self.items.push(item);
                self.raw.push(raw);
            }
            Err(e) => self.failed.push((raw, e)),
        }
    }

    fn take(&mut self, header: &[String]) -> Batch {
        let items = std::mem::take(&mut self.items);
        macro_rules! only {
            ($v:ident) => {
                items
                    .into_iter()
                    .filter_map(|i| if let Item::$v(x) = i { Some(x) } else { None })
                    .collect()
            };
        }
        let payload = match self.kind {
            Kind::Customers => Payload::Customers(only!(Customer)),
            Kind::Companies => Payload::Companies(only!(Company)),
            Kind::Products => Payload::Products(only!(Product)),
            Kind::Orders => Payload::Orders(self.orders.take()),
            Kind::Events => Payload::Events(only!(Event)),
            Kind::Interactions => Payload::Interactions(only!(Interaction)),
            Kind::Feedback => Payload::Feedback(only!(Feedback)),
            Kind::Consents => Payload::Consents(only!(Consent)),
        };
        // The open order group is still growing: its rows (the last ones read) go with it into
        // the next batch.
        let keep = self.open_len();
        let carried = self.raw.split_off(self.raw.len() - keep);
        Batch {
            header: header.to_vec(),
            raw: std::mem::replace(&mut self.raw, carried),
            failed: std::mem::take(&mut self.failed),
            payload,
        }
    }
}

/// Groups order rows the way every ingest path must, so that re-sending the same rows maps every
/// line onto itself: contiguous rows of one order form an [`OrderGroup`]; an order whose rows
/// reappear later (or whose group was split) continues its line numbering. `lines_seen` is keyed
/// by a 64-bit hash of the order id: 16 bytes per order, not the id itself.
#[derive(Debug)]
pub struct OrderGrouper {
    groups: Vec<OrderGroup>,
    open: Option<OrderGroup>,
    lines_seen: HashMap<u64, u32>,
    max_group: usize,
}

impl Default for OrderGrouper {
    fn default() -> Self {
        OrderGrouper::new()
    }
}

impl OrderGrouper {
    pub fn new() -> OrderGrouper {
        OrderGrouper {
            groups: Vec::new(),
            open: None,
            lines_seen: HashMap::new(),
            max_group: 10_000,
        }
    }

    /// Adds the next row in input order.
    pub fn push(&mut self, row: rec::OrderRow) {
        if self
            .open
            .as_ref()
            .is_some_and(|g| g.order != row.order || g.rows.len() >= self.max_group)
        {
            self.close();
        }
        match &mut self.open {
            Some(g) => g.rows.push(row),
            None => {
                let seen = self.lines_seen.get(&key(&row.order)).copied().unwrap_or(0);
                self.open = Some(OrderGroup {
                    order: row.order.clone(),
                    first_line_no: seen + 1,
                    rows: vec![row],
                });
            }
        }
    }

    /// Rows of the group still being read (the last rows pushed).
    pub fn open_len(&self) -> usize {
        self.open.as_ref().map_or(0, |g| g.rows.len())
    }

    /// Ends the open group: the next row starts a new one even if it is of the same order.
    pub fn close(&mut self) {
        if let Some(g) = self.open.take() {
            let lines = g.rows.iter().filter(|r| r.line.is_some()).count() as u32;
            *self.lines_seen.entry(key(&g.order)).or_default() += lines;
            self.groups.push(g);
        }
    }

    /// The closed groups so far, in input order (the open group stays open).
    pub fn take(&mut self) -> Vec<OrderGroup> {
        std::mem::take(&mut self.groups)
    }

    /// Every group, in input order: their rows, flattened, are the rows pushed.
    pub fn finish(mut self) -> Vec<OrderGroup> {
        self.close();
        self.groups
    }
}

fn key(id: &rapport_core::ExternalId) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_str().as_bytes())
}

/// The rejects file: `line,field,reason` then the row's original cells under its header.
struct Rejects {
    path: PathBuf,
    writer: Option<csv::Writer<std::fs::File>>,
}

impl Rejects {
    fn new(path: PathBuf) -> Rejects {
        Rejects { path, writer: None }
    }

    fn write(
        &mut self,
        header: &[String],
        raw: &RawRow,
        e: &FieldError,
    ) -> Result<(), IngestError> {
        let werr = |source| IngestError::Write {
            what: format!("rejects file {}", self.path.display()),
            source,
        };
        if self.writer.is_none() {
            let file = std::fs::File::create(&self.path).map_err(werr)?;
            let mut w = csv::WriterBuilder::new().flexible(true).from_writer(file);
            let cols = ["line", "field", "reason"]
                .into_iter()
                .map(str::to_string)
                .chain(header.iter().cloned());
            w.write_record(cols.collect::<Vec<_>>()).map_err(|e| werr(e.into()))?;
            self.writer = Some(w);
        }
        let w = self.writer.as_mut().expect("created above");
        let rec = [raw.line.to_string(), e.field.clone(), e.reason.clone()]
            .into_iter()
            .chain(raw.cells.iter().cloned());
        w.write_record(rec.collect::<Vec<_>>())
            .map_err(|e| IngestError::Write { what: "rejects file".into(), source: e.into() })
    }

    fn finish(self) -> Result<Option<PathBuf>, IngestError> {
        match self.writer {
            None => Ok(None),
            Some(mut w) => {
                w.flush()
                    .map_err(|source| IngestError::Write { what: "rejects file".into(), source })?;
                Ok(Some(self.path))
            }
        }
    }
}

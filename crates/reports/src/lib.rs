//! Report assembly: each report reads what it needs from the [`Store`] (the per-customer
//! summaries where they suffice, purchase occasions or ratings where they do not), runs the pure
//! analytics on it and returns a plain serialisable result. The CLI prints these as tables,
//! JSON or CSV; the server answers them as JSON and draws them on the dashboard, so both show
//! the same numbers.

pub mod analysis;
pub mod campaigns;
pub mod clusters;
pub mod clv;
pub mod health;
pub mod ideas;
pub mod journeys;
pub mod loyalty;
pub mod personas;
pub mod recommend;
pub mod retention;
pub mod rfm;
pub mod satisfaction;
pub mod saved_segments;
pub mod scorecard;
pub mod segments;
pub mod survey;
pub mod themes;

use chrono::NaiveDate;
use rapport_store::{Chunks, Store, StoreError, SummaryRow};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data holds nothing the report can be computed from (no purchases, say).
    #[error("no {0} to report on")]
    NoData(&'static str),
    /// A parameter contradicts another or the data: which one, and why.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
}

pub type ReportResult<T> = Result<T, ReportError>;

/// A report's rows with the day they are as of.
#[derive(Debug, Clone, Serialize)]
pub struct Dated<T: Serialize> {
    pub as_of: NaiveDate,
    pub rows: T,
}

/// Every customer summary, read a page at a time.
pub async fn all_summaries(store: &dyn Store) -> ReportResult<Vec<SummaryRow>> {
    let mut out = Vec::new();
    for_each_summary(store, |row| out.push(row)).await?;
    Ok(out)
}

/// Hands every customer summary to `f`, a page at a time, keeping none: for reports that
/// need a few numbers per customer, not a million full rows in memory.
pub async fn for_each_summary(
    store: &dyn Store,
    mut f: impl FnMut(SummaryRow),
) -> ReportResult<()> {
    let mut after = None;
    loop {
        let page = store.summaries(after, 20_000).await?;
        page.items.into_iter().for_each(&mut f);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(()),
        }
    }
}

/// Folds every purchase occasion from `from_day` into one `A` per partition of the customers
/// ([`Store::purchase_occasion_chunks`]): `f` sees each partition's occasions in (customer,
/// day) order.
pub async fn fold_occasions<A>(
    store: &dyn Store,
    from_day: Option<i64>,
    init: impl Fn() -> A,
    f: impl Fn(&mut A, i64, i64),
) -> ReportResult<Vec<A>> {
    let partitions = store.purchase_occasion_chunks(from_day).await?;
    fold_chunks(partitions, init, |acc, (customer, day)| f(acc, customer, day)).await
}

/// Folds streamed rows into one `A` per partition, the partitions concurrently, a chunk at a
/// time, so no more than a few chunks are in memory at once.
pub async fn fold_chunks<T, A>(
    partitions: Vec<Chunks<T>>,
    init: impl Fn() -> A,
    f: impl Fn(&mut A, T),
) -> ReportResult<Vec<A>> {
    let f = &f;
    let folds = partitions.into_iter().map(|mut chunks| {
        let mut acc = init();
        async move {
            while let Some(chunk) = chunks.recv().await {
                for row in chunk? {
                    f(&mut acc, row);
                }
            }
            Ok::<A, ReportError>(acc)
        }
    });
    futures_util::future::try_join_all(folds).await
}

/// The date of a UTC day number (days since 1970-01-01).
pub fn date(day: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).expect("a date") + chrono::Duration::days(day)
}

/// The UTC day number of a date.
pub fn day_number(d: NaiveDate) -> i64 {
    (d - date(0)).num_days()
}

/// Serialises an amount held as `f64` with two decimals, as money is shown everywhere.
pub(crate) fn cents<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((v * 100.0).round() / 100.0)
}

//! Rapport's analytics: pure computations on plain data (no I/O, no clock, seeded randomness).
//!
//! Reports read the per-customer summaries that stores keep current at ingest; [`summary`]
//! defines those summaries from scratch, which is both their specification and the reference the
//! stores are tested against.

pub mod bgnbd;
pub mod clv;
pub mod duplicates;
pub mod gammagamma;
pub mod health;
pub mod optim;
pub mod priority;
pub mod retention;
pub mod rfm;
pub mod satisfaction;
pub mod segment;
pub mod sentiment;
pub mod summary;
mod text;
pub mod themes;

/// Runs `f` on fixed chunks of `items` on scoped threads and returns the results in chunk
/// order. The chunking depends only on the number of items, never on the machine, so sums
/// combined in that order are the same everywhere (a fit must not depend on the core count).
pub(crate) fn in_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    const PARALLEL_FROM: usize = 20_000;
    const CHUNKS: usize = 4;
    if items.len() < PARALLEL_FROM {
        return vec![f(items)];
    }
    let size = items.len().div_ceil(CHUNKS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items.chunks(size).map(|c| scope.spawn(|| f(c))).collect();
        handles.into_iter().map(|h| h.join().expect("a worker thread panicked")).collect()
    })
}

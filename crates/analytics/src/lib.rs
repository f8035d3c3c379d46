//! Rapport's analytics: pure computations on plain data (no I/O, no clock, seeded randomness).
//!
//! Reports read the per-customer summaries that stores keep current at ingest; [`summary`]
//! defines those summaries from scratch, which is both their specification and the reference the
//! stores are tested against.

pub mod bgnbd;
pub mod campaign;
pub mod clv;
pub mod duplicates;
pub mod gammagamma;
pub mod health;
pub mod journey;
pub mod kmeans;
pub mod optim;
pub mod persona;
pub mod priority;
pub mod recommend;
pub mod retention;
pub mod rfm;
pub mod satisfaction;
pub mod scorecard;
pub mod segment;
pub mod sentiment;
pub mod summary;
pub mod text;
pub mod themes;

/// Below this many items, work runs on the calling thread.
const PARALLEL_FROM: usize = 20_000;
/// Items are split into this many chunks (fewer for small inputs), whatever the core count.
const CHUNKS: usize = 4;

/// The chunk length for `n` items: `n` itself (one chunk) below [`PARALLEL_FROM`].
fn chunk_len(n: usize) -> usize {
    if n < PARALLEL_FROM { n.max(1) } else { n.div_ceil(CHUNKS) }
}

/// Runs `f` on fixed chunks of `items` on scoped threads and returns the results in chunk
/// order. The chunking depends only on the number of items, never on the machine, so sums
/// combined in that order are the same everywhere (a fit must not depend on the core count).
pub(crate) fn in_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&[T]) -> R + Sync) -> Vec<R> {
    in_ranges(items.len(), |r| f(&items[r]))
}

/// [`in_chunks`] over the index range `0..n`: `f` gets each chunk's range of indices, for work
/// that reads several arrays (or the rows of a matrix) by index.
pub(crate) fn in_ranges<R: Send>(
    n: usize,
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    in_ranges_of(n, chunk_len(n), f)
}

/// [`in_ranges`] with the chunk length given, for work whose cost per item grows with `n`
/// (all pairs of a sample), which pays for threads below [`PARALLEL_FROM`] items.
pub(crate) fn in_ranges_of<R: Send>(
    n: usize,
    size: usize,
    f: impl Fn(std::ops::Range<usize>) -> R + Sync,
) -> Vec<R> {
    let size = size.max(1);
    if size >= n {
        return vec![f(0..n)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(size)
            .map(|start| {
                let f = &f;
                scope.spawn(move || f(start..(start + size).min(n)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a worker thread panicked")).collect()
    })
}

/// [`in_chunks`] with each chunk borrowed mutably; `f` also gets the index of the chunk's
/// first item. Same chunking as [`in_ranges`].
pub(crate) fn in_chunks_mut<T: Send, R: Send>(
    items: &mut [T],
    f: impl Fn(usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let size = chunk_len(items.len());
    if size >= items.len() {
        return vec![f(0, items)];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks_mut(size)
            .enumerate()
            .map(|(i, chunk)| {
                let f = &f;
                scope.spawn(move || f(i * size, chunk))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a worker thread panicked")).collect()
    })
}

//! Recently computed reports. A report reads every customer summary (a second or more at a
//! million customers), so the API and the dashboard share one result per report and parameters:
//!
//! - a result younger than the cache's `ttl` is served as is;
//! - an older one is still served at once, and one background task computes its replacement
//!   (stale-while-revalidate), so a page never waits for a recomputation it did not need;
//! - without a result, the first request computes it and concurrent requests for the same
//!   report wait for that one computation instead of starting their own.
//!
//! Responses say how old their figures are (`Age`).

use rapport_reports::ReportResult;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a computed report is served before a request triggers its recomputation.
pub const TTL: Duration = Duration::from_secs(60);

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
struct State {
    latest: Option<(Instant, Value)>,
    refreshing: bool,
}

type Slot = Arc<tokio::sync::Mutex<State>>;

pub struct ReportCache {
    ttl: Duration,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Default for ReportCache {
    fn default() -> Self {
        ReportCache::new(TTL)
    }
}

impl ReportCache {
    pub fn new(ttl: Duration) -> ReportCache {
        ReportCache { ttl, slots: Mutex::default() }
    }

    /// The report under `key` and when it was computed (see the module docs). An error is
    /// returned to the request that computed it and not stored.
    pub async fn get<T, F, Fut>(&self, key: String, compute: F) -> ReportResult<(Arc<T>, Instant)>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ReportResult<T>> + Send + 'static,
    {
        let slot = {
            let mut slots = self.slots.lock().expect("report cache lock");
            // Parameters come from requests: bound the number of distinct keys kept.
            if slots.len() > 256 {
                slots.clear();
            }
            slots.entry(key).or_default().clone()
        };
        let mut state = slot.lock().await;
        if let Some((at, v)) = state.latest.clone()
            && let Ok(t) = v.downcast::<T>()
        {
            if at.elapsed() >= self.ttl && !state.refreshing {
                state.refreshing = true;
                tokio::spawn(refresh(slot.clone(), compute));
            }
            return Ok((t, at));
        }
        let value = Arc::new(compute().await?);
        let at = Instant::now();
        state.latest = Some((at, value.clone() as Value));
        Ok((value, at))
    }

    /// Forgets every report (after an import, say), so the next request computes afresh.
    pub fn clear(&self) {
        self.slots.lock().expect("report cache lock").clear();
    }
}

/// Computes a replacement for a stale report; on failure the stale one stays.
async fn refresh<T, F, Fut>(slot: Slot, compute: F)
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = ReportResult<T>>,
{
    let result = compute().await;
    let mut state = slot.lock().await;
    state.refreshing = false;
    match result {
        Ok(v) => state.latest = Some((Instant::now(), Arc::new(v) as Value)),
        Err(e) => {
            tracing::warn!(error = %e, "a report could not be recomputed; serving the last one")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_computation_serves_concurrent_and_later_requests() {
        let cache = Arc::new(ReportCache::new(Duration::from_millis(200)));
        let runs = Arc::new(AtomicUsize::new(0));
        let ask = |cache: Arc<ReportCache>, runs: Arc<AtomicUsize>| async move {
            cache
                .get("k".into(), move || async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(42u32)
                })
                .await
                .unwrap()
                .0
        };
        let (a, b) =
            tokio::join!(ask(cache.clone(), runs.clone()), ask(cache.clone(), runs.clone()));
        assert_eq!((*a, *b, runs.load(Ordering::SeqCst)), (42, 42, 1));
        ask(cache.clone(), runs.clone()).await;
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Stale: served at once, recomputed once in the background.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let t0 = Instant::now();
        ask(cache.clone(), runs.clone()).await;
        ask(cache.clone(), runs.clone()).await;
        assert!(t0.elapsed() < Duration::from_millis(50), "the stale result did not wait");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        cache.clear();
        ask(cache.clone(), runs.clone()).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let failed: ReportResult<(Arc<u32>, Instant)> = cache
            .get("e".into(), || async { Err(rapport_reports::ReportError::NoData("purchases")) })
            .await;
        assert!(failed.is_err());
    }
}

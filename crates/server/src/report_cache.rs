//! Recently computed reports. A report reads every customer summary (a second or more at a
//! million customers), so the API and the dashboard share one result per report and parameters
//! for [`TTL`], and concurrent requests for the same report wait for one computation instead of
//! starting their own. Responses say how old their figures are (`Age`).

use rapport_reports::ReportResult;
use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a computed report is served before it is computed again.
pub const TTL: Duration = Duration::from_secs(60);

type Value = Arc<dyn Any + Send + Sync>;
type Slot = Arc<tokio::sync::Mutex<Option<(Instant, Value)>>>;

#[derive(Default)]
pub struct ReportCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl ReportCache {
    /// The report under `key` if computed within [`TTL`], else `compute`'s result (stored). An
    /// error is not stored. Returns the report and when it was computed.
    pub async fn get<T, F, Fut>(&self, key: String, compute: F) -> ReportResult<(Arc<T>, Instant)>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = ReportResult<T>>,
    {
        let slot = {
            let mut slots = self.slots.lock().expect("report cache lock");
            // Parameters come from requests: bound the number of distinct keys kept.
            if slots.len() > 256 {
                slots.clear();
            }
            slots.entry(key).or_default().clone()
        };
        let mut held = slot.lock().await;
        if let Some((at, v)) = held.as_ref()
            && at.elapsed() < TTL
            && let Ok(t) = v.clone().downcast::<T>()
        {
            return Ok((t, *at));
        }
        let value = Arc::new(compute().await?);
        let at = Instant::now();
        *held = Some((at, value.clone() as Value));
        Ok((value, at))
    }

    /// Forgets every report (after an import, say), so the next request computes afresh.
    pub fn clear(&self) {
        self.slots.lock().expect("report cache lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn one_computation_serves_concurrent_and_later_requests() {
        let cache = Arc::new(ReportCache::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let ask = |cache: Arc<ReportCache>, runs: Arc<AtomicUsize>| async move {
            cache
                .get("k".into(), || async {
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
        cache.clear();
        ask(cache.clone(), runs.clone()).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let failed: ReportResult<(Arc<u32>, Instant)> = cache
            .get("e".into(), || async { Err(rapport_reports::ReportError::NoData("purchases")) })
            .await;
        assert!(failed.is_err());
    }
}

//! The customers as a segment frame, held in memory so that a preview while typing evaluates
//! a filter on it (milliseconds at a million customers) instead of reading every customer
//! again (seconds). The frame is read again when it is older than [`FRESH`] or when a write
//! path marks it stale; the events of a name are read into it the first time a filter names
//! them. The background job refreshes the saved segments on the same frame.

use rapport_reports::ReportResult;
use rapport_reports::saved_segments::{self, Refreshed};
use rapport_reports::segments::{KeyedFrame, Needs, keyed_frame};
use rapport_store::Backend;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long a frame serves previews before the customers are read again.
pub const FRESH: Duration = Duration::from_secs(5 * 60);
/// Saved segments are refreshed this often on schedule...
pub const REFRESH_EVERY: Duration = Duration::from_secs(15 * 60);
/// ...and, after data changed through the API, at most this often: a steady stream of
/// batches must not keep re-reading a million customers.
pub const REFRESH_GAP: Duration = Duration::from_secs(60);

struct Held {
    built: Instant,
    frame: Arc<KeyedFrame>,
}

#[derive(Default)]
pub struct Frames {
    /// One reader at a time: concurrent previews wait for the one read rather than each
    /// reading every customer.
    held: Mutex<Option<Held>>,
    stale: AtomicBool,
    /// When the saved segments were last refreshed by [`Frames::refresh_saved`].
    refreshed: std::sync::Mutex<Option<Instant>>,
}

impl Frames {
    /// Marks the frame stale: customer data changed (an import, a batch through the API).
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }

    /// A frame with at least the events `needs` names, and when it was read.
    pub async fn get(
        &self,
        db: &dyn Backend,
        needs: &Needs,
    ) -> ReportResult<(Arc<KeyedFrame>, Instant)> {
        let mut held = self.held.lock().await;
        let stale = self.stale.load(Ordering::Relaxed);
        if let Some(h) = held.as_mut().filter(|h| !stale && h.built.elapsed() < FRESH) {
            let missing: BTreeSet<String> =
                needs.events.difference(&h.frame.events).cloned().collect();
            if !missing.is_empty() {
                let mut frame = (*h.frame).clone();
                frame.add_events(db, &missing).await?;
                h.frame = Arc::new(frame);
            }
            return Ok((h.frame.clone(), h.built));
        }
        // Read again with the events of the old frame too: filters in use keep working.
        let mut all = needs.clone();
        if let Some(h) = held.as_ref() {
            all.events.extend(h.frame.events.iter().cloned());
        }
        self.stale.store(false, Ordering::Relaxed);
        let frame = Arc::new(keyed_frame(db, &all).await?);
        let built = Instant::now();
        *held = Some(Held { built, frame: frame.clone() });
        Ok((frame, built))
    }

    /// Whether the saved segments are due: never refreshed, older than [`REFRESH_EVERY`], or
    /// data changed and the last refresh is older than [`REFRESH_GAP`].
    pub fn refresh_due(&self) -> bool {
        let last = *self.refreshed.lock().unwrap_or_else(|p| p.into_inner());
        let stale = self.stale.load(Ordering::Relaxed);
        last.is_none_or(|t| t.elapsed() >= REFRESH_EVERY || (stale && t.elapsed() >= REFRESH_GAP))
    }

    /// Reads the customers again (with the events of every saved segment) and refreshes every
    /// saved segment on that frame.
    pub async fn refresh_saved(&self, db: &dyn Backend) -> ReportResult<Vec<Refreshed>> {
        *self.refreshed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        let saved = db.saved_segments().await?;
        if saved.is_empty() {
            return Ok(Vec::new());
        }
        self.invalidate();
        let (frame, _) = self.get(db, &saved_segments::needs(&saved)).await?;
        saved_segments::refresh_on(db, &frame, saved, chrono::Utc::now()).await
    }
}

/// Reads the customers (with the events of the saved segments) as the server starts, so the
/// first count typed on the Segments page does not wait for the read (40 s at a million
/// customers).
pub async fn warm(state: crate::AppState) {
    let db = state.db.as_ref();
    let needs = match db.saved_segments().await {
        Ok(saved) => saved_segments::needs(&saved),
        Err(e) => return tracing::warn!(error = %e, "segment frame not read at start"),
    };
    let started = Instant::now();
    match state.segment_frames.get(db, &needs).await {
        Ok((frame, _)) => tracing::info!(
            customers = frame.frame.len(),
            seconds = started.elapsed().as_secs_f64(),
            "segment frame read"
        ),
        Err(e) => tracing::warn!(error = %e, "segment frame not read at start"),
    }
}

//! The feedback analysis job as the server runs it: one [`Analyser`] behind a lock, stepped by
//! a background task (new items get their theme within one interval) and run in full on
//! request. The near-duplicate index it keeps answers the item page's "similar items".

use crate::AppState;
use rapport_reports::ReportResult;
use rapport_reports::analysis::{Analyser, RunSummary, materialise_rfm};
use rapport_store::Backend;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// How often the RFM segments are materialised again, at most.
const SEGMENTS_EVERY: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct AnalysisJob {
    analyser: RwLock<Analyser>,
    last: Mutex<Option<RunSummary>>,
    segments_at: Mutex<Option<Instant>>,
}

impl AnalysisJob {
    /// Assigns the items stored since the last run (or runs in full: see [`Analyser::step`]),
    /// and materialises the segments when they are older than a quarter of an hour.
    pub async fn step(&self, db: &dyn Backend) -> ReportResult<RunSummary> {
        let summary = self.analyser.write().await.step(db, chrono::Utc::now()).await?;
        let due = self
            .segments_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_none_or(|t| t.elapsed() >= SEGMENTS_EVERY);
        if due || summary.full {
            self.segments(db).await?;
        }
        Ok(self.record(summary))
    }

    /// Discovers the themes again over every item, and materialises the segments.
    pub async fn full(&self, db: &dyn Backend) -> ReportResult<RunSummary> {
        let summary = self.analyser.write().await.full(db, chrono::Utc::now()).await?;
        self.segments(db).await?;
        Ok(self.record(summary))
    }

    async fn segments(&self, db: &dyn Backend) -> ReportResult<()> {
        materialise_rfm(db).await?;
        *self.segments_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        Ok(())
    }

    fn record(&self, s: RunSummary) -> RunSummary {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
        s
    }

    /// The last run's summary.
    pub fn last(&self) -> Option<RunSummary> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Items at least `threshold` alike to `text` (internal ids, most alike first), or `None`
    /// while a full run rebuilds the index: a page shows that rather than waiting seconds.
    pub fn similar(&self, text: &str, threshold: f32) -> Option<Vec<(i64, f32)>> {
        self.analyser.try_read().ok().map(|a| a.similar(text, threshold))
    }
}

/// Steps the job every `every` until the server stops; a failed step is logged and retried at
/// the next tick.
pub async fn run(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match state.analysis.step(state.db.as_ref()).await {
            Ok(s) if s.items > 0 => tracing::info!(
                full = s.full,
                items = s.items,
                assigned = s.assigned,
                themes = s.themes,
                seconds = s.seconds,
                "feedback analysis"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "feedback analysis failed"),
        }
        if state.segment_frames.refresh_due() {
            refresh_segments(&state).await;
        }
        match rapport_reports::loyalty::credit_purchases(state.db.as_ref(), chrono::Utc::now())
            .await
        {
            Ok(c) if c.orders > 0 => {
                tracing::info!(orders = c.orders, points = c.points, "loyalty points credited")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "loyalty crediting failed"),
        }
        if let Err(e) = crate::recommend::train_if_due(state.db.as_ref(), &state.models).await {
            tracing::warn!(error = %e, "recommendation training failed");
        }
    }
}

/// Refreshes the saved segments and regenerates the personas, logging each outcome.
async fn refresh_segments(state: &AppState) {
    match state.segment_frames.refresh_saved(state.db.as_ref()).await {
        Ok(done) => {
            for r in done.segments {
                match (r.point, r.error) {
                    (Some(p), _) => tracing::info!(
                        segment = r.slug,
                        size = p.size,
                        entered = p.entered,
                        left = p.left,
                        "segment refreshed"
                    ),
                    (None, e) => {
                        tracing::warn!(segment = r.slug, error = ?e, "segment not refreshed")
                    }
                }
            }
            if done.personas > 0 {
                tracing::info!(personas = done.personas, "personas regenerated");
            }
            for (id, e) in done.unresolved {
                tracing::warn!(persona = id, error = %e, "persona not regenerated");
            }
        }
        Err(e) => tracing::warn!(error = %e, "segment refresh failed"),
    }
}

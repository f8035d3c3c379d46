//! The customers as a segment frame, held in memory so that a preview while typing evaluates
//! a filter on it (milliseconds at a million customers) instead of reading every customer
//! again (seconds). The frame is read again when it is older than [`FRESH`] or when a write
//! path marks it stale; the events of a name are read into it the first time a filter names
//! them. The background job refreshes the saved segments and regenerates the personas on the
//! same frame, and a persona regenerated on request uses it too.

use rapport_reports::personas::{self, Population, Source};
use rapport_reports::saved_segments::{self, Refreshed};
use rapport_reports::segments::{KeyedFrame, Needs, keyed_frame};
use rapport_reports::{ReportError, ReportResult};
use rapport_store::{Backend, PersonaRecord};
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
    /// A customer was erased: the personas (whose quotes may be theirs) are regenerated at the
    /// next tick, whatever the gap.
    erased: AtomicBool,
    /// When the saved segments were last refreshed by [`Frames::refresh_saved`].
    refreshed: std::sync::Mutex<Option<Instant>>,
}

impl Frames {
    /// Marks the frame stale: customer data changed (an import, a batch through the API).
    pub fn invalidate(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }

    /// A customer was erased: the frame is stale and the personas are regenerated at the next
    /// tick of the background job, so a quote of theirs leaves every persona.
    pub fn erased(&self) {
        self.invalidate();
        self.erased.store(true, Ordering::Relaxed);
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
        // Read again with the events of the old frame too: filters in use keep working. The
        // models are always fitted: a held frame serves whatever is typed next.
        let mut all = Needs::all(needs.events.clone());
        if let Some(h) = held.as_ref() {
            all.events.extend(h.frame.events.iter().cloned());
        }
        self.stale.store(false, Ordering::Relaxed);
        let frame = Arc::new(keyed_frame(db, &all).await?);
        let built = Instant::now();
        *held = Some(Held { built, frame: frame.clone() });
        Ok((frame, built))
    }

    /// Whether the saved segments and personas are due: never refreshed, older than
    /// [`REFRESH_EVERY`], a customer erased, or data changed and the last refresh is older than
    /// [`REFRESH_GAP`].
    pub fn refresh_due(&self) -> bool {
        let last = *self.refreshed.lock().unwrap_or_else(|p| p.into_inner());
        let stale = self.stale.load(Ordering::Relaxed);
        self.erased.load(Ordering::Relaxed)
            || last.is_none_or(|t| {
                t.elapsed() >= REFRESH_EVERY || (stale && t.elapsed() >= REFRESH_GAP)
            })
    }

    /// Reads the customers again (with what every saved segment and persona needs), refreshes
    /// every saved segment on that frame and regenerates every persona beside it.
    pub async fn refresh_saved(&self, db: &dyn Backend) -> ReportResult<Refresh> {
        *self.refreshed.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        self.erased.store(false, Ordering::Relaxed);
        let saved = db.saved_segments().await?;
        let (sources, unresolved) = personas::sources(db).await?;
        let mut out = Refresh { unresolved, ..Refresh::default() };
        if saved.is_empty() && sources.is_empty() {
            return Ok(out);
        }
        self.invalidate();
        let needs = saved_segments::needs(&saved).union(personas::needs(&sources));
        let (frame, _) = self.get(db, &needs).await?;
        let now = chrono::Utc::now();
        out.segments = saved_segments::refresh_on(db, &frame, saved, now).await?;
        if !sources.is_empty() {
            let refs: Vec<&Source> = sources.iter().map(|(_, s)| s).collect();
            let population = Population::on_frame(db, frame, &refs).await?;
            out.personas = personas::regenerate_on(db, &population, &sources, now).await?;
        }
        Ok(out)
    }

    /// Regenerates one persona on the held frame (read only if none is held).
    pub async fn regenerate_persona(
        &self,
        db: &dyn Backend,
        id: i64,
    ) -> ReportResult<PersonaRecord> {
        let record = db.persona(id).await?;
        let source = Source::resolve(db, &record.source_kind, &record.source).await?;
        let (frame, _) = self.get(db, &source.needs()).await?;
        let population = Population::on_frame(db, frame, &[&source]).await?;
        personas::regenerate_on(db, &population, &[(id, source)], chrono::Utc::now()).await?;
        Ok(db.persona(id).await?)
    }
}

/// What one refresh did.
#[derive(Debug, Default)]
pub struct Refresh {
    pub segments: Vec<Refreshed>,
    /// Personas regenerated.
    pub personas: usize,
    /// Personas whose source no longer resolves (a saved segment deleted), with the reason.
    pub unresolved: Vec<(i64, ReportError)>,
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

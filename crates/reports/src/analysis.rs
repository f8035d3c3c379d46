//! The feedback analysis job: themes kept per item, a near-duplicate index of every text, and
//! the RFM segments materialised for the inbox's segment filter.
//!
//! A *full* run discovers the themes over every stored text, starting from the last run's
//! (so topics keep their ids), and stores them with every item's theme. Between full runs a
//! *step* assigns only the items stored since to the current themes (a few microseconds each)
//! and adds them to the duplicate index. A step turns into a full run when there is no model
//! in memory yet (a theme model is not stored: it is rebuilt from the texts at start-up) or
//! when the corpus has grown by a tenth since the last full run, so new topics surface.

use crate::{ReportError, ReportResult, rfm};
use rapport_analytics::duplicates::{DuplicateParams, LshIndex, MinHasher};
use rapport_analytics::rfm::Segment;
use rapport_analytics::themes::{self, ThemeModel, ThemeParams, ValidThemeParams};
use rapport_core::Timestamp;
use rapport_store::{Backend, FeedbackText};
use serde::Serialize;
use std::time::Instant;

/// Texts read per store call.
const PAGE: usize = 50_000;

/// What one run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// A full discovery, or new items only.
    pub full: bool,
    /// Texts read (all for a full run, the new ones otherwise).
    pub items: usize,
    /// Of those, items given a theme.
    pub assigned: usize,
    pub themes: usize,
    pub seconds: f64,
}

/// The job's state between runs.
pub struct Analyser {
    params: ValidThemeParams,
    hasher: MinHasher,
    model: Option<ThemeModel>,
    index: LshIndex,
    /// Texts seen by the last full run, and by any run since.
    full_items: usize,
    items: usize,
    /// The highest internal id handled.
    through: i64,
}

impl std::fmt::Debug for Analyser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyser")
            .field("items", &self.items)
            .field("through", &self.through)
            .finish()
    }
}

impl Default for Analyser {
    fn default() -> Self {
        Analyser::new(ThemeParams::default()).expect("the default parameters are valid")
    }
}

impl Analyser {
    pub fn new(params: ThemeParams) -> ReportResult<Analyser> {
        let params = params
            .check()
            .map_err(|e| ReportError::Invalid { field: e.field, reason: e.reason.into() })?;
        let hasher = DuplicateParams::default().check().expect("the default parameters are valid");
        let index = hasher.index();
        Ok(Analyser { params, hasher, model: None, index, full_items: 0, items: 0, through: 0 })
    }

    /// The current themes, if a run has found them.
    pub fn model(&self) -> Option<&ThemeModel> {
        self.model.as_ref()
    }

    /// Items whose text is at least `threshold` alike (estimated Jaccard of word pairs) to
    /// `text`, most alike first, as internal ids with their similarity.
    pub fn similar(&self, text: &str, threshold: f32) -> Vec<(i64, f32)> {
        self.index.similar(&self.hasher.signature(text), threshold)
    }

    /// A full run, or only the new items when the themes are fresh enough (module docs).
    pub async fn step(&mut self, store: &dyn Backend, now: Timestamp) -> ReportResult<RunSummary> {
        let grown = self.items > self.full_items + self.full_items / 10;
        if self.model.is_none() || grown {
            return self.full(store, now).await;
        }
        let started = Instant::now();
        let texts = read_texts(store, self.through).await?;
        let Some(model) = &self.model else { unreachable!("checked above") };
        let assignments: Vec<(i64, Option<String>)> = texts
            .iter()
            .map(|t| (t.key, model.assign(&t.text).map(|a| a.theme.to_string())))
            .collect();
        let assigned = assignments.iter().filter(|a| a.1.is_some()).count();
        let through = texts.last().map_or(self.through, |t| t.key);
        if !texts.is_empty() {
            store.save_themes(None, assignments, through, now).await?;
        }
        for t in &texts {
            self.index.insert(t.key, &self.hasher.signature(&t.text));
        }
        self.items += texts.len();
        self.through = through;
        let themes = model.themes().len();
        Ok(RunSummary {
            full: false,
            items: texts.len(),
            assigned,
            themes,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Discovers the themes over every stored text and stores them with every item's theme;
    /// rebuilds the duplicate index.
    pub async fn full(&mut self, store: &dyn Backend, now: Timestamp) -> ReportResult<RunSummary> {
        let started = Instant::now();
        let previous = store.stored_themes().await?.themes;
        let texts = read_texts(store, 0).await?;
        let strs: Vec<&str> = texts.iter().map(|t| t.text.as_str()).collect();
        let found = themes::discover(&strs, &self.params, &previous);
        let assignments: Vec<(i64, Option<String>)> = texts
            .iter()
            .zip(&found.assignments)
            .map(|(t, a)| (t.key, a.map(|a| a.theme.to_string())))
            .collect();
        let assigned = assignments.iter().filter(|a| a.1.is_some()).count();
        let through = texts.last().map_or(0, |t| t.key);
        let themes = found.model.themes().to_vec();
        store.save_themes(Some(themes), assignments, through, now).await?;
        self.index = LshIndex::build(
            &self.hasher,
            texts.iter().map(|t| (t.key, self.hasher.signature(&t.text))),
        );
        let summary = RunSummary {
            full: true,
            items: texts.len(),
            assigned,
            themes: found.model.themes().len(),
            seconds: 0.0,
        };
        self.model = Some(found.model);
        (self.full_items, self.items, self.through) = (texts.len(), texts.len(), through);
        Ok(RunSummary { seconds: started.elapsed().as_secs_f64(), ..summary })
    }
}

/// Every stored text after internal id `after`, in id order.
async fn read_texts(store: &dyn Backend, mut after: i64) -> ReportResult<Vec<FeedbackText>> {
    let mut out = Vec::new();
    loop {
        let page = store.feedback_texts(after, PAGE).await?;
        let Some(last) = page.last() else { return Ok(out) };
        after = last.key;
        let full = page.len() == PAGE;
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// Materialises every customer's RFM segment as `rfm:<segment>` (customers who never bought
/// are in none); returns the segments with their sizes.
pub async fn materialise_rfm(store: &dyn Backend) -> ReportResult<Vec<(String, usize)>> {
    let scored = match rfm::score(store, None).await {
        Ok(s) => s,
        Err(ReportError::NoData(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for segment in Segment::ALL {
        let members: Vec<i64> = scored
            .customers
            .iter()
            .zip(&scored.rfm)
            .filter(|(_, r)| r.as_ref().is_some_and(|r| r.segment == segment))
            .map(|(c, _)| c.key)
            .collect();
        let name = format!("rfm:{}", segment.as_str());
        out.push((name.clone(), members.len()));
        store.set_segment_members(&name, members).await?;
    }
    Ok(out)
}

//! Themes: the recurring topics of a corpus of feedback texts, found without supervision.
//!
//! 1. **Words** ([`text`]): lowercased runs of Unicode letters and digits, Latin accents
//!    folded ("não" and "nao" are one word, shown as written most often). Stop words are a
//!    short built-in English and Portuguese list plus every word in more than
//!    `max_doc_share` of the texts, so other languages work too, less well.
//! 2. **Phrases** ([`phrases`]): n-grams of one to three words, within a sentence, starting
//!    and ending with a content word (a negation may start one: "não recebi", "not working"),
//!    in at least `min_docs` texts and, for two or three words, cohesive.
//! 3. **Themes** ([`cluster`]): texts become unit tf-idf vectors over their phrases and are
//!    grouped by trimmed spherical k-means; texts close to no theme stay unassigned. A theme is
//!    named by its top phrases (by centroid weight), and shows its most central texts.
//! 4. **Stable ids** ([`stabilise`]): k-means starts from the previous run's themes, and a
//!    theme keeps the id of the previous run's theme whose
//!    top phrases overlap its own most (Jaccard ≥ `min_overlap`), else gets a hash of its top
//!    phrase, so re-runs on the same or a grown corpus name the same topics the same way.
//! 5. **New texts** ([`ThemeModel::assign`]): the same phrases looked up in a hash map and
//!    scored against the centroids: microseconds a text, and the same answer discovery gave.
//! 6. **Trends** ([`weekly_trend`]): texts per theme per ISO week.
//!
//! Deterministic: the same texts, parameters and seed give the same themes on any machine.

mod cluster;
mod model;
mod phrases;
mod text;
mod trend;

#[cfg(test)]
mod tests;

pub use model::ThemeModel;
pub use trend::{ThemeTrend, WeeklyTrend, weekly_trend};

use super::in_chunks;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A theme's id: 64 bits, shown as 16 hex digits. Derived from the theme's top phrase, or
/// carried over from the previous run's matching theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ThemeId(pub u64);

impl fmt::Display for ThemeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl From<ThemeId> for String {
    fn from(id: ThemeId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for ThemeId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        u64::from_str_radix(&s, 16).map(ThemeId).map_err(|_| format!("'{s}' is not a theme id"))
    }
}

/// A recurring topic.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    pub id: ThemeId,
    /// Its two or three top phrases, without repeats ("antes do prazo / entrega rápida").
    pub label: String,
    /// Its top phrases, heaviest first.
    pub phrases: Vec<ThemePhrase>,
    /// Texts assigned to it.
    pub size: usize,
    /// Positions of its most central texts (distinct texts), most central first.
    pub examples: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThemePhrase {
    pub text: String,
    /// Its weight in the theme's centroid (0..1).
    pub weight: f32,
    /// Texts of the theme that hold it.
    pub docs: usize,
}

/// A text's theme and its cosine to the theme's centroid (0..1).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub theme: ThemeId,
    pub score: f32,
}

/// What discovery found: the model (themes, for new texts) and each text's theme.
#[derive(Debug)]
pub struct Discovery {
    pub model: ThemeModel,
    /// In text order; `None` for texts close to no theme.
    pub assignments: Vec<Option<Assignment>>,
}

/// Parameters of theme discovery; [`ThemeParams::check`] makes them usable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThemeParams {
    /// Most themes (k of k-means; small ones are dissolved, so fewer may come out).
    pub themes: usize,
    /// A phrase occurs in at least this many texts...
    pub min_docs: usize,
    /// ...and in at least this share of them (large corpora).
    pub min_doc_share: f64,
    /// Words in more than this share of the texts are stop words.
    pub max_doc_share: f64,
    /// A multi-word phrase occurs in at least this share of the texts of its rarer end word.
    pub min_cohesion: f64,
    /// Most phrases kept (the most frequent).
    pub max_phrases: usize,
    /// A phrase is dropped when a longer phrase holding it is in at least this share of its
    /// texts ("port" when "charging port" is most of its uses).
    pub max_nested_share: f64,
    /// Least cosine between a text and its theme's centroid; below it a text is unassigned.
    pub min_similarity: f64,
    /// Least theme size as a share of the texts (and at least `min_docs`).
    pub min_theme_share: f64,
    /// Most k-means iterations (it stops earlier when under 0.1% of the texts move).
    pub iterations: usize,
    /// Top phrases listed per theme.
    pub top_phrases: usize,
    /// Example texts listed per theme.
    pub examples: usize,
    /// Least Jaccard overlap of top phrases for a theme to keep a previous theme's id.
    pub min_overlap: f64,
    pub seed: u64,
}

impl Default for ThemeParams {
    fn default() -> Self {
        ThemeParams {
            themes: 20,
            min_docs: 5,
            min_doc_share: 0.0002,
            max_doc_share: 0.25,
            min_cohesion: 0.1,
            max_phrases: 20_000,
            max_nested_share: 0.8,
            min_similarity: 0.2,
            min_theme_share: 0.005,
            iterations: 30,
            top_phrases: 10,
            examples: 3,
            min_overlap: 0.3,
            seed: 42,
        }
    }
}

/// A parameter out of its range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub field: &'static str,
    pub reason: &'static str,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ParamError {}

/// Checked parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ValidThemeParams(ThemeParams);

impl ValidThemeParams {
    pub fn get(&self) -> &ThemeParams {
        &self.0
    }
}

impl ThemeParams {
    pub fn check(self) -> Result<ValidThemeParams, ParamError> {
        let share = |x: f64| x > 0.0 && x <= 1.0;
        let checks = [
            (self.themes >= 1 && self.themes <= 1000, "themes", "must be 1..=1000"),
            (self.min_docs >= 2, "min_docs", "must be at least 2"),
            (share(self.min_doc_share), "min_doc_share", "must be in (0, 1]"),
            (share(self.max_doc_share), "max_doc_share", "must be in (0, 1]"),
            ((0.0..=1.0).contains(&self.min_cohesion), "min_cohesion", "must be in [0, 1]"),
            (
                self.max_phrases >= 1 && self.max_phrases <= 1 << 24,
                "max_phrases",
                "must be 1..=2^24",
            ),
            (share(self.min_similarity), "min_similarity", "must be in (0, 1]"),
            (share(self.max_nested_share), "max_nested_share", "must be in (0, 1]"),
            (share(self.min_theme_share), "min_theme_share", "must be in (0, 1]"),
            (self.iterations >= 1 && self.iterations <= 1000, "iterations", "must be 1..=1000"),
            (self.top_phrases >= 1 && self.top_phrases <= 100, "top_phrases", "must be 1..=100"),
            (self.examples <= 100, "examples", "must be at most 100"),
            (share(self.min_overlap), "min_overlap", "must be in (0, 1]"),
        ];
        match checks.into_iter().find(|c| !c.0) {
            Some((_, field, reason)) => Err(ParamError { field, reason }),
            None => Ok(ValidThemeParams(self)),
        }
    }
}

/// Finds the themes of `texts`, carrying over the ids of `previous` themes (the last run's,
/// or none) where the topics match.
pub fn discover<S: AsRef<str> + Sync>(
    texts: &[S],
    params: &ValidThemeParams,
    previous: &[Theme],
) -> Discovery {
    let p = params.get();
    let n = texts.len();
    let min_docs = p.min_docs.max((p.min_doc_share * n as f64).ceil() as usize) as u32;
    let max_docs = ((p.max_doc_share * n as f64) as u32).max(min_docs);
    let corpus = text::corpus(texts, min_docs, max_docs);
    let all: Vec<u32> = (0..n as u32).collect();
    let rule = phrases::Admission {
        min_docs,
        min_cohesion: p.min_cohesion,
        max_phrases: p.max_phrases,
        max_nested_share: p.max_nested_share,
    };
    let found = phrases::extract(&corpus, &all, &rule);
    let idf = found.idf(n);
    let vectors = found.vectors(&corpus, &all, &idf);
    let active: Vec<u32> =
        all.into_iter().filter(|&d| !vectors.of(d as usize).0.is_empty()).collect();
    let km = cluster::KMeans {
        k: p.themes,
        iterations: p.iterations,
        min_similarity: p.min_similarity as f32,
        min_size: (p.min_theme_share * n as f64).ceil().max(min_docs as f64) as usize,
        seed: p.seed,
    };
    let warm = previous.iter().map(|t| warm_start(t, &corpus, &found)).collect();
    let (of, centroids) = cluster::cluster(&vectors, &active, found.keys.len(), &km, warm);
    let mut per_text = vec![(cluster::NONE, 0.0); n];
    for (&d, &a) in active.iter().zip(&of) {
        per_text[d as usize] = a;
    }
    let parts =
        model::Parts { corpus: &corpus, phrases: &found, idf, vectors: &vectors, centroids };
    let (mut model, position) = ThemeModel::build(parts, &per_text, texts, p);
    stabilise(previous, &mut model.themes, p.min_overlap);
    let assignments = per_text
        .iter()
        .map(|&(c, score)| {
            let t = *position.get(c as usize)?;
            (t != cluster::NONE).then(|| Assignment { theme: model.themes[t as usize].id, score })
        })
        .collect();
    Discovery { model, assignments }
}

/// A previous theme as a starting centroid: its top phrases that are phrases of this corpus,
/// with their weights, as a unit vector. Starting from the last run's themes makes a re-run
/// find the same topics rather than another split of them.
fn warm_start(theme: &Theme, corpus: &text::Corpus, found: &phrases::Phrases) -> cluster::Sparse {
    let mut v: cluster::Sparse = theme
        .phrases
        .iter()
        .filter_map(|p| {
            let words: Option<Vec<u32>> =
                text::normalise(&p.text).split(' ').map(|w| corpus.word(w)).collect();
            let row = *found.index.get(&phrases::key(&words?))?;
            Some((row, p.weight))
        })
        .collect();
    v.sort_unstable_by_key(|e| e.0);
    v.dedup_by_key(|e| e.0);
    let norm = v.iter().map(|e| f64::from(e.1).powi(2)).sum::<f64>().sqrt() as f32;
    v.iter_mut().for_each(|e| e.1 /= norm);
    v
}

/// Gives `next` themes the ids of the `previous` themes they continue: pairs are matched
/// greedily, most overlapping first, one to one, when the Jaccard overlap of their top phrases
/// (accents and case folded) reaches `min_overlap`. Other themes get an id hashed from their
/// top phrase (FNV-1a, stable across versions and machines), or from more of their phrases
/// when that id is taken.
pub fn stabilise(previous: &[Theme], next: &mut [Theme], min_overlap: f64) {
    let sets = |themes: &[Theme]| -> Vec<Vec<String>> {
        themes
            .iter()
            .map(|t| {
                let mut s: Vec<String> =
                    t.phrases.iter().map(|p| text::normalise(&p.text)).collect();
                s.sort();
                s.dedup();
                s
            })
            .collect()
    };
    let (old, new) = (sets(previous), sets(next));
    let mut pairs = Vec::new();
    for (i, a) in old.iter().enumerate() {
        for (j, b) in new.iter().enumerate() {
            let common = a.iter().filter(|x| b.binary_search(x).is_ok()).count();
            let union = a.len() + b.len() - common;
            let jaccard = if union == 0 { 0.0 } else { common as f64 / union as f64 };
            if jaccard >= min_overlap {
                pairs.push((jaccard, i, j));
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut used = std::collections::HashSet::new();
    let (mut old_done, mut new_done) = (vec![false; old.len()], vec![false; new.len()]);
    for (_, i, j) in pairs {
        if !old_done[i] && !new_done[j] {
            old_done[i] = true;
            new_done[j] = true;
            next[j].id = previous[i].id;
            used.insert(previous[i].id);
        }
    }
    for (j, theme) in next.iter_mut().enumerate() {
        if new_done[j] {
            continue;
        }
        let mut key = String::new();
        let mut id = ThemeId(fnv1a(""));
        for p in theme.phrases.iter().map(|p| text::normalise(&p.text)).chain([String::new()]) {
            key.push_str(&p);
            key.push('\n');
            id = ThemeId(fnv1a(&key));
            if !used.contains(&id) {
                break;
            }
        }
        while used.contains(&id) {
            id.0 = id.0.wrapping_add(1);
        }
        used.insert(id);
        theme.id = id;
    }
}

/// FNV-1a, 64 bits.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

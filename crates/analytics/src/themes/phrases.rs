//! Key phrases: n-grams of one to three words that start and end with content words (a
//! negation may start one), found in enough texts and, for two or three words, cohesive: the
//! phrase occurs in at least `min_cohesion` of the texts of its rarer end word ("battery life"
//! and "entrega rápida" are; "good player" is not).

use super::in_chunks;
use super::text::{BREAK, Class, Corpus, Word};
use rustc_hash::FxHashMap;

/// Longest phrase, in words.
pub(super) const MAX_N: usize = 3;

/// A phrase's key: its word ids plus one, 21 bits each, first word lowest.
pub(super) fn key(words: &[u32]) -> u64 {
    words.iter().rev().fold(0, |k, &w| (k << 21) | (u64::from(w) + 1))
}

/// The word ids of a key.
pub(super) fn words_of(mut key: u64) -> impl Iterator<Item = u32> {
    std::iter::from_fn(move || {
        let w = key & ((1 << 21) - 1);
        key >>= 21;
        (w != 0).then(|| w as u32 - 1)
    })
}

/// Every n-gram (1..=3 words, no break inside) of a text's tokens, deduplicated: the phrases
/// a text can hold are looked up among these.
pub(super) fn ngrams(text: &[u32], out: &mut Vec<u64>) {
    out.clear();
    for i in 0..text.len() {
        for n in 1..=MAX_N.min(text.len() - i) {
            let w = &text[i..i + n];
            if w[n - 1] == BREAK {
                break;
            }
            out.push(key(w));
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// The n-grams of a text that may be phrases, deduplicated.
fn candidates(text: &[u32], words: &[Word], out: &mut Vec<u64>) {
    out.clear();
    let class = |t: u32| words[t as usize].class;
    for i in 0..text.len() {
        let first = text[i];
        if first == BREAK || class(first) == Class::Stop {
            continue;
        }
        for n in 1..=MAX_N.min(text.len() - i) {
            let w = &text[i..i + n];
            if w[n - 1] == BREAK {
                break;
            }
            if class(w[n - 1]) == Class::Content {
                out.push(key(w));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// The admitted phrases, by decreasing document frequency (ties by key).
pub(super) struct Phrases {
    pub keys: Vec<u64>,
    pub docs: Vec<u32>,
    pub index: FxHashMap<u64, u32>,
}

/// What makes an n-gram a phrase.
pub(super) struct Admission {
    pub min_docs: u32,
    pub min_cohesion: f64,
    pub max_phrases: usize,
    /// A phrase inside a longer one is dropped when the longer one holds at least this share
    /// of its texts.
    pub max_nested_share: f64,
}

/// Counts the candidates of every text and keeps the phrases.
pub(super) fn extract(corpus: &Corpus, all: &[u32], rule: &Admission) -> Phrases {
    let counts = in_chunks(all, |chunk| {
        let mut counts: FxHashMap<u64, u32> = FxHashMap::default();
        let mut keys = Vec::new();
        for &d in chunk {
            candidates(corpus.text(d as usize), &corpus.words, &mut keys);
            for &k in &keys {
                *counts.entry(k).or_default() += 1;
            }
        }
        counts
    });
    let mut total = FxHashMap::default();
    for part in counts {
        if total.is_empty() {
            total = part;
            continue;
        }
        for (k, n) in part {
            *total.entry(k).or_default() += n;
        }
    }
    let docs = |w: u32| corpus.words[w as usize].docs;
    let mut kept: Vec<(u64, u32)> = total
        .into_iter()
        .filter(|&(k, n)| {
            let w: Vec<u32> = words_of(k).collect();
            n >= rule.min_docs
                && (w.len() == 1
                    || f64::from(n)
                        >= rule.min_cohesion * f64::from(docs(w[0]).min(docs(w[w.len() - 1]))))
        })
        .collect();
    let nested = nested(&kept, rule.max_nested_share);
    kept.retain(|e| !nested.contains(&e.0));
    kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    kept.truncate(rule.max_phrases);
    let index = kept.iter().enumerate().map(|(i, &(k, _))| (k, i as u32)).collect();
    let (keys, docs) = kept.into_iter().unzip();
    Phrases { keys, docs, index }
}

/// The phrases that occur mostly inside a longer phrase ("port" in "charging port"): kept,
/// they would only repeat the longer one and count it two or three times over.
fn nested(kept: &[(u64, u32)], share: f64) -> rustc_hash::FxHashSet<u64> {
    let docs: FxHashMap<u64, u32> = kept.iter().copied().collect();
    let mut out = rustc_hash::FxHashSet::default();
    for &(k, n) in kept {
        let w: Vec<u32> = words_of(k).collect();
        for len in 1..w.len() {
            for sub in w.windows(len) {
                let sub = key(sub);
                if docs.get(&sub).is_some_and(|&m| f64::from(n) >= share * f64::from(m)) {
                    out.insert(sub);
                }
            }
        }
    }
    out
}

/// Texts as sparse unit vectors over the phrases: the weight of a phrase a text holds is its
/// inverse document frequency (how often it occurs in the text does not count: feedback is
/// short, and a repeated word says little more).
pub(super) struct Vectors {
    /// Text `i` is entries `starts[i]..starts[i + 1]`.
    pub starts: Vec<usize>,
    pub phrase: Vec<u32>,
    pub weight: Vec<f32>,
}

impl Vectors {
    pub fn of(&self, i: usize) -> (&[u32], &[f32]) {
        let r = self.starts[i]..self.starts[i + 1];
        (&self.phrase[r.clone()], &self.weight[r])
    }
}

impl Phrases {
    /// The inverse document frequency of every phrase over `n` texts.
    pub fn idf(&self, n: usize) -> Vec<f32> {
        self.docs.iter().map(|&d| (n as f64 / f64::from(d)).ln().max(1e-3) as f32).collect()
    }

    /// The phrases of one text as a unit vector (phrase, weight) sorted by phrase.
    pub fn vector(
        &self,
        text: &[u32],
        idf: &[f32],
        grams: &mut Vec<u64>,
        out: &mut Vec<(u32, f32)>,
    ) {
        ngrams(text, grams);
        unit_vector(grams, |k| self.index.get(&k).map(|&p| (p, idf[p as usize])), out);
    }

    pub fn vectors(&self, corpus: &Corpus, all: &[u32], idf: &[f32]) -> Vectors {
        let parts = in_chunks(all, |chunk| {
            let (mut grams, mut v) = (Vec::new(), Vec::new());
            let mut part = (Vec::with_capacity(chunk.len()), Vec::new(), Vec::new());
            for &d in chunk {
                self.vector(corpus.text(d as usize), idf, &mut grams, &mut v);
                part.1.extend(v.iter().map(|e| e.0));
                part.2.extend(v.iter().map(|e| e.1));
                part.0.push(part.1.len());
            }
            part
        });
        let mut out = Vectors { starts: vec![0], phrase: Vec::new(), weight: Vec::new() };
        for (ends, phrase, weight) in parts {
            let base = out.phrase.len();
            out.starts.extend(ends.iter().map(|e| e + base));
            out.phrase.extend(phrase);
            out.weight.extend(weight);
        }
        out
    }

    /// A phrase as written: each word in its commonest spelling.
    pub fn text(&self, p: u32, words: &[Word]) -> String {
        let mut s = String::new();
        for w in words_of(self.keys[p as usize]) {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(&words[w as usize].display);
        }
        s
    }
}

/// The phrases among `grams` (found by `lookup`: row and weight) as a unit vector sorted by
/// row. Discovery and [`super::ThemeModel::assign`] share it, so both score a text alike.
pub(super) fn unit_vector(
    grams: &[u64],
    lookup: impl Fn(u64) -> Option<(u32, f32)>,
    out: &mut Vec<(u32, f32)>,
) {
    out.clear();
    out.extend(grams.iter().filter_map(|&k| lookup(k)));
    out.sort_unstable_by_key(|e| e.0);
    let norm = out.iter().map(|e| f64::from(e.1).powi(2)).sum::<f64>().sqrt() as f32;
    for e in out.iter_mut() {
        e.1 /= norm;
    }
}

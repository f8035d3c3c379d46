//! The themes found and what assigning a new text needs: the phrases' words, the phrase map
//! with inverse document frequencies, and the centroids, one column per theme.

use super::cluster::{Centroids, NONE};
use super::phrases::{Phrases, Vectors, ngrams, unit_vector, words_of};
use super::text::{BREAK, Corpus, Token, tokens};
use super::{Assignment, Theme, ThemeId, ThemeParams, ThemePhrase};
use rustc_hash::FxHashMap;

/// Themes and how to assign a new text to one of them.
pub struct ThemeModel {
    pub(super) themes: Vec<Theme>,
    /// Folded word -> id, for the words of the phrases only (others break phrases).
    words: FxHashMap<Box<str>, u32>,
    /// Phrase key -> (row of `centroids`, inverse document frequency).
    phrases: FxHashMap<u64, (u32, f32)>,
    centroids: Centroids,
    min_similarity: f32,
}

impl std::fmt::Debug for ThemeModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThemeModel")
            .field("themes", &self.themes)
            .field("words", &self.words.len())
            .field("phrases", &self.phrases.len())
            .field("min_similarity", &self.min_similarity)
            .finish()
    }
}

/// What discovery hands over to build the model.
pub(super) struct Parts<'a> {
    pub corpus: &'a Corpus,
    pub phrases: &'a Phrases,
    pub idf: Vec<f32>,
    pub vectors: &'a Vectors,
    pub centroids: Centroids,
}

impl ThemeModel {
    /// The themes, largest first.
    pub fn themes(&self) -> &[Theme] {
        &self.themes
    }

    /// The theme with this id.
    pub fn theme(&self, id: ThemeId) -> Option<&Theme> {
        self.themes.iter().find(|t| t.id == id)
    }

    /// The theme of a new text, scored as discovery scores the texts it saw (the same text
    /// gets the same theme), or `None` when it is close to none. Allocates a few small
    /// buffers; no corpus pass.
    pub fn assign(&self, text: &str) -> Option<Assignment> {
        let mut ids = Vec::new();
        tokens(text, &mut (String::new(), String::new()), |t| {
            ids.push(match t {
                Token::Word { folded, .. } => self.words.get(folded).copied().unwrap_or(BREAK),
                Token::Break => BREAK,
            })
        });
        let (mut grams, mut v) = (Vec::new(), Vec::new());
        ngrams(&ids, &mut grams);
        unit_vector(&grams, |k| self.phrases.get(&k).copied(), &mut v);
        let (p, w): (Vec<u32>, Vec<f32>) = v.into_iter().unzip();
        let (c, score) = self.centroids.nearest(&p, &w, self.min_similarity, &mut Vec::new());
        (c != NONE).then(|| Assignment { theme: self.themes[c as usize].id, score })
    }

    /// Builds the model from the clustering (`of`: each text's cluster and cosine); also
    /// returns each cluster's theme position ([`NONE`] for a dissolved one).
    pub(super) fn build<S: AsRef<str>>(
        parts: Parts,
        of: &[(u32, f32)],
        texts: &[S],
        p: &ThemeParams,
    ) -> (ThemeModel, Vec<u32>) {
        let k = parts.centroids.k;
        let mut sizes = vec![0usize; k];
        for &(c, _) in of.iter().filter(|a| a.0 != NONE) {
            sizes[c as usize] += 1;
        }
        let mut order: Vec<usize> = (0..k).filter(|&c| sizes[c] > 0).collect();
        order.sort_by_key(|&c| (std::cmp::Reverse(sizes[c]), c));
        let mut position = vec![NONE; k];
        for (t, &c) in order.iter().enumerate() {
            position[c] = t as u32;
        }
        let rows = parts.phrases.keys.len();
        let col = |p: usize, c: usize| parts.centroids.weights[p * k + c];
        // Each theme's heaviest phrases.
        let tops: Vec<Vec<u32>> = order
            .iter()
            .map(|&c| {
                let mut top: Vec<u32> =
                    (0..rows as u32).filter(|&p| col(p as usize, c) > 0.0).collect();
                top.sort_by(|&a, &b| {
                    col(b as usize, c).total_cmp(&col(a as usize, c)).then(a.cmp(&b))
                });
                top.truncate(p.top_phrases);
                top
            })
            .collect();
        // How many of a theme's texts hold each top phrase; the members, most central first.
        let mut holding: Vec<Vec<usize>> = tops.iter().map(|t| vec![0; t.len()]).collect();
        let mut members: Vec<Vec<(f32, usize)>> = vec![Vec::new(); order.len()];
        for (d, &(c, s)) in of.iter().enumerate().filter(|a| a.1.0 != NONE) {
            let t = position[c as usize] as usize;
            members[t].push((s, d));
            for ph in parts.vectors.of(d).0 {
                if let Some(i) = tops[t].iter().position(|x| x == ph) {
                    holding[t][i] += 1;
                }
            }
        }
        let words = &parts.corpus.words;
        let themes = order
            .iter()
            .enumerate()
            .map(|(t, &c)| {
                let phrases: Vec<ThemePhrase> = tops[t]
                    .iter()
                    .zip(&holding[t])
                    .map(|(&ph, &docs)| ThemePhrase {
                        text: parts.phrases.text(ph, words),
                        weight: col(ph as usize, c),
                        docs,
                    })
                    .collect();
                let keys: Vec<u64> =
                    tops[t].iter().map(|&ph| parts.phrases.keys[ph as usize]).collect();
                // How much more common each phrase is in the theme than in the corpus.
                let lift: Vec<f64> = phrases
                    .iter()
                    .zip(&tops[t])
                    .map(|(x, &ph)| {
                        let corpus = f64::from(parts.phrases.docs[ph as usize]) / of.len() as f64;
                        x.docs as f64 / sizes[c] as f64 / corpus
                    })
                    .collect();
                Theme {
                    id: ThemeId(0),
                    label: label(&phrases, &keys, &lift, sizes[c]),
                    phrases,
                    size: sizes[c],
                    examples: examples(&mut members[t], texts, p.examples),
                }
            })
            .collect();
        // Centroid columns in theme order.
        let mut weights = vec![0f32; rows * order.len()];
        for (row, out) in weights.chunks_mut(order.len().max(1)).enumerate().take(rows) {
            for (o, &c) in out.iter_mut().zip(&order) {
                *o = col(row, c);
            }
        }
        let centroids = Centroids { k: order.len(), weights };
        let mut used = vec![false; words.len()];
        for &key in &parts.phrases.keys {
            for w in words_of(key) {
                used[w as usize] = true;
            }
        }
        let model = ThemeModel {
            themes,
            words: (0..words.len())
                .filter(|&w| used[w])
                .map(|w| (words[w].folded.clone(), w as u32))
                .collect(),
            phrases: parts
                .phrases
                .keys
                .iter()
                .enumerate()
                .map(|(i, &key)| (key, (i as u32, parts.idf[i])))
                .collect(),
            centroids,
            min_similarity: p.min_similarity as f32,
        };
        (model, position)
    }
}

/// Least share of a theme's texts (in percent) a phrase other than the first must be in to
/// join the label.
const LABEL_MIN_PERCENT: usize = 15;

/// Least lift (share of the theme's texts over share of all texts) of a phrase other than the
/// first to join the label: words common everywhere do not name a theme.
const LABEL_MIN_LIFT: f64 = 3.0;

/// Two or three of the top phrases, without repeats: a phrase inside a chosen one is
/// skipped; a phrase holding a chosen one replaces it when it is in at least half as many of
/// the theme's texts ("antes do prazo" over "prazo").
fn label(phrases: &[ThemePhrase], keys: &[u64], lift: &[f64], size: usize) -> String {
    let words: Vec<Vec<u32>> = keys.iter().map(|&k| words_of(k).collect()).collect();
    let inside = |a: &[u32], b: &[u32]| b.windows(a.len()).any(|w| w == a);
    let mut chosen: Vec<usize> = Vec::new();
    // After the first, only phrases in a good share of the theme's texts name it.
    for i in 0..phrases.len() {
        if i > 0 && (phrases[i].docs * 100 < size * LABEL_MIN_PERCENT || lift[i] < LABEL_MIN_LIFT) {
            continue;
        }
        if chosen.iter().any(|&c| inside(&words[i], &words[c])) {
            continue;
        }
        let held: Vec<usize> =
            (0..chosen.len()).filter(|&j| inside(&words[chosen[j]], &words[i])).collect();
        if let Some(&j) = held.first() {
            if 2 * phrases[i].docs >= phrases[chosen[j]].docs {
                chosen[j] = i;
                // Another chosen phrase it also holds goes.
                for &other in held[1..].iter().rev() {
                    chosen.remove(other);
                }
            }
        } else if chosen.len() < 3 {
            chosen.push(i);
        }
    }
    let texts: Vec<&str> = chosen.iter().map(|&c| phrases[c].text.as_str()).collect();
    texts.join(" / ")
}

/// The most central members with distinct texts (ties: earlier texts first).
fn examples<S: AsRef<str>>(members: &mut [(f32, usize)], texts: &[S], n: usize) -> Vec<usize> {
    members.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut out: Vec<usize> = Vec::new();
    for &(_, d) in members.iter() {
        if out.len() == n {
            break;
        }
        let text = texts[d].as_ref().trim();
        if !out.iter().any(|&o| texts[o].as_ref().trim().eq_ignore_ascii_case(text)) {
            out.push(d);
        }
    }
    out
}

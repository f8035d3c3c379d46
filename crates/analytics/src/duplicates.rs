//! Near-duplicate feedback texts: MinHash signatures and a banded LSH index over them, so the
//! inbox can say "this looks like the same thing as those" and a merge can keep every original.
//!
//! text → [`normalise`] → shingle set ([`MinHasher::shingles`]) → [`Signature`] → [`LshIndex`].
//!
//! - **Normalisation**: lowercase; runs of Unicode letters and digits are words and everything
//!   else separates them, so nothing depends on the language. Apostrophes inside a word are
//!   dropped ("don't" = "dont"), accents of Latin letters are folded ("não" = "nao") and
//!   combining marks are dropped, because customers type both forms of the same word.
//! - **Shingles**: the word k-grams of the normalised text (`shingle` = k, default 2), each
//!   hashed to 32 bits. A text of fewer than k + 3 words would have fewer than 4 word k-grams,
//!   where Jaccard only takes coarse values (0, ⅓, ½, 1) and one changed word decides
//!   everything, so it uses the character 4-grams of its normalised form instead (a text under
//!   4 characters is one shingle). "Great product, fast delivery!" and "great product fast
//!   delivery" normalise to the same words, so they are one set; "great product" and "bad
//!   product" share 5 of 13 character 4-grams (Jaccard 0.38), far below any useful threshold.
//!   Word and character shingles are hashed apart, so a text just under the cut is never
//!   paired with one just over it; such pairs differ by at least a word in five, which puts
//!   them near or under 0.8 anyway (one added word in five: word-bigram Jaccard 0.75).
//! - **MinHash**: for a random hash function h, P[min h(A) = min h(B)] = J(A, B) =
//!   |A ∩ B| / |A ∪ B|. A signature keeps the minimum under `num_hashes` functions (default
//!   96), so the share of equal positions estimates J with standard deviation
//!   √(J(1 − J)/n): 0.041 at J = 0.8. The functions are h_i(x) = (a_i·x + b_i) >> 32 with
//!   64-bit a_i, b_i drawn from the seed (multiply-add-shift, a universal family on 32-bit
//!   keys), so a signature depends only on the text and the parameters: stored today, it
//!   compares with one computed next year.
//! - **LSH**: the signature is cut into `bands` bands of r = `num_hashes / bands` rows; two
//!   texts are candidates when all rows of some band agree, with probability
//!   P(s) = 1 − (1 − s^r)^b at similarity s. The defaults, b = 16 and r = 6, give
//!
//!   | s    | 0.3   | 0.4   | 0.5   | 0.6   | 0.7   | 0.75  | 0.8   | 0.85  | 0.9   |
//!   |------|-------|-------|-------|-------|-------|-------|-------|-------|-------|
//!   | P(s) | 0.012 | 0.064 | 0.223 | 0.534 | 0.865 | 0.957 | 0.992 | 0.9995| 1.000 |
//!
//!   The curve turns at about (1/b)^(1/r) = 0.63, below the default threshold 0.8 on purpose:
//!   a pair at 0.8 is missed once in 130, and the candidates below the threshold are dropped
//!   by verification (estimated Jaccard in [`LshIndex::similar`], exact Jaccard of the
//!   shingle sets in [`MinHasher::clusters`]). 16 × 8 would turn at 0.71 and miss one pair
//!   at 0.8 in 19.

use crate::in_chunks;
use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use xxhash_rust::xxh3::xxh3_64_with_seed;

mod index;
mod text;
pub use index::LshIndex;
pub use text::normalise;

/// Characters per shingle of the short texts.
const CHAR_GRAM: usize = 4;
/// Hash seeds of word and character shingles: different, so the two kinds never collide.
const WORD_SEED: u64 = 0x7c3a_51f0_9e2d_4b61;
const CHAR_SEED: u64 = 0x2b8e_d417_c6f5_0a93;
/// The layout of [`Signature::to_bytes`]; bumped if the layout or the hashing ever changes.
const FORMAT: u8 = 1;

/// The parameters of duplicate detection; [`DuplicateParams::check`] turns them into a
/// [`MinHasher`]. Only `shingle`, `num_hashes` and `seed` shape a signature: the banding and
/// the threshold can change without recomputing stored signatures.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DuplicateParams {
    /// Words per shingle (k).
    pub shingle: usize,
    /// MinHash values per signature.
    pub num_hashes: usize,
    /// LSH bands; must divide `num_hashes` (rows per band = `num_hashes / bands`).
    pub bands: usize,
    /// The Jaccard similarity from which two texts are duplicates, in (0, 1].
    pub threshold: f32,
    /// Seed of the hash family.
    pub seed: u64,
}

impl Default for DuplicateParams {
    fn default() -> Self {
        DuplicateParams { shingle: 2, num_hashes: 96, bands: 16, threshold: 0.8, seed: 0x5eed }
    }
}

/// A parameter out of range, naming it.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    pub field: &'static str,
    pub message: &'static str,
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ParamError {}

impl DuplicateParams {
    pub fn check(self) -> Result<MinHasher, ParamError> {
        let fail = |field, message| Err(ParamError { field, message });
        if !(1..=8).contains(&self.shingle) {
            return fail("shingle", "must be 1 to 8 words");
        }
        if !(8..=1024).contains(&self.num_hashes) {
            return fail("num_hashes", "must be 8 to 1024");
        }
        if self.bands == 0 || !self.num_hashes.is_multiple_of(self.bands) {
            return fail("bands", "must divide num_hashes");
        }
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return fail("threshold", "must be in (0, 1]");
        }
        Ok(MinHasher::new(self))
    }
}

/// A text's shingles: distinct 32-bit hashes, sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Shingles(Vec<u32>);

impl Shingles {
    /// A set from any hashes (for tests and callers with their own shingling).
    pub fn from_hashes(hashes: impl IntoIterator<Item = u32>) -> Shingles {
        let mut v: Vec<u32> = hashes.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        Shingles(v)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Exact Jaccard similarity |A ∩ B| / |A ∪ B| of two shingle sets; 0 when either is empty
/// (a text without words is nobody's duplicate).
pub fn jaccard(a: &Shingles, b: &Shingles) -> f32 {
    let (a, b) = (&a.0, &b.0);
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    common as f32 / (a.len() + b.len() - common) as f32
}

/// A text's MinHash signature. The text of an empty shingle set (no letters or digits) has
/// an empty signature, which matches nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// Fingerprint of the parameters that made it ([`MinHasher::is_own`]).
    params: u32,
    values: Box<[u32]>,
}

/// Bytes that are not a signature.
#[derive(Clone, Debug, PartialEq)]
pub struct SignatureError(&'static str);

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a signature: {}", self.0)
    }
}

impl std::error::Error for SignatureError {}

impl Signature {
    pub fn values(&self) -> &[u32] {
        &self.values
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Estimated Jaccard similarity: the share of equal positions; 0 for an empty signature
    /// or one made with other parameters.
    pub fn similarity(&self, other: &Signature) -> f32 {
        if self.params != other.params || self.is_empty() || self.len() != other.len() {
            return 0.0;
        }
        let same = self.values.iter().zip(other.values.iter()).filter(|(a, b)| a == b).count();
        same as f32 / self.len() as f32
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    /// The stored form: a format byte, the parameters' fingerprint (4 bytes) and the values,
    /// little-endian: 389 bytes with the defaults, 5 for an empty text.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + 4 * self.len());
        out.push(FORMAT);
        out.extend_from_slice(&self.params.to_le_bytes());
        for v in self.values.iter() {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads [`Signature::to_bytes`]. Whether the parameters are the current ones is a
    /// separate question ([`MinHasher::is_own`]): a store that changed them recomputes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, SignatureError> {
        let (&format, rest) = bytes.split_first().ok_or(SignatureError("no bytes"))?;
        if format != FORMAT {
            return Err(SignatureError("unknown format"));
        }
        if rest.len() < 4 || !rest.len().is_multiple_of(4) {
            return Err(SignatureError("length is not 5 + 4n bytes"));
        }
        let mut words = rest.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        let params = words.next().expect("at least four bytes");
        Ok(Signature { params, values: words.collect() })
    }
}

/// Checked parameters and the hash family they seed: computes shingles and signatures, makes
/// indexes, groups corpora.
#[derive(Clone, Debug)]
pub struct MinHasher {
    params: DuplicateParams,
    /// (a_i, b_i) of h_i(x) = (a_i·x + b_i) >> 32; a_i odd.
    family: Vec<(u64, u64)>,
    /// Fingerprint of what shapes a signature: format, shingling, num_hashes, seed.
    id: u32,
}

impl MinHasher {
    fn new(params: DuplicateParams) -> MinHasher {
        let mut state = params.seed;
        let family = (0..params.num_hashes)
            .map(|_| (splitmix64(&mut state) | 1, splitmix64(&mut state)))
            .collect();
        let shape = [FORMAT as u64, params.shingle as u64, params.num_hashes as u64, params.seed];
        let bytes: Vec<u8> = shape.iter().flat_map(|v| v.to_le_bytes()).collect();
        let id = xxh3_64_with_seed(&bytes, CHAR_GRAM as u64) as u32;
        MinHasher { params, family, id }
    }

    pub fn params(&self) -> &DuplicateParams {
        &self.params
    }

    /// Rows per band.
    pub fn rows(&self) -> usize {
        self.params.num_hashes / self.params.bands
    }

    /// P(two texts of Jaccard similarity `s` are index candidates) = 1 − (1 − s^r)^b.
    pub fn candidate_probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows() as i32)).powi(self.params.bands as i32)
    }

    /// Whether `sig` was made with these parameters (else it must be recomputed).
    pub fn is_own(&self, sig: &Signature) -> bool {
        sig.params == self.id && (sig.is_empty() || sig.len() == self.params.num_hashes)
    }

    /// The shingle set of `text` (see the module docs).
    pub fn shingles(&self, text: &str) -> Shingles {
        let norm = normalise(text);
        let k = self.params.shingle;
        let mut ends = norm.match_indices(' ').map(|(i, _)| i).collect::<Vec<_>>();
        ends.push(norm.len());
        if ends.len() >= k + 3 {
            // Word i spans starts[i]..ends[i]; a shingle runs from a word's start to the end
            // of the word k − 1 further on.
            let starts = std::iter::once(0).chain(ends.iter().map(|e| e + 1));
            let hashes = starts
                .zip(&ends[k - 1..])
                .map(|(start, &end)| xxh3_64_with_seed(&norm.as_bytes()[start..end], WORD_SEED));
            return Shingles::from_hashes(hashes.map(|h| h as u32));
        }
        let bounds: Vec<usize> = norm.char_indices().map(|(i, _)| i).chain([norm.len()]).collect();
        if bounds.len() <= CHAR_GRAM {
            let whole = (!norm.is_empty()).then(|| xxh3_64_with_seed(norm.as_bytes(), CHAR_SEED));
            return Shingles::from_hashes(whole.map(|h| h as u32));
        }
        let grams = bounds.windows(CHAR_GRAM + 1).map(|w| &norm.as_bytes()[w[0]..w[CHAR_GRAM]]);
        Shingles::from_hashes(grams.map(|g| xxh3_64_with_seed(g, CHAR_SEED) as u32))
    }

    /// The signature of `text`.
    pub fn signature(&self, text: &str) -> Signature {
        self.signature_of(&self.shingles(text))
    }

    /// The signature of a shingle set.
    pub fn signature_of(&self, shingles: &Shingles) -> Signature {
        if shingles.is_empty() {
            return Signature { params: self.id, values: Box::new([]) };
        }
        let mut mins = vec![u32::MAX; self.params.num_hashes];
        for &x in &shingles.0 {
            let x = u64::from(x);
            for (m, &(a, b)) in mins.iter_mut().zip(&self.family) {
                *m = (*m).min((a.wrapping_mul(x).wrapping_add(b) >> 32) as u32);
            }
        }
        Signature { params: self.id, values: mins.into() }
    }

    /// An empty index for these parameters.
    pub fn index(&self) -> LshIndex {
        LshIndex::new(self)
    }

    /// The key of each band of `sig`: a 32-bit hash of its rows (`bands` values; none for an
    /// empty signature).
    fn band_keys<'a>(&self, sig: &'a Signature) -> impl Iterator<Item = u32> + 'a {
        sig.values.chunks_exact(self.rows()).map(|rows| {
            let mut h = 0x9e37_79b9_7f4a_7c15u64;
            for &v in rows {
                h = (h ^ u64::from(v)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                h ^= h >> 31;
            }
            (h >> 32) as u32
        })
    }

    /// The groups of near-duplicates among `texts`: indexes into `texts`, ascending within a
    /// group, groups by their first member; texts without a duplicate are in no group.
    ///
    /// Identical shingle sets are joined first, so a text repeated a thousand times costs one
    /// set in the banding, not half a million pairs. Then every pair that shares a band and is
    /// not already in one group is checked on the exact Jaccard of its sets, and joined when
    /// it reaches the threshold (union-find). Groups are single-linkage: A ~ B and B ~ C put
    /// A and C together even when A and C alone are not duplicates.
    pub fn clusters<T: AsRef<str> + Sync>(&self, texts: &[T]) -> Vec<Vec<usize>> {
        let sets: Vec<Shingles> =
            in_chunks(texts, |c| c.iter().map(|t| self.shingles(t.as_ref())).collect::<Vec<_>>())
                .concat();
        let mut groups = UnionFind::new(sets.len());
        let mut reps = Vec::new();
        let mut first: FxHashMap<&Shingles, usize> = FxHashMap::default();
        for (i, set) in sets.iter().enumerate().filter(|(_, s)| !s.is_empty()) {
            match first.entry(set) {
                Entry::Occupied(e) => groups.union(*e.get(), i),
                Entry::Vacant(e) => {
                    e.insert(i);
                    reps.push(i);
                }
            }
        }
        drop(first);
        let bands = self.params.bands;
        let keys: Vec<u32> = in_chunks(&reps, |c| {
            c.iter()
                .flat_map(|&i| self.band_keys(&self.signature_of(&sets[i])).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        })
        .concat();
        let mut order: Vec<(u32, u32)> = Vec::with_capacity(reps.len());
        for band in 0..bands {
            order.clear();
            order.extend(reps.iter().enumerate().map(|(r, &i)| (keys[r * bands + band], i as u32)));
            order.sort_unstable();
            for run in order.chunk_by(|x, y| x.0 == y.0).filter(|r| r.len() > 1) {
                for (j, &(_, y)) in run.iter().enumerate().skip(1) {
                    for &(_, x) in &run[..j] {
                        let (x, y) = (x as usize, y as usize);
                        if groups.find(x) != groups.find(y)
                            && jaccard(&sets[x], &sets[y]) >= self.params.threshold
                        {
                            groups.union(x, y);
                        }
                    }
                }
            }
        }
        groups.groups(|i| !sets[i].is_empty())
    }
}

/// SplitMix64: the seeded stream of the hash family's coefficients.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let grand = self.parent[self.parent[x] as usize];
            self.parent[x] = grand;
            x = grand as usize;
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a as u32;
        self.size[a] += self.size[b];
    }

    /// The sets of two or more members that `keep` accepts, each ascending, by first member.
    fn groups(mut self, keep: impl Fn(usize) -> bool) -> Vec<Vec<usize>> {
        let mut by_root: FxHashMap<usize, Vec<usize>> = FxHashMap::default();
        for i in (0..self.parent.len()).filter(|&i| keep(i)) {
            let root = self.find(i);
            by_root.entry(root).or_default().push(i);
        }
        let mut out: Vec<Vec<usize>> = by_root.into_values().filter(|g| g.len() > 1).collect();
        out.sort_unstable_by_key(|g| g[0]);
        out
    }
}

#[cfg(test)]
mod tests;

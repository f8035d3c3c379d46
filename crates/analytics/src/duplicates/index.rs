//! [`LshIndex`]: the signatures of a whole inbox, queried for the candidates of a new item.
//!
//! Sized for a million items: per band, a sorted array of `band key << 32 | slot` (8 bytes an
//! item), where a hash map of buckets would take two to three times the memory, with a
//! directory of where each leading-bits prefix of the keys starts (about 16 entries a prefix,
//! at most 2¹⁶ prefixes: 256 KB a band), so a lookup touches a few cache lines rather than
//! the twenty of a binary search over a million entries; per item, 8 bits of each MinHash value (b-bit minwise hashing, Li & König
//! 2010: two values agree by chance with probability 2⁻⁸, which the estimate subtracts), a
//! quarter of the full values. Items inserted after a build go to a small sorted tail per
//! band, merged into the arrays when it reaches [`TAIL`] entries; removed items are skipped
//! until that merge drops them.

use super::{MinHasher, Signature};
use rustc_hash::FxHashMap;
use std::borrow::Borrow;

/// Entries per band's tail before it is merged into the sorted array: a query searches both,
/// an insert shifts half the tail, a merge copies the whole array.
const TAIL: usize = 4096;
/// Chance that two unrelated 8-bit sketch values agree.
const CHANCE: f32 = 1.0 / 256.0;

/// The banded index of [`MinHasher`]'s signatures, keyed by the caller's ids (feedback rows).
#[derive(Clone, Debug)]
pub struct LshIndex {
    hasher: MinHasher,
    /// Per slot: the key, whether it is current, and its sketch (`num_hashes` bytes).
    keys: Vec<i64>,
    live: Vec<bool>,
    sketches: Vec<u8>,
    slots: FxHashMap<i64, u32>,
    bands: Vec<Band>,
    /// Slots removed since the last merge (their band entries are still there).
    removed: Vec<u32>,
    /// Slots free for reuse: removed, and purged from the bands.
    free: Vec<u32>,
}

#[derive(Clone, Debug)]
struct Band {
    /// `key << 32 | slot`, sorted.
    sorted: Vec<u64>,
    tail: Vec<u64>,
    /// `sorted[directory[p]..directory[p + 1]]` holds the keys whose top bits are p
    /// (`key >> shift`).
    directory: Vec<u32>,
    shift: u32,
}

impl Band {
    fn new() -> Band {
        let mut band =
            Band { sorted: Vec::new(), tail: Vec::new(), directory: Vec::new(), shift: 0 };
        band.index_prefixes();
        band
    }

    fn slots_of(&self, key: u32) -> impl Iterator<Item = u32> + '_ {
        let p = (u64::from(key) >> self.shift) as usize;
        let run = &self.sorted[self.directory[p] as usize..self.directory[p + 1] as usize];
        run_of(run, key).chain(run_of(&self.tail, key))
    }

    /// Rebuilds the directory for the sorted array: about 16 entries a prefix.
    fn index_prefixes(&mut self) {
        let bits = self.sorted.len().max(1).ilog2().saturating_sub(4).min(16);
        self.shift = 32 - bits;
        let mut directory = vec![0u32; (1 << bits) + 1];
        for &e in &self.sorted {
            directory[((e >> 32) >> self.shift) as usize + 1] += 1;
        }
        for p in 1..directory.len() {
            directory[p] += directory[p - 1];
        }
        self.directory = directory;
    }
}

/// The slots under `key` in a sorted run of entries.
fn run_of(run: &[u64], key: u32) -> impl Iterator<Item = u32> + '_ {
    let from = run.partition_point(|&e| e >> 32 < u64::from(key));
    run[from..].iter().take_while(move |&&e| e >> 32 == u64::from(key)).map(|&e| e as u32)
}

impl LshIndex {
    pub(super) fn new(hasher: &MinHasher) -> LshIndex {
        LshIndex {
            hasher: hasher.clone(),
            keys: Vec::new(),
            live: Vec::new(),
            sketches: Vec::new(),
            slots: FxHashMap::default(),
            bands: vec![Band::new(); hasher.params.bands],
            removed: Vec::new(),
            free: Vec::new(),
        }
    }

    /// An index of `items` at once, as at start-up from stored signatures: every entry is
    /// appended, then each band is sorted once (on a few threads). A key given twice keeps its
    /// last signature.
    ///
    /// # Panics
    /// If a signature was made with other parameters ([`MinHasher::is_own`]).
    pub fn build<S: Borrow<Signature>>(
        hasher: &MinHasher,
        items: impl IntoIterator<Item = (i64, S)>,
    ) -> LshIndex {
        let mut index = LshIndex::new(hasher);
        let items = items.into_iter();
        let (low, _) = items.size_hint();
        index.keys.reserve(low);
        index.live.reserve(low);
        index.sketches.reserve(low * hasher.params.num_hashes);
        index.slots.reserve(low);
        for band in &mut index.bands {
            band.sorted.reserve(low);
        }
        for (key, sig) in items {
            index.add(key, sig.borrow(), true);
        }
        index.merge_all();
        // Without a size hint the arrays grew by doubling: give back what they overshot.
        for band in &mut index.bands {
            band.sorted.shrink_to_fit();
        }
        index.keys.shrink_to_fit();
        index.live.shrink_to_fit();
        index.sketches.shrink_to_fit();
        index.slots.shrink_to_fit();
        index
    }

    /// Adds `key` with its signature, replacing what `key` had. An empty signature (a text
    /// without words) is not indexed: it has no duplicates.
    ///
    /// # Panics
    /// If the signature was made with other parameters.
    pub fn insert(&mut self, key: i64, sig: &Signature) {
        self.add(key, sig, false);
        if self.bands[0].tail.len() >= TAIL {
            self.merge_all();
        }
    }

    /// Removes `key`; whether it was there.
    pub fn remove(&mut self, key: i64) -> bool {
        let Some(slot) = self.slots.remove(&key) else { return false };
        self.live[slot as usize] = false;
        self.removed.push(slot);
        if self.removed.len() >= TAIL.max(self.slots.len() / 8) {
            self.merge_all();
        }
        true
    }

    /// Items indexed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn contains(&self, key: i64) -> bool {
        self.slots.contains_key(&key)
    }

    /// The keys that share a band with `sig`, ascending: the items whose Jaccard similarity
    /// with it is likely at or above the threshold, and some below (module docs).
    ///
    /// # Panics
    /// If the signature was made with other parameters.
    pub fn candidates(&self, sig: &Signature) -> Vec<i64> {
        let mut keys: Vec<i64> =
            self.candidate_slots(sig).into_iter().map(|s| self.keys[s as usize]).collect();
        keys.sort_unstable();
        keys
    }

    /// The candidates whose estimated Jaccard similarity with `sig` is at least `threshold`,
    /// most similar first (then by key). The estimate has a standard deviation of about
    /// 0.04 at 0.8 with 96 values: callers that hold the texts confirm with
    /// [`super::jaccard`].
    ///
    /// # Panics
    /// If the signature was made with other parameters.
    pub fn similar(&self, sig: &Signature, threshold: f32) -> Vec<(i64, f32)> {
        let n = self.hasher.params.num_hashes;
        let query: Vec<u8> = sig.values().iter().map(|&v| v as u8).collect();
        let mut out: Vec<(i64, f32)> = self
            .candidate_slots(sig)
            .into_iter()
            .filter_map(|s| {
                let sketch = &self.sketches[s as usize * n..][..n];
                let same = query.iter().zip(sketch).filter(|(a, b)| a == b).count();
                let j = ((same as f32 / n as f32 - CHANCE) / (1.0 - CHANCE)).clamp(0.0, 1.0);
                (j >= threshold).then_some((self.keys[s as usize], j))
            })
            .collect();
        out.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    /// Bytes held on the heap: the arrays exactly, the key map from its capacity (hashbrown
    /// keeps a control byte per bucket and at most 7 entries per 8 buckets).
    pub fn heap_bytes(&self) -> usize {
        let bands: usize = (self.bands.iter())
            .map(|b| 8 * (b.sorted.capacity() + b.tail.capacity()) + 4 * b.directory.capacity())
            .sum();
        let buckets = (self.slots.capacity() * 8 / 7).next_power_of_two();
        bands
            + 8 * self.keys.capacity()
            + self.live.capacity()
            + self.sketches.capacity()
            + buckets * (std::mem::size_of::<(i64, u32)>() + 1)
            + 4 * (self.removed.capacity() + self.free.capacity())
    }

    fn check(&self, sig: &Signature) {
        assert!(self.hasher.is_own(sig), "a signature made with other parameters");
    }

    fn candidate_slots(&self, sig: &Signature) -> Vec<u32> {
        self.check(sig);
        let mut slots: Vec<u32> = self
            .bands
            .iter()
            .zip(self.hasher.band_keys(sig))
            .flat_map(|(band, key)| band.slots_of(key))
            .filter(|&s| self.live[s as usize])
            .collect();
        slots.sort_unstable();
        slots.dedup();
        slots
    }

    /// Adds to the sorted arrays unsorted (`bulk`: [`LshIndex::merge_all`] sorts them) or to
    /// the sorted tails.
    fn add(&mut self, key: i64, sig: &Signature, bulk: bool) {
        self.check(sig);
        self.remove(key);
        if sig.is_empty() {
            return;
        }
        let slot = match self.free.pop() {
            Some(slot) => {
                let n = self.hasher.params.num_hashes;
                let sketch = &mut self.sketches[slot as usize * n..][..n];
                for (s, &v) in sketch.iter_mut().zip(sig.values()) {
                    *s = v as u8;
                }
                self.keys[slot as usize] = key;
                self.live[slot as usize] = true;
                slot
            }
            None => {
                if !bulk && self.keys.len() == self.keys.capacity() {
                    // By a sixteenth, not double: a million items would leave ~100 MB unused
                    // (a build doubles, then shrinks once).
                    let more = (self.keys.len() / 16).max(1024);
                    self.keys.reserve_exact(more);
                    self.live.reserve_exact(more);
                    self.sketches.reserve_exact(more * sig.values().len());
                }
                self.sketches.extend(sig.values().iter().map(|&v| v as u8));
                self.keys.push(key);
                self.live.push(true);
                u32::try_from(self.keys.len() - 1).expect("fewer than 2^32 items")
            }
        };
        self.slots.insert(key, slot);
        for (band, k) in self.bands.iter_mut().zip(self.hasher.band_keys(sig)) {
            let entry = u64::from(k) << 32 | u64::from(slot);
            if bulk {
                band.sorted.push(entry);
            } else {
                let at = band.tail.partition_point(|&e| e < entry);
                band.tail.insert(at, entry);
            }
        }
    }

    /// Sorts each band's array with its tail and drops removed slots, which become free.
    fn merge_all(&mut self) {
        let live = &self.live;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let per = self.bands.len().div_ceil(threads).max(1);
        std::thread::scope(|scope| {
            for chunk in self.bands.chunks_mut(per) {
                scope.spawn(move || {
                    for band in chunk {
                        // Exactly: doubling would leave up to half the array unused.
                        band.sorted.reserve_exact(band.tail.len());
                        band.sorted.append(&mut band.tail);
                        band.sorted.retain(|&e| live[e as u32 as usize]);
                        // Stable sort finds the two sorted runs after a few inserts and merges
                        // them in one pass.
                        band.sorted.sort();
                        band.index_prefixes();
                    }
                });
            }
        });
        self.free.append(&mut self.removed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duplicates::DuplicateParams;

    fn hasher() -> MinHasher {
        DuplicateParams::default().check().unwrap()
    }

    const TEXTS: [&str; 4] = [
        "The delivery was late and the box arrived damaged, very disappointed",
        "the delivery was late and the box arrived damaged. Very disappointed!!",
        "O produto chegou antes do prazo e bem embalado, recomendo a loja",
        "Completely unrelated remark about the colour options in the settings page",
    ];

    #[test]
    fn insert_remove_and_candidates() {
        let h = hasher();
        let sigs: Vec<Signature> = TEXTS.iter().map(|t| h.signature(t)).collect();
        let mut index = h.index();
        for (key, sig) in (10..).zip(&sigs) {
            index.insert(key, sig);
        }
        assert_eq!(index.len(), 4);
        assert_eq!(index.candidates(&sigs[0]), vec![10, 11]);
        assert_eq!(index.candidates(&sigs[2]), vec![12]);
        assert_eq!(index.similar(&sigs[1], 0.8), vec![(10, 1.0), (11, 1.0)]);
        assert!(index.remove(10));
        assert!(!index.remove(10), "already gone");
        assert_eq!(index.candidates(&sigs[0]), vec![11]);
        // Re-inserting a key replaces its signature.
        index.insert(11, &sigs[3]);
        assert_eq!(index.candidates(&sigs[0]), Vec::<i64>::new());
        assert_eq!(index.candidates(&sigs[3]), vec![11, 13]);
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn empty_texts_are_not_indexed_and_match_nothing() {
        let h = hasher();
        let mut index = h.index();
        let empty = h.signature("?!… 👍");
        assert!(empty.is_empty());
        index.insert(1, &empty);
        index.insert(2, &h.signature(TEXTS[0]));
        assert_eq!(index.len(), 1);
        assert!(index.candidates(&empty).is_empty());
    }

    #[test]
    fn merges_and_slot_reuse_keep_the_answers_of_a_fresh_build() {
        let h = hasher();
        let text = |i: i64| format!("item {} says {} about {}", i % 97, i % 13, i / 97);
        let mut index = h.index();
        for i in 0..(TAIL as i64 + 500) {
            index.insert(i, &h.signature(&text(i)));
        }
        for i in (0..TAIL as i64).step_by(2) {
            index.remove(i);
        }
        for i in 0..(TAIL as i64 + 500) {
            index.insert(i + 100_000, &h.signature(&text(i)));
        }
        let kept = (0..(TAIL as i64 + 500)).filter(|i| i % 2 == 1 || *i >= TAIL as i64);
        let items = kept.map(|i| (i, h.signature(&text(i))));
        let items =
            items.chain((0..(TAIL as i64 + 500)).map(|i| (i + 100_000, h.signature(&text(i)))));
        let fresh = LshIndex::build(&h, items.collect::<Vec<_>>());
        assert_eq!(index.len(), fresh.len());
        assert!(index.keys.len() < 2 * (TAIL + 500), "removed slots are reused");
        for i in (0..(TAIL as i64 + 500)).step_by(37) {
            let sig = h.signature(&text(i));
            assert_eq!(index.candidates(&sig), fresh.candidates(&sig), "item {i}");
            assert_eq!(index.similar(&sig, 0.5), fresh.similar(&sig, 0.5), "item {i}");
            assert!(index.candidates(&sig).contains(&(i + 100_000)));
        }
    }

    #[test]
    fn build_keeps_the_last_signature_of_a_repeated_key() {
        let h = hasher();
        let items =
            [(1, h.signature(TEXTS[0])), (2, h.signature(TEXTS[2])), (1, h.signature(TEXTS[3]))];
        let index = LshIndex::build(&h, items.iter().map(|(k, s)| (*k, s)));
        assert_eq!(index.len(), 2);
        assert!(index.candidates(&h.signature(TEXTS[0])).is_empty());
        assert_eq!(index.candidates(&h.signature(TEXTS[3])), vec![1]);
        assert!(index.heap_bytes() > 0);
    }

    #[test]
    #[should_panic(expected = "other parameters")]
    fn a_signature_of_other_parameters_is_refused() {
        let other = DuplicateParams { seed: 7, ..DuplicateParams::default() }.check().unwrap();
        hasher().index().insert(1, &other.signature(TEXTS[0]));
    }
}

//! A fixed-length set of customer positions, 64 to a word.

/// Bits beyond `len` are always zero, so counts and comparisons need no masking.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bitset {
    words: Vec<u64>,
    len: usize,
}

impl Bitset {
    pub fn empty(len: usize) -> Bitset {
        Bitset { words: vec![0; len.div_ceil(64)], len }
    }

    pub fn full(len: usize) -> Bitset {
        let mut b = Bitset { words: vec![u64::MAX; len.div_ceil(64)], len };
        b.clear_tail();
        b
    }

    /// From words; bits beyond `len` are cleared.
    pub fn from_words(mut words: Vec<u64>, len: usize) -> Bitset {
        words.resize(len.div_ceil(64), 0);
        let mut b = Bitset { words, len };
        b.clear_tail();
        b
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn words(&self) -> &[u64] {
        &self.words
    }

    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] >> (i % 64) & 1 == 1
    }

    pub fn set(&mut self, i: usize, on: bool) {
        assert!(i < self.len, "bit {i} of {}", self.len);
        let mask = 1u64 << (i % 64);
        if on {
            self.words[i / 64] |= mask;
        } else {
            self.words[i / 64] &= !mask;
        }
    }

    pub fn push(&mut self, on: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, on);
    }

    /// Number of positions in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The positions in the set, ascending.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(i * 64 + b)
            })
        })
    }

    pub fn and_with(&mut self, other: &Bitset) {
        self.zip(other, |a, b| a & b);
    }

    pub fn or_with(&mut self, other: &Bitset) {
        self.zip(other, |a, b| a | b);
    }

    /// Removes the positions in `other`.
    pub fn and_not_with(&mut self, other: &Bitset) {
        self.zip(other, |a, b| a & !b);
    }

    /// The complement within `0..len`.
    pub fn not(&self) -> Bitset {
        let mut b = Bitset { words: self.words.iter().map(|w| !w).collect(), len: self.len };
        b.clear_tail();
        b
    }

    fn zip(&mut self, other: &Bitset, f: impl Fn(u64, u64) -> u64) {
        assert_eq!(self.len, other.len, "bitsets of different lengths");
        for (a, b) in self.words.iter_mut().zip(&other.words) {
            *a = f(*a, *b);
        }
    }

    fn clear_tail(&mut self) {
        if !self.len.is_multiple_of(64)
            && let Some(last) = self.words.last_mut()
        {
            *last &= (1u64 << (self.len % 64)) - 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_keep_the_tail_clear() {
        let mut a = Bitset::empty(70);
        a.set(3, true);
        a.set(69, true);
        assert_eq!(a.not().count(), 68);
        assert_eq!(Bitset::full(70).count(), 70);
        assert_eq!(a.ones().collect::<Vec<_>>(), [3, 69]);
        let mut b = Bitset::full(70);
        b.and_not_with(&a);
        assert!(!b.get(3) && b.get(4) && !b.get(70));
        let mut p = Bitset::default();
        for i in 0..130 {
            p.push(i % 3 == 0);
        }
        assert_eq!((p.len(), p.count()), (130, 44));
    }
}

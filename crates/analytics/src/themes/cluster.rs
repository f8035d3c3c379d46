//! Spherical k-means over the texts' phrase vectors, trimmed: a text joins its nearest
//! centroid only when their cosine reaches `min_similarity`, and only members move centroids,
//! so texts about nothing in particular stay unassigned instead of blurring every theme.
//! The previous run's themes, then seeded k-means++ on a fixed sample, start it; clusters
//! smaller than `min_size` are dissolved at the end and their texts reassigned. Assignment runs on fixed chunks
//! (`in_chunks`) and centroids are summed in text order, so the result does not depend on
//! the core count.

use super::in_chunks;
use super::phrases::Vectors;

/// No cluster.
pub(super) const NONE: u32 = u32::MAX;

/// Most texts k-means++ seeding looks at.
const SEED_SAMPLE: usize = 20_000;

/// splitmix64 (Steele, Lea & Flood 2014): a tiny, well-mixed, seeded generator.
pub(super) struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub(super) struct KMeans {
    pub k: usize,
    pub iterations: usize,
    pub min_similarity: f32,
    pub min_size: usize,
    pub seed: u64,
}

/// Centroids, phrase-major (`centroids[p * k + c]`), so scoring a text reads one row of `k`
/// weights per phrase it holds; a dissolved cluster's column is zero.
pub(super) struct Centroids {
    pub k: usize,
    pub weights: Vec<f32>,
}

impl Centroids {
    /// The nearest centroid to a unit vector and its cosine, or [`NONE`] below `min`.
    pub fn nearest(
        &self,
        phrases: &[u32],
        weights: &[f32],
        min: f32,
        sims: &mut Vec<f32>,
    ) -> (u32, f32) {
        sims.clear();
        sims.resize(self.k, 0.0);
        for (&p, &w) in phrases.iter().zip(weights) {
            let row = &self.weights[p as usize * self.k..][..self.k];
            for (s, &c) in sims.iter_mut().zip(row) {
                *s += w * c;
            }
        }
        let mut best = (NONE, min);
        for (c, &s) in sims.iter().enumerate() {
            if s >= best.1 && (best.0 == NONE || s > best.1) {
                best = (c as u32, s);
            }
        }
        if best.0 == NONE { (NONE, 0.0) } else { best }
    }
}

/// Each active text's (cluster, cosine), in `active` order.
fn assign(v: &Vectors, active: &[u32], c: &Centroids, min: f32) -> Vec<(u32, f32)> {
    in_chunks(active, |chunk| {
        let mut sims = Vec::new();
        chunk
            .iter()
            .map(|&d| {
                let (p, w) = v.of(d as usize);
                c.nearest(p, w, min, &mut sims)
            })
            .collect::<Vec<_>>()
    })
    .concat()
}

/// Centroids as the normalised sums of their members.
fn centroids(
    v: &Vectors,
    active: &[u32],
    of: &[(u32, f32)],
    k: usize,
    phrases: usize,
) -> Centroids {
    let mut sums = vec![0f64; phrases * k];
    for (&d, &(c, _)) in active.iter().zip(of) {
        if c != NONE {
            let (p, w) = v.of(d as usize);
            for (&p, &w) in p.iter().zip(w) {
                sums[p as usize * k + c as usize] += f64::from(w);
            }
        }
    }
    let mut norms = vec![0f64; k];
    for row in sums.chunks(k) {
        for (n, &s) in norms.iter_mut().zip(row) {
            *n += s * s;
        }
    }
    let norms: Vec<f64> = norms.into_iter().map(|n| if n > 0.0 { n.sqrt() } else { 1.0 }).collect();
    let weights = sums
        .chunks(k)
        .flat_map(|row| row.iter().zip(&norms).map(|(s, n)| (s / n) as f32))
        .collect();
    Centroids { k, weights }
}

/// A sparse unit vector: (phrase, weight) pairs.
pub(super) type Sparse = Vec<(u32, f32)>;

/// The starting centroids: the `warm` ones (the previous run's themes), then k-means++ picks
/// from an evenly spaced sample of the active texts, each far from those before it.
fn seeds(
    v: &Vectors,
    active: &[u32],
    km: &KMeans,
    phrases: usize,
    warm: Vec<Sparse>,
) -> Vec<Sparse> {
    let stride = active.len().div_ceil(SEED_SAMPLE).max(1);
    let sample: Vec<u32> = active.iter().step_by(stride).copied().collect();
    let of = |d: u32| -> Sparse {
        let (p, w) = v.of(d as usize);
        p.iter().copied().zip(w.iter().copied()).collect()
    };
    let mut rng = SplitMix64::new(km.seed);
    let mut chosen: Vec<Sparse> = warm.into_iter().filter(|s| !s.is_empty()).take(km.k).collect();
    if chosen.is_empty() {
        chosen.push(of(sample[(rng.next_u64() % sample.len() as u64) as usize]));
    }
    let mut best = vec![0f32; sample.len()];
    let mut dense = vec![0f32; phrases];
    let mut scored = 0;
    loop {
        // Each sample text's cosine to its nearest seed so far.
        for seed in &chosen[scored..] {
            for &(p, w) in seed {
                dense[p as usize] = w;
            }
            for (b, &d) in best.iter_mut().zip(&sample) {
                let (p, w) = v.of(d as usize);
                let s: f32 = p.iter().zip(w).map(|(&p, &w)| w * dense[p as usize]).sum();
                *b = b.max(s);
            }
            for &(p, _) in seed {
                dense[p as usize] = 0.0;
            }
        }
        scored = chosen.len();
        if chosen.len() >= km.k {
            break;
        }
        let d2: Vec<f64> = best.iter().map(|&b| f64::from(1.0 - b.min(1.0)).powi(2)).collect();
        let total: f64 = d2.iter().sum();
        if total <= 1e-9 {
            break;
        }
        let mut r = rng.next_f64() * total;
        let pick = d2.iter().position(|&x| {
            r -= x;
            r < 0.0
        });
        chosen.push(of(sample[pick.unwrap_or(sample.len() - 1)]));
    }
    chosen
}

/// Lloyd's iterations from `of` until under 0.1% of the texts move: `c` ends as the
/// centroids `of` was assigned with.
fn lloyd(v: &Vectors, active: &[u32], km: &KMeans, c: &mut Centroids, of: &mut Vec<(u32, f32)>) {
    let phrases = c.weights.len() / c.k;
    for _ in 0..km.iterations {
        let next_c = centroids(v, active, of, c.k, phrases);
        let next = assign(v, active, &next_c, km.min_similarity);
        let moved = next.iter().zip(of.iter()).filter(|(a, b)| a.0 != b.0).count();
        (*c, *of) = (next_c, next);
        if moved * 1000 <= active.len() {
            break;
        }
    }
}

/// Clusters the active texts: their (cluster, cosine) in `active` order, and the centroids.
pub(super) fn cluster(
    v: &Vectors,
    active: &[u32],
    phrases: usize,
    km: &KMeans,
    warm: Vec<Sparse>,
) -> (Vec<(u32, f32)>, Centroids) {
    if active.is_empty() || km.k == 0 {
        return (vec![(NONE, 0.0); active.len()], Centroids { k: 0, weights: Vec::new() });
    }
    let seeds = seeds(v, active, km, phrases, warm);
    let k = seeds.len();
    let mut c = Centroids { k, weights: vec![0.0; phrases * k] };
    for (j, seed) in seeds.iter().enumerate() {
        for &(p, w) in seed {
            c.weights[p as usize * k + j] = w;
        }
    }
    let mut of = assign(v, active, &c, km.min_similarity);
    lloyd(v, active, km, &mut c, &mut of);
    // Dissolve small clusters until none is left: their texts go to the next nearest.
    let mut alive = vec![true; k];
    loop {
        let mut sizes = vec![0usize; k];
        for &(c, _) in &of {
            if c != NONE {
                sizes[c as usize] += 1;
            }
        }
        let small: Vec<usize> = (0..k).filter(|&j| alive[j] && sizes[j] < km.min_size).collect();
        if small.is_empty() {
            break;
        }
        for row in c.weights.chunks_mut(k) {
            for &j in &small {
                row[j] = 0.0;
            }
        }
        for &j in &small {
            alive[j] = false;
        }
        if small.iter().any(|&j| sizes[j] > 0) {
            of = assign(v, active, &c, km.min_similarity);
        }
    }
    (of, c)
}

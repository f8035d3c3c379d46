//! The gap statistic (Tibshirani, Walther & Hastie 2001), the other rule for choosing k.
//!
//! For each k, W_k is the within-cluster sum of squares of a k-means fit. Gap(k) compares
//! log W_k with its expectation under a reference distribution with no clusters, uniform over
//! the bounding box of each column: Gap(k) = mean_b log W*_kb − log W_k over `references`
//! reference sets, with s_k = sd_b(log W*_kb) · √(1 + 1/B). The rule takes the smallest k with
//! Gap(k) ≥ Gap(k+1) − s_{k+1}, i.e. the first k where adding a cluster no longer helps beyond
//! what chance would; when no k qualifies, the k with the largest gap.
//!
//! Fitting B reference sets per k is the whole cost, so both the data and the references are
//! the seeded sample the silhouette uses (at most `sample` rows): the statistic is about the
//! shape of the cloud, which a sample of thousands keeps. Each reference set draws from its
//! own ChaCha8 stream, so the result depends on the seed only.

use super::{Data, ParamError, Params, fit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One k's gap and its standard error s_k.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    pub k: usize,
    pub gap: f64,
    pub se: f64,
}

/// The gap of every k in `ks` on `data` (already the sample), with `references` reference sets.
/// `params(k)` gives the k-means parameters of each fit (restarts, seed...).
pub fn gaps(
    data: Data,
    ks: &[usize],
    references: usize,
    seed: u64,
    params: impl Fn(usize) -> Params,
) -> Result<Vec<Gap>, ParamError> {
    let (lo, hi) = bounds(data);
    let refs: Vec<Vec<f64>> =
        (0..references).map(|b| uniform(data.n(), &lo, &hi, stream(seed, b))).collect();
    let mut out = Vec::with_capacity(ks.len());
    for &k in ks {
        let checked = params(k).check()?;
        let observed = log_w(fit(data, &checked)?.inertia);
        let mut expected = Vec::with_capacity(references);
        for values in &refs {
            let reference = Data::new(values, data.d())?;
            expected.push(log_w(fit(reference, &checked)?.inertia));
        }
        let b = expected.len() as f64;
        let mean = expected.iter().sum::<f64>() / b;
        let sd = (expected.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / b).sqrt();
        out.push(Gap { k, gap: mean - observed, se: sd * (1.0 + 1.0 / b).sqrt() });
    }
    Ok(out)
}

/// The index into `gaps` of the k the rule picks (see the module docs).
pub fn pick(gaps: &[Gap]) -> usize {
    gaps.windows(2).position(|w| w[0].gap >= w[1].gap - w[1].se).unwrap_or_else(|| {
        (0..gaps.len()).fold(0, |b, i| if gaps[i].gap > gaps[b].gap { i } else { b })
    })
}

/// log W, kept finite when a fit is perfect (as many distinct points as clusters).
fn log_w(inertia: f64) -> f64 {
    inertia.max(f64::MIN_POSITIVE).ln()
}

/// Each column's minimum and maximum.
fn bounds(data: Data) -> (Vec<f64>, Vec<f64>) {
    let d = data.d();
    let (mut lo, mut hi) = (vec![f64::INFINITY; d], vec![f64::NEG_INFINITY; d]);
    for row in data.values().chunks_exact(d) {
        for (j, &x) in row.iter().enumerate() {
            lo[j] = lo[j].min(x);
            hi[j] = hi[j].max(x);
        }
    }
    (lo, hi)
}

/// `n` rows uniform over the box [lo, hi] (a constant column stays constant).
fn uniform(n: usize, lo: &[f64], hi: &[f64], mut rng: ChaCha8Rng) -> Vec<f64> {
    let mut out = Vec::with_capacity(n * lo.len());
    for _ in 0..n {
        for (&a, &b) in lo.iter().zip(hi) {
            out.push(if b > a { rng.random_range(a..b) } else { a });
        }
    }
    out
}

/// The b-th reference set's generator: a stream apart from the restarts' and the sample's.
fn stream(seed: u64, b: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6a90_57a7_0000_0000);
    rng.set_stream(b as u64 + 1);
    rng
}

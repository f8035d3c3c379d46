//! k-means clustering of customers on numeric features: z-score standardisation, greedy
//! k-means++ seeding, exact Lloyd iterations accelerated with Hamerly's bounds, seeded
//! restarts, and an automatic k by silhouette or the gap statistic on a seeded sample
//! ([`choose_k`]).
//!
//! - **Data** is a flat row-major matrix ([`Data`]: `n × d` finite values).
//! - **Standardisation** ([`standardise`]): each column minus its mean over its population
//!   standard deviation, as scikit-learn's `StandardScaler`; a constant column has scale 1 and
//!   becomes all zeros, so it weighs nothing.
//! - **Seeding** is greedy k-means++ as scikit-learn does it (Arthur & Vassilvitskii 2007; the
//!   greedy variant of their paper): the first centre uniformly at random, then at each step
//!   2 + ⌊ln k⌋ candidates drawn with probability proportional to D(x)², of which the one that
//!   lowers the potential most is kept. The greedy step is what makes the quality match.
//! - **Iterations** are Lloyd's (assign every point to its nearest centre, move each centre to
//!   its points' mean), computed exactly but with Hamerly's (2010) bounds: an upper bound on a
//!   point's distance to its centre and a lower bound on its distance to any other, updated by
//!   how far centres move, let most points skip the distance computations once the centres
//!   settle. The assignments are those of plain Lloyd.
//! - **Convergence** as scikit-learn: stop when no label changes, or when the sum of squared
//!   centre moves is at most `tol` × the mean variance of the columns, or after `max_iter`
//!   iterations (then one more assignment, so labels are those of the final centres). An
//!   emptied cluster keeps its centre.
//! - **Restarts**: restart i runs from the i-th number drawn from a ChaCha8 generator seeded
//!   with `seed`; the lowest inertia wins (the first on a tie).
//! - **Stable output**: clusters are relabelled by size, largest first (ties by the order
//!   found), so the same data and seed give the same numbered clusters.
//! - **Determinism**: every pass over the points runs on fixed chunks ([`crate::in_ranges`]) and
//!   sums are combined in chunk order, so a result depends on the data and seed, never on the
//!   core count.

mod auto;
mod gap;
mod lloyd;
#[cfg(test)]
mod tests;

pub use auto::{AutoFit, AutoParams, Criterion, KScore, ValidAutoParams, choose_k, silhouette};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt;

/// A parameter or an input out of its range, naming it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamError {
    pub field: &'static str,
    pub reason: String,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for ParamError {}

fn invalid(field: &'static str, reason: impl Into<String>) -> ParamError {
    ParamError { field, reason: reason.into() }
}

/// A checked matrix: `n × d` finite values, row-major, with at least one row and column.
#[derive(Clone, Copy, Debug)]
pub struct Data<'a> {
    values: &'a [f64],
    d: usize,
}

impl<'a> Data<'a> {
    pub fn new(values: &'a [f64], d: usize) -> Result<Data<'a>, ParamError> {
        if d == 0 {
            return Err(invalid("features", "at least one feature is needed"));
        }
        if values.is_empty() || !values.len().is_multiple_of(d) {
            return Err(invalid("data", format!("{} values are not rows of {d}", values.len())));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(invalid("data", format!("row {}, column {} is not finite", i / d, i % d)));
        }
        Ok(Data { values, d })
    }

    pub fn n(&self) -> usize {
        self.values.len() / self.d
    }

    pub fn d(&self) -> usize {
        self.d
    }

    pub fn values(&self) -> &'a [f64] {
        self.values
    }

    pub fn row(&self, i: usize) -> &'a [f64] {
        &self.values[i * self.d..(i + 1) * self.d]
    }

    /// The mean over columns of each column's population variance: what `tol` is relative to.
    fn mean_variance(&self) -> f64 {
        let (_, scale) = column_moments(*self);
        scale.iter().map(|s| s * s).sum::<f64>() / self.d as f64
    }
}

/// A standardised copy of a matrix with the means and scales that undo it.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardised {
    pub values: Vec<f64>,
    pub d: usize,
    pub mean: Vec<f64>,
    /// The population standard deviation of each column, 1 for a constant column.
    pub scale: Vec<f64>,
}

impl Standardised {
    pub fn data(&self) -> Data<'_> {
        Data { values: &self.values, d: self.d }
    }

    /// A point in standardised units back in the original ones.
    pub fn unscale(&self, point: &[f64]) -> Vec<f64> {
        point.iter().zip(&self.mean).zip(&self.scale).map(|((z, m), s)| z * s + m).collect()
    }
}

/// Column means and population standard deviations (two passes, so no cancellation).
fn column_moments(data: Data) -> (Vec<f64>, Vec<f64>) {
    let (n, d) = (data.n() as f64, data.d);
    let mut mean = vec![0.0; d];
    for row in data.values.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, x)| *m += x);
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0; d];
    for row in data.values.chunks_exact(d) {
        for ((v, x), m) in var.iter_mut().zip(row).zip(&mean) {
            *v += (x - m) * (x - m);
        }
    }
    (mean, var.into_iter().map(|v| (v / n).sqrt()).collect())
}

/// Z-scores of every column (see the module docs).
pub fn standardise(data: Data) -> Standardised {
    let (mean, scale) = column_moments(data);
    // A column whose spread is rounding noise around a constant is constant.
    let scale: Vec<f64> = scale
        .into_iter()
        .zip(&mean)
        .map(|(s, m)| if s > 1e-12 * m.abs().max(1.0) { s } else { 1.0 })
        .collect();
    let values = data
        .values
        .chunks_exact(data.d)
        .flat_map(|row| row.iter().zip(&mean).zip(&scale).map(|((x, m), s)| (x - m) / s))
        .collect();
    Standardised { values, d: data.d, mean, scale }
}

/// What a k-means fit is asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub k: usize,
    /// Seeded runs; the lowest inertia is kept.
    pub restarts: usize,
    pub max_iter: usize,
    /// Relative to the mean column variance, as scikit-learn's `tol`.
    pub tol: f64,
    pub seed: u64,
}

impl Default for Params {
    fn default() -> Self {
        Params { k: 5, restarts: 10, max_iter: 300, tol: 1e-4, seed: 0 }
    }
}

/// Checked [`Params`].
#[derive(Clone, Debug, PartialEq)]
pub struct ValidParams(Params);

impl ValidParams {
    pub fn get(&self) -> &Params {
        &self.0
    }
}

impl Params {
    pub fn check(self) -> Result<ValidParams, ParamError> {
        let checks = [
            (self.k >= 1 && self.k <= 1000, "k", "must be 1..=1000"),
            (self.restarts >= 1 && self.restarts <= 1000, "restarts", "must be 1..=1000"),
            (self.max_iter >= 1, "max_iter", "must be at least 1"),
            (self.tol >= 0.0 && self.tol.is_finite(), "tol", "must be a number ≥ 0"),
        ];
        match checks.into_iter().find(|c| !c.0) {
            Some((_, field, reason)) => Err(invalid(field, reason)),
            None => Ok(ValidParams(self)),
        }
    }
}

/// A fitted clustering: clusters numbered by size, largest first.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    pub k: usize,
    pub d: usize,
    /// `k × d`, row-major, in the units of the data fitted.
    pub centroids: Vec<f64>,
    /// The cluster of every row.
    pub labels: Vec<u32>,
    pub sizes: Vec<u64>,
    /// Sum of squared distances of the rows to their centroids.
    pub inertia: f64,
    /// Lloyd iterations of the winning run.
    pub iterations: usize,
    /// Whether the winning run converged before `max_iter`.
    pub converged: bool,
    /// Which restart won (0-based).
    pub restart: usize,
}

impl Fit {
    pub fn centroid(&self, c: usize) -> &[f64] {
        &self.centroids[c * self.d..(c + 1) * self.d]
    }
}

/// The per-restart seeds drawn from one seed.
fn restart_seeds(seed: u64, restarts: usize) -> Vec<u64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..restarts).map(|_| rng.next_u64()).collect()
}

/// k-means with seeded restarts (see the module docs). Fails when k exceeds the rows.
pub fn fit(data: Data, params: &ValidParams) -> Result<Fit, ParamError> {
    let p = params.get();
    if p.k > data.n() {
        return Err(invalid("k", format!("{} clusters of {} rows", p.k, data.n())));
    }
    let tol = p.tol * data.mean_variance();
    let mut best: Option<(usize, lloyd::Run)> = None;
    for (i, seed) in restart_seeds(p.seed, p.restarts).into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let centres = lloyd::init(data, p.k, &mut rng);
        let run = lloyd::run(data, centres, p.max_iter, tol);
        if best.as_ref().is_none_or(|(_, b)| run.inertia < b.inertia) {
            best = Some((i, run));
        }
    }
    let (restart, run) = best.expect("at least one restart");
    Ok(relabel(data.d, restart, run))
}

/// Numbers clusters by size, largest first; equal sizes keep the order found.
fn relabel(d: usize, restart: usize, run: lloyd::Run) -> Fit {
    let k = run.centres.len() / d;
    let mut sizes = vec![0u64; k];
    run.labels.iter().for_each(|&l| sizes[l as usize] += 1);
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&c| std::cmp::Reverse(sizes[c]));
    let mut new_label = vec![0u32; k];
    for (new, &old) in order.iter().enumerate() {
        new_label[old] = new as u32;
    }
    Fit {
        k,
        d,
        centroids: order.iter().flat_map(|&c| run.centres[c * d..(c + 1) * d].to_vec()).collect(),
        labels: run.labels.iter().map(|&l| new_label[l as usize]).collect(),
        sizes: order.iter().map(|&c| sizes[c]).collect(),
        inertia: run.inertia,
        iterations: run.iterations,
        converged: run.converged,
        restart,
    }
}

/// Squared Euclidean distance, four lanes at a time (the hot loop of every pass).
#[inline]
pub(crate) fn dist2(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += (x - y) * (x - y);
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

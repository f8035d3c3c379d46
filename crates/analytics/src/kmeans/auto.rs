//! Choosing k: one fit per k over a range, each scored by its mean silhouette on one seeded
//! sample of the rows (Rousseeuw 1987), the highest winning (the smaller k on a tie).
//!
//! The silhouette of a row is (b − a) / max(a, b), with a its mean distance to the other
//! rows of its cluster and b its mean distance to the rows of the nearest other cluster (0
//! for a row alone in its cluster), as scikit-learn's `silhouette_score` with `sample_size`:
//! both a and b are over the sample. It costs m² distances for m sampled rows, so the whole
//! range is scored in one pass: each distance is computed once and added to every k's sums.
//!
//! With [`Criterion::Gap`] the same fits are kept but k is chosen by the gap statistic on the
//! same sample (see [`super::gap`]); the silhouettes are still reported beside the gaps.

use super::gap::{self, Gap};
use super::{Data, Fit, ParamError, Params, dist2, fit, invalid};
use crate::in_ranges_of;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// What an automatic choice of k is asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoParams {
    pub k_min: usize,
    pub k_max: usize,
    pub restarts: usize,
    pub max_iter: usize,
    pub tol: f64,
    pub seed: u64,
    /// Rows the silhouette (and the gap statistic) is computed on (all rows when there are
    /// fewer).
    pub sample: usize,
    pub criterion: Criterion,
}

/// How k is chosen over the range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// The highest mean silhouette.
    Silhouette,
    /// The gap statistic with this many uniform reference sets (Tibshirani et al. use 10+).
    Gap { references: usize },
}

impl Criterion {
    pub fn name(self) -> &'static str {
        match self {
            Criterion::Silhouette => "silhouette",
            Criterion::Gap { .. } => "gap",
        }
    }

    /// "silhouette" or "gap" (with 10 reference sets).
    pub fn parse(s: &str) -> Result<Criterion, String> {
        match s {
            "silhouette" => Ok(Criterion::Silhouette),
            "gap" => Ok(Criterion::Gap { references: 10 }),
            other => Err(format!("unknown criterion {other:?}: use silhouette or gap")),
        }
    }
}

impl Default for AutoParams {
    fn default() -> Self {
        let p = Params::default();
        AutoParams {
            k_min: 2,
            k_max: 10,
            restarts: p.restarts,
            max_iter: p.max_iter,
            tol: p.tol,
            seed: p.seed,
            sample: 10_000,
            criterion: Criterion::Silhouette,
        }
    }
}

/// Checked [`AutoParams`].
#[derive(Clone, Debug, PartialEq)]
pub struct ValidAutoParams(AutoParams);

impl ValidAutoParams {
    pub fn get(&self) -> &AutoParams {
        &self.0
    }
}

impl AutoParams {
    pub fn check(self) -> Result<ValidAutoParams, ParamError> {
        if self.k_min < 2 {
            return Err(invalid("k_min", "must be at least 2 (a silhouette needs two clusters)"));
        }
        if self.k_max < self.k_min || self.k_max > 100 {
            return Err(invalid("k_max", "must be k_min..=100"));
        }
        if !(100..=50_000).contains(&self.sample) {
            return Err(invalid("sample", "must be 100..=50000"));
        }
        if let Criterion::Gap { references } = self.criterion
            && !(1..=100).contains(&references)
        {
            return Err(invalid("references", "must be 1..=100"));
        }
        self.params(self.k_max).check()?;
        Ok(ValidAutoParams(self))
    }

    fn params(&self, k: usize) -> Params {
        let (restarts, max_iter, tol, seed) = (self.restarts, self.max_iter, self.tol, self.seed);
        Params { k, restarts, max_iter, tol, seed }
    }
}

/// One k's fit, scored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KScore {
    pub k: usize,
    pub silhouette: f64,
    pub inertia: f64,
    /// Gap(k) and its standard error, when k was chosen by the gap statistic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap_se: Option<f64>,
}

/// The chosen k's fit, every k's score and the rule in words.
#[derive(Clone, Debug, PartialEq)]
pub struct AutoFit {
    pub fit: Fit,
    pub scores: Vec<KScore>,
    /// Rows the silhouettes were computed on.
    pub sample: usize,
    /// How k was chosen, e.g. "k = 4: highest silhouette 0.41 over k = 2..10 on a 10,000-row
    /// sample".
    pub rule: String,
}

/// Fits every k of the range and keeps the one with the highest silhouette. Fails when the
/// data has fewer than `k_min + 1` rows.
pub fn choose_k(data: Data, params: &ValidAutoParams) -> Result<AutoFit, ParamError> {
    let p = params.get();
    let k_max = p.k_max.min(data.n().saturating_sub(1));
    if k_max < p.k_min {
        return Err(invalid("k_min", format!("{} rows are too few for k ≥ {}", data.n(), p.k_min)));
    }
    let mut fits = Vec::new();
    for k in p.k_min..=k_max {
        fits.push(fit(data, &p.params(k).check()?)?);
    }
    let rows = sample_rows(data.n(), p.sample, p.seed);
    let labelings: Vec<&[u32]> = fits.iter().map(|f| f.labels.as_slice()).collect();
    let ks: Vec<usize> = fits.iter().map(|f| f.k).collect();
    let mut scores: Vec<KScore> = silhouettes(data, &rows, &labelings, &ks)
        .into_iter()
        .zip(&fits)
        .map(|(s, f)| KScore { k: f.k, silhouette: s, inertia: f.inertia, gap: None, gap_se: None })
        .collect();
    let on = if rows.len() == data.n() {
        format!("on all {} rows", thousands(rows.len()))
    } else {
        format!("on a {}-row sample", thousands(rows.len()))
    };
    let range = format!("over k = {}..{} {on}", p.k_min, k_max);
    let (best, rule) = match p.criterion {
        Criterion::Silhouette => {
            let best = (0..scores.len())
                .fold(0, |b, i| if scores[i].silhouette > scores[b].silhouette { i } else { b });
            let s = scores[best].silhouette;
            (best, format!("k = {}: highest silhouette {s:.2} {range}", scores[best].k))
        }
        Criterion::Gap { references } => {
            let sampled: Vec<f64> = rows.iter().flat_map(|&r| data.row(r).to_vec()).collect();
            let sampled = Data::new(&sampled, data.d())?;
            let gaps = gap::gaps(sampled, &ks, references, p.seed, |k| p.params(k))?;
            for (s, g) in scores.iter_mut().zip(&gaps) {
                (s.gap, s.gap_se) = (Some(g.gap), Some(g.se));
            }
            let best = gap::pick(&gaps);
            (best, gap_rule(&gaps, best, references, &range))
        }
    };
    let fit = fits.swap_remove(best);
    Ok(AutoFit { fit, scores, sample: rows.len(), rule })
}

/// The gap rule in words: which k, and why.
fn gap_rule(gaps: &[Gap], best: usize, references: usize, range: &str) -> String {
    let g = gaps[best];
    let why = match gaps.get(best + 1) {
        Some(next) if g.gap >= next.gap - next.se => format!(
            "smallest k with Gap(k) {:.3} ≥ Gap(k+1) − s(k+1) {:.3}",
            g.gap,
            next.gap - next.se
        ),
        _ => format!("no k met Gap(k) ≥ Gap(k+1) − s(k+1); largest gap {:.3}", g.gap),
    };
    format!("k = {}: {why}, {references} uniform reference sets, {range}", g.k)
}

/// The mean silhouette of one clustering (`labels` of every row, clusters `0..k`) on a
/// seeded sample of at most `sample` rows.
pub fn silhouette(data: Data, labels: &[u32], k: usize, sample: usize, seed: u64) -> f64 {
    let rows = sample_rows(data.n(), sample, seed);
    silhouettes(data, &rows, &[labels], &[k])[0]
}

/// `m` distinct rows of `n` drawn with a seeded partial Fisher–Yates shuffle, in row order.
fn sample_rows(n: usize, m: usize, seed: u64) -> Vec<usize> {
    if m >= n {
        return (0..n).collect();
    }
    // A stream of its own, so the sample does not follow the first restart's draws.
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5111_0e77_e5a4_91e5);
    let mut all: Vec<usize> = (0..n).collect();
    for i in 0..m {
        let j = rng.random_range(i..n);
        all.swap(i, j);
    }
    all.truncate(m);
    all.sort_unstable();
    all
}

/// The mean silhouette of each labelling over the sampled rows, in one pass of distances.
fn silhouettes(data: Data, rows: &[usize], labelings: &[&[u32]], ks: &[usize]) -> Vec<f64> {
    let (m, q, d) = (rows.len(), ks.len(), data.d());
    let points: Vec<f64> = rows.iter().flat_map(|&r| data.row(r).to_vec()).collect();
    // Row-major by sampled row, so the inner loop reads one short run of labels per row.
    let labels: Vec<u32> = rows.iter().flat_map(|&r| labelings.iter().map(move |l| l[r])).collect();
    let offsets: Vec<usize> =
        ks.iter().scan(0, |at, &k| Some(std::mem::replace(at, *at + k))).collect();
    let width = ks.iter().sum::<usize>();
    let mut counts = vec![0u64; width];
    for row in labels.chunks_exact(q) {
        row.iter().zip(&offsets).for_each(|(&l, o)| counts[o + l as usize] += 1);
    }
    // m² work: four fixed chunks from 1,000 rows, whatever the core count.
    let size = if m < 1_000 { m } else { m.div_ceil(4) };
    let per_chunk = in_ranges_of(m, size, |range| {
        let (mut sums, mut acc) = (vec![0.0; q], vec![0.0; width]);
        for i in range {
            acc.iter_mut().for_each(|a| *a = 0.0);
            let x = &points[i * d..(i + 1) * d];
            for (j, y) in points.chunks_exact(d).enumerate() {
                let dist = dist2(x, y).sqrt();
                for (&l, o) in labels[j * q..(j + 1) * q].iter().zip(&offsets) {
                    acc[o + l as usize] += dist;
                }
            }
            for (s, ((&l, &o), &k)) in
                sums.iter_mut().zip(labels[i * q..].iter().zip(&offsets).zip(ks))
            {
                *s += row_silhouette(&acc[o..o + k], &counts[o..o + k], l as usize);
            }
        }
        sums
    });
    (0..q).map(|t| per_chunk.iter().map(|s| s[t]).sum::<f64>() / m as f64).collect()
}

/// One row's silhouette from its summed distances to each cluster and the cluster sizes.
fn row_silhouette(dist_sums: &[f64], counts: &[u64], own: usize) -> f64 {
    if counts[own] <= 1 {
        return 0.0;
    }
    let a = dist_sums[own] / (counts[own] - 1) as f64;
    let b = (0..counts.len())
        .filter(|&c| c != own && counts[c] > 0)
        .map(|c| dist_sums[c] / counts[c] as f64)
        .fold(f64::INFINITY, f64::min);
    if !b.is_finite() || a.max(b) == 0.0 {
        return 0.0;
    }
    (b - a) / a.max(b)
}

/// 10000 as "10,000".
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

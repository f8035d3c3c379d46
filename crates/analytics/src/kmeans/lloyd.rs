//! One k-means run: greedy k-means++ seeding, then Lloyd iterations with Hamerly's bounds.

use super::{Data, dist2};
use crate::{in_chunks_mut, in_ranges};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The outcome of one seeded run, clusters in the order seeded.
pub(super) struct Run {
    pub centres: Vec<f64>,
    pub labels: Vec<u32>,
    pub inertia: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// Where k-means++ leaves the rows: the centres, and each row's nearest centre with its
/// squared distance (so the first Lloyd pass starts from exact bounds).
#[derive(Clone)]
pub(super) struct Start {
    pub centres: Vec<f64>,
    nearest: Vec<Nearest>,
}

#[derive(Clone, Copy)]
struct Nearest {
    label: u32,
    dist2: f64,
}

/// Greedy k-means++: `k` rows of the data as starting centres. A candidate c cannot be
/// nearer a row x than x's centre a when |a − c| ≥ 2 |x − a| (triangle inequality), so most
/// distances to candidates are never computed once there are a few centres.
pub(super) fn init(data: Data, k: usize, rng: &mut ChaCha8Rng) -> Start {
    let (n, d) = (data.n(), data.d());
    let trials = 2 + (k as f64).ln() as usize;
    let mut centres = Vec::with_capacity(k * d);
    let first = data.row(rng.random_range(0..n));
    centres.extend_from_slice(first);
    let mut nearest = vec![Nearest { label: 0, dist2: 0.0 }; n];
    let mut pot: f64 = in_chunks_mut(&mut nearest, |start, chunk| {
        let mut sum = 0.0;
        for (i, v) in chunk.iter_mut().enumerate() {
            v.dist2 = dist2(data.row(start + i), first);
            sum += v.dist2;
        }
        sum
    })
    .iter()
    .sum();
    let mut cumulative = vec![0.0; n];
    let mut candidates = vec![0.0; trials * d];
    for step in 1..k {
        let mut acc = 0.0;
        for (c, v) in cumulative.iter_mut().zip(&nearest) {
            acc += v.dist2;
            *c = acc;
        }
        for cand in candidates.chunks_exact_mut(d) {
            // numpy's searchsorted: the first row whose cumulative sum reaches the draw.
            let draw = rng.random::<f64>() * pot;
            let at = cumulative.partition_point(|&c| c < draw).min(n - 1);
            cand.copy_from_slice(data.row(at));
        }
        // Squared distances from each candidate to each centre so far, candidate-major.
        let gaps: Vec<f64> = candidates
            .chunks_exact(d)
            .flat_map(|c| centres.chunks_exact(d).map(move |m| dist2(c, m)))
            .collect();
        let pots = candidate_pots(data, &nearest, &candidates, &gaps, step);
        let best = (0..trials).fold(0, |b, t| if pots[t] < pots[b] { t } else { b });
        pot = pots[best];
        let chosen = &candidates[best * d..(best + 1) * d];
        let gap = &gaps[best * step..(best + 1) * step];
        in_chunks_mut(&mut nearest, |start, chunk| {
            for (i, v) in chunk.iter_mut().enumerate() {
                if gap[v.label as usize] < 4.0 * v.dist2 {
                    let dist = dist2(data.row(start + i), chosen);
                    if dist < v.dist2 {
                        (v.label, v.dist2) = (step as u32, dist);
                    }
                }
            }
        });
        centres.extend_from_slice(chosen);
    }
    Start { centres, nearest }
}

/// The potential (sum of squared distances to the nearest centre) with each candidate added;
/// `gaps` holds the squared distance of each candidate to each of the `step` centres.
fn candidate_pots(
    data: Data,
    nearest: &[Nearest],
    candidates: &[f64],
    gaps: &[f64],
    step: usize,
) -> Vec<f64> {
    let d = data.d();
    let trials = candidates.len() / d;
    let per_chunk = in_ranges(data.n(), |rows| {
        let mut sums = vec![0.0; trials];
        for i in rows {
            let Nearest { label, dist2: own } = nearest[i];
            for (t, (s, c)) in sums.iter_mut().zip(candidates.chunks_exact(d)).enumerate() {
                *s += if gaps[t * step + label as usize] >= 4.0 * own {
                    own
                } else {
                    own.min(dist2(data.row(i), c))
                };
            }
        }
        sums
    });
    (0..trials).map(|t| per_chunk.iter().map(|s| s[t]).sum()).collect()
}

/// A row's cluster and Hamerly's bounds: `upper` ≥ the distance to its centre, `lower` ≤ the
/// distance to every other centre.
#[derive(Clone, Copy)]
struct Bounds {
    label: u32,
    upper: f64,
    lower: f64,
}

/// The centres and what the bounds need of them.
struct Centres {
    d: usize,
    at: Vec<f64>,
    /// Half the distance from each centre to its nearest other centre.
    half_gap: Vec<f64>,
    /// How far each centre moved in the last update.
    moved: Vec<f64>,
    max_move: f64,
    second_move: f64,
    /// The centre that moved most.
    far: usize,
}

impl Centres {
    fn new(at: Vec<f64>, d: usize) -> Centres {
        let k = at.len() / d;
        let mut c = Centres {
            d,
            at,
            half_gap: vec![0.0; k],
            moved: vec![0.0; k],
            max_move: 0.0,
            second_move: 0.0,
            far: 0,
        };
        c.gaps();
        c
    }

    fn k(&self) -> usize {
        self.moved.len()
    }

    fn row(&self, c: usize) -> &[f64] {
        &self.at[c * self.d..(c + 1) * self.d]
    }

    fn gaps(&mut self) {
        let k = self.k();
        for a in 0..k {
            let nearest = (0..k)
                .filter(|&b| b != a)
                .map(|b| dist2(self.row(a), self.row(b)))
                .fold(f64::INFINITY, f64::min);
            self.half_gap[a] = 0.5 * nearest.sqrt();
        }
    }

    /// Moves each centre to the mean of its rows (an empty cluster stays) and returns the
    /// sum of squared moves.
    fn update(&mut self, sums: &[f64], counts: &[u64]) -> f64 {
        let (d, mut shift) = (self.d, 0.0);
        for c in 0..self.k() {
            if counts[c] == 0 {
                self.moved[c] = 0.0;
                continue;
            }
            let inv = 1.0 / counts[c] as f64;
            let new: Vec<f64> = sums[c * d..(c + 1) * d].iter().map(|s| s * inv).collect();
            let m = dist2(self.row(c), &new);
            shift += m;
            self.moved[c] = m.sqrt();
            self.at[c * d..(c + 1) * d].copy_from_slice(&new);
        }
        let (mut first, mut second, mut far) = (0.0, 0.0, 0);
        for (c, &m) in self.moved.iter().enumerate() {
            if m > first {
                (second, first, far) = (first, m, c);
            } else if m > second {
                second = m;
            }
        }
        (self.max_move, self.second_move, self.far) = (first, second, far);
        self.gaps();
        shift
    }

    /// The nearest and second-nearest centre of `x` with their squared distances.
    fn nearest_two(&self, x: &[f64]) -> (usize, f64, f64) {
        let (mut best, mut d1, mut d2) = (0, f64::INFINITY, f64::INFINITY);
        for (c, centre) in self.at.chunks_exact(self.d).enumerate() {
            let dist = dist2(x, centre);
            if dist < d1 {
                (best, d2, d1) = (c, d1, dist);
            } else if dist < d2 {
                d2 = dist;
            }
        }
        (best, d1, d2)
    }
}

/// One chunk's share of an assignment pass.
struct Pass {
    sums: Vec<f64>,
    counts: Vec<u64>,
    changed: u64,
}

/// Assigns every row to its nearest centre, skipping rows whose bounds prove it unchanged,
/// and sums the rows per cluster.
fn assign(data: Data, points: &mut [Bounds], c: &Centres) -> Pass {
    let (k, d) = (c.k(), c.d);
    let parts = in_chunks_mut(points, |start, chunk| {
        let mut part = Pass { sums: vec![0.0; k * d], counts: vec![0; k], changed: 0 };
        for (i, p) in chunk.iter_mut().enumerate() {
            let x = data.row(start + i);
            let a = p.label as usize;
            p.upper += c.moved[a];
            p.lower -= if a == c.far { c.second_move } else { c.max_move };
            let bound = c.half_gap[a].max(p.lower);
            if p.upper > bound {
                p.upper = dist2(x, c.row(a)).sqrt();
                if p.upper > bound {
                    let (b, d1, d2) = c.nearest_two(x);
                    part.changed += u64::from(b != a);
                    (p.label, p.upper, p.lower) = (b as u32, d1.sqrt(), d2.sqrt());
                }
            }
            let l = p.label as usize;
            part.counts[l] += 1;
            part.sums[l * d..(l + 1) * d].iter_mut().zip(x).for_each(|(s, v)| *s += v);
        }
        part
    });
    let mut total = Pass { sums: vec![0.0; k * d], counts: vec![0; k], changed: 0 };
    for p in parts {
        total.sums.iter_mut().zip(&p.sums).for_each(|(t, s)| *t += s);
        total.counts.iter_mut().zip(&p.counts).for_each(|(t, s)| *t += s);
        total.changed += p.changed;
    }
    total
}

/// Lloyd iterations from the seeding until no label changes, the squared centre moves sum to at
/// most `tol` (absolute), or `max_iter`.
pub(super) fn run(data: Data, start: Start, max_iter: usize, tol: f64) -> Run {
    let mut c = Centres::new(start.centres, data.d());
    // Exact upper bounds from the seeding; no lower bound yet.
    let mut points: Vec<Bounds> = start
        .nearest
        .iter()
        .map(|v| Bounds { label: v.label, upper: v.dist2.sqrt(), lower: 0.0 })
        .collect();
    drop(start.nearest);
    let (mut iterations, mut converged, mut strict) = (0, false, false);
    while iterations < max_iter {
        iterations += 1;
        let pass = assign(data, &mut points, &c);
        let shift = c.update(&pass.sums, &pass.counts);
        if iterations > 1 && pass.changed == 0 {
            (converged, strict) = (true, true);
            break;
        }
        if shift <= tol {
            converged = true;
            break;
        }
    }
    if !strict {
        // Labels of the final centres, as scikit-learn does after its loop.
        assign(data, &mut points, &c);
    }
    let labels: Vec<u32> = points.iter().map(|p| p.label).collect();
    let inertia = in_ranges(data.n(), |rows| {
        rows.map(|i| dist2(data.row(i), c.row(labels[i] as usize))).sum::<f64>()
    })
    .iter()
    .sum();
    Run { centres: c.at, labels, inertia, iterations, converged }
}

//! Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren and
//! Volinsky, "Collaborative Filtering for Implicit Feedback Datasets", 2008), each row solved
//! approximately by a few conjugate-gradient steps warm-started from its previous value
//! (Takács, Pilászy and Tikk, 2011), as the `implicit` library's CPU solver does.
//!
//! A user's preference for an item is 1 when they interacted with it and 0 otherwise, with
//! confidence `1 + alpha · r` where `r` is the interaction strength (purchases of the item)
//! and 1 for the items they did not touch. The loss is
//! `Σ c_ui (p_ui − x_u·y_i)² + λ (Σ |x_u|² + Σ |y_i|²)`; with the items fixed, each user's
//! factors solve `(YᵀY + Yᵀ(C_u − I)Y + λI) x_u = Yᵀ C_u p_u`. `YᵀY + λI` is shared by every
//! user, so a user costs their own items only, never the whole catalogue.

use super::matrix::Csr;
use crate::in_chunks_mut;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlsParams {
    pub factors: usize,
    pub iterations: usize,
    /// λ, the weight of the factors' squared length.
    pub regularization: f32,
    /// Confidence per unit of interaction strength: `c = 1 + alpha · r`.
    pub alpha: f32,
    /// Conjugate-gradient steps per row and iteration.
    pub cg_steps: usize,
    pub seed: u64,
}

impl Default for AlsParams {
    fn default() -> AlsParams {
        AlsParams {
            factors: 64,
            iterations: 15,
            regularization: 0.01,
            alpha: 1.0,
            cg_steps: 3,
            seed: 0,
        }
    }
}

/// Users' and items' factors, row-major (`factors` floats per row).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlsModel {
    pub factors: usize,
    pub users: Vec<f32>,
    pub items: Vec<f32>,
}

/// Fits the factors of a users × items matrix of interaction strengths.
pub fn fit(user_items: &Csr, p: &AlsParams) -> AlsModel {
    let f = p.factors.max(1);
    let item_users = user_items.transpose();
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut init = |n: usize| (0..n * f).map(|_| rng.random::<f32>() * 0.01).collect::<Vec<f32>>();
    let mut users = init(user_items.rows);
    let mut items = init(user_items.cols);
    for _ in 0..p.iterations {
        solve_side(&mut users, &items, user_items, f, p);
        solve_side(&mut items, &users, &item_users, f, p);
    }
    AlsModel { factors: f, users, items }
}

/// One half-iteration: every row of `x` solved against the fixed `y`.
fn solve_side(x: &mut [f32], y: &[f32], m: &Csr, f: usize, p: &AlsParams) {
    let yty = gram(y, f, p.regularization);
    let mut rows: Vec<&mut [f32]> = x.chunks_mut(f).collect();
    in_chunks_mut(&mut rows, |start, chunk| {
        let mut s = Scratch::new(f);
        for (k, row) in chunk.iter_mut().enumerate() {
            let (cols, vals) = m.row(start + k);
            cg_row(row, &yty, y, cols, vals, p, &mut s);
        }
    });
}

/// `YᵀY + λI`, summed on fixed chunks of the rows.
fn gram(y: &[f32], f: usize, reg: f32) -> Vec<f32> {
    let rows: Vec<&[f32]> = y.chunks(f).collect();
    let parts = crate::in_chunks(&rows, |chunk| {
        let mut g = vec![0f32; f * f];
        for r in chunk {
            for (a, &ra) in r.iter().enumerate() {
                axpy(&mut g[a * f..(a + 1) * f], ra, r);
            }
        }
        g
    });
    let mut g = vec![0f32; f * f];
    for part in parts {
        for (a, b) in g.iter_mut().zip(part) {
            *a += b;
        }
    }
    for d in 0..f {
        g[d * f + d] += reg;
    }
    g
}

struct Scratch {
    r: Vec<f32>,
    p: Vec<f32>,
    ap: Vec<f32>,
}

impl Scratch {
    fn new(f: usize) -> Scratch {
        Scratch { r: vec![0.0; f], p: vec![0.0; f], ap: vec![0.0; f] }
    }
}

/// A few conjugate-gradient steps on one row's normal equations, from its current value.
fn cg_row(
    x: &mut [f32],
    yty: &[f32],
    y: &[f32],
    cols: &[u32],
    vals: &[f32],
    p: &AlsParams,
    s: &mut Scratch,
) {
    let f = x.len();
    // r = b − A x, without forming A: the shared part, then the row's own items.
    matvec(yty, x, &mut s.r);
    s.r.iter_mut().for_each(|v| *v = -*v);
    for (&i, &v) in cols.iter().zip(vals) {
        let yi = &y[i as usize * f..(i as usize + 1) * f];
        let c = 1.0 + p.alpha * v;
        axpy(&mut s.r, c - (c - 1.0) * dot(yi, x), yi);
    }
    s.p.copy_from_slice(&s.r);
    let mut rs_old = dot(&s.r, &s.r);
    for _ in 0..p.cg_steps {
        if rs_old < 1e-20 {
            break;
        }
        matvec(yty, &s.p, &mut s.ap);
        for (&i, &v) in cols.iter().zip(vals) {
            let yi = &y[i as usize * f..(i as usize + 1) * f];
            let c = 1.0 + p.alpha * v;
            axpy(&mut s.ap, (c - 1.0) * dot(yi, &s.p), yi);
        }
        let step = rs_old / dot(&s.p, &s.ap);
        axpy(x, step, &s.p);
        axpy(&mut s.r, -step, &s.ap);
        let rs_new = dot(&s.r, &s.r);
        let beta = rs_new / rs_old;
        for (pv, &rv) in s.p.iter_mut().zip(&s.r) {
            *pv = rv + beta * *pv;
        }
        rs_old = rs_new;
    }
}

/// `out = m · v` for a square row-major `m`.
fn matvec(m: &[f32], v: &[f32], out: &mut [f32]) {
    let f = v.len();
    for (o, row) in out.iter_mut().zip(m.chunks_exact(f)) {
        *o = dot(row, v);
    }
}

/// A dot product in eight independent lanes, so the compiler can keep them in one vector
/// register (a single running sum would force one addition after another).
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut sum: f32 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// `y += a · x`.
fn axpy(y: &mut [f32], a: f32, x: &[f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += a * xv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two groups of users who each bought within their own group of items.
    fn blocks() -> Csr {
        let mut t = Vec::new();
        for u in 0..20u32 {
            let group = u % 2;
            for i in 0..10u32 {
                // Everyone in a group bought most of its items; a few are left for later.
                if (u + i) % 5 != 0 {
                    t.push((u, group * 10 + i, 1.0));
                }
            }
        }
        Csr::from_triplets(20, 20, &t)
    }

    #[test]
    fn the_factors_prefer_the_items_of_the_users_own_group() {
        let m = blocks();
        let p = AlsParams { factors: 8, iterations: 10, ..AlsParams::default() };
        let model = fit(&m, &p);
        for u in 0..20usize {
            let x = &model.users[u * 8..(u + 1) * 8];
            let score = |i: usize| dot(x, &model.items[i * 8..(i + 1) * 8]);
            let group = u % 2;
            let own: f32 = (0..10).map(|i| score(group * 10 + i)).sum::<f32>() / 10.0;
            let other: f32 = (0..10).map(|i| score((1 - group) * 10 + i)).sum::<f32>() / 10.0;
            assert!(own > 0.5 && other.abs() < 0.2, "user {u}: own {own}, other {other}");
        }
    }

    #[test]
    fn a_fit_is_the_same_for_the_same_seed() {
        let m = blocks();
        let p = AlsParams { factors: 4, iterations: 3, ..AlsParams::default() };
        assert_eq!(fit(&m, &p), fit(&m, &p));
        assert_ne!(fit(&m, &p), fit(&m, &AlsParams { seed: 1, ..p }));
    }

    #[test]
    fn conjugate_gradient_solves_the_normal_equations() {
        // With as many steps as dimensions, CG is exact: compare with the normal equations.
        let f = 3;
        let y = vec![1.0, 0.0, 0.5, 0.2, 1.0, 0.0, 0.0, 0.3, 1.0, 0.4, 0.4, 0.4];
        let p = AlsParams {
            factors: f,
            cg_steps: 3,
            alpha: 2.0,
            regularization: 0.1,
            ..AlsParams::default()
        };
        let yty = gram(&y, f, p.regularization);
        let (cols, vals) = (vec![0u32, 2], vec![1.0f32, 3.0]);
        let mut x = vec![0.0; f];
        cg_row(&mut x, &yty, &y, &cols, &vals, &p, &mut Scratch::new(f));
        // A x should equal b.
        let mut a = yty.clone();
        let mut b = vec![0f32; f];
        for (&i, &v) in cols.iter().zip(&vals) {
            let yi = &y[i as usize * f..(i as usize + 1) * f];
            let c = 1.0 + p.alpha * v;
            for r in 0..f {
                for k in 0..f {
                    a[r * f + k] += (c - 1.0) * yi[r] * yi[k];
                }
                b[r] += c * yi[r];
            }
        }
        let mut ax = vec![0f32; f];
        matvec(&a, &x, &mut ax);
        for (got, want) in ax.iter().zip(&b) {
            assert!((got - want).abs() < 1e-4, "{ax:?} vs {b:?}");
        }
    }
}

//! Maximum-likelihood machinery shared by the models: BFGS for small parameter vectors and
//! standard errors from the Hessian.

// Small dense matrix arithmetic reads best with explicit indices.
#![allow(clippy::needless_range_loop)]

fn dot<const N: usize>(a: &[f64; N], b: &[f64; N]) -> f64 {
    (0..N).map(|i| a[i] * b[i]).sum()
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    let mut m = [[0.0; N]; N];
    for (i, row) in m.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    m
}

/// Minimises `f` (value and gradient) from `x0` with BFGS and an Armijo backtracking line
/// search. No coordinate moves by more than 2 in one step (a factor e² for log-parameters):
/// far from the optimum the quasi-Newton step can be huge where the function is flat.
/// Returns the minimiser, the iterations used, and whether it converged (gradient or
/// improvement below tolerance, relative to the function's scale).
pub fn bfgs<const N: usize>(
    f: impl Fn(&[f64; N]) -> (f64, [f64; N]),
    x0: [f64; N],
    max_iter: usize,
) -> ([f64; N], usize, bool) {
    let mut x = x0;
    let (mut fx, mut g) = f(&x);
    let mut h = identity::<N>();
    for iter in 0..max_iter {
        let scale = fx.abs().max(1.0);
        if dot(&g, &g).sqrt() < 1e-8 * scale {
            return (x, iter, true);
        }
        let mut d: [f64; N] = std::array::from_fn(|i| -dot(&h[i], &g));
        if dot(&d, &g) >= 0.0 {
            // Not a descent direction (curvature lost): restart from steepest descent.
            h = identity();
            d = g.map(|v| -v);
        }
        let slope = dot(&d, &g);
        let longest = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut step = if longest > 2.0 { 2.0 / longest } else { 1.0 };
        let (x_new, f_new, g_new) = loop {
            let cand: [f64; N] = std::array::from_fn(|i| x[i] + step * d[i]);
            let (fc, gc) = f(&cand);
            if fc.is_finite() && fc <= fx + 1e-4 * step * slope {
                break (cand, fc, gc);
            }
            step *= 0.5;
            if step < 1e-20 {
                return (x, iter, false);
            }
        };
        let s: [f64; N] = std::array::from_fn(|i| x_new[i] - x[i]);
        let y: [f64; N] = std::array::from_fn(|i| g_new[i] - g[i]);
        let sy = dot(&s, &y);
        let converged = (fx - f_new).abs() < 1e-12 * scale;
        (x, fx, g) = (x_new, f_new, g_new);
        if converged {
            return (x, iter + 1, true);
        }
        if sy > 1e-12 {
            // H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ
            let rho = 1.0 / sy;
            let hy: [f64; N] = std::array::from_fn(|i| dot(&h[i], &y));
            let yhy = dot(&y, &hy);
            for i in 0..N {
                for j in 0..N {
                    h[i][j] +=
                        rho * ((1.0 + rho * yhy) * s[i] * s[j] - hy[i] * s[j] - s[i] * hy[j]);
                }
            }
        }
    }
    (x, max_iter, false)
}

/// Standard errors at a maximum of a log-likelihood: square roots of the diagonal of the
/// inverse of the Hessian of −LL, by central differences of the analytic `gradient` of LL.
/// NaN where the Hessian is singular or not positive there.
pub fn standard_errors<const N: usize>(
    gradient: impl Fn(&[f64; N]) -> [f64; N],
    at: [f64; N],
) -> [f64; N] {
    let mut h = [[0.0; N]; N];
    for j in 0..N {
        let step = 1e-5 * at[j].abs().max(1e-3);
        let (mut up, mut down) = (at, at);
        up[j] += step;
        down[j] -= step;
        let (gu, gd) = (gradient(&up), gradient(&down));
        for i in 0..N {
            h[i][j] = -(gu[i] - gd[i]) / (2.0 * step);
        }
    }
    // Symmetrise what finite differences leave slightly asymmetric.
    for i in 0..N {
        for j in 0..i {
            let m = 0.5 * (h[i][j] + h[j][i]);
            (h[i][j], h[j][i]) = (m, m);
        }
    }
    match invert(h) {
        Some(inv) => {
            std::array::from_fn(|k| if inv[k][k] > 0.0 { inv[k][k].sqrt() } else { f64::NAN })
        }
        None => [f64::NAN; N],
    }
}

/// Gauss-Jordan inversion with partial pivoting; `None` when singular.
pub fn invert<const N: usize>(mut m: [[f64; N]; N]) -> Option<[[f64; N]; N]> {
    let mut inv = identity::<N>();
    for col in 0..N {
        let pivot = (col..N).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
        if m[pivot][col].abs() < 1e-300 {
            return None;
        }
        m.swap(col, pivot);
        inv.swap(col, pivot);
        let d = m[col][col];
        for k in 0..N {
            m[col][k] /= d;
            inv[col][k] /= d;
        }
        for row in 0..N {
            if row != col {
                let f = m[row][col];
                for k in 0..N {
                    m[row][k] -= f * m[col][k];
                    inv[row][k] -= f * inv[col][k];
                }
            }
        }
    }
    Some(inv)
}

/// Asserts that `gradient` is the gradient of `f` at `at`, by central differences (for the
/// models' tests: an analytic gradient is easy to get subtly wrong).
#[cfg(test)]
pub(crate) fn assert_gradient<const N: usize>(
    f: impl Fn(&[f64; N]) -> f64,
    gradient: [f64; N],
    at: [f64; N],
) {
    for k in 0..N {
        let h = 1e-6 * at[k].abs().max(1e-3);
        let (mut up, mut down) = (at, at);
        up[k] += h;
        down[k] -= h;
        let numeric = (f(&up) - f(&down)) / (2.0 * h);
        assert!(
            (numeric - gradient[k]).abs() < 1e-4 * numeric.abs().max(1.0),
            "parameter {k}: finite differences {numeric}, analytic {}",
            gradient[k]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bfgs_finds_the_minimum_of_the_rosenbrock_valley() {
        let f = |x: &[f64; 2]| {
            let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
            (a * a + 100.0 * b * b, [-2.0 * a - 400.0 * x[0] * b, 200.0 * b])
        };
        let (x, _, converged) = bfgs(f, [-1.2, 1.0], 1000);
        assert!(converged && (x[0] - 1.0).abs() < 1e-4 && (x[1] - 1.0).abs() < 1e-4, "{x:?}");
    }

    #[test]
    fn inverting_gives_the_identity_back() {
        let m = [[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]];
        let inv = invert(m).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| m[i][k] * inv[k][j]).sum();
                assert!((v - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert_eq!(invert([[1.0, 2.0], [2.0, 4.0]]), None);
    }
}

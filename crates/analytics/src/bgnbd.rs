//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"),
//! fitted by maximum likelihood.
//!
//! Each customer is summarised by x (repeat purchases), t_x (time of the last purchase) and T
//! (time since the first purchase), all in one unit (days or weeks). The log-likelihood is the
//! paper's equation (6), computed in log space; its gradient is analytic. The fit maximises it
//! over the logarithms of (r, α, a, b), which keeps every parameter positive without bounds,
//! with BFGS ([`optim`]). Standard errors come from the inverse of the Hessian of −LL at the
//! optimum, taken by finite differences of the analytic gradient.

use crate::optim;
use serde::Serialize;
use statrs::function::gamma::{digamma, ln_gamma};

/// One customer's purchase history in model time units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct History {
    /// Repeat purchases (purchase occasions after the first).
    pub x: f64,
    /// Time of the last purchase, from the first.
    pub t_x: f64,
    /// Time from the first purchase to the end of the calibration period.
    pub t: f64,
}

/// BG/NBD parameters: purchase rates are Gamma(r, α); drop-out probabilities Beta(a, b).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

impl Params {
    fn to_array(self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    fn from_array(p: [f64; 4]) -> Params {
        Params { r: p[0], alpha: p[1], a: p[2], b: p[3] }
    }
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    pub params: Params,
    /// Standard errors of r, α, a, b (NaN where the Hessian is singular).
    #[serde(rename = "standard_errors")]
    pub std_errors: Params,
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// The log-likelihood of the histories under `p`, and its gradient in (r, α, a, b).
pub fn log_likelihood(p: &Params, data: &[History]) -> (f64, [f64; 4]) {
    weighted_log_likelihood(p, data.iter().map(|h| (h, 1.0)))
}

/// The same over distinct histories, each counted `weight` times.
///
/// Everything that depends on x alone (the Gamma and digamma terms) is computed once per run
/// of equal x, which [`group`]'s order makes one per distinct x; a history then costs two
/// logarithms, one exponential and one `ln_1p`.
fn weighted_log_likelihood<'a>(
    p: &Params,
    data: impl Iterator<Item = (&'a History, f64)>,
) -> (f64, [f64; 4]) {
    let Params { r, alpha, a, b } = *p;
    let (lg_r, lg_b, lg_ab) = (ln_gamma(r), ln_gamma(b), ln_gamma(a + b));
    let (dg_r, dg_b, dg_ab) = (digamma(r), digamma(b), digamma(a + b));
    let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
    let mut ll = 0.0;
    let mut g = [0.0; 4];
    let mut per_x = PerX { x: f64::NAN, ..PerX::default() };
    for (h, w) in data {
        let (x, t_x, t) = (h.x, h.t_x, h.t);
        if x != per_x.x {
            per_x = PerX::new(p, x, (lg_r, lg_b, lg_ab));
        }
        let l_t = (alpha + t).ln();
        let a3 = -(r + x) * l_t;
        // The second term exists only for customers with repeat purchases; log-sum-exp of
        // the two with one exponential.
        let (tail, w3, l_tx) = if x > 0.0 {
            let l_tx = (alpha + t_x).ln();
            let a4 = ln_a - per_x.ln_bx1 - (r + x) * l_tx;
            let e = (-(a3 - a4).abs()).exp();
            let top = 1.0 / (1.0 + e);
            let w3 = if a3 >= a4 { top } else { 1.0 - top };
            (a3.max(a4) + e.ln_1p(), w3, l_tx)
        } else {
            (a3, 1.0, 0.0)
        };
        let w4 = 1.0 - w3;
        ll += w * (per_x.constant + r * ln_alpha + tail);
        g[0] += w * (per_x.dg_rx - dg_r + ln_alpha - w3 * l_t - w4 * l_tx);
        g[1] += w * (r / alpha - (r + x) * (w3 / (alpha + t) + w4 / (alpha + t_x)));
        g[2] += w * (dg_ab - per_x.dg_abx + if x > 0.0 { w4 / a } else { 0.0 });
        g[3] += w
            * (dg_ab + per_x.dg_bx
                - dg_b
                - per_x.dg_abx
                - if x > 0.0 { w4 / (b + x - 1.0) } else { 0.0 });
    }
    (ll, g)
}

/// The terms of the likelihood and its gradient that depend on x alone.
#[derive(Default)]
struct PerX {
    x: f64,
    /// ln Γ(r+x) − ln Γ(r) + ln Γ(a+b) + ln Γ(b+x) − ln Γ(b) − ln Γ(a+b+x).
    constant: f64,
    dg_rx: f64,
    dg_abx: f64,
    dg_bx: f64,
    /// ln(b + x − 1), for x > 0.
    ln_bx1: f64,
}

impl PerX {
    fn new(p: &Params, x: f64, (lg_r, lg_b, lg_ab): (f64, f64, f64)) -> PerX {
        let Params { r, a, b, .. } = *p;
        PerX {
            x,
            constant: ln_gamma(r + x) - lg_r + lg_ab + ln_gamma(b + x) - lg_b - ln_gamma(a + b + x),
            dg_rx: digamma(r + x),
            dg_abx: digamma(a + b + x),
            dg_bx: digamma(b + x),
            ln_bx1: if x > 0.0 { (b + x - 1.0).ln() } else { 0.0 },
        }
    }
}

impl Params {
    /// P(alive | x, t_x, T): the probability the customer has not dropped out (paper, eq. 11).
    pub fn p_alive(&self, h: &History) -> f64 {
        if h.x == 0.0 {
            return 1.0;
        }
        1.0 / (1.0 + self.odds_dropped(h))
    }

    /// (a / (b + x − 1)) ((α + T) / (α + t_x))^(r + x): the odds that a customer with repeat
    /// purchases has dropped out, computed in log space.
    fn odds_dropped(&self, h: &History) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let ln =
            a.ln() - (b + h.x - 1.0).ln() + (r + h.x) * ((alpha + h.t).ln() - (alpha + h.t_x).ln());
        ln.exp()
    }

    /// E[purchases in the next `t` time units | x, t_x, T] (paper, eq. 10).
    pub fn expected_purchases(&self, h: &History, t: f64) -> f64 {
        let Params { r, alpha, a, b } = *self;
        let (x, big_t) = (h.x, h.t);
        let z = t / (alpha + big_t + t);
        let power = (r + x) * ((alpha + big_t).ln() - (alpha + big_t + t).ln());
        let inner = 1.0 - power.exp() * hyp2f1(r + x, b + x, a + b + x - 1.0, z);
        let lead = (a + b + x - 1.0) / (a - 1.0);
        let odds = if x > 0.0 { self.odds_dropped(h) } else { 0.0 };
        lead * inner / (1.0 + odds)
    }

    /// E[purchases in the next k units] for k = 1..=`horizon`, the same numbers as
    /// [`Params::expected_purchases`] at each k for a fraction of the work: the ₂F₁ series of
    /// every k has the same coefficients (only z changes), so its terms are computed once at
    /// the largest z, up to where they stop counting, and each k rescales them by (z/z_max)ⁿ
    /// without a division.
    pub fn cumulative_purchases(&self, h: &History, horizon: u32) -> Vec<f64> {
        self.cumulative_purchases_with(h, &self.decay_logs(h.t, horizon))
    }

    /// ln((α + T) / (α + T + k)) for k = 1..=`horizon`: per unit of r + x, the log of the
    /// chance of no purchase by step k. They depend on T alone, so callers with many
    /// customers compute them once per distinct T.
    pub fn decay_logs(&self, t: f64, horizon: u32) -> Vec<f64> {
        let base = (self.alpha + t).ln();
        (1..=horizon).map(|k| base - (self.alpha + t + f64::from(k)).ln()).collect()
    }

    /// [`Params::cumulative_purchases`] with the history's [`Params::decay_logs`] given.
    pub fn cumulative_purchases_with(&self, h: &History, decay_logs: &[f64]) -> Vec<f64> {
        let scale = self.curve_scale(h);
        self.purchase_curve(h.x, decay_logs, h.t).into_iter().map(|g| scale * g).collect()
    }

    /// (a + b + x − 1) / (a − 1) / (1 + odds of having dropped): the factor of eq. 10 that
    /// holds t_x. E[purchases in k units] is this times [`Params::purchase_curve`] at k, so
    /// callers with many customers compute the curve once per distinct (x, T).
    pub fn curve_scale(&self, h: &History) -> f64 {
        let lead = (self.a + self.b + h.x - 1.0) / (self.a - 1.0);
        let odds = if h.x > 0.0 { self.odds_dropped(h) } else { 0.0 };
        lead / (1.0 + odds)
    }

    /// 1 − ((α + T) / (α + T + k))^(r + x) ₂F₁(r + x, b + x; a + b + x − 1; k / (α + T + k))
    /// for k = 1..=horizon (the length of `decay_logs`, [`Params::decay_logs`] of T): the part
    /// of E[purchases in k units] that depends on x and T alone.
    ///
    /// The ₂F₁ series of every k has the same coefficients (only z changes), so its terms are
    /// computed once at the largest z, up to where they stop counting, and each k rescales them
    /// by (z/z_max)ⁿ without a division.
    pub fn purchase_curve(&self, x: f64, decay_logs: &[f64], t: f64) -> Vec<f64> {
        let horizon = decay_logs.len() as u32;
        let Params { r, alpha, a, b } = *self;
        let (sa, sb, sc) = (r + x, b + x, a + b + x - 1.0);
        let z = |k: f64| k / (alpha + t + k);
        let z_max = z(f64::from(horizon));
        // The terms at the largest z (coefficient × z_maxⁿ, which stays finite where the
        // coefficients alone would overflow); a smaller z scales term n by (z / z_max)ⁿ.
        let mut terms = vec![1.0];
        let (mut term, mut sum) = (1.0, 1.0);
        for j in 0..100_000 {
            let j = j as f64;
            term *= (sa + j) * (sb + j) / ((sc + j) * (j + 1.0)) * z_max;
            terms.push(term);
            sum += term;
            if term.abs() < 1e-16 * sum.abs() {
                break;
            }
        }
        // Steps are summed LANES at a time: the lanes are independent multiply-adds the CPU
        // overlaps (one step alone waits on each multiplication), and the block stops when
        // its largest z, the last lane, has converged.
        const LANES: usize = 8;
        let mut out = Vec::with_capacity(horizon as usize);
        let steps: Vec<f64> = (1..=horizon).map(f64::from).collect();
        for block in steps.chunks(LANES) {
            let mut ratio = [0.0; LANES];
            for (r, k) in ratio.iter_mut().zip(block) {
                *r = z(*k) / z_max;
            }
            let (mut power, mut series) = ([1.0; LANES], [1.0; LANES]);
            let last = block.len() - 1;
            for t in &terms[1..] {
                for ((p, s), r) in power.iter_mut().zip(&mut series).zip(&ratio) {
                    *p *= r;
                    *s += t * *p;
                }
                if (t * power[last]).abs() < 1e-16 * series[last].abs() {
                    break;
                }
            }
            for (j, k) in block.iter().enumerate() {
                let decay = (sa * decay_logs[*k as usize - 1]).exp();
                out.push(1.0 - decay * series[j]);
            }
        }
        out
    }

    /// E[X(t)]: purchases a new customer is expected to make in `t` time units (paper, eq. 9).
    pub fn expected_purchases_new(&self, t: f64) -> f64 {
        self.expected_purchases(&History { x: 0.0, t_x: 0.0, t: 0.0 }, t)
    }
}

/// The Gauss hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1, by its power series
/// (what the BG/NBD expectations need: z = t / (α + T + t) stays below 1).
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let (mut term, mut sum) = (1.0, 1.0);
    for j in 0..100_000 {
        let j = j as f64;
        term *= (a + j) * (b + j) / ((c + j) * (j + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            break;
        }
    }
    sum
}

/// −LL per customer and its gradient in θ = ln(r, α, a, b): what the optimiser minimises (per
/// customer, so step sizes and tolerances do not depend on how many customers there are).
fn objective(theta: &[f64; 4], groups: &[(History, f64)], n: f64) -> (f64, [f64; 4]) {
    let p = theta.map(f64::exp);
    let (ll, g) = grouped_log_likelihood(&Params::from_array(p), groups);
    (-ll / n, [0, 1, 2, 3].map(|k| -g[k] * p[k] / n))
}

/// The weighted log-likelihood of grouped histories, summed over chunks in parallel.
fn grouped_log_likelihood(p: &Params, groups: &[(History, f64)]) -> (f64, [f64; 4]) {
    let parts = crate::in_chunks(groups, |chunk| {
        weighted_log_likelihood(p, chunk.iter().map(|(h, w)| (h, *w)))
    });
    parts.into_iter().fold((0.0, [0.0; 4]), |(ll, g), (l, gc)| {
        (ll + l, [g[0] + gc[0], g[1] + gc[1], g[2] + gc[2], g[3] + gc[3]])
    })
}

/// Identical histories gathered with their counts: the likelihood is a sum over customers,
/// and many share (x, t_x, T) (a third as many distinct ones among a million demo customers).
pub fn group(data: &[History]) -> Vec<(History, f64)> {
    // Sorting by the bits and counting runs: the values are non-negative, so bit order is
    // numeric order, and a fixed order keeps the floating-point sums (and the fit)
    // independent of anything but the data. Cheaper than hashing a million histories.
    let key = |h: &History| [h.x.to_bits(), h.t_x.to_bits(), h.t.to_bits()];
    let mut sorted: Vec<History> = data.to_vec();
    sorted.sort_unstable_by_key(key);
    let mut groups: Vec<(History, f64)> = Vec::new();
    for h in sorted {
        match groups.last_mut() {
            Some((g, n)) if key(g) == key(&h) => *n += 1.0,
            _ => groups.push((h, 1.0)),
        }
    }
    groups
}

/// Fits the model by maximum likelihood. Returns `None` without any history.
pub fn fit(data: &[History]) -> Option<Fit> {
    let groups = group(data);
    let (params, iterations, converged) = optimum(&groups, data.len())?;
    let weighted = |p: &Params| grouped_log_likelihood(p, &groups);
    let (ll, _) = weighted(&params);
    let gradient = |p: &[f64; 4]| weighted(&Params::from_array(*p)).1;
    let std_errors = Params::from_array(optim::standard_errors(gradient, params.to_array()));
    Some(Fit { params, std_errors, log_likelihood: ll, iterations, converged })
}

/// The parameters of [`fit`] alone, without the standard errors (which cost as much as
/// the fit at a million customers): for scores that use the model but do not report it.
pub fn fit_params(data: &[History]) -> Option<Params> {
    Some(optimum(&group(data), data.len())?.0)
}

/// The maximum-likelihood parameters, iterations and convergence.
fn optimum(groups: &[(History, f64)], n: usize) -> Option<(Params, usize, bool)> {
    if groups.is_empty() {
        return None;
    }
    // With many distinct histories, start from the fit to every 16th of them: that costs a
    // sixteenth per step, and the full data then needs a few steps instead of dozens. The
    // answer is the full data's optimum either way.
    let start = if groups.len() > 50_000 {
        let sample: Vec<(History, f64)> = groups.iter().step_by(16).copied().collect();
        let weight: f64 = sample.iter().map(|g| g.1).sum();
        optim::bfgs(|t| objective(t, &sample, weight), [0.0; 4], 500).0
    } else {
        [0.0; 4]
    };
    let (theta, iterations, converged) =
        optim::bfgs(|t| objective(t, groups, n as f64), start, 500);
    Some((Params::from_array(theta.map(f64::exp)), iterations, converged))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic generator, so the test data need no dependency: SplitMix64.
    struct Rng(u64);

    impl Rng {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        }

        /// Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape < 1).
        fn gamma(&mut self, shape: f64) -> f64 {
            if shape < 1.0 {
                return self.gamma(shape + 1.0) * self.uniform().powf(1.0 / shape);
            }
            let d = shape - 1.0 / 3.0;
            let c = 1.0 / (9.0 * d).sqrt();
            loop {
                let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
                let n = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
                let v = (1.0 + c * n).powi(3);
                if v > 0.0 && self.uniform().ln() < 0.5 * n * n + d - d * v + d * v.ln() {
                    return d * v;
                }
            }
        }

        fn beta(&mut self, a: f64, b: f64) -> f64 {
            let x = self.gamma(a);
            x / (x + self.gamma(b))
        }
    }

    /// Histories drawn from the model itself over T = 52 (weeks).
    fn simulate(p: Params, n: usize, seed: u64) -> Vec<History> {
        let mut rng = Rng(seed);
        (0..n)
            .map(|_| {
                let lambda = rng.gamma(p.r) / p.alpha;
                let drop = rng.beta(p.a, p.b);
                let t = 52.0;
                let (mut now, mut x, mut t_x) = (0.0, 0.0, 0.0);
                loop {
                    now += -(1.0 - rng.uniform()).ln() / lambda;
                    if now > t {
                        break;
                    }
                    x += 1.0;
                    t_x = now;
                    if rng.uniform() < drop {
                        break;
                    }
                }
                History { x, t_x, t }
            })
            .collect()
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let data = simulate(Params { r: 0.25, alpha: 4.0, a: 0.8, b: 2.5 }, 300, 1);
        let p = Params { r: 0.4, alpha: 3.0, a: 1.2, b: 1.7 };
        let (_, g) = log_likelihood(&p, &data);
        let ll = |a: &[f64; 4]| log_likelihood(&Params::from_array(*a), &data).0;
        optim::assert_gradient(ll, g, p.to_array());
    }

    #[test]
    fn fitting_recovers_the_parameters_that_generated_the_data() {
        let truth = Params { r: 0.25, alpha: 4.0, a: 0.8, b: 2.5 };
        let data = simulate(truth, 20_000, 7);
        let fit = fit(&data).unwrap();
        assert!(fit.converged, "{fit:?}");
        let (got, se) = (fit.params.to_array(), fit.std_errors.to_array());
        for (k, want) in truth.to_array().into_iter().enumerate() {
            // Within four standard errors of the truth, and the errors are sensible.
            assert!(se[k].is_finite() && se[k] > 0.0 && se[k] < want, "{fit:?}");
            assert!(
                (got[k] - want).abs() < 4.0 * se[k],
                "param {k}: {} vs {want} ({fit:?})",
                got[k]
            );
        }
        // The optimum is a maximum: nudging any parameter lowers the likelihood.
        for k in 0..4 {
            for f in [0.98, 1.02] {
                let mut p = fit.params.to_array();
                p[k] *= f;
                assert!(log_likelihood(&Params::from_array(p), &data).0 < fit.log_likelihood);
            }
        }
    }

    #[test]
    fn the_hypergeometric_series_meets_closed_forms() {
        for z in [0.0, 0.1, 0.5, 0.9] {
            let log = if z == 0.0 { 1.0 } else { -(1.0f64 - z).ln() / z };
            assert!((hyp2f1(1.0, 1.0, 2.0, z) - log).abs() < 1e-10, "z {z}");
            assert!((hyp2f1(0.7, 2.5, 2.5, z) - (1.0f64 - z).powf(-0.7)).abs() < 1e-10, "z {z}");
        }
    }

    #[test]
    fn predictions_agree_with_the_simulated_model() {
        let p = Params { r: 0.25, alpha: 4.0, a: 0.8, b: 2.5 };
        // New customers: simulate 52 weeks and count purchases; compare with E[X(52)].
        let sim = simulate(p, 200_000, 11);
        let mean = sim.iter().map(|h| h.x).sum::<f64>() / sim.len() as f64;
        let want = p.expected_purchases_new(52.0);
        assert!((mean - want).abs() < 0.02 * want, "simulated {mean}, formula {want}");
        // Someone with no repeat purchase is alive by definition; one who bought often and
        // long ago is probably gone; conditional expectations follow.
        let quiet = History { x: 0.0, t_x: 0.0, t: 52.0 };
        assert_eq!(p.p_alive(&quiet), 1.0);
        let gone = History { x: 10.0, t_x: 5.0, t: 52.0 };
        let active = History { x: 10.0, t_x: 51.0, t: 52.0 };
        assert!(p.p_alive(&gone) < 0.01 && p.p_alive(&active) > 0.9);
        assert!(p.expected_purchases(&gone, 52.0) < p.expected_purchases(&active, 52.0));
        assert!(p.expected_purchases(&active, 0.0).abs() < 1e-12);
    }

    #[test]
    fn the_cumulative_curve_equals_the_expectation_at_each_step() {
        let p = Params { r: 0.25, alpha: 4.0, a: 0.8, b: 2.5 };
        // New, recent, quiet and frequent customers; z up to 52 / 56 for the newest.
        for h in [
            History { x: 0.0, t_x: 0.0, t: 0.0 },
            History { x: 0.0, t_x: 0.0, t: 40.0 },
            History { x: 3.0, t_x: 20.0, t: 30.0 },
            History { x: 25.0, t_x: 70.0, t: 78.0 },
        ] {
            let curve = p.cumulative_purchases(&h, 52);
            check(&p, &h, &curve);
        }
        // A degenerate fit (three customers): the series' coefficients alone overflow.
        let wild = Params { r: 5.66e10, alpha: 2.63e11, a: 2.82e-5, b: 2.90e-5 };
        let h = History { x: 1.0, t_x: 4.0, t: 24.0 };
        check(&wild, &h, &wild.cumulative_purchases(&h, 52));

        fn check(p: &Params, h: &History, curve: &[f64]) {
            assert_eq!(curve.len(), 52);
            for (k, got) in curve.iter().enumerate() {
                let want = p.expected_purchases(h, (k + 1) as f64);
                assert!(got.is_finite(), "{h:?} k {k}");
                assert!(
                    (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                    "{h:?} k {k}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_warm_start_reaches_the_optimum_of_a_cold_start() {
        let data = simulate(Params { r: 0.3, alpha: 5.0, a: 0.9, b: 3.0 }, 150_000, 3);
        let groups = group(&data);
        assert!(groups.len() > 50_000, "{} distinct histories", groups.len());
        let warm = fit(&data).unwrap();
        let n = data.len() as f64;
        let (cold, _, converged) = optim::bfgs(|t| objective(t, &groups, n), [0.0; 4], 500);
        assert!(converged && warm.converged);
        let cold = Params::from_array(cold.map(f64::exp));
        let cold_ll = grouped_log_likelihood(&cold, &groups).0;
        assert!(
            (warm.log_likelihood - cold_ll).abs() < 1e-6 * cold_ll.abs(),
            "{warm:?} vs {cold:?}"
        );
        for (w, c) in warm.params.to_array().into_iter().zip(cold.to_array()) {
            assert!((w - c).abs() < 1e-4 * c, "{warm:?} vs {cold:?}");
        }
    }

    #[test]
    fn no_data_no_fit() {
        assert_eq!(fit(&[]), None);
    }
}

//! The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV:
//! Using Iso-value Curves for Customer Base Analysis"; Fader & Hardie's note "The Gamma-Gamma
//! Model of Monetary Value"), fitted by maximum likelihood like [`crate::bgnbd`].
//!
//! A customer's transaction values are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers. Only
//! customers with repeat transactions inform it: x repeat transactions with mean value m̄.
//! The model assumes spend is independent of purchase frequency; check that before relying on
//! it (the correlation of x and m̄ among repeat buyers should be near 0).

use crate::optim;
use serde::Serialize;
use statrs::function::gamma::{digamma, ln_gamma};

/// One repeat buyer's spend: `x` repeat transactions with mean value `mean`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spend {
    pub x: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    /// The scale of the spend distribution, `v` in Fader, Hardie & Lee (2005).
    #[serde(rename = "v")]
    pub gamma: f64,
}

impl Params {
    fn from_array(a: [f64; 3]) -> Params {
        Params { p: a[0], q: a[1], gamma: a[2] }
    }

    fn to_array(self) -> [f64; 3] {
        [self.p, self.q, self.gamma]
    }

    /// E[mean transaction value | x, m̄]: the population mean p·γ/(q − 1) shrunk towards the
    /// customer's own mean as their transactions accumulate (x = 0 gives the population
    /// mean). Infinite when q ≤ 1 (the population mean does not exist).
    pub fn expected_mean_value(&self, x: f64, mean: f64) -> f64 {
        let Params { p, q, gamma } = *self;
        p * (gamma + x * mean) / (p * x + q - 1.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fit {
    /// Serialised flat (`p`, `q`, `v` beside `standard_errors`), as scripts expect.
    #[serde(flatten)]
    pub params: Params,
    #[serde(rename = "standard_errors")]
    pub std_errors: Params,
    pub log_likelihood: f64,
    pub iterations: usize,
    pub converged: bool,
}

/// The log-likelihood of the repeat buyers' mean spends and its gradient in (p, q, γ).
/// Customers without repeat transactions or with a non-positive mean carry no information
/// and are skipped.
pub fn log_likelihood(params: &Params, data: &[Spend]) -> (f64, [f64; 3]) {
    prepared_log_likelihood(params, &prepare(data))
}

/// A spend ready for repeated likelihood evaluations: ln m computed once.
#[derive(Debug, Clone, Copy)]
struct Prepared {
    x: f64,
    m: f64,
    ln_m: f64,
}

/// The informative spends, ordered by x so the terms of one x are computed once per run.
fn prepare(data: &[Spend]) -> Vec<Prepared> {
    let mut out: Vec<Prepared> = data
        .iter()
        .filter(|s| s.x > 0.0 && s.mean > 0.0)
        .map(|s| Prepared { x: s.x, m: s.mean, ln_m: s.mean.ln() })
        .collect();
    out.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.m.total_cmp(&b.m)));
    out
}

/// The likelihood over prepared spends: Gamma and digamma terms once per distinct x, then a
/// single logarithm per spend.
fn prepared_log_likelihood(params: &Params, data: &[Prepared]) -> (f64, [f64; 3]) {
    let Params { p, q, gamma } = *params;
    let (lg_q, dg_q, ln_gamma_) = (ln_gamma(q), digamma(q), gamma.ln());
    let mut ll = 0.0;
    let mut g = [0.0; 3];
    // (x, ln Γ(px+q) − ln Γ(px), ψ(px+q), ψ(px), ln x)
    let mut per_x = (f64::NAN, 0.0, 0.0, 0.0, 0.0);
    for s in data {
        let (x, m) = (s.x, s.m);
        let px = p * x;
        if x != per_x.0 {
            per_x = (x, ln_gamma(px + q) - ln_gamma(px), digamma(px + q), digamma(px), x.ln());
        }
        let (_, lg_ratio, dg_pxq, dg_px, ln_x) = per_x;
        let denom = gamma + x * m;
        let ln_denom = denom.ln();
        ll +=
            lg_ratio - lg_q + q * ln_gamma_ + (px - 1.0) * s.ln_m + px * ln_x - (px + q) * ln_denom;
        g[0] += x * (dg_pxq - dg_px + s.ln_m + ln_x - ln_denom);
        g[1] += dg_pxq - dg_q + ln_gamma_ - ln_denom;
        g[2] += q / gamma - (px + q) / denom;
    }
    (ll, g)
}

/// [`prepared_log_likelihood`] summed over fixed chunks on scoped threads.
fn parallel_log_likelihood(params: &Params, data: &[Prepared]) -> (f64, [f64; 3]) {
    let parts = crate::in_chunks(data, |chunk| prepared_log_likelihood(params, chunk));
    parts.into_iter().fold((0.0, [0.0; 3]), |(ll, g), (l, gc)| {
        (ll + l, [g[0] + gc[0], g[1] + gc[1], g[2] + gc[2]])
    })
}

/// Fits p, q, γ by maximum likelihood over the logarithms of the parameters. `None` without
/// a repeat buyer.
pub fn fit(data: &[Spend]) -> Option<Fit> {
    let data = prepare(data);
    let (params, iterations, converged) = optimum(&data)?;
    let (log_likelihood, _) = parallel_log_likelihood(&params, &data);
    let gradient = |a: &[f64; 3]| parallel_log_likelihood(&Params::from_array(*a), &data).1;
    let std_errors = Params::from_array(optim::standard_errors(gradient, params.to_array()));
    Some(Fit { params, std_errors, log_likelihood, iterations, converged })
}

/// The parameters of [`fit`] alone, without the standard errors: for scores that use the
/// model but do not report it.
pub fn fit_params(data: &[Spend]) -> Option<Params> {
    Some(optimum(&prepare(data))?.0)
}

/// The maximum-likelihood parameters, iterations and convergence.
fn optimum(data: &[Prepared]) -> Option<(Params, usize, bool)> {
    if data.is_empty() {
        return None;
    }
    fn objective(data: &[Prepared]) -> impl Fn(&[f64; 3]) -> (f64, [f64; 3]) + '_ {
        let n = data.len() as f64;
        move |theta: &[f64; 3]| {
            let p = theta.map(f64::exp);
            let (ll, g) = parallel_log_likelihood(&Params::from_array(p), data);
            (-ll / n, std::array::from_fn(|k| -g[k] * p[k] / n))
        }
    }
    // Many buyers: start from the fit to every 16th (as BG/NBD does); the optimum is the
    // full data's either way.
    let start = if data.len() > 50_000 {
        let sample: Vec<Prepared> = data.iter().step_by(16).copied().collect();
        optim::bfgs(objective(&sample), [0.0; 3], 500).0
    } else {
        [0.0; 3]
    };
    let (theta, iterations, converged) = optim::bfgs(objective(data), start, 500);
    Some((Params::from_array(theta.map(f64::exp)), iterations, converged))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_matches_finite_differences() {
        let data: Vec<Spend> = (1..60)
            .map(|i| Spend { x: f64::from(i % 7 + 1), mean: 5.0 + f64::from((i * 37) % 50) })
            .collect();
        let p = Params { p: 3.0, q: 2.5, gamma: 12.0 };
        let (_, g) = log_likelihood(&p, &data);
        let ll = |a: &[f64; 3]| log_likelihood(&Params::from_array(*a), &data).0;
        optim::assert_gradient(ll, g, p.to_array());
    }

    #[test]
    fn expected_values_shrink_towards_the_population_mean() {
        let p = Params { p: 6.25, q: 3.74, gamma: 15.44 };
        let population = p.expected_mean_value(0.0, 0.0);
        assert!((population - 6.25 * 15.44 / 2.74).abs() < 1e-9);
        let one = p.expected_mean_value(1.0, 100.0);
        let many = p.expected_mean_value(50.0, 100.0);
        assert!(population < one && one < many && many < 100.0);
        assert_eq!(fit(&[Spend { x: 0.0, mean: 0.0 }]), None);
    }
}

//! The statistics of campaigns: who is held out, and whether the campaign moved anything.
//!
//! - **Holdout assignment** ([`in_holdout`]) is a hash, not a draw: xxh3-64 of the campaign and
//!   the customer, seeded, mapped to [0, 1) and compared with the holdout share. The same
//!   customer is always in or out of the same campaign's holdout, whenever and wherever it is
//!   asked, with nothing stored; another campaign or seed gives an independent split.
//! - **Lift** compares the treated customers with the holdout: [`two_proportion`] for a rate
//!   (who converted), [`welch`] for a mean (spend per customer), each giving the absolute and
//!   relative difference, a two-sided p-value and the [`CONFIDENCE_LEVEL`] interval of the
//!   absolute difference.
//!
//! The two-proportion test takes the pooled standard error for the p-value (under the null
//! hypothesis the rates are equal, so one rate is estimated from both arms) and the unpooled
//! (Wald) one for the interval (which must not assume the difference is zero). The textbook
//! pairing; statsmodels' `proportions_ztest` and `confint_proportions_2indep(method="wald")`.
//! Means use Welch's t-test, which does not assume equal variances: spend in a holdout of 5%
//! and in the treated 95% need not spread alike, and with unequal arm sizes Student's pooled
//! test is then wrong in either direction.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use statrs::function::erf::erfc;
use xxhash_rust::xxh3::xxh3_64_with_seed;

/// The confidence level of every interval here: two-sided 95%.
pub const CONFIDENCE_LEVEL: f64 = 0.95;

/// Φ⁻¹(0.975), the normal quantile for [`CONFIDENCE_LEVEL`].
const Z: f64 = 1.959_963_984_540_054;

/// The t quantile of the [`CONFIDENCE_LEVEL`] interval with `df` degrees of freedom.
fn t_quantile(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(Z, |t| t.inverse_cdf(0.5 + CONFIDENCE_LEVEL / 2.0))
}

/// Whether `customer` is in the holdout of `campaign`: true for a share `share` of customers,
/// always the same answer for the same arguments. `share` ≤ 0 holds out nobody, ≥ 1 everybody.
pub fn in_holdout(seed: u64, campaign: i64, customer: &str, share: f64) -> bool {
    unit_hash(seed, campaign, customer) < share
}

/// (campaign, customer) hashed with `seed` to a uniform number in [0, 1). The campaign's eight
/// bytes come first, so no two pairs share their bytes.
fn unit_hash(seed: u64, campaign: i64, customer: &str) -> f64 {
    let mut key = Vec::with_capacity(8 + customer.len());
    key.extend_from_slice(&campaign.to_le_bytes());
    key.extend_from_slice(customer.as_bytes());
    // The top 53 bits, exactly representable: k / 2^53 for k in 0..2^53.
    (xxh3_64_with_seed(&key, seed) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Count, mean and sum of squared deviations of a sample, updated one value at a time
/// (Welford) and merged across chunks (Chan et al.), without the cancellation of Σx² − n·x̄².
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Adds every value `other` has seen, as if they had been pushed here.
    pub fn merge(&mut self, other: &Moments) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.n as f64, other.n as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.n += other.n;
    }

    /// The number of values.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// The mean; `None` without values.
    pub fn mean(&self) -> Option<f64> {
        (self.n > 0).then_some(self.mean)
    }

    /// The sample variance (divided by n − 1); `None` below two values.
    pub fn variance(&self) -> Option<f64> {
        (self.n > 1).then(|| self.m2 / (self.n - 1) as f64)
    }
}

impl Extend<f64> for Moments {
    fn extend<I: IntoIterator<Item = f64>>(&mut self, values: I) {
        values.into_iter().for_each(|x| self.push(x));
    }
}

impl FromIterator<f64> for Moments {
    fn from_iter<I: IntoIterator<Item = f64>>(values: I) -> Self {
        let mut m = Moments::new();
        m.extend(values);
        m
    }
}

/// One arm of a comparison: its size and its rate or mean.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Arm {
    pub n: u64,
    pub value: f64,
}

/// The test a [`Lift`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// A difference of rates: the two-proportion z-test.
    TwoProportion,
    /// A difference of means: Welch's t-test.
    Welch,
}

/// The difference between the treated customers and the holdout (control).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Lift {
    pub test: Test,
    pub treatment: Arm,
    pub control: Arm,
    /// Treatment − control.
    pub absolute: f64,
    /// `absolute` / control; `None` when the control's value is 0.
    pub relative: Option<f64>,
    /// The [`CONFIDENCE_LEVEL`] interval of `absolute`.
    pub ci_low: f64,
    pub ci_high: f64,
    /// Two-sided.
    pub p_value: f64,
    /// z or t. Infinite (signed) only when both samples of a Welch test are constant and
    /// differ: a certain difference (JSON writes it as null).
    pub statistic: f64,
    /// Welch–Satterthwaite degrees of freedom; `None` for the z-test, or when both samples of a
    /// Welch test are constant.
    pub df: Option<f64>,
}

impl Lift {
    fn new(test: Test, treatment: Arm, control: Arm) -> Self {
        let absolute = treatment.value - control.value;
        Lift {
            test,
            treatment,
            control,
            absolute,
            relative: (control.value != 0.0).then(|| absolute / control.value),
            ci_low: absolute,
            ci_high: absolute,
            p_value: 1.0,
            statistic: 0.0,
            df: None,
        }
    }

    fn with_interval(self, half_width: f64) -> Self {
        Lift { ci_low: self.absolute - half_width, ci_high: self.absolute + half_width, ..self }
    }
}

/// The two-proportion z-test of `t_success` of `t_n` against `c_success` of `c_n`: pooled
/// standard error for the p-value, unpooled (Wald) for the interval. `None` if an arm is
/// empty or has more successes than members. When both rates are 0 or both 1 there is no
/// variance at all: p = 1 and the interval is the (zero) difference.
pub fn two_proportion(t_success: u64, t_n: u64, c_success: u64, c_n: u64) -> Option<Lift> {
    if t_n == 0 || c_n == 0 || t_success > t_n || c_success > c_n {
        return None;
    }
    let (nt, nc) = (t_n as f64, c_n as f64);
    let (pt, pc) = (t_success as f64 / nt, c_success as f64 / nc);
    let lift = Lift::new(Test::TwoProportion, Arm { n: t_n, value: pt }, Arm { n: c_n, value: pc });
    let wald = (pt * (1.0 - pt) / nt + pc * (1.0 - pc) / nc).sqrt();
    let lift = lift.with_interval(Z * wald);
    let pooled = (t_success + c_success) as f64 / (nt + nc);
    let se = (pooled * (1.0 - pooled) * (1.0 / nt + 1.0 / nc)).sqrt();
    if se == 0.0 {
        return Some(lift);
    }
    let z = lift.absolute / se;
    // 2·(1 − Φ(|z|)) without the cancellation for large |z|.
    Some(Lift { statistic: z, p_value: erfc(z.abs() / std::f64::consts::SQRT_2), ..lift })
}

/// Welch's t-test of the treatment's mean against the control's, with Welch–Satterthwaite
/// degrees of freedom. `None` if an arm has fewer than two values. When both arms are
/// constant the difference is certain: p = 1 if the means are equal and 0 if not, the interval
/// is the difference itself.
pub fn welch(t: &Moments, c: &Moments) -> Option<Lift> {
    let (Some(vt), Some(vc)) = (t.variance(), c.variance()) else { return None };
    let (nt, nc) = (t.n as f64, c.n as f64);
    let lift = Lift::new(Test::Welch, Arm { n: t.n, value: t.mean }, Arm { n: c.n, value: c.mean });
    let (st, sc) = (vt / nt, vc / nc);
    let se2 = st + sc;
    if se2 == 0.0 {
        return Some(if lift.absolute == 0.0 {
            lift
        } else {
            Lift { p_value: 0.0, statistic: lift.absolute.signum() * f64::INFINITY, ..lift }
        });
    }
    let df = se2 * se2 / (st * st / (nt - 1.0) + sc * sc / (nc - 1.0));
    let se = se2.sqrt();
    let stat = lift.absolute / se;
    let p_value = StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |d| 2.0 * d.sf(stat.abs()));
    Some(Lift { statistic: stat, p_value, df: Some(df), ..lift.with_interval(t_quantile(df) * se) })
}

#[cfg(test)]
#[path = "campaign_tests.rs"]
mod tests;

use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Relative agreement to 1e-9 (absolute below 1e-12, for values at zero).
fn assert_close(got: f64, want: f64, what: &str) {
    let tolerance = 1e-9 * want.abs().max(1e-3);
    assert!((got - want).abs() <= tolerance, "{what}: got {got:e}, want {want:e}");
}

fn assert_lift(l: &Lift, [statistic, p, low, high]: [f64; 4]) {
    assert_close(l.statistic, statistic, "statistic");
    assert_close(l.p_value, p, "p-value");
    assert_close(l.ci_low, low, "ci_low");
    assert_close(l.ci_high, high, "ci_high");
}

// ---- holdout assignment ----

fn holdout(seed: u64, campaign: i64, share: f64) -> Vec<bool> {
    (0..100_000).map(|i| in_holdout(seed, campaign, &format!("cust-{i}"), share)).collect()
}

#[test]
fn the_holdout_is_its_share_of_customers_within_three_sigma_and_stable() {
    let n = 100_000.0;
    for share in [0.05, 0.1, 0.5] {
        let first = holdout(7, 42, share);
        let held = first.iter().filter(|h| **h).count() as f64;
        let sigma = (share * (1.0 - share) / n).sqrt();
        assert!((held / n - share).abs() < 3.0 * sigma, "share {share}: {}", held / n);
        assert_eq!(first, holdout(7, 42, share), "the same answer on every call");
    }
}

#[test]
fn campaigns_and_seeds_split_independently() {
    // Independent splits at share s overlap on s² of the customers: 1,000 of 100,000 at 10%,
    // binomial sd √(n·s²·(1 − s²)) ≈ 31.5.
    let base = holdout(7, 42, 0.1);
    let sd = (100_000.0f64 * 0.01 * 0.99).sqrt();
    for other in [holdout(7, 43, 0.1), holdout(8, 42, 0.1)] {
        let both = base.iter().zip(&other).filter(|(a, b)| **a && **b).count() as f64;
        assert!((both - 1000.0).abs() < 3.0 * sd, "overlap {both}");
    }
}

#[test]
fn a_larger_share_holds_out_a_superset_and_the_ends_are_nobody_and_everybody() {
    let (small, large) = (holdout(1, 5, 0.05), holdout(1, 5, 0.2));
    assert!(small.iter().zip(&large).all(|(s, l)| !s || *l), "growing a holdout keeps its members");
    assert!(!holdout(1, 5, 0.0).contains(&true));
    assert!(!holdout(1, 5, 1.0).contains(&false));
}

// ---- moments ----

#[test]
fn moments_match_two_passes_and_merging_matches_pushing_everything() {
    // Far from zero, where Σx² − n·x̄² would lose about half the digits. The reference is
    // computed on the small offsets, which the shift does not change.
    let offsets: Vec<f64> = (0..1000).map(|i| f64::from(i % 17) * 0.25).collect();
    let xs: Vec<f64> = offsets.iter().map(|d| 1e6 + d).collect();
    let centre = offsets.iter().sum::<f64>() / 1000.0;
    let (mean, var) =
        (1e6 + centre, offsets.iter().map(|d| (d - centre).powi(2)).sum::<f64>() / 999.0);
    let all: Moments = xs.iter().copied().collect();
    assert_eq!(all.count(), 1000);
    assert_close(all.mean().unwrap(), mean, "mean");
    assert_close(all.variance().unwrap(), var, "variance");
    let mut merged: Moments = xs[..313].iter().copied().collect();
    merged.merge(&xs[313..].iter().copied().collect());
    merged.merge(&Moments::new());
    assert_eq!(merged.count(), 1000);
    assert_close(merged.mean().unwrap(), mean, "merged mean");
    assert_close(merged.variance().unwrap(), var, "merged variance");
    let mut empty = Moments::new();
    empty.merge(&all);
    assert_eq!(empty, all);
}

#[test]
fn moments_need_one_value_for_a_mean_and_two_for_a_variance() {
    let mut m = Moments::new();
    assert_eq!((m.mean(), m.variance()), (None, None));
    m.push(3.0);
    assert_eq!((m.mean(), m.variance()), (Some(3.0), None));
    m.push(5.0);
    assert_eq!((m.mean(), m.variance()), (Some(4.0), Some(2.0)));
}

// ---- reference values ----
//
// From SciPy 1.17.1 and statsmodels 0.15.0:
//
//   from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep
//   from scipy import stats
//   z, p = proportions_ztest([a, b], [n, m])
//   lo, hi = confint_proportions_2indep(a, n, b, m, method="wald", compare="diff")
//   r = stats.ttest_ind(t, c, equal_var=False); ci = r.confidence_interval(0.95)
//   print(r.statistic, r.pvalue, r.df, ci.low, ci.high)

#[test]
fn two_proportion_matches_statsmodels() {
    // (120, 1000, 90, 1000)
    let l = two_proportion(120, 1000, 90, 1000).unwrap();
    assert_lift(
        &l,
        [2.1882658846227234, 0.028650240398448473, 0.003162087844242635, 0.05683791215575736],
    );
    assert_close(l.absolute, 0.03, "absolute");
    assert_close(l.relative.unwrap(), 1.0 / 3.0, "relative");
    assert_eq!((l.test, l.df, l.treatment.n, l.control.n), (Test::TwoProportion, None, 1000, 1000));
}

#[test]
fn two_proportion_with_a_control_rate_of_zero_matches_statsmodels() {
    // (5, 40, 0, 35): the interval is the treatment's alone; no relative lift from 0.
    let l = two_proportion(5, 40, 0, 35).unwrap();
    assert_lift(
        &l,
        [2.1650635094610964, 0.0303828219765775, 0.022511030043055352, 0.22748896995694465],
    );
    assert_eq!(l.relative, None);
    // (0, 40, 35, 35): rates 0 and 1, so no Wald variance but a pooled one.
    let l = two_proportion(0, 40, 35, 35).unwrap();
    assert_lift(&l, [-8.660254037844386, 4.707140590140388e-18, -1.0, -1.0]);
    assert_eq!(l.relative, Some(-1.0));
}

#[test]
fn welch_matches_scipy() {
    // t = [12.1, 14.3, 9.8, 11.5, 15.2, 13.0, 10.7]; c = [9.4, 10.1, 8.8, 11.9, 9.0, 10.5, 8.1, 9.7]
    let t: Moments = [12.1, 14.3, 9.8, 11.5, 15.2, 13.0, 10.7].into_iter().collect();
    let c: Moments = [9.4, 10.1, 8.8, 11.9, 9.0, 10.5, 8.1, 9.7].into_iter().collect();
    let l = welch(&t, &c).unwrap();
    assert_lift(
        &l,
        [3.1999807634196458, 0.009949746214481641, 0.8052658094456326, 4.562591333411511],
    );
    assert_close(l.df.unwrap(), 9.627419938247959, "df");
    assert_eq!((l.test, l.treatment.n, l.control.n), (Test::Welch, 7, 8));
}

#[test]
fn welch_with_very_unequal_variances_matches_scipy() {
    // t = [3.1, 25.0, 7.7, 0.4, 18.2, 11.9]; c = [5.0, 5.4, 4.8, 5.1, 5.3, 4.9, 5.2, 5.0, 5.1, 4.7]
    let t: Moments = [3.1, 25.0, 7.7, 0.4, 18.2, 11.9].into_iter().collect();
    let c: Moments = [5.0, 5.4, 4.8, 5.1, 5.3, 4.9, 5.2, 5.0, 5.1, 4.7].into_iter().collect();
    let l = welch(&t, &c).unwrap();
    assert_lift(
        &l,
        [1.5766984524113974, 0.17565167592259148, -3.78022572192165, 15.780225721921656],
    );
    assert_close(l.df.unwrap(), 5.003262227921678, "df");
}

// ---- coverage ----

/// The share of `runs` simulated experiments whose interval holds `truth`, asserted within
/// 93.5%..96.5% (about three binomial sd of 0.49 points around 95% at 2,000 runs).
fn assert_covers(runs: u32, truth: f64, mut experiment: impl FnMut() -> Lift) {
    let hits =
        (0..runs).map(|_| experiment()).filter(|l| l.ci_low <= truth && truth <= l.ci_high).count();
    let coverage = hits as f64 / f64::from(runs);
    assert!((0.935..=0.965).contains(&coverage), "coverage {coverage}");
}

#[test]
fn the_two_proportion_interval_covers_the_true_lift_95_percent_of_the_time() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut successes = |p: f64, n: u64| (0..n).filter(|_| rng.random_bool(p)).count() as u64;
    assert_covers(2000, 0.06, || {
        two_proportion(successes(0.36, 2000), 2000, successes(0.30, 2000), 2000).unwrap()
    });
}

#[test]
fn the_welch_interval_covers_the_true_lift_95_percent_of_the_time() {
    // Exponential spend, means 12 (300 treated) and 10 (200 held out): skewed, unequal
    // variances and sizes.
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut spend = |mean: f64, n: usize| -> Moments {
        (0..n).map(|_| -mean * (1.0 - rng.random::<f64>()).ln()).collect()
    };
    assert_covers(2000, 2.0, || welch(&spend(12.0, 300), &spend(10.0, 200)).unwrap());
}

// ---- degenerate inputs ----

#[test]
fn two_proportion_needs_two_arms_with_members() {
    assert_eq!(two_proportion(0, 0, 3, 10), None);
    assert_eq!(two_proportion(3, 10, 0, 0), None);
    assert_eq!(two_proportion(11, 10, 3, 10), None, "more successes than members");
}

#[test]
fn two_proportion_without_variance_is_no_evidence() {
    for (t, c) in [(0, 0), (50, 20)] {
        let l = two_proportion(t, 50, c, 20).unwrap();
        assert_eq!(
            (l.absolute, l.p_value, l.statistic, l.ci_low, l.ci_high),
            (0.0, 1.0, 0.0, 0.0, 0.0)
        );
    }
    assert_eq!(two_proportion(0, 50, 0, 20).unwrap().relative, None);
    assert_eq!(two_proportion(50, 50, 20, 20).unwrap().relative, Some(0.0));
}

#[test]
fn welch_needs_two_values_per_arm_and_handles_constant_samples() {
    let of = |xs: &[f64]| xs.iter().copied().collect::<Moments>();
    assert_eq!(welch(&of(&[1.0]), &of(&[1.0, 2.0])), None);
    assert_eq!(welch(&of(&[1.0, 2.0]), &Moments::new()), None);
    let same = welch(&of(&[4.0, 4.0]), &of(&[4.0, 4.0, 4.0])).unwrap();
    assert_eq!(
        (same.p_value, same.statistic, same.df, same.ci_low, same.ci_high),
        (1.0, 0.0, None, 0.0, 0.0)
    );
    let apart = welch(&of(&[5.0, 5.0]), &of(&[4.0, 4.0, 4.0])).unwrap();
    assert_eq!(
        (apart.p_value, apart.statistic, apart.ci_low, apart.ci_high),
        (0.0, f64::INFINITY, 1.0, 1.0)
    );
    // One constant arm: all the variance, and the degrees of freedom, are the other's.
    let one = welch(&of(&[5.0, 5.0]), &of(&[3.0, 4.0, 5.0])).unwrap();
    assert_close(one.df.unwrap(), 2.0, "df");
    let zero = welch(&of(&[1.0, 2.0]), &of(&[-1.0, 1.0])).unwrap();
    assert_eq!(zero.relative, None, "no relative lift from a mean of 0");
}

#[test]
fn lifts_serialise_in_snake_case() {
    let json = serde_json::to_value(two_proportion(120, 1000, 90, 1000).unwrap()).unwrap();
    assert_eq!(json["test"], "two_proportion");
    assert_eq!(json["treatment"]["n"], 1000);
    assert!(json["df"].is_null() && json["ci_low"].is_f64() && json["p_value"].is_f64());
    let t: Moments = [1.0, 2.0].into_iter().collect();
    assert_eq!(serde_json::to_value(welch(&t, &t).unwrap()).unwrap()["test"], "welch");
}

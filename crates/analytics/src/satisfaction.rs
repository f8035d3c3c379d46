//! NPS, CSAT and CES (PRODUCT.md, "Metric definitions"), each with a 95% confidence interval
//! and its response count, overall or per period.
//!
//! The intervals:
//! - **NPS** is the mean of a per-response value (+100 promoter, 0 passive, −100 detractor), so
//!   its standard error is that value's standard deviation over √n (the trinomial variance,
//!   Rocks 2016, "Interval estimation for the net promoter score"). The interval is clamped to
//!   −100..100.
//! - **CSAT** is a proportion: the Wilson score interval, which stays inside 0..100 and behaves
//!   for small samples and proportions near 0 or 1, unlike the plain normal interval.
//! - **CES** is a mean: Student's t interval with n − 1 degrees of freedom.
//!
//! With one response there is no spread to measure, so the interval is the whole scale.

use chrono::{Datelike, Duration, NaiveDate};
use rapport_core::Timestamp;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The 97.5th percentile of the standard normal: a two-sided 95% interval.
const Z95: f64 = 1.959_963_984_540_054;

/// A satisfaction scale and its score range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    /// Net Promoter Score: 0–10; the score is −100..100.
    Nps,
    /// Customer satisfaction: 1–5; the score is the percentage of 4s and 5s.
    Csat,
    /// Customer effort: 1–7 (higher = easier); the score is the mean.
    Ces,
}

impl Scale {
    pub fn range(self) -> (i16, i16) {
        match self {
            Scale::Nps => (0, 10),
            Scale::Csat => (1, 5),
            Scale::Ces => (1, 7),
        }
    }

    pub fn accepts(self, score: i16) -> bool {
        let (lo, hi) = self.range();
        (lo..=hi).contains(&score)
    }

    /// The range the score itself can take (NPS −100..100, CSAT 0..100, CES 1..7).
    fn score_bounds(self) -> (f64, f64) {
        match self {
            Scale::Nps => (-100.0, 100.0),
            Scale::Csat => (0.0, 100.0),
            Scale::Ces => (1.0, 7.0),
        }
    }
}

/// A score with its 95% confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub score: f64,
    pub low: f64,
    pub high: f64,
    pub responses: u64,
    /// How many responses gave each score, from the scale's lowest score up.
    pub distribution: Vec<u64>,
}

/// The score of a set of responses; `None` without any. Responses outside the scale are not
/// counted (callers validate at the edge; this keeps the arithmetic total).
pub fn estimate(scale: Scale, scores: impl IntoIterator<Item = i16>) -> Option<Estimate> {
    let (lo, hi) = scale.range();
    let mut distribution = vec![0u64; (hi - lo + 1) as usize];
    for s in scores.into_iter().filter(|s| scale.accepts(*s)) {
        distribution[(s - lo) as usize] += 1;
    }
    let n: u64 = distribution.iter().sum();
    if n == 0 {
        return None;
    }
    let count =
        |from: i16, to: i16| -> u64 { (from..=to).map(|s| distribution[(s - lo) as usize]).sum() };
    let (score, low, high) = match scale {
        Scale::Nps => nps_interval(count(9, 10), count(0, 6), n),
        Scale::Csat => wilson(count(4, 5), n),
        Scale::Ces => mean_interval(&distribution, lo, n),
    };
    let (min, max) = scale.score_bounds();
    Some(Estimate { score, low: low.max(min), high: high.min(max), responses: n, distribution })
}

fn nps_interval(promoters: u64, detractors: u64, n: u64) -> (f64, f64, f64) {
    let nf = n as f64;
    let (p, d) = (promoters as f64 / nf, detractors as f64 / nf);
    let score = 100.0 * (p - d);
    if n < 2 {
        return (score, -100.0, 100.0);
    }
    // Variance of the per-response value in {+1, 0, −1}: E[v²] − E[v]².
    let variance = (p + d) - (p - d).powi(2);
    let half = 100.0 * Z95 * (variance / nf).sqrt();
    (score, score - half, score + half)
}

fn wilson(successes: u64, n: u64) -> (f64, f64, f64) {
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z95 / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    (100.0 * p, 100.0 * (centre - half), 100.0 * (centre + half))
}

fn mean_interval(distribution: &[u64], lo: i16, n: u64) -> (f64, f64, f64) {
    let values =
        distribution.iter().enumerate().map(|(i, c)| (f64::from(lo) + i as f64, *c as f64));
    let nf = n as f64;
    let mean = values.clone().map(|(v, c)| v * c).sum::<f64>() / nf;
    if n < 2 {
        return (mean, f64::NEG_INFINITY, f64::INFINITY);
    }
    let variance = values.map(|(v, c)| c * (v - mean).powi(2)).sum::<f64>() / (nf - 1.0);
    let t = StudentsT::new(0.0, 1.0, nf - 1.0).map_or(Z95, |d| d.inverse_cdf(0.975));
    let half = t * (variance / nf).sqrt();
    (mean, mean - half, mean + half)
}

/// A reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    /// ISO weeks, starting on Monday.
    Week,
    Month,
    Quarter,
}

impl Period {
    /// The first day of the period holding `day`.
    pub fn start(self, day: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => day,
            Period::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Period::Month => day.with_day(1).expect("day 1 exists"),
            Period::Quarter => {
                let month = (day.month0() / 3) * 3 + 1;
                NaiveDate::from_ymd_opt(day.year(), month, 1).expect("a quarter's first day")
            }
        }
    }

    /// The first day of the period after the one starting on `start`.
    pub fn next(self, start: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => start + Duration::days(1),
            Period::Week => start + Duration::days(7),
            Period::Month => start + chrono::Months::new(1),
            Period::Quarter => start + chrono::Months::new(3),
        }
    }
}

/// One period of a trend: its first day and its estimate (`None` when nobody answered then, so
/// a chart shows a gap rather than a zero).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodEstimate {
    pub start: NaiveDate,
    pub estimate: Option<Estimate>,
}

/// The score per period, from the first period with a response to the last, every period in
/// between included. Times are bucketed by their UTC day.
pub fn trend(scale: Scale, responses: &[(Timestamp, i16)], period: Period) -> Vec<PeriodEstimate> {
    let mut dated: Vec<(NaiveDate, i16)> = responses
        .iter()
        .filter(|(_, s)| scale.accepts(*s))
        .map(|(at, s)| (period.start(at.date_naive()), *s))
        .collect();
    dated.sort_unstable_by_key(|(d, _)| *d);
    let (Some(first), Some(last)) = (dated.first(), dated.last()) else { return Vec::new() };
    let (mut start, last) = (first.0, last.0);
    let mut out = Vec::new();
    let mut rest = dated.as_slice();
    while start <= last {
        let n = rest.iter().take_while(|(d, _)| *d == start).count();
        let (this, after) = rest.split_at(n);
        out.push(PeriodEstimate { start, estimate: estimate(scale, this.iter().map(|(_, s)| *s)) });
        rest = after;
        start = period.next(start);
    }
    out
}

/// The score per group (a segment, a country...), in the groups' order; groups without a
/// response on the scale are left out.
pub fn by_group<G: Ord>(
    scale: Scale,
    responses: impl IntoIterator<Item = (G, i16)>,
) -> Vec<(G, Estimate)> {
    let mut groups: std::collections::BTreeMap<G, Vec<i16>> = Default::default();
    for (g, s) in responses {
        groups.entry(g).or_default().push(s);
    }
    groups.into_iter().filter_map(|(g, s)| Some((g, estimate(scale, s)?))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-3
    }

    #[test]
    fn by_group_scores_each_group_alone_and_skips_empty_ones() {
        // Group "a": 10, 9, 3 → 2 promoters, 1 detractor: NPS 33.3. "b": 7 → 0. "c": only an
        // 11, which is off the scale.
        let responses = [("a", 10), ("b", 7), ("a", 9), ("a", 3), ("c", 11)];
        let got = by_group(Scale::Nps, responses);
        assert_eq!(got.iter().map(|(g, _)| *g).collect::<Vec<_>>(), ["a", "b"]);
        assert!(close(got[0].1.score, 100.0 / 3.0));
        assert_eq!((got[0].1.responses, got[1].1.score, got[1].1.responses), (3, 0.0, 1));
    }

    #[test]
    fn nps_is_promoters_minus_detractors_with_the_trinomial_interval() {
        // 2 promoters, 2 passives, 1 detractor: NPS 20.
        let e = estimate(Scale::Nps, [10, 9, 8, 7, 0]).unwrap();
        assert!(close(e.score, 20.0), "{e:?}");
        // v = (+1, +1, 0, 0, −1): E[v²] = 0.6, E[v] = 0.2, variance 0.56, se = √(0.56/5).
        let half = 100.0 * Z95 * (0.56f64 / 5.0).sqrt();
        assert!(close(e.low, (20.0 - half).max(-100.0)) && close(e.high, 20.0 + half), "{e:?}");
        assert_eq!(e.distribution, [1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
        let all_promoters = estimate(Scale::Nps, [9; 40]).unwrap();
        assert_eq!((all_promoters.score, all_promoters.high), (100.0, 100.0));
    }

    #[test]
    fn csat_uses_the_wilson_interval() {
        // 8 of 10 satisfied: Wilson 95% is 49.02%..94.33% (Newcombe 1998, table I method 3).
        let e = estimate(Scale::Csat, [5, 5, 5, 4, 4, 4, 4, 4, 2, 1]).unwrap();
        assert!(close(e.score, 80.0));
        assert!((e.low - 49.02).abs() < 0.01 && (e.high - 94.33).abs() < 0.01, "{e:?}");
        let none = estimate(Scale::Csat, [1, 2, 3]).unwrap();
        assert!(none.score == 0.0 && none.low == 0.0 && none.high > 0.0, "{none:?}");
    }

    #[test]
    fn ces_is_a_mean_with_a_t_interval() {
        // 1..7: mean 4, sample sd √(28/6); t(0.975, 6) = 2.446912.
        let e = estimate(Scale::Ces, 1..=7).unwrap();
        let half = 2.446_912 * ((28.0f64 / 6.0) / 7.0).sqrt();
        assert!(close(e.score, 4.0) && close(e.high, 4.0 + half) && close(e.low, 4.0 - half));
    }

    #[test]
    fn out_of_scale_scores_are_not_counted_and_nothing_gives_none() {
        assert_eq!(estimate(Scale::Csat, [0, 6, -1]), None);
        assert_eq!(estimate(Scale::Nps, [11, 10]).unwrap().responses, 1);
        let one = estimate(Scale::Nps, [3]).unwrap();
        assert_eq!((one.score, one.low, one.high), (-100.0, -100.0, 100.0));
    }

    #[test]
    fn periods_start_on_their_first_day() {
        let d = NaiveDate::from_ymd_opt(2024, 8, 15).unwrap(); // a Thursday
        let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(Period::Week.start(d), ymd(2024, 8, 12));
        assert_eq!(Period::Month.start(d), ymd(2024, 8, 1));
        assert_eq!(Period::Quarter.start(d), ymd(2024, 7, 1));
        assert_eq!(Period::Quarter.next(ymd(2024, 10, 1)), ymd(2025, 1, 1));
        assert_eq!(Period::Month.next(ymd(2024, 1, 1)), ymd(2024, 2, 1));
    }

    #[test]
    fn trends_cover_every_period_between_the_first_and_last_response() {
        let at = |m, d| chrono::Utc.with_ymd_and_hms(2024, m, d, 12, 0, 0).unwrap();
        let responses = [(at(3, 5), 10), (at(1, 31), 0), (at(1, 2), 9), (at(3, 30), 6)];
        let t = trend(Scale::Nps, &responses, Period::Month);
        let months: Vec<_> =
            t.iter().map(|p| (p.start.month(), p.estimate.as_ref().map(|e| e.score))).collect();
        assert_eq!(months, [(1, Some(0.0)), (2, None), (3, Some(0.0))]);
        assert_eq!(t[0].estimate.as_ref().unwrap().responses, 2);
        assert_eq!(trend(Scale::Csat, &responses, Period::Week), [], "no CSAT-scale responses");
    }
}

//! The journey computation: one pass over the customers, each walked forward through the
//! stages on sorted per-customer time arrays (binary search per condition), then the per-stage
//! figures. Customers are numbered 0..n by the caller; times are microseconds since the epoch.

use crate::satisfaction::{Estimate, Scale, estimate};
use serde::Serialize;
use std::collections::HashMap;

/// "No time": what a filter stage at the start of a journey is reached at.
const NO_TIME: i64 = i64::MIN;
/// Marks a customer outside the population (not in the segment).
const OUTSIDE: i8 = i8::MIN;
const MICROS_PER_DAY: f64 = 86_400e6;
/// Quotes shown per stage.
const QUOTES: usize = 3;
/// Pain-point themes shown per stage.
const THEMES: usize = 5;

/// Per customer, the sorted times of one kind of occurrence (an event name, purchase orders,
/// survey responses), in compressed rows: customer `c`'s times are
/// `times[offsets[c]..offsets[c + 1]]`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Occurrences {
    offsets: Vec<u32>,
    times: Vec<i64>,
}

impl Occurrences {
    /// From (customer, time) pairs in any order; customers at or above `n` are ignored.
    pub fn new(n: usize, mut rows: Vec<(u32, i64)>) -> Occurrences {
        rows.retain(|r| (r.0 as usize) < n);
        // Rows from the stores come sorted; checking first skips the sort.
        if !rows.is_sorted() {
            rows.sort_unstable();
        }
        let mut offsets = vec![0u32; n + 1];
        for &(c, _) in &rows {
            offsets[c as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        Occurrences { offsets, times: rows.into_iter().map(|r| r.1).collect() }
    }

    fn of(&self, c: usize) -> &[i64] {
        match (self.offsets.get(c), self.offsets.get(c + 1)) {
            (Some(&a), Some(&b)) => &self.times[a as usize..b as usize],
            _ => &[],
        }
    }

    /// How many occurrences in all.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}

/// One condition, resolved to data.
#[derive(Debug, Clone, PartialEq)]
pub enum Met {
    /// The `min_count`-th occurrence of `sources[source]` at or after the previous stage.
    Times { source: usize, min_count: u32 },
    /// Customers a filter selects (indexed by customer); no time of its own.
    Members(Vec<bool>),
}

/// A piece of negative feedback: what pain points and quotes are made of.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Complaint {
    pub customer: u32,
    pub at: i64,
    pub theme: Option<String>,
    pub text: String,
}

/// Everything the computation reads.
#[derive(Debug, Clone, Default)]
pub struct JourneyInput {
    /// How many customers (0..n).
    pub customers: usize,
    /// Stage names, in order.
    pub names: Vec<String>,
    /// Per stage, its conditions (any one reaches it).
    pub stages: Vec<Vec<Met>>,
    pub sources: Vec<Occurrences>,
    /// Each customer's latest NPS, CSAT and CES rating, where they have one.
    pub nps: Vec<Option<i16>>,
    pub csat: Vec<Option<i16>>,
    pub ces: Vec<Option<i16>>,
    /// Each customer's mean feedback sentiment (−1..1), where they have one.
    pub sentiment: Vec<Option<f32>>,
    pub complaints: Vec<Complaint>,
    /// The segment: customers outside it are left out of everything (`None`: everyone).
    pub population: Option<Vec<bool>>,
}

/// The satisfaction of the customers whose furthest stage is this one.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StageSatisfaction {
    pub nps: Option<Estimate>,
    pub csat: Option<Estimate>,
    pub ces: Option<Estimate>,
    /// Mean feedback sentiment (−1..1) and how many customers it averages.
    pub sentiment: Option<f64>,
    pub sentiment_customers: u64,
}

/// A pain-point theme and how many complaints carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThemeCount {
    pub theme: String,
    pub complaints: u64,
}

/// One stage of the map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageResult {
    pub name: String,
    pub reached: u64,
    /// Share of the previous stage's customers (of the population at stage 0) who reached it.
    pub conversion: Option<f64>,
    /// Customers of the previous stage (of the population at stage 0) who did not reach it.
    pub dropped: u64,
    pub drop_share: Option<f64>,
    /// Median days from reaching the previous stage to reaching this one, over the customers
    /// with both times (`timed` of them).
    pub median_days: Option<f64>,
    pub timed: u64,
    /// Customers whose furthest stage is this one, and their satisfaction.
    pub stayed: u64,
    pub satisfaction: StageSatisfaction,
    /// What the customers who dropped before this stage complained about, most often first,
    /// and their latest words (one quote per customer).
    pub pain_points: Vec<ThemeCount>,
    pub complaints: u64,
    /// Not serialised: the quotes name customers by position, which only the caller can
    /// turn into identities (the report does, in its own `quotes`).
    #[serde(skip)]
    pub quotes: Vec<Complaint>,
}

/// The computed map.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JourneyMap {
    /// Customers considered (the segment's, or everyone).
    pub population: u64,
    pub stages: Vec<StageResult>,
}

/// Walks every customer of the population through the stages; see the module docs for the
/// ordering rule.
pub fn compute(input: &JourneyInput) -> JourneyMap {
    let k = input.stages.len();
    let mut furthest = vec![OUTSIDE; input.customers];
    let mut reached = vec![0u64; k];
    let mut deltas: Vec<Vec<i64>> = vec![Vec::new(); k];
    let mut population = 0u64;
    for (c, slot) in furthest.iter_mut().enumerate() {
        if input.population.as_ref().is_some_and(|p| !p.get(c).copied().unwrap_or(false)) {
            continue;
        }
        population += 1;
        *slot = walk(input, c, &mut reached, &mut deltas);
    }
    let satisfaction = satisfaction_by_stage(input, &furthest, k);
    let pains = pains_by_stage(input, &furthest, k);
    let stages = (0..k)
        .zip(satisfaction)
        .zip(pains)
        .map(|((i, satisfaction), pain)| {
            let before = if i == 0 { population } else { reached[i - 1] };
            let stayed = reached[i] - reached.get(i + 1).copied().unwrap_or(0);
            StageResult {
                name: input.names.get(i).cloned().unwrap_or_default(),
                reached: reached[i],
                conversion: share(reached[i], before),
                dropped: before - reached[i],
                drop_share: share(before - reached[i], before),
                median_days: median(&mut deltas[i]).map(|m| m / MICROS_PER_DAY),
                timed: deltas[i].len() as u64,
                stayed,
                satisfaction,
                pain_points: pain.themes,
                complaints: pain.complaints,
                quotes: pain.quotes,
            }
        })
        .collect();
    JourneyMap { population, stages }
}

/// One customer through the stages: the index of the furthest stage reached (−1: none).
fn walk(input: &JourneyInput, c: usize, reached: &mut [u64], deltas: &mut [Vec<i64>]) -> i8 {
    let mut t = NO_TIME;
    let mut last = -1i8;
    for (i, conditions) in input.stages.iter().enumerate() {
        let Some(at) = conditions.iter().filter_map(|m| met(input, m, c, t)).min() else {
            break;
        };
        reached[i] += 1;
        if t != NO_TIME && at != NO_TIME {
            deltas[i].push(at - t);
        }
        (t, last) = (at, i as i8);
    }
    last
}

/// When customer `c` meets a condition at or after `since`, if they do.
fn met(input: &JourneyInput, m: &Met, c: usize, since: i64) -> Option<i64> {
    match m {
        Met::Members(members) => members.get(c).copied().unwrap_or(false).then_some(since),
        Met::Times { source, min_count } => {
            let times = input.sources.get(*source)?.of(c);
            let from = times.partition_point(|&x| x < since);
            times.get(from + (*min_count).max(1) as usize - 1).copied()
        }
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The median of the values (the mean of the middle two for an even count).
fn median(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let (_, &mut upper, _) = values.select_nth_unstable(n / 2);
    if n % 2 == 1 {
        return Some(upper as f64);
    }
    let lower = values[..n / 2].iter().copied().max().unwrap_or(upper);
    Some((lower as f64 + upper as f64) / 2.0)
}

fn satisfaction_by_stage(
    input: &JourneyInput,
    furthest: &[i8],
    k: usize,
) -> Vec<StageSatisfaction> {
    let mut scores: Vec<[Vec<i16>; 3]> = vec![Default::default(); k];
    let mut sentiment = vec![(0.0f64, 0u64); k];
    for (c, &f) in furthest.iter().enumerate() {
        let Ok(i) = usize::try_from(f) else { continue };
        for (j, column) in [&input.nps, &input.csat, &input.ces].into_iter().enumerate() {
            if let Some(Some(r)) = column.get(c) {
                scores[i][j].push(*r);
            }
        }
        if let Some(Some(s)) = input.sentiment.get(c) {
            sentiment[i].0 += f64::from(*s);
            sentiment[i].1 += 1;
        }
    }
    scores
        .into_iter()
        .zip(sentiment)
        .map(|([nps, csat, ces], (sum, n))| StageSatisfaction {
            nps: estimate(Scale::Nps, nps),
            csat: estimate(Scale::Csat, csat),
            ces: estimate(Scale::Ces, ces),
            sentiment: (n > 0).then(|| sum / n as f64),
            sentiment_customers: n,
        })
        .collect()
}

#[derive(Default)]
struct Pain {
    themes: Vec<ThemeCount>,
    complaints: u64,
    quotes: Vec<Complaint>,
}

/// Complaints of the customers who dropped before each stage (whose furthest stage is the one
/// before it), by theme, with the latest quotes of distinct customers.
fn pains_by_stage(input: &JourneyInput, furthest: &[i8], k: usize) -> Vec<Pain> {
    let mut pains: Vec<Pain> = (0..k).map(|_| Pain::default()).collect();
    let mut counts: Vec<HashMap<&str, u64>> = vec![HashMap::new(); k];
    let mut latest: Vec<&Complaint> = input.complaints.iter().collect();
    latest.sort_by(|a, b| b.at.cmp(&a.at).then(a.customer.cmp(&b.customer)));
    for complaint in latest {
        let f = furthest.get(complaint.customer as usize).copied().unwrap_or(OUTSIDE);
        let Ok(i) = usize::try_from(i16::from(f) + 1) else { continue };
        let Some(pain) = pains.get_mut(i) else { continue };
        pain.complaints += 1;
        if let Some(theme) = &complaint.theme {
            *counts[i].entry(theme).or_default() += 1;
        }
        let quoted = pain.quotes.iter().any(|q| q.customer == complaint.customer);
        if pain.quotes.len() < QUOTES && !quoted {
            pain.quotes.push(complaint.clone());
        }
    }
    for (pain, counts) in pains.iter_mut().zip(counts) {
        let mut themes: Vec<ThemeCount> = counts
            .into_iter()
            .map(|(t, n)| ThemeCount { theme: t.to_string(), complaints: n })
            .collect();
        themes.sort_by(|a, b| b.complaints.cmp(&a.complaints).then(a.theme.cmp(&b.theme)));
        themes.truncate(THEMES);
        pain.themes = themes;
    }
    pains
}

//! Personas: a segment's members described against the whole population, for product and
//! customer-success teams. [`build`] turns per-customer [`Facts`] and a membership mask into a
//! serialisable [`PersonaProfile`]: size and share of revenue, demographics and behaviours with
//! their lift over the population, goals, pain points with real quotes, an empathy map
//! (says / thinks / does / feels) and a suggested name from the most distinctive traits.
//!
//! Everything is computed from the facts given; every statement carries the evidence it rests
//! on, so a reader can check it. Pure: no I/O, no clock (the year for ages is an input).

mod avatar;
mod empathy;
mod facts;
mod profile;
mod tally;
#[cfg(test)]
mod tests;

pub use avatar::Avatar;
pub use facts::*;
pub use profile::*;

use tally::Tally;

/// Lists keep this many entries (the top by count or share).
const TOP: usize = 5;
/// A trait counts as distinctive only when at least this share of the members has it, so
/// that a lift computed on a handful of customers does not name the persona.
const MIN_TRAIT_SHARE: f64 = 0.05;

/// The persona of the customers for whom `member(i)` is true, against all of `facts`.
/// `year` is the calendar year ages are computed in.
pub fn build(facts: &Facts, member: &[bool], year: i32) -> PersonaProfile {
    let pop = Tally::of(facts, |_| true, year);
    let mine = Tally::of(facts, |i| member.get(i).copied().unwrap_or(false), year);
    let demographics = profile::demographics(facts, &mine, &pop);
    let behaviours = profile::behaviours(facts, &mine, &pop);
    let pain_points = empathy::pain_points(facts, &mine, &pop);
    let sentiment = mine.sentiment_mix();
    let goals = empathy::goals(facts, &mine, &behaviours);
    let map = empathy::map(facts, &mine, &pop, &behaviours, &pain_points);
    let traits = profile::traits(&demographics, &behaviours);
    let suggested_name = profile::suggested_name(&mine, &pop, &traits);
    PersonaProfile {
        size: mine.customers,
        population: pop.customers,
        share_customers: ratio(mine.customers as f64, pop.customers as f64),
        revenue: mine.revenue,
        share_revenue: ratio(mine.revenue, pop.revenue),
        demographics,
        behaviours,
        goals,
        pain_points,
        sentiment,
        empathy: map,
        traits,
        suggested_name,
    }
}

/// `a / b`, 0 when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 { 0.0 } else { a / b }
}

//! Journey maps: an ordered list of stages, each reached when one of its conditions is met,
//! and per stage how many customers reached it, how many dropped before it, how long the step
//! took, how satisfied the customers who stopped there are and what they complained about.
//!
//! **The ordering rule.** Customers move forward only. Stage 0 is reached at the first time one
//! of its conditions is met. Stage *i* is reached at the earliest time at or after the time
//! stage *i − 1* was reached at which one of its conditions is met, counting only what happened
//! from then on: a customer who connected an integration during the trial and never again after
//! buying has not been onboarded after the purchase. "At least N" conditions count the N
//! occurrences from that time on. A filter condition has no time: a customer it selects meets it
//! at the previous stage's time (at stage 0, with no time at all), so filter stages narrow a
//! journey without moving it. A customer who misses a stage reaches none after it, so the
//! counts only fall and every customer of the population either dropped at exactly one stage
//! or reached the last.
//!
//! The definitions ([`spec`]) are what is stored; the computation ([`compute`]) works on
//! compact per-customer arrays prepared by the caller (`rapport-reports` reads them).

mod compute;
mod spec;
#[cfg(test)]
mod tests;

pub use compute::*;
pub use spec::*;

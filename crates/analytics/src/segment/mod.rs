//! Segments by filter: a [`CustomerFrame`] holds customers as columns; [`compile`] turns a
//! parsed [`rapport_core::filter::Filter`] into a [`Plan`], and [`Plan::eval`] returns the
//! customers for whom it is true as a [`Bitset`].
//!
//! ```
//! use rapport_analytics::segment::{CustomerFrame, CustomerRow, compile};
//! use rapport_core::filter::parse;
//!
//! let mut frame = CustomerFrame::new();
//! frame.push(&CustomerRow { id: "c1".into(), country: Some("DE".into()), ..Default::default() });
//! frame.push(&CustomerRow { id: "c2".into(), country: Some("FR".into()), ..Default::default() });
//! let filter = parse(r#"country in ("DE", "AT")"#).unwrap();
//! let plan = compile(&filter, &frame.schema());
//! let now = chrono::Utc::now();
//! assert_eq!(plan.eval(&frame, now).ones().collect::<Vec<_>>(), [0]);
//! ```
//!
//! **Nulls** follow SQL's three-valued logic: a comparison with a missing value (no age, an
//! attribute the customer lacks or holds with another type than the literal's) is unknown,
//! `not` of unknown is unknown, `false and unknown` is false, `true or unknown` is true, and a
//! customer is in the segment only when the filter is true. `is null` is never unknown;
//! `consent(...)`, `did(...)` and `events(...)` are never null (no record: not granted, zero
//! events). Every node yields two bitsets (true, known), combined 64 customers at a time.
//!
//! **Time.** `now` is a parameter: `_days` fields are whole days (rounded down) from the stored
//! instant to `now`, `age` is `now`'s year minus the birth year, and an event window
//! `within=30d` holds the events at or after `now − 30 days` and at or before `now` (events
//! after `now` are never counted). [`eval_row`] is the one-customer reference the plan is
//! tested against.

mod bitset;
mod eval;
mod frame;
mod plan;
mod row;
#[cfg(test)]
mod tests;

pub use bitset::Bitset;
pub use frame::{AttrTypes, CustomerFrame, CustomerRow, FrameSchema};
pub use plan::{Plan, Truth, compile};
pub use row::{RowView, eval_row};

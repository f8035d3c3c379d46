//! Rapport's domain: the customer data model and the rules that make a value valid.
//!
//! Everything here is pure: no I/O, no async, no database or HTTP types. Raw input (a CSV cell,
//! a JSON field) becomes a domain type exactly once, at the edge, through the `parse` functions in
//! [`value`] and [`record`]; inside the product the types guarantee validity.

pub mod access;
pub mod campaign;
pub mod entity;
pub mod error;
pub mod filter;
pub mod idea;
pub mod loyalty;
pub mod money;
pub mod notify;
pub mod record;
pub mod summary;
pub mod survey;
pub mod value;
mod vocabulary;

pub use access::{Permission, Role, Scope};
pub use entity::*;
pub use error::FieldError;
pub use money::{Currency, Money};
pub use summary::CustomerSummary;
pub use value::{AttrValue, Attributes, ExternalId, Timestamp};

//! Rapport's analytics: pure computations on plain data (no I/O, no clock, seeded randomness).
//!
//! Reports read the per-customer summaries that stores keep current at ingest; [`summary`]
//! defines those summaries from scratch, which is both their specification and the reference the
//! stores are tested against.

pub mod bgnbd;
pub mod clv;
pub mod gammagamma;
pub mod health;
pub mod optim;
pub mod retention;
pub mod rfm;
pub mod satisfaction;
pub mod summary;

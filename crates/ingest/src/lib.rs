//! Getting data in and out of Rapport as files: CSV, TSV, whitespace-separated columns and
//! JSONL, each optionally gzip-compressed.
//!
//! Import streams in constant memory (bounded batches through a channel: parsing one batch
//! while the store writes the previous one), judges every row with `rapport_core::record`, and
//! accounts for every row: stored, updated, unchanged, or written to the rejects file with its
//! line number, field and reason.

mod error;
mod export;
mod import;
mod mapping;
mod source;

pub use error::IngestError;
pub use export::{ExportFormat, export};
pub use import::{ImportOptions, ImportReport, OrderGrouper, Progress, import};
pub use mapping::{ColumnRef, parse_map_arg};
pub use source::{Delimiter, Format};

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
pub use source::{Delimiter, Format, RawRow, Rows};

/// Opens a file (delimited or JSONL by its name, gzip by its bytes) as raw rows with its
/// header, for commands that read a file without importing it (`rapport recommend evaluate`).
pub fn raw_rows(
    path: &std::path::Path,
    delimiter: Option<Delimiter>,
    has_header: bool,
) -> Result<Box<dyn Rows>, IngestError> {
    let (format, detected) = source::detect(path);
    let input = source::open(path, std::sync::Arc::default())?;
    source::rows(input, format, delimiter.unwrap_or(detected), has_header)
}

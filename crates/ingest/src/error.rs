use rapport_store::StoreError;
use thiserror::Error;

/// Fatal import/export errors: the command stops. Bad rows are not errors (they are rejects).
#[derive(Debug, Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Open { path: String, source: std::io::Error },
    #[error("{0}")]
    Usage(String),
    #[error("reading input: {0}")]
    Read(String),
    #[error("writing {what}: {source}")]
    Write { what: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

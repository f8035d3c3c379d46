use std::fmt;

/// A value that could not become a domain type: which field, and why, in plain words.
///
/// Importers attach the line number; the API attaches the JSON pointer. The reason is written
/// for the person who has to fix the input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }

    pub fn missing(field: &str) -> Self {
        Self::new(field, "is required but empty or missing")
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl std::error::Error for FieldError {}

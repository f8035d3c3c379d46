//! Small parse-don't-validate value types shared by the entities.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Times are UTC instants with microsecond precision (what both SQLite integers and PostgreSQL
/// `timestamptz` hold exactly).
pub type Timestamp = DateTime<Utc>;

/// Parses a timestamp: with `format` (strftime) when given, otherwise RFC 3339, `YYYY-MM-DD
/// HH:MM[:SS[.f]]` (also with `T`) or a bare date. Naive times are taken as UTC.
pub fn parse_timestamp(s: &str, format: Option<&str>) -> Result<Timestamp, String> {
    let t = s.trim();
    let parsed = match format {
        Some(f) => parse_with_format(t, f),
        None => parse_default(t),
    };
    parsed.map(truncate_to_micros).ok_or_else(|| match format {
        Some(f) => format!("'{s}' does not match the date format '{f}'"),
        None => format!(
            "'{s}' is not a date or time (expected e.g. 2024-03-31 or 2024-03-31T14:05:00Z)"
        ),
    })
}

fn parse_with_format(t: &str, f: &str) -> Option<Timestamp> {
    if let Ok(dt) = DateTime::parse_from_str(t, f) {
        return Some(dt.with_timezone(&Utc));
    }
    if let Ok(ndt) = NaiveDateTime::parse_from_str(t, f) {
        return Some(Utc.from_utc_datetime(&ndt));
    }
    NaiveDate::parse_from_str(t, f).ok().map(date_start)
}

fn parse_default(t: &str) -> Option<Timestamp> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(dt.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(ndt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(Utc.from_utc_datetime(&ndt));
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().map(date_start)
}

fn date_start(d: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

fn truncate_to_micros(ts: Timestamp) -> Timestamp {
    Utc.timestamp_micros(ts.timestamp_micros()).single().unwrap_or(ts)
}

/// A timestamp as stored: microseconds since the Unix epoch.
pub fn to_micros(ts: Timestamp) -> i64 {
    ts.timestamp_micros()
}

pub fn from_micros(us: i64) -> Timestamp {
    Utc.timestamp_micros(us).single().expect("stored micros are in range")
}

/// Like [`from_micros`] for untrusted input (a cursor from a client): `None` when out of range.
pub fn try_from_micros(us: i64) -> Option<Timestamp> {
    Utc.timestamp_micros(us).single()
}

/// The UTC day number of an instant: purchases on the same day are one purchase occasion.
pub fn day_of(ts: Timestamp) -> i64 {
    ts.timestamp().div_euclid(86_400)
}

/// An identifier assigned by the system the data came from (CRM id, order number, SKU...).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalId(String);

impl ExternalId {
    pub const MAX_LEN: usize = 200;

    pub fn parse(s: &str) -> Result<ExternalId, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("is empty".into());
        }
        if t.len() > Self::MAX_LEN && t.chars().count() > Self::MAX_LEN {
            return Err(format!("is longer than {} characters", Self::MAX_LEN));
        }
        if t.chars().any(char::is_control) {
            return Err("contains control characters".into());
        }
        Ok(ExternalId(t.to_string()))
    }

    /// A deterministic id derived from the content of a row, for sources that carry no id of their
    /// own: re-importing the same file derives the same ids, so it changes nothing.
    pub fn derived(parts: &[&str]) -> ExternalId {
        let mut buf = Vec::with_capacity(64);
        for p in parts {
            buf.extend_from_slice(p.as_bytes());
            buf.push(0x1f);
        }
        ExternalId(format!("~{:016x}", xxhash_rust::xxh3::xxh3_64(&buf)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ExternalId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        ExternalId::parse(&s)
    }
}

impl From<ExternalId> for String {
    fn from(v: ExternalId) -> String {
        v.0
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Trimmed, non-empty, bounded free text (names, subjects...).
pub fn parse_text(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("is empty".into());
    }
    if t.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    Ok(t.to_string())
}

/// A typed custom attribute value. Types are inferred once at import (`42` is an integer, `true`
/// a boolean, `2024-01-31` a date) so that segments can later compare them as numbers and dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AttrValue {
    Bool(bool),
    Int(i64),
    Number(f64),
    Text(String),
}

pub type Attributes = BTreeMap<String, AttrValue>;

impl AttrValue {
    /// Infers the type of a text cell. Dates stay text in ISO form, which sorts and compares
    /// correctly as text. Leading zeros (`00042`, a zip or id code) keep a value text.
    pub fn infer(s: &str) -> AttrValue {
        let t = s.trim();
        match t.to_ascii_lowercase().as_str() {
            "true" => return AttrValue::Bool(true),
            "false" => return AttrValue::Bool(false),
            _ => {}
        }
        let leading_zero = t.len() > 1 && t.starts_with('0') && !t.starts_with("0.");
        if !leading_zero {
            if let Ok(i) = t.parse::<i64>() {
                return AttrValue::Int(i);
            }
            if t.contains('.')
                && !t.contains(['e', 'E'])
                && let Ok(f) = t.parse::<f64>()
                && f.is_finite()
            {
                return AttrValue::Number(f);
            }
        }
        AttrValue::Text(t.to_string())
    }

    /// The text form written by exports; `infer` of it gives the same value back.
    pub fn to_cell(&self) -> String {
        match self {
            AttrValue::Bool(b) => b.to_string(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Number(f) => {
                let s = f.to_string();
                if s.contains('.') { s } else { format!("{s}.0") }
            }
            AttrValue::Text(s) => s.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_common_shapes() {
        let a = parse_timestamp("2010-12-01 08:26:00", None).unwrap();
        assert_eq!(a.to_rfc3339(), "2010-12-01T08:26:00+00:00");
        let b = parse_timestamp("19970101", Some("%Y%m%d")).unwrap();
        assert_eq!(b.to_rfc3339(), "1997-01-01T00:00:00+00:00");
        let c = parse_timestamp("2024-03-31T10:00:00+02:00", None).unwrap();
        assert_eq!(c.to_rfc3339(), "2024-03-31T08:00:00+00:00");
        assert!(parse_timestamp("31/03/2024", None).unwrap_err().contains("31/03/2024"));
    }

    #[test]
    fn attribute_types_are_inferred_and_round_trip() {
        for (cell, want) in [
            ("42", AttrValue::Int(42)),
            ("true", AttrValue::Bool(true)),
            ("3.5", AttrValue::Number(3.5)),
            ("00042", AttrValue::Text("00042".into())),
            ("gold", AttrValue::Text("gold".into())),
            ("2024-01-31", AttrValue::Text("2024-01-31".into())),
        ] {
            let v = AttrValue::infer(cell);
            assert_eq!(v, want, "{cell}");
            assert_eq!(AttrValue::infer(&v.to_cell()), v);
        }
    }

    #[test]
    fn derived_ids_are_stable() {
        let a = ExternalId::derived(&["c1", "2024-01-01"]);
        assert_eq!(a, ExternalId::derived(&["c1", "2024-01-01"]));
        assert_ne!(a, ExternalId::derived(&["c1", "2024-01-02"]));
        assert_ne!(ExternalId::derived(&["ab", "c"]), ExternalId::derived(&["a", "bc"]));
    }
}

//! Type checking: a literal becomes the [`Value`] its operand needs, or an error that says
//! what the operand is and shows a comparison that works.

use super::ast::{CmpOp, Operand, Value};
use super::error::{FilterError, Span};
use super::schema::{FieldType, category_index};
use chrono::NaiveDate;

/// A literal as written, before checking.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Number(f64),
    /// Days.
    Duration(f64),
    Date(NaiveDate),
    Bool(bool),
}

/// The operand's type for checking: a field's, a count's, or an attribute's (dynamic).
enum Kind {
    Field(&'static str, FieldType, &'static str),
    Count,
    Attr(String),
}

fn kind(operand: &Operand) -> Kind {
    match operand {
        Operand::Field(f) => {
            let d = f.def();
            Kind::Field(d.name, d.ty, d.example)
        }
        Operand::Events { .. } => Kind::Count,
        Operand::Attr(a) => Kind::Attr(a.clone()),
    }
}

/// Refuses ordering operators (and `between`, checked as `<`) on text and categories, and
/// on booleans.
pub fn operator(src: &str, operand: &Operand, op: CmpOp, span: Span) -> Result<(), FilterError> {
    if matches!(op, CmpOp::Eq | CmpOp::Ne) {
        return Ok(());
    }
    let what = match kind(operand) {
        Kind::Field(name, FieldType::Text, _) => format!("`{name}` is text"),
        Kind::Field(name, FieldType::Category(_), _) => format!("`{name}` is a category"),
        _ => return Ok(()),
    };
    let msg = format!("{what}; compare it with =, !=, in or is null");
    Err(FilterError::new(src, span, msg))
}

/// The literal converted to the operand's type.
pub fn value(src: &str, operand: &Operand, lit: Literal, span: Span) -> Result<Value, FilterError> {
    let err = |msg: String| Err(FilterError::new(src, span, msg));
    match (kind(operand), lit) {
        (Kind::Field(_, FieldType::Text, _), Literal::Text(s)) => Ok(Value::Text(s)),
        (Kind::Field(name, FieldType::Text, ex), _) => {
            err(format!("`{name}` is text; compare it with a string, e.g. {ex}"))
        }
        (Kind::Field(name, FieldType::Category(values), _), Literal::Text(s)) => {
            match category_index(values, &s) {
                Some(i) => Ok(Value::Category(i)),
                None => Err(unknown_category(src, span, name, values, &s)),
            }
        }
        (Kind::Field(name, FieldType::Category(_), ex), _) => {
            err(format!("`{name}` is a category; compare it with a string, e.g. {ex}"))
        }
        (Kind::Field(_, FieldType::Number, _) | Kind::Count, Literal::Number(n)) => {
            Ok(Value::Number(n))
        }
        (Kind::Field(name, FieldType::Number, ex), _) => {
            err(format!("`{name}` is a number; compare it with a number, e.g. {ex}"))
        }
        (Kind::Count, _) => err(
            "an event count is a number; compare it with a number, e.g. events(\"login\", within=30d) > 5"
                .into(),
        ),
        (Kind::Field(_, FieldType::Days, _), Literal::Number(n) | Literal::Duration(n)) => {
            Ok(Value::Number(n))
        }
        (Kind::Field(name, FieldType::Days, ex), _) => err(format!(
            "`{name}` is a number of days; compare it with a number or a duration, e.g. {ex} or {}",
            ex.replace(|c: char| c.is_ascii_digit(), "").trim_end().to_string() + " 12w"
        )),
        (Kind::Field(_, FieldType::Date, _), Literal::Date(d)) => Ok(Value::Time(midnight(d))),
        (Kind::Field(name, FieldType::Date, ex), _) => {
            err(format!("`{name}` is a date; compare it with a date, e.g. {ex}"))
        }
        (Kind::Attr(_), Literal::Text(s)) => Ok(Value::Text(s)),
        (Kind::Attr(_), Literal::Number(n)) => Ok(Value::Number(n)),
        (Kind::Attr(_), Literal::Bool(b)) => Ok(Value::Bool(b)),
        (Kind::Attr(_), Literal::Date(d)) => Ok(Value::Text(d.format("%Y-%m-%d").to_string())),
        (Kind::Attr(a), Literal::Duration(_)) => err(format!(
            "attributes hold text, numbers and booleans, not durations; e.g. attr.{a} >= 3"
        )),
    }
}

fn unknown_category(src: &str, span: Span, name: &str, values: &[&str], s: &str) -> FilterError {
    let mut e = FilterError::unknown(src, span, name, s, values.iter().copied());
    if e.suggestion.is_none() {
        e.message.push_str(&format!("; the values are {}", values.join(", ")));
    }
    e
}

fn midnight(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().timestamp_micros()
}

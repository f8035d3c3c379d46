//! The segment filter language: text such as
//!
//! ```text
//! country in ("DE", "AT") and clv_predicted > 500 and last_purchase_days < 90
//!     and not consent("marketing")
//! ```
//!
//! parsed and type-checked into a [`Filter`] by [`parse`]. Evaluation over customer data lives
//! in `rapport_analytics::segment`; this module is pure syntax and types. `docs/filter-language.md`
//! is the user's guide.
//!
//! # Grammar (EBNF)
//!
//! Keywords (`and or not in between is null true false`), field names and function names are
//! case-insensitive; attribute names and strings are not.
//!
//! ```text
//! filter      = or_expr EOF ;
//! or_expr     = and_expr { "or" and_expr } ;
//! and_expr    = not_expr { "and" not_expr } ;
//! not_expr    = "not" not_expr | "(" or_expr ")" | predicate ;
//! predicate   = consent | did | operand comparison ;
//! consent     = "consent" "(" string ")" ;
//! did         = "did" event_args ;
//! operand     = field | "attr" "." name | "events" event_args ;
//! event_args  = "(" string [ "," "within" "=" duration ] ")" ;
//! comparison  = cmp_op literal
//!             | [ "not" ] "in" "(" literal { "," literal } ")"
//!             | [ "not" ] "between" literal "and" literal
//!             | "is" [ "not" ] "null" ;
//! cmp_op      = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;
//! literal     = string | number | duration | date | "true" | "false" ;
//! string      = '"' { char | escape } '"' | "'" { char | escape } "'" ;
//! escape      = "\" ( '"' | "'" | "\" | "n" | "t" | "r" | "u{" hex { hex } "}" ) ;
//! number      = [ "-" ] digit { digit } [ "." digit { digit } ] ;
//! duration    = number ( "h" | "d" | "w" | "m" | "y" ) ;   (* m = 30 days, y = 365 days *)
//! date        = digit digit digit digit "-" digit digit "-" digit digit ;
//! field       = one of the names in FIELDS ;
//! name        = letter_or_underscore { letter_or_digit_or_underscore } ;
//! ```
//!
//! Parentheses and `not` nest at most [`MAX_DEPTH`] deep. `and` binds tighter than `or`.
//!
//! # Types
//!
//! Each field has a [`FieldType`]: text and categories take strings with `=`, `!=`, `in`;
//! numbers take numbers; `_days` fields take numbers or durations (converted to days); `_at`
//! fields take dates. Attributes (`attr.tier`) take a string, number, boolean or date (compared
//! as ISO text); a customer whose attribute holds another type than the literal's is null for
//! that comparison.
//!
//! # Nulls
//!
//! Three-valued logic, as in SQL: a comparison with a missing value is *unknown*; `not unknown`
//! is unknown; `false and unknown` is false; `true or unknown` is true. A customer is in the
//! segment when the filter is *true*. So `not (age > 30)` leaves out customers without an age;
//! write `age <= 30 or age is null` to include them.

mod ast;
mod check;
mod error;
mod lexer;
mod parser;
mod schema;
#[cfg(test)]
mod tests;

pub use ast::{CmpOp, Expr, Filter, Operand, Value, Window};
pub use error::{FilterError, Span, closest, edit_distance};
pub use lexer::UNITS;
pub use parser::MAX_DEPTH;
pub use schema::{
    FIELDS, FUNCTIONS, Field, FieldDef, FieldType, GENDERS, NPS_CATEGORIES, RFM_SEGMENTS,
    category_index,
};

/// Parses and type-checks a filter.
pub fn parse(src: &str) -> Result<Filter, FilterError> {
    let tokens = lexer::lex(src)?;
    let root = parser::Parser::new(src, tokens).filter()?;
    Ok(Filter { source: src.to_string(), root })
}

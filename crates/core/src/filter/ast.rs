//! The checked syntax tree: every name resolved, every literal of the type its operand needs.

use super::error::Span;
use super::schema::Field;
use crate::Purpose;

/// A parsed and type-checked filter, with the text it came from (for error messages about it
/// later, e.g. when it is compiled against data).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub(crate) source: String,
    pub root: Expr,
}

impl Filter {
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// A boolean expression. `a not in (...)`, `a not between ...` and `a is not null` are
/// `Not` of the positive form, which means the same under three-valued logic.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Two or more terms; n-ary so that long chains do not make deep trees.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        operand: Operand,
        op: CmpOp,
        value: Value,
        span: Span,
    },
    In {
        operand: Operand,
        values: Vec<Value>,
        span: Span,
    },
    /// Inclusive at both ends.
    Between {
        operand: Operand,
        low: Value,
        high: Value,
        span: Span,
    },
    IsNull {
        operand: Operand,
        span: Span,
    },
    /// The latest consent record for the purpose is a grant.
    Consent {
        purpose: Purpose,
        span: Span,
    },
    /// At least one event of that name in the window (ever, without one).
    Did {
        event: String,
        within: Option<Window>,
        span: Span,
    },
}

/// What a comparison reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Field(Field),
    /// A custom attribute; its type is the stored value's, compared only with literals of
    /// that type (anything else is null).
    Attr(String),
    /// The number of events of that name in the window (ever, without one).
    Events {
        event: String,
        within: Option<Window>,
    },
}

/// A time window ending at the evaluation time: `within=30d` is the 30 days before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Length in days (`24h` is 1.0).
    pub days: f64,
}

impl Window {
    /// The length in microseconds, saturating.
    pub fn micros(self) -> i64 {
        let us = self.days * 86_400_000_000.0;
        if us >= i64::MAX as f64 { i64::MAX } else { us.max(0.0) as i64 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Whether `ordering` (left against right) satisfies the operator.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            CmpOp::Eq => ordering == Equal,
            CmpOp::Ne => ordering != Equal,
            CmpOp::Lt => ordering == Less,
            CmpOp::Le => ordering != Greater,
            CmpOp::Gt => ordering == Greater,
            CmpOp::Ge => ordering != Less,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A literal, already converted to its operand's type: days fields get days (a duration is
/// converted), date fields microseconds since the epoch (a date is midnight UTC), categories
/// the index of the value in the field's list, and attributes compared with a date its ISO text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Number(f64),
    Text(String),
    Bool(bool),
    Time(i64),
    Category(u8),
}

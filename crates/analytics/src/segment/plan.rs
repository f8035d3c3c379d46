//! Compiling a filter into a plan of column scans, and running it: every node produces two
//! bitsets over all customers (true, known), combined word by word under three-valued logic.

use super::bitset::Bitset;
use super::eval::Ctx;
use super::frame::{AttrTypes, Col, CustomerFrame, FrameSchema, col};
use chrono::Datelike;
use rapport_core::filter::{CmpOp, Expr, Filter, FilterError, Operand, Span, Value};
use rapport_core::{Purpose, Timestamp};

/// A filter's result under three-valued logic: `truth` ⊆ `known`; positions in `known` but
/// not in `truth` are false, the others unknown (a comparison with a missing value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Truth {
    pub truth: Bitset,
    pub known: Bitset,
}

/// A test of one value against the literals of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test<T> {
    Cmp(CmpOp, T),
    In(Vec<T>),
    Between(T, T),
}

impl<T: PartialOrd> Test<T> {
    pub fn holds(&self, v: &T) -> bool {
        match self {
            Test::Cmp(op, x) => v.partial_cmp(x).is_some_and(|o| op.holds(o)),
            Test::In(xs) => xs.iter().any(|x| v == x),
            Test::Between(lo, hi) => v >= lo && v <= hi,
        }
    }
}

impl<T> Test<T> {
    fn map<U>(self, f: impl Fn(T) -> U) -> Test<U> {
        match self {
            Test::Cmp(op, x) => Test::Cmp(op, f(x)),
            Test::In(xs) => Test::In(xs.into_iter().map(f).collect()),
            Test::Between(a, b) => Test::Between(f(a), f(b)),
        }
    }

    fn literals(&self) -> Vec<&T> {
        match self {
            Test::Cmp(_, x) => vec![x],
            Test::In(xs) => xs.iter().collect(),
            Test::Between(a, b) => vec![a, b],
        }
    }
}

/// An attribute value or literal; values of different kinds do not compare.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Num(f64),
    Text(String),
    Bool(bool),
}

impl PartialOrd for Scalar {
    fn partial_cmp(&self, other: &Scalar) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Scalar::Num(a), Scalar::Num(b)) => a.partial_cmp(b),
            (Scalar::Text(a), Scalar::Text(b)) => a.partial_cmp(b),
            (Scalar::Bool(a), Scalar::Bool(b)) => a.partial_cmp(b),
            _ => None,
        }
    }
}

/// A stored attribute value, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum AttrRef<'a> {
    Num(f64),
    Text(&'a str),
    Bool(bool),
}

/// Compares an attribute value with a test: unknown when no literal has the value's type
/// (the same rules as [`super::eval_row`]). Borrows, since it runs once per stored value.
pub(crate) fn attr_test(test: &Test<Scalar>, v: AttrRef) -> Option<bool> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let ord = |lit: &Scalar| match (v, lit) {
        (AttrRef::Num(f), Scalar::Num(x)) => f.partial_cmp(x),
        (AttrRef::Text(t), Scalar::Text(x)) => Some(t.cmp(x.as_str())),
        (AttrRef::Bool(b), Scalar::Bool(x)) => Some(b.cmp(x)),
        _ => None,
    };
    match test {
        Test::Cmp(op, x) => ord(x).map(|o| op.holds(o)),
        Test::In(xs) => {
            let mut known = false;
            for x in xs {
                match ord(x) {
                    Some(Equal) => return Some(true),
                    Some(_) => known = true,
                    None => {}
                }
            }
            known.then_some(false)
        }
        Test::Between(a, b) => {
            let (lo, hi) = (ord(a), ord(b));
            if lo.is_none() && hi.is_none() {
                return None;
            }
            Some(lo.is_some_and(|o| o != Less) && hi.is_some_and(|o| o != Greater))
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    /// A number column or one derived at evaluation (days, age).
    Num(Col, Test<f64>),
    Time(usize, Test<i64>),
    /// True when the code is (or, negated, is not) one of the texts.
    Text {
        col: usize,
        values: Vec<String>,
        negate: bool,
    },
    /// Bit `i` of `mask`: category `i` is accepted.
    Category {
        col: usize,
        mask: u64,
    },
    IsNull(Operand),
    Attr(String, Test<Scalar>),
    Consent(usize),
    /// Count of the named events in the window (microseconds; all time without one).
    Events {
        name: String,
        window: Option<i64>,
        test: Test<f64>,
    },
}

/// A compiled filter: run it with [`Plan::eval`] on any frame, at any evaluation time.
#[derive(Debug, Clone)]
pub struct Plan {
    root: Node,
    warnings: Vec<FilterError>,
}

/// Compiles a filter. Names the data does not have (attributes, events) are not errors, since
/// a segment outlives the data it was written against: they evaluate as null (an attribute) or
/// zero (events), and [`Plan::warnings`] says so, with the nearest name the data has.
pub fn compile(filter: &Filter, schema: &FrameSchema) -> Plan {
    let mut c = Compiler { filter, schema, warnings: Vec::new() };
    let root = c.node(&filter.root);
    Plan { root, warnings: c.warnings }
}

struct Compiler<'a> {
    filter: &'a Filter,
    schema: &'a FrameSchema,
    warnings: Vec<FilterError>,
}

impl Compiler<'_> {
    fn node(&mut self, e: &Expr) -> Node {
        match e {
            Expr::And(terms) => Node::And(terms.iter().map(|t| self.node(t)).collect()),
            Expr::Or(terms) => Node::Or(terms.iter().map(|t| self.node(t)).collect()),
            Expr::Not(e) => Node::Not(Box::new(self.node(e))),
            Expr::Compare { operand, op, value, span } => {
                self.leaf(operand, Test::Cmp(*op, value.clone()), *span)
            }
            Expr::In { operand, values, span } => {
                self.leaf(operand, Test::In(values.clone()), *span)
            }
            Expr::Between { operand, low, high, span } => {
                self.leaf(operand, Test::Between(low.clone(), high.clone()), *span)
            }
            Expr::IsNull { operand, span } => {
                self.check_names(operand, *span);
                Node::IsNull(operand.clone())
            }
            Expr::Consent { purpose, .. } => Node::Consent(purpose_index(*purpose)),
            Expr::Did { event, within, span } => {
                self.check_event(event, *span);
                let window = within.map(|w| w.micros());
                Node::Events { name: event.clone(), window, test: Test::Cmp(CmpOp::Ge, 1.0) }
            }
        }
    }

    fn leaf(&mut self, operand: &Operand, test: Test<Value>, span: Span) -> Node {
        self.check_names(operand, span);
        match operand {
            Operand::Field(f) => match col(*f) {
                Col::Text(c) => text_node(c, test),
                Col::Time(c) => Node::Time(c, test.map(|v| as_time(&v))),
                Col::Category(c) => category_node(c, test),
                num => Node::Num(num, test.map(|v| as_number(&v))),
            },
            Operand::Attr(name) => {
                let test = test.map(|v| match v {
                    Value::Number(n) => Scalar::Num(n),
                    Value::Bool(b) => Scalar::Bool(b),
                    Value::Text(s) => Scalar::Text(s),
                    Value::Time(_) | Value::Category(_) => unreachable!("checked by the parser"),
                });
                self.check_attr_type(name, &test, span);
                Node::Attr(name.clone(), test)
            }
            Operand::Events { event, within } => Node::Events {
                name: event.clone(),
                window: within.map(|w| w.micros()),
                test: test.map(|v| as_number(&v)),
            },
        }
    }

    fn check_names(&mut self, operand: &Operand, span: Span) {
        match operand {
            Operand::Attr(name) if !self.schema.attrs.contains_key(name) => {
                let known = self.schema.attrs.keys().map(String::as_str);
                let mut w =
                    FilterError::unknown(self.filter.source(), span, "attribute", name, known);
                w.message = w.message.replace("`; did", "` (no customer has it); did");
                self.warnings.push(w);
            }
            Operand::Events { event, .. } => self.check_event(event, span),
            _ => {}
        }
    }

    fn check_event(&mut self, event: &str, span: Span) {
        if !self.schema.events.contains(event) {
            let known = self.schema.events.iter().map(String::as_str);
            let w = FilterError::unknown(self.filter.source(), span, "event", event, known);
            self.warnings.push(w);
        }
    }

    fn check_attr_type(&mut self, name: &str, test: &Test<Scalar>, span: Span) {
        let Some(types) = self.schema.attrs.get(name) else { return };
        let has = |s: &Scalar| match s {
            Scalar::Num(_) => types.number,
            Scalar::Text(_) => types.text,
            Scalar::Bool(_) => types.boolean,
        };
        if !test.literals().into_iter().any(has) {
            let msg =
                format!("`attr.{name}` holds {}, never the type compared here", describe(*types));
            self.warnings.push(FilterError::new(self.filter.source(), span, msg));
        }
    }
}

fn describe(t: AttrTypes) -> String {
    let kinds: Vec<&str> = [(t.text, "text"), (t.number, "numbers"), (t.boolean, "booleans")]
        .into_iter()
        .filter_map(|(on, k)| on.then_some(k))
        .collect();
    kinds.join(" and ")
}

fn purpose_index(p: Purpose) -> usize {
    Purpose::ALL.iter().position(|x| *x == p).expect("a purpose")
}

fn as_number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => *n,
        _ => unreachable!("the parser gives number operands numbers"),
    }
}

fn as_time(v: &Value) -> i64 {
    match v {
        Value::Time(t) => *t,
        _ => unreachable!("the parser gives date operands times"),
    }
}

fn text_node(col: usize, test: Test<Value>) -> Node {
    let text = |v: Value| match v {
        Value::Text(s) => s,
        _ => unreachable!("the parser gives text operands text"),
    };
    match test {
        Test::Cmp(op, v) => Node::Text { col, values: vec![text(v)], negate: op == CmpOp::Ne },
        Test::In(vs) => {
            Node::Text { col, values: vs.into_iter().map(text).collect(), negate: false }
        }
        Test::Between(..) => unreachable!("the parser refuses between on text"),
    }
}

fn category_node(col: usize, test: Test<Value>) -> Node {
    let bit = |v: &Value| match v {
        Value::Category(i) => 1u64 << (*i).min(63),
        _ => unreachable!("the parser gives categories categories"),
    };
    let mask = match &test {
        Test::Cmp(CmpOp::Ne, v) => !bit(v),
        Test::Cmp(_, v) => bit(v),
        Test::In(vs) => vs.iter().map(bit).fold(0, |a, b| a | b),
        Test::Between(..) => unreachable!("the parser refuses between on categories"),
    };
    Node::Category { col, mask }
}

impl Plan {
    /// The customers for whom the filter is true, at evaluation time `now`.
    pub fn eval(&self, frame: &CustomerFrame, now: Timestamp) -> Bitset {
        self.eval3(frame, now).truth
    }

    /// The filter's value for every customer under three-valued logic.
    pub fn eval3(&self, frame: &CustomerFrame, now: Timestamp) -> Truth {
        let ctx = Ctx { frame, now: now.timestamp_micros(), year: f64::from(now.year()) };
        ctx.node(&self.root)
    }

    /// Names the data does not have, and attribute comparisons with a type no customer's
    /// value has: such filters are valid but probably not what was meant.
    pub fn warnings(&self) -> &[FilterError] {
        &self.warnings
    }
}

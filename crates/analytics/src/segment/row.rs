//! The reference evaluator: one customer at a time, straight from the syntax tree. It defines
//! what a filter means; the property tests check the vectorised plan against it.

use super::eval::{count_in_window, days_between};
use super::frame::{AttrCell, Col, CustomerFrame, NO_CATEGORY, col};
use chrono::Datelike;
use rapport_core::filter::{Expr, Operand, Value};
use rapport_core::{Purpose, Timestamp};
use std::cmp::Ordering;

/// One customer of a frame, at an evaluation time.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    pub frame: &'a CustomerFrame,
    pub row: usize,
    pub now: Timestamp,
}

/// The filter's value for one customer: `None` is unknown (three-valued logic).
pub fn eval_row(expr: &Expr, r: &RowView) -> Option<bool> {
    match expr {
        Expr::And(terms) => {
            let vals: Vec<Option<bool>> = terms.iter().map(|t| eval_row(t, r)).collect();
            if vals.contains(&Some(false)) {
                Some(false)
            } else if vals.contains(&None) {
                None
            } else {
                Some(true)
            }
        }
        Expr::Or(terms) => {
            let vals: Vec<Option<bool>> = terms.iter().map(|t| eval_row(t, r)).collect();
            if vals.contains(&Some(true)) {
                Some(true)
            } else if vals.contains(&None) {
                None
            } else {
                Some(false)
            }
        }
        Expr::Not(e) => eval_row(e, r).map(|v| !v),
        Expr::Compare { operand, op, value, .. } => {
            let ord = compare(&cell(operand, r)?, value)?;
            Some(op.holds(ord))
        }
        Expr::In { operand, values, .. } => {
            let c = cell(operand, r)?;
            let ords: Vec<Option<Ordering>> = values.iter().map(|v| compare(&c, v)).collect();
            if ords.iter().all(Option::is_none) {
                return None;
            }
            Some(ords.contains(&Some(Ordering::Equal)))
        }
        Expr::Between { operand, low, high, .. } => {
            let c = cell(operand, r)?;
            let (lo, hi) = (compare(&c, low), compare(&c, high));
            if lo.is_none() && hi.is_none() {
                return None;
            }
            Some(
                lo.is_some_and(|o| o != Ordering::Less)
                    && hi.is_some_and(|o| o != Ordering::Greater),
            )
        }
        Expr::IsNull { operand, .. } => Some(cell(operand, r).is_none()),
        Expr::Consent { purpose, .. } => {
            let p = Purpose::ALL.iter().position(|x| x == purpose)?;
            Some(r.frame.consents[p].get(r.row))
        }
        Expr::Did { event, within, .. } => {
            let n = event_count(r, event, within.map(|w| w.micros()));
            Some(n >= 1.0)
        }
    }
}

/// A customer's value for an operand; `None` when missing.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Num(f64),
    Text(String),
    Time(i64),
    Category(u8),
    Bool(bool),
}

fn cell(operand: &Operand, r: &RowView) -> Option<Cell> {
    let f = r.frame;
    let now = r.now.timestamp_micros();
    match operand {
        Operand::Field(field) => match col(*field) {
            Col::Text(c) => f.text[c].get(r.row).map(|s| Cell::Text(s.to_string())),
            Col::Number(c) => f.numbers[c][r.row].map(Cell::Num),
            Col::Time(c) => f.times[c][r.row].map(Cell::Time),
            Col::DaysSince(c) => f.times[c][r.row].map(|t| Cell::Num(days_between(t, now))),
            Col::Age(c) => f.numbers[c][r.row].map(|y| Cell::Num(f64::from(r.now.year()) - y)),
            Col::Category(c) => {
                let v = f.categories[c][r.row];
                (v != NO_CATEGORY).then_some(Cell::Category(v))
            }
        },
        Operand::Attr(name) => {
            let a = f.attrs.get(name)?;
            let k = a.rows.binary_search(&(r.row as u32)).ok()?;
            Some(match a.cells[k] {
                AttrCell::Bool(b) => Cell::Bool(b),
                AttrCell::Num(x) => Cell::Num(x),
                AttrCell::Text(code) => Cell::Text(a.text.dict[code as usize].clone()),
            })
        }
        Operand::Events { event, within } => {
            Some(Cell::Num(event_count(r, event, within.map(|w| w.micros()))))
        }
    }
}

fn event_count(r: &RowView, event: &str, window: Option<i64>) -> f64 {
    let Some(e) = r.frame.events.get(event) else { return 0.0 };
    match e.rows.binary_search(&(r.row as u32)) {
        Ok(k) => count_in_window(
            &e.times[e.offsets[k]..e.offsets[k + 1]],
            r.now.timestamp_micros(),
            window,
        ),
        Err(_) => 0.0,
    }
}

/// The cell against a literal; `None` when they are of different types (unknown).
fn compare(c: &Cell, v: &Value) -> Option<Ordering> {
    match (c, v) {
        (Cell::Num(a), Value::Number(b)) => a.partial_cmp(b),
        (Cell::Text(a), Value::Text(b)) => Some(a.as_str().cmp(b.as_str())),
        (Cell::Time(a), Value::Time(b)) => Some(a.cmp(b)),
        (Cell::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        // Categories only compare for (in)equality; the parser refuses orderings.
        (Cell::Category(a), Value::Category(b)) => {
            Some(if a == b { Ordering::Equal } else { Ordering::Less })
        }
        _ => None,
    }
}

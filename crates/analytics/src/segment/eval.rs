//! Running a plan: every node scans its column(s) into two bitsets over all customers.

use super::bitset::Bitset;
use super::frame::{AttrCell, Col, CustomerFrame, NO_CATEGORY, NULL};
use super::plan::{AttrRef, Node, Scalar, Test, Truth, attr_test};
use rapport_core::filter::Operand;

/// Microseconds in a day.
pub(crate) const DAY_US: i64 = 86_400_000_000;

pub(super) struct Ctx<'a> {
    pub frame: &'a CustomerFrame,
    /// The evaluation time in microseconds.
    pub now: i64,
    /// Its year, for ages.
    pub year: f64,
}

impl Ctx<'_> {
    fn n(&self) -> usize {
        self.frame.len()
    }

    pub fn node(&self, node: &Node) -> Truth {
        match node {
            Node::And(terms) => self.and(terms),
            Node::Or(terms) => self.or(terms),
            Node::Not(e) => {
                let Truth { truth, known } = self.node(e);
                let mut t = known.clone();
                t.and_not_with(&truth);
                Truth { truth: t, known }
            }
            Node::Num(c, test) => self.number(*c, test),
            Node::Time(c, test) => {
                let col = &self.frame.times[*c];
                scan(self.n(), |i| col[i].map(|v| test.holds(&v)))
            }
            Node::Text { col, values, negate } => self.text(*col, values, *negate),
            Node::Category { col, mask } => {
                let col = &self.frame.categories[*col];
                scan(self.n(), |i| {
                    let c = col[i];
                    (c != NO_CATEGORY).then(|| mask >> c.min(63) & 1 == 1)
                })
            }
            Node::IsNull(operand) => self.is_null(operand),
            Node::Attr(name, test) => self.attr(name, test),
            Node::Consent(p) => self.always_known(self.frame.consents[*p].clone()),
            Node::Events { name, window, test } => self.events(name, *window, test),
        }
    }

    fn and(&self, terms: &[Node]) -> Truth {
        let n = self.n();
        let (mut truth, mut all_known, mut any_false) =
            (Bitset::full(n), Bitset::full(n), Bitset::empty(n));
        for term in terms {
            let t = self.node(term);
            truth.and_with(&t.truth);
            all_known.and_with(&t.known);
            let mut f = t.known;
            f.and_not_with(&t.truth);
            any_false.or_with(&f);
        }
        // One false term makes the conjunction false whatever the unknown ones are.
        all_known.or_with(&any_false);
        Truth { truth, known: all_known }
    }

    fn or(&self, terms: &[Node]) -> Truth {
        let n = self.n();
        let (mut truth, mut all_known) = (Bitset::empty(n), Bitset::full(n));
        for term in terms {
            let t = self.node(term);
            truth.or_with(&t.truth);
            all_known.and_with(&t.known);
        }
        // One true term makes the disjunction true whatever the unknown ones are.
        all_known.or_with(&truth);
        Truth { truth, known: all_known }
    }

    fn always_known(&self, truth: Bitset) -> Truth {
        Truth { truth, known: Bitset::full(self.n()) }
    }

    fn number(&self, c: Col, test: &Test<f64>) -> Truth {
        let n = self.n();
        match c {
            Col::Number(c) => {
                let col = &self.frame.numbers[c];
                match *test {
                    // The common shapes get a loop of their own, without the test's match.
                    Test::Cmp(op, x) => {
                        use rapport_core::filter::CmpOp::*;
                        match op {
                            Lt => scan(n, |i| col[i].map(|v| v < x)),
                            Le => scan(n, |i| col[i].map(|v| v <= x)),
                            Gt => scan(n, |i| col[i].map(|v| v > x)),
                            Ge => scan(n, |i| col[i].map(|v| v >= x)),
                            Eq => scan(n, |i| col[i].map(|v| v == x)),
                            Ne => scan(n, |i| col[i].map(|v| v != x)),
                        }
                    }
                    _ => scan(n, |i| col[i].map(|v| test.holds(&v))),
                }
            }
            Col::DaysSince(c) => {
                let col = &self.frame.times[c];
                let now = self.now;
                scan(n, |i| col[i].map(|t| test.holds(&days_between(t, now))))
            }
            Col::Age(c) => {
                let col = &self.frame.numbers[c];
                scan(n, |i| col[i].map(|y| test.holds(&(self.year - y))))
            }
            _ => unreachable!("compiled as a number"),
        }
    }

    fn text(&self, c: usize, values: &[String], negate: bool) -> Truth {
        let col = &self.frame.text[c];
        let mut codes: Vec<u32> = values.iter().filter_map(|v| col.index.get(v).copied()).collect();
        codes.sort_unstable();
        let codes = &codes;
        match codes.as_slice() {
            [one] => {
                let one = *one;
                scan(self.n(), |i| {
                    let c = col.codes[i];
                    (c != NULL).then_some((c == one) != negate)
                })
            }
            _ => scan(self.n(), |i| {
                let c = col.codes[i];
                (c != NULL).then(|| codes.binary_search(&c).is_ok() != negate)
            }),
        }
    }

    fn is_null(&self, operand: &Operand) -> Truth {
        let n = self.n();
        let nulls = match operand {
            Operand::Field(f) => match super::frame::col(*f) {
                Col::Text(c) => bits(n, |i| self.frame.text[c].codes[i] == NULL),
                Col::Number(c) | Col::Age(c) => bits(n, |i| self.frame.numbers[c][i].is_none()),
                Col::Time(c) | Col::DaysSince(c) => bits(n, |i| self.frame.times[c][i].is_none()),
                Col::Category(c) => bits(n, |i| self.frame.categories[c][i] == NO_CATEGORY),
            },
            Operand::Attr(name) => {
                let mut b = Bitset::full(n);
                if let Some(a) = self.frame.attrs.get(name) {
                    for &r in &a.rows {
                        b.set(r as usize, false);
                    }
                }
                b
            }
            Operand::Events { .. } => Bitset::empty(n),
        };
        self.always_known(nulls)
    }

    fn attr(&self, name: &str, test: &Test<Scalar>) -> Truth {
        let n = self.n();
        let (mut truth, mut known) = (Bitset::empty(n), Bitset::empty(n));
        let Some(a) = self.frame.attrs.get(name) else { return Truth { truth, known } };
        // Each distinct text is tested once.
        let texts: Vec<Option<bool>> =
            a.text.dict.iter().map(|s| attr_test(test, AttrRef::Text(s))).collect();
        for (&r, c) in a.rows.iter().zip(&a.cells) {
            let result = match *c {
                AttrCell::Text(code) => texts[code as usize],
                AttrCell::Num(x) => attr_test(test, AttrRef::Num(x)),
                AttrCell::Bool(b) => attr_test(test, AttrRef::Bool(b)),
            };
            if let Some(t) = result {
                known.set(r as usize, true);
                truth.set(r as usize, t);
            }
        }
        Truth { truth, known }
    }

    fn events(&self, name: &str, window: Option<i64>, test: &Test<f64>) -> Truth {
        let n = self.n();
        // Customers without any such event count 0.
        let mut truth = if test.holds(&0.0) { Bitset::full(n) } else { Bitset::empty(n) };
        if let Some(e) = self.frame.events.get(name) {
            for (k, &r) in e.rows.iter().enumerate() {
                let times = &e.times[e.offsets[k]..e.offsets[k + 1]];
                truth.set(r as usize, test.holds(&count_in_window(times, self.now, window)));
            }
        }
        self.always_known(truth)
    }
}

/// Whole days from `t` to `now` (microseconds), rounded down.
pub(crate) fn days_between(t: i64, now: i64) -> f64 {
    now.saturating_sub(t).div_euclid(DAY_US) as f64
}

/// Events at or before `now` and, with a window, at or after `now - window`.
pub(crate) fn count_in_window(sorted: &[i64], now: i64, window: Option<i64>) -> f64 {
    let end = sorted.partition_point(|&t| t <= now);
    let start = window.map_or(0, |w| sorted.partition_point(|&t| t < now.saturating_sub(w)));
    end.saturating_sub(start) as f64
}

/// (true, known) bitsets from a per-customer `Option<bool>`, 64 customers to a word.
fn scan(n: usize, f: impl Fn(usize) -> Option<bool>) -> Truth {
    let words = n.div_ceil(64);
    let (mut truth, mut known) = (Vec::with_capacity(words), Vec::with_capacity(words));
    for w in 0..words {
        let (mut t, mut k) = (0u64, 0u64);
        for i in w * 64..((w + 1) * 64).min(n) {
            if let Some(v) = f(i) {
                k |= 1 << (i % 64);
                t |= u64::from(v) << (i % 64);
            }
        }
        truth.push(t);
        known.push(k);
    }
    Truth { truth: Bitset::from_words(truth, n), known: Bitset::from_words(known, n) }
}

fn bits(n: usize, f: impl Fn(usize) -> bool) -> Bitset {
    scan(n, |i| Some(f(i))).truth
}

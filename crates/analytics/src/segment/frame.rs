//! The columnar customer frame the filters run on: one column per stored field, attributes and
//! events as sparse per-name columns, consents as one bitset per purpose.

use super::bitset::Bitset;
use crate::rfm::Segment;
use rapport_core::filter::{Field, GENDERS};
use rapport_core::{AttrValue, Attributes, CustomerSummary, Gender, Purpose, Timestamp};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// One customer as the caller knows them: profile, summary and computed metrics. Everything
/// derivable without the evaluation time (average order value, historical value, RFM score and
/// segment, NPS category) is derived by [`CustomerFrame::push`].
#[derive(Debug, Clone, Default)]
pub struct CustomerRow {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub company: Option<String>,
    pub gender: Option<Gender>,
    pub birth_year: Option<i16>,
    pub signup_at: Option<Timestamp>,
    pub summary: CustomerSummary,
    /// Mean sentiment of the customer's feedback, −1..1.
    pub feedback_sentiment: Option<f64>,
    /// R, F and M scores, 1–5 each.
    pub rfm: Option<[u8; 3]>,
    pub clv_predicted: Option<f64>,
    pub p_alive: Option<f64>,
    pub health: Option<f64>,
    /// The latest NPS rating, 0–10.
    pub nps_score: Option<i16>,
    pub attributes: Attributes,
    /// The purposes whose latest consent record is a grant.
    pub consents: Vec<Purpose>,
    /// Product events by name and time, in any order.
    pub events: Vec<(String, Timestamp)>,
}

/// Where a field's values are: a stored column, or derived from one at evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    Text(usize),
    Number(usize),
    Time(usize),
    /// Whole days from the instant in time column `.0` to the evaluation time.
    DaysSince(usize),
    /// Evaluation year minus the birth year (number column `.0`).
    Age(usize),
    Category(usize),
}

const TEXT: [Field; 6] =
    [Field::Id, Field::Name, Field::Email, Field::Country, Field::City, Field::Company];
const NUMBER: [Field; 17] = [
    Field::BirthYear,
    Field::Orders,
    Field::PurchaseOrders,
    Field::Purchases,
    Field::Revenue,
    Field::AvgOrderValue,
    Field::Returns,
    Field::Events,
    Field::FeedbackCount,
    Field::FeedbackSentiment,
    Field::Interactions,
    Field::RfmR,
    Field::RfmF,
    Field::RfmM,
    Field::RfmScore,
    Field::ClvPredicted,
    Field::ClvHistorical,
];
const NUMBER2: [Field; 3] = [Field::PAlive, Field::Health, Field::NpsScore];
/// Each date field and the days field counted from it.
const TIME: [(Field, Field); 6] = [
    (Field::SignupAt, Field::SignupDays),
    (Field::FirstPurchaseAt, Field::FirstPurchaseDays),
    (Field::LastPurchaseAt, Field::LastPurchaseDays),
    (Field::LastEventAt, Field::LastEventDays),
    (Field::LastFeedbackAt, Field::LastFeedbackDays),
    (Field::LastInteractionAt, Field::LastInteractionDays),
];
const CATEGORY: [Field; 3] = [Field::Gender, Field::RfmSegment, Field::NpsCategory];

pub(crate) fn col(field: Field) -> Col {
    let pos = |list: &[Field]| list.iter().position(|f| *f == field);
    if let Some(i) = pos(&TEXT) {
        return Col::Text(i);
    }
    if let Some(i) = pos(&NUMBER) {
        return Col::Number(i);
    }
    if let Some(i) = pos(&NUMBER2) {
        return Col::Number(NUMBER.len() + i);
    }
    if let Some(i) = TIME.iter().position(|t| t.0 == field) {
        return Col::Time(i);
    }
    if let Some(i) = TIME.iter().position(|t| t.1 == field) {
        return Col::DaysSince(i);
    }
    if let Some(i) = pos(&CATEGORY) {
        return Col::Category(i);
    }
    assert_eq!(field, Field::Age, "every field has a column");
    Col::Age(0)
}

/// Text, dictionary-encoded: equal texts share a code, so `=` compares integers.
#[derive(Debug, Clone, Default)]
pub(crate) struct TextColumn {
    pub dict: Vec<String>,
    pub index: FxHashMap<String, u32>,
    /// [`NULL`] where missing.
    pub codes: Vec<u32>,
}

pub(crate) const NULL: u32 = u32::MAX;
/// A missing category.
pub(crate) const NO_CATEGORY: u8 = u8::MAX;

impl TextColumn {
    fn push(&mut self, v: Option<&str>) {
        let code = v.map_or(NULL, |s| self.intern(s));
        self.codes.push(code);
    }

    /// The code of a text, added to the dictionary when new.
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&c) = self.index.get(s) {
            return c;
        }
        let c = self.dict.len() as u32;
        self.dict.push(s.to_string());
        self.index.insert(s.to_string(), c);
        c
    }

    pub fn get(&self, row: usize) -> Option<&str> {
        let c = self.codes[row];
        (c != NULL).then(|| self.dict[c as usize].as_str())
    }
}

/// One attribute's values, for the customers that have it (rows ascending). Text values are
/// codes into `text`, so a test runs once per distinct text, not once per customer.
#[derive(Debug, Clone, Default)]
pub(crate) struct AttrColumn {
    pub rows: Vec<u32>,
    pub cells: Vec<AttrCell>,
    pub text: TextColumn,
}

/// A stored attribute value: integers are kept as numbers, texts by their dictionary code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AttrCell {
    Num(f64),
    Bool(bool),
    Text(u32),
}

impl AttrColumn {
    fn push(&mut self, row: u32, v: &AttrValue) {
        let cell = match v {
            AttrValue::Int(i) => AttrCell::Num(*i as f64),
            AttrValue::Number(x) => AttrCell::Num(*x),
            AttrValue::Bool(b) => AttrCell::Bool(*b),
            AttrValue::Text(t) => AttrCell::Text(self.text.intern(t)),
        };
        self.rows.push(row);
        self.cells.push(cell);
    }
}

/// One event name's times per customer: customer `rows[i]` has `times[offsets[i]..offsets[i + 1]]`,
/// sorted ascending, in microseconds.
#[derive(Debug, Clone)]
pub(crate) struct EventColumn {
    pub rows: Vec<u32>,
    pub offsets: Vec<usize>,
    pub times: Vec<i64>,
}

/// Customers as columns. Build it with [`CustomerFrame::push`]; positions are push order.
#[derive(Debug, Clone, Default)]
pub struct CustomerFrame {
    len: usize,
    pub(crate) text: [TextColumn; 6],
    pub(crate) numbers: Vec<Vec<Option<f64>>>,
    pub(crate) times: Vec<Vec<Option<i64>>>,
    pub(crate) categories: [Vec<u8>; 3],
    pub(crate) attrs: BTreeMap<String, AttrColumn>,
    /// By position in [`Purpose::ALL`].
    pub(crate) consents: Vec<Bitset>,
    pub(crate) events: BTreeMap<String, EventColumn>,
}

/// What a frame holds besides the fixed fields: attribute names with the types of their
/// values, and event names. Compiling against it catches typos and type mismatches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameSchema {
    pub attrs: BTreeMap<String, AttrTypes>,
    pub events: BTreeSet<String>,
}

/// Which value types an attribute holds across customers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AttrTypes {
    pub text: bool,
    pub number: bool,
    pub boolean: bool,
}

impl CustomerFrame {
    pub fn new() -> CustomerFrame {
        CustomerFrame {
            numbers: vec![Vec::new(); NUMBER.len() + NUMBER2.len()],
            times: vec![Vec::new(); TIME.len()],
            consents: vec![Bitset::default(); Purpose::ALL.len()],
            ..CustomerFrame::default()
        }
    }

    /// Customers in the frame.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The external id of the customer at a position.
    pub fn id(&self, row: usize) -> &str {
        self.text[0].get(row).unwrap_or("")
    }

    /// A text field's value (`id`, `name`, `email`, `country`, `city`, `company`) of the
    /// customer at a position; `None` when missing or when the field is not text.
    pub fn text(&self, field: Field, row: usize) -> Option<&str> {
        match col(field) {
            Col::Text(i) => self.text[i].get(row),
            _ => None,
        }
    }

    /// A number field's value (`revenue`, `rfm_r`, `clv_predicted`, ...) of the customer at a
    /// position; `None` when missing or when the field is not a stored number.
    pub fn number(&self, field: Field, row: usize) -> Option<f64> {
        match col(field) {
            Col::Number(i) => self.numbers[i].get(row).copied().flatten(),
            _ => None,
        }
    }

    /// Appends a customer.
    pub fn push(&mut self, c: &CustomerRow) {
        if self.numbers.is_empty() {
            *self = CustomerFrame::new();
        }
        let row = self.len as u32;
        let texts = [Some(c.id.as_str()), c.name.as_deref(), c.email.as_deref()];
        let more = [c.country.as_deref(), c.city.as_deref(), c.company.as_deref()];
        for (col, v) in self.text.iter_mut().zip(texts.into_iter().chain(more)) {
            col.push(v);
        }
        for (col, v) in self.numbers.iter_mut().zip(numbers(c)) {
            col.push(v.filter(|x| x.is_finite()));
        }
        let s = &c.summary;
        let times = [
            c.signup_at,
            s.first_purchase_at,
            s.last_purchase_at,
            s.last_event_at,
            s.last_feedback_at,
            s.last_interaction_at,
        ];
        for (col, v) in self.times.iter_mut().zip(times) {
            col.push(v.map(|t| t.timestamp_micros()));
        }
        for (col, v) in self.categories.iter_mut().zip(categories(c)) {
            col.push(v.unwrap_or(NO_CATEGORY));
        }
        for (name, v) in &c.attributes {
            if matches!(v, AttrValue::Number(x) if !x.is_finite()) {
                continue;
            }
            self.attrs.entry(name.clone()).or_default().push(row, v);
        }
        for (i, p) in Purpose::ALL.iter().enumerate() {
            self.consents[i].push(c.consents.contains(p));
        }
        self.push_events(row, &c.events);
        self.len += 1;
    }

    fn push_events(&mut self, row: u32, events: &[(String, Timestamp)]) {
        let mut by_name: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
        for (name, at) in events {
            by_name.entry(name).or_default().push(at.timestamp_micros());
        }
        for (name, mut times) in by_name {
            times.sort_unstable();
            let col = self.events.entry(name.to_string()).or_insert_with(|| EventColumn {
                rows: Vec::new(),
                offsets: vec![0],
                times: Vec::new(),
            });
            col.rows.push(row);
            col.times.extend(times);
            col.offsets.push(col.times.len());
        }
    }

    /// Sets one event name's column from (position, time in microseconds) pairs in any order,
    /// replacing what it held: for events read apart from the customers, by name. Nothing is
    /// set for no pairs, as for a name nobody did.
    pub fn set_events(&mut self, name: &str, mut pairs: Vec<(u32, i64)>) {
        if pairs.is_empty() {
            self.events.remove(name);
            return;
        }
        pairs.sort_unstable();
        let mut col = EventColumn { rows: Vec::new(), offsets: vec![0], times: Vec::new() };
        for (row, at) in pairs {
            if col.rows.last() != Some(&row) {
                if !col.rows.is_empty() {
                    col.offsets.push(col.times.len());
                }
                col.rows.push(row);
            }
            col.times.push(at);
        }
        col.offsets.push(col.times.len());
        self.events.insert(name.to_string(), col);
    }

    /// Attribute names with their value types, and event names.
    pub fn schema(&self) -> FrameSchema {
        let attrs = self
            .attrs
            .iter()
            .map(|(name, col)| {
                let mut t = AttrTypes::default();
                for c in &col.cells {
                    match c {
                        AttrCell::Text(_) => t.text = true,
                        AttrCell::Num(_) => t.number = true,
                        AttrCell::Bool(_) => t.boolean = true,
                    }
                }
                (name.clone(), t)
            })
            .collect();
        FrameSchema { attrs, events: self.events.keys().cloned().collect() }
    }
}

fn numbers(c: &CustomerRow) -> [Option<f64>; 20] {
    let s = &c.summary;
    let count = |n: i64| Some(n as f64);
    let rfm = |i: usize| c.rfm.map(|r| f64::from(r[i]));
    let avg = (s.purchase_orders > 0).then(|| s.mean_purchase_value().to_f64());
    [
        c.birth_year.map(f64::from),
        count(s.orders),
        count(s.purchase_orders),
        count(s.purchase_occasions),
        Some(s.purchase_value.to_f64()),
        avg,
        count(s.returns),
        count(s.events),
        count(s.feedback),
        c.feedback_sentiment,
        count(s.interactions),
        rfm(0),
        rfm(1),
        rfm(2),
        c.rfm.map(|r| f64::from(r[0]) + f64::from(r[1]) + f64::from(r[2])),
        c.clv_predicted,
        Some((s.purchase_value + s.return_value).to_f64()),
        c.p_alive,
        c.health,
        c.nps_score.map(f64::from),
    ]
}

fn categories(c: &CustomerRow) -> [Option<u8>; 3] {
    let gender = c.gender.and_then(|g| GENDERS.iter().position(|n| *n == g.as_str()));
    let segment = c.rfm.map(|r| Segment::of(r[0], r[1]));
    let segment = segment.and_then(|s| Segment::ALL.iter().position(|x| *x == s));
    let nps = c.nps_score.map(|n| match n {
        9.. => 0,
        7..=8 => 1,
        _ => 2,
    });
    [gender.map(|i| i as u8), segment.map(|i| i as u8), nps]
}

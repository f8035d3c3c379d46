//! Segments over a stored company: every customer read from the [`Store`] into a
//! [`CustomerFrame`] (profile, attributes, summary, feedback sentiment, RFM, NPS, consents and,
//! when the filter needs them, events and the lifetime-value and health models), for
//! `rapport_analytics::segment` to evaluate filters on.
//!
//! Customers and consents are read by export, events of the names a filter uses from the
//! events' name index ([`Store::event_times`]), the summaries, ratings and feedback sentiment by
//! their own calls, and the RFM and health models
//! as the reports compute them (as of the day after the last purchase), so a segment's
//! `rfm_segment`, `p_alive` or `health` is the number the reports show.

use crate::health;
use crate::{ReportError, ReportResult, all_summaries, rfm};
use chrono::{TimeZone, Utc};
use rapport_analytics::segment::{CustomerFrame, CustomerRow};
use rapport_core::filter::{Expr, Field, Filter, Operand};
use rapport_core::{ExternalId, Purpose, Timestamp};
use rapport_store::{EventTime, Kind, Record, Store, SummaryRow};
use std::collections::{BTreeSet, HashMap};

/// What a frame must hold beyond the per-customer columns: the events of these names (events
/// are the one per-customer list that grows without bound, so they are read only when a
/// filter names them), and whether the lifetime-value and health models are fitted (the
/// larger part of reading a frame; only `p_alive`, `clv_predicted` and `health` need them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    pub events: BTreeSet<String>,
    pub models: bool,
}

impl Needs {
    /// The event names a filter reads through `did(...)` or `events(...)`, and whether it
    /// reads a model's field.
    pub fn of(filter: &Filter) -> Needs {
        let mut needs = Needs::default();
        needs.walk(&filter.root);
        needs
    }

    /// Everything: the events of these names and the models (a frame kept for any filter).
    pub fn all(events: BTreeSet<String>) -> Needs {
        Needs { events, models: true }
    }

    /// What either needs.
    pub fn union(mut self, other: Needs) -> Needs {
        self.events.extend(other.events);
        self.models |= other.models;
        self
    }

    fn walk(&mut self, e: &Expr) {
        match e {
            Expr::And(xs) | Expr::Or(xs) => xs.iter().for_each(|x| self.walk(x)),
            Expr::Not(x) => self.walk(x),
            Expr::Did { event, .. } => {
                self.events.insert(event.clone());
            }
            Expr::Compare { operand, .. }
            | Expr::In { operand, .. }
            | Expr::Between { operand, .. }
            | Expr::IsNull { operand, .. } => match operand {
                Operand::Events { event, .. } => {
                    self.events.insert(event.clone());
                }
                Operand::Field(Field::PAlive | Field::ClvPredicted | Field::Health) => {
                    self.models = true;
                }
                _ => {}
            },
            Expr::Consent { .. } => {}
        }
    }
}

/// Page size of the exports: big pages, few round trips.
const PAGE: usize = 10_000;

/// A frame with the store key of each row's customer (`None` for one without a summary), for
/// materialising members.
#[derive(Debug, Clone, Default)]
pub struct KeyedFrame {
    pub frame: CustomerFrame,
    pub keys: Vec<Option<i64>>,
    /// The event names read into the frame.
    pub events: BTreeSet<String>,
    /// Whether the models' fields are filled (else they are null).
    pub models: bool,
}

impl KeyedFrame {
    /// Reads the events of these names into the frame (replacing any of them already read).
    pub async fn add_events(
        &mut self,
        store: &dyn Store,
        names: &BTreeSet<String>,
    ) -> ReportResult<()> {
        if names.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = names.iter().cloned().collect();
        let times = store.event_times(&names).await?;
        self.attach(&names, times);
        Ok(())
    }

    fn attach(&mut self, names: &[String], times: Vec<EventTime>) {
        let rows: HashMap<i64, u32> = self
            .keys
            .iter()
            .enumerate()
            .filter_map(|(row, k)| k.map(|k| (k, row as u32)))
            .collect();
        let mut pairs: Vec<Vec<(u32, i64)>> = vec![Vec::new(); names.len()];
        for e in times {
            if let (Some(&row), Some(list)) =
                (rows.get(&e.customer), pairs.get_mut(e.name as usize))
            {
                list.push((row, e.at.timestamp_micros()));
            }
        }
        for (name, list) in names.iter().zip(pairs) {
            self.frame.set_events(name, list);
            self.events.insert(name.clone());
        }
    }
}

/// Every customer as a frame row, in the store's insertion order. The frame holds no evaluation
/// time (that is `Plan::eval`'s): the models are fitted as of the day after the last purchase,
/// as the reports do, and fields a model cannot give (no purchases yet) stay null.
pub async fn frame(store: &dyn Store, needs: &Needs) -> ReportResult<CustomerFrame> {
    Ok(keyed_frame(store, needs).await?.frame)
}

/// [`frame`] with each row's customer key.
pub async fn keyed_frame(store: &dyn Store, needs: &Needs) -> ReportResult<KeyedFrame> {
    let names: Vec<String> = needs.events.iter().cloned().collect();
    let (customers, scored, models, sentiment, nps, consents, events) = tokio::try_join!(
        export(store, Kind::Customers),
        scored(store),
        async {
            Ok(if needs.models { health::per_customer(store).await? } else { HashMap::new() })
        },
        async { Ok(store.feedback_sentiment(ever()).await?) },
        latest_nps(store),
        latest_consents(store),
        async { Ok(if names.is_empty() { Vec::new() } else { store.event_times(&names).await? }) },
    )?;
    let (summaries, rfm) = scored;
    let mut by_id: HashMap<ExternalId, usize> = HashMap::with_capacity(summaries.len());
    for (i, s) in summaries.iter().enumerate() {
        by_id.insert(s.id.clone(), i);
    }
    let sentiment: HashMap<i64, f64> = sentiment.into_iter().map(|(k, m, _)| (k, m)).collect();
    let mut consents = consents;
    let mut out = KeyedFrame { models: needs.models, ..KeyedFrame::default() };
    out.keys.reserve(customers.len());
    for r in customers {
        let Record::Customer(c) = r else { continue };
        let mut row = CustomerRow {
            name: c.name,
            email: c.email.map(|e| e.as_str().to_string()),
            country: c.country,
            city: c.city,
            company: c.company.map(|id| id.as_str().to_string()),
            gender: c.gender,
            birth_year: c.birth_year,
            signup_at: c.signup_at,
            attributes: c.attributes,
            consents: consents.remove(&c.id).unwrap_or_default(),
            ..CustomerRow::default()
        };
        let mut key = None;
        if let Some(&i) = by_id.get(&c.id) {
            let s = &summaries[i];
            key = Some(s.key);
            row.summary = s.summary.clone();
            row.rfm = rfm.get(i).copied().flatten();
            row.feedback_sentiment = sentiment.get(&s.key).copied();
            row.nps_score = nps.get(&s.key).copied();
            let m = models.get(&s.key).copied().unwrap_or_default();
            (row.p_alive, row.clv_predicted, row.health) = (m.p_alive, m.predicted_value, m.health);
        }
        row.id = c.id.as_str().to_string();
        out.frame.push(&row);
        out.keys.push(key);
    }
    out.attach(&names, events);
    Ok(out)
}

/// Every record of one kind, `PAGE` at a time.
async fn export(store: &dyn Store, kind: Kind) -> ReportResult<Vec<Record>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.export(kind, after, PAGE).await?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

/// Every summary with its [R, F, M] scores (none before the first purchase).
async fn scored(store: &dyn Store) -> ReportResult<(Vec<SummaryRow>, Vec<Option<[u8; 3]>>)> {
    match rfm::score(store, None).await {
        Ok(s) => {
            let scores = s.rfm.iter().map(|r| r.as_ref().map(|r| [r.r, r.f, r.m])).collect();
            Ok((s.customers, scores))
        }
        Err(ReportError::NoData(_)) => {
            let all = all_summaries(store).await?;
            let none = vec![None; all.len()];
            Ok((all, none))
        }
        Err(e) => Err(e),
    }
}

/// A time before any feedback: the sentiment of all of it.
fn ever() -> Timestamp {
    Utc.with_ymd_and_hms(1000, 1, 1, 0, 0, 0).single().expect("a valid instant")
}

/// Each customer's latest NPS rating (0-10), by key; the later stored wins a tie.
async fn latest_nps(store: &dyn Store) -> ReportResult<HashMap<i64, i16>> {
    let mut latest: HashMap<i64, (Timestamp, i16)> = HashMap::new();
    for r in store.ratings("nps").await? {
        let e = latest.entry(r.customer).or_insert((r.at, r.rating));
        if r.at >= e.0 {
            *e = (r.at, r.rating);
        }
    }
    Ok(latest.into_iter().map(|(k, (_, v))| (k, v)).collect())
}

/// The purposes whose latest consent record is a grant, per customer. Records come in
/// insertion order, so of two at the same instant the later stored wins.
async fn latest_consents(store: &dyn Store) -> ReportResult<HashMap<ExternalId, Vec<Purpose>>> {
    let mut latest: HashMap<(ExternalId, Purpose), (Timestamp, bool)> = HashMap::new();
    for r in export(store, Kind::Consents).await? {
        let Record::Consent(c) = r else { continue };
        let e = latest.entry((c.customer, c.purpose)).or_insert((c.at, c.granted));
        if c.at >= e.0 {
            *e = (c.at, c.granted);
        }
    }
    let mut out: HashMap<ExternalId, Vec<Purpose>> = HashMap::new();
    for ((customer, purpose), (_, granted)) in latest {
        if granted {
            out.entry(customer).or_default().push(purpose);
        }
    }
    Ok(out)
}

/// The customers a filter selects at `now`, by external id, in the store's insertion order.
pub async fn members(
    store: &dyn Store,
    filter: &Filter,
    now: Timestamp,
) -> ReportResult<Vec<ExternalId>> {
    let frame = frame(store, &Needs::of(filter)).await?;
    let plan = rapport_analytics::segment::compile(filter, &frame.schema());
    plan.eval(&frame, now)
        .ones()
        .map(|row| {
            ExternalId::parse(frame.id(row))
                .map_err(|reason| ReportError::Invalid { field: "id", reason })
        })
        .collect()
}

//! Activity streams: events, interactions, feedback, consents. Each row upserts by external id;
//! new rows add to the customer's summary counters, changed rows trigger a recount.

use crate::db_err;
use crate::resolve::Resolver;
use crate::summary::{EVENTS, FEEDBACK, INTERACTIONS, Stream, bump, recount};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::value::to_micros;
use rapport_core::*;
use rapport_store::{IngestOptions, RowOutcome, StoreError, StoreResult};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction};
use std::collections::{BTreeMap, BTreeSet};

/// A stream's table and its content columns; `customer_id` is always the first column and
/// `time_col` indexes the time column among `cols`.
struct Spec {
    table: &'static str,
    cols: &'static [&'static str],
    time_col: usize,
    stream: Option<Stream>,
}

/// One row to upsert: its external id, customer, and content values in `Spec::cols` order
/// (customer_id excluded, it is resolved here).
struct Item {
    id: ExternalId,
    customer: CustomerRef,
    values: Vec<Value>,
}

fn upsert(
    tx: &Transaction<'_>,
    spec: &Spec,
    items: Vec<Item>,
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let all_cols =
        std::iter::once("customer_id").chain(spec.cols.iter().copied()).collect::<Vec<_>>();
    let select =
        format!("SELECT id, {} FROM {} WHERE external_id = ?1", all_cols.join(", "), spec.table);
    let placeholders =
        (2..=all_cols.len() + 1).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
    let insert = format!(
        "INSERT INTO {} (external_id, {}) VALUES (?1, {placeholders})",
        spec.table,
        all_cols.join(", ")
    );
    let sets = all_cols
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let update = format!("UPDATE {} SET {sets} WHERE id = ?1", spec.table);

    let mut res = Resolver::default();
    let mut bumps: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let mut recounts = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let old = tx
            .prepare_cached(&select)
            .map_err(db_err)?
            .query_row([item.id.as_str()], |r| {
                let id: i64 = r.get(0)?;
                let vals = (1..=all_cols.len())
                    .map(|i| r.get::<_, Value>(i))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((id, vals))
            })
            .optional()
            .map_err(db_err)?;
        // Before resolving: a refused create must not create the customer it names.
        if o.create_only && old.is_some() {
            out.push(RowOutcome::Exists);
            continue;
        }
        let customer_id = match resolve(tx, &mut res, &item.customer, o)? {
            Ok(id) => id,
            Err(e) => {
                out.push(RowOutcome::Rejected(e));
                continue;
            }
        };
        let mut new = Vec::with_capacity(all_cols.len());
        new.push(Value::Integer(customer_id));
        new.extend(item.values);
        let time = match &new[spec.time_col + 1] {
            Value::Integer(t) => *t,
            _ => 0,
        };
        out.push(match old {
            None => {
                let p = std::iter::once(Value::Text(item.id.to_string())).chain(new);
                tx.prepare_cached(&insert)
                    .map_err(db_err)?
                    .execute(rusqlite::params_from_iter(p))
                    .map_err(db_err)?;
                let b = bumps.entry(customer_id).or_insert((0, time));
                *b = (b.0 + 1, b.1.max(time));
                RowOutcome::Inserted
            }
            Some((_, old_vals)) if old_vals == new => RowOutcome::Unchanged,
            Some((row_id, old_vals)) => {
                let p = std::iter::once(Value::Integer(row_id)).chain(new);
                tx.prepare_cached(&update)
                    .map_err(db_err)?
                    .execute(rusqlite::params_from_iter(p))
                    .map_err(db_err)?;
                if let Value::Integer(old_customer) = old_vals[0] {
                    recounts.insert(old_customer);
                }
                recounts.insert(customer_id);
                RowOutcome::Updated
            }
        });
    }
    if let Some(stream) = spec.stream {
        for (customer_id, (n, last)) in bumps {
            bump(tx, stream, customer_id, n, last)?;
        }
        for customer_id in recounts {
            recount(tx, stream, customer_id)?;
        }
    }
    Ok(out)
}

/// The customer a row belongs to, or why it cannot be stored.
fn resolve(
    tx: &Transaction<'_>,
    res: &mut Resolver,
    who: &CustomerRef,
    o: &IngestOptions,
) -> StoreResult<Result<i64, FieldError>> {
    match who {
        CustomerRef::Id(c) => Ok(res.customer(tx, c, o.create_customers)?.ok_or_else(|| {
            FieldError::new(
                "customer",
                format!("customer '{c}' is not known (customer creation is off)"),
            )
        })),
        CustomerRef::Order(ord) => {
            let found: Option<i64> = tx
                .prepare_cached("SELECT customer_id FROM orders WHERE external_id = ?1")
                .map_err(db_err)?
                .query_row([ord.as_str()], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            Ok(found.ok_or_else(|| FieldError::new("order", format!("order '{ord}' is not known"))))
        }
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt_text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, text)
}

pub(crate) fn events(
    tx: &Transaction<'_>,
    rows: &[Event],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let spec = Spec {
        table: "events",
        cols: &["name", "at", "properties"],
        time_col: 1,
        stream: Some(EVENTS),
    };
    let items = rows
        .iter()
        .map(|e| {
            let props = serde_json::to_string(&e.properties).map_err(StoreError::other)?;
            Ok(Item {
                id: e.id.clone(),
                customer: CustomerRef::Id(e.customer.clone()),
                values: vec![text(&e.name), Value::Integer(to_micros(e.at)), Value::Text(props)],
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    upsert(tx, &spec, items, o)
}

pub(crate) fn interactions(
    tx: &Transaction<'_>,
    rows: &[Interaction],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let spec = Spec {
        table: "interactions",
        cols: &["at", "channel", "direction", "subject", "body"],
        time_col: 0,
        stream: Some(INTERACTIONS),
    };
    let items = rows
        .iter()
        .map(|i| Item {
            id: i.id.clone(),
            customer: CustomerRef::Id(i.customer.clone()),
            values: vec![
                Value::Integer(to_micros(i.at)),
                text(i.channel.as_str()),
                text(i.direction.as_str()),
                opt_text(i.subject.as_deref()),
                opt_text(i.body.as_deref()),
            ],
        })
        .collect();
    upsert(tx, &spec, items, o)
}

pub(crate) fn feedback(
    tx: &Transaction<'_>,
    rows: &[FeedbackRow],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let spec = Spec {
        table: "feedback",
        cols: &["created_at", "source", "text", "rating", "sentiment_e4"],
        time_col: 0,
        stream: Some(FEEDBACK),
    };
    let items = rows
        .iter()
        .map(|f| Item {
            id: f.id.clone(),
            customer: f.customer.clone(),
            values: vec![
                Value::Integer(to_micros(f.created_at)),
                text(&f.source),
                opt_text(f.text.as_deref()),
                f.rating.map_or(Value::Null, |r| Value::Integer(r.into())),
                sentiment(f.text.as_deref()),
            ],
        })
        .collect();
    upsert(tx, &spec, items, o)
}

/// The stored sentiment of a feedback text: none without text (NULL or empty).
fn sentiment(text: Option<&str>) -> Value {
    match text.filter(|t| !t.is_empty()) {
        Some(t) => Value::Integer(rapport_analytics::sentiment::score_e4(t)),
        None => Value::Null,
    }
}

/// Scores the feedback stored before sentiment was (schema v5), a batch per transaction;
/// returns how many items were scored.
pub(crate) fn backfill_sentiment(conn: &mut rusqlite::Connection) -> StoreResult<u64> {
    let mut scored = 0;
    loop {
        let tx = conn.transaction().map_err(db_err)?;
        let batch: Vec<(i64, String)> = {
            let mut stmt = tx
                .prepare(
                    "SELECT id, text FROM feedback INDEXED BY feedback_unscored
                      WHERE sentiment_e4 IS NULL AND text IS NOT NULL AND text <> '' LIMIT 10000",
                )
                .map_err(db_err)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)?
        };
        if batch.is_empty() {
            return Ok(scored);
        }
        {
            let mut update = tx
                .prepare("UPDATE feedback SET sentiment_e4 = ?2 WHERE id = ?1")
                .map_err(db_err)?;
            for (id, text) in &batch {
                update
                    .execute((id, rapport_analytics::sentiment::score_e4(text)))
                    .map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        scored += batch.len() as u64;
    }
}

pub(crate) fn consents(
    tx: &Transaction<'_>,
    rows: &[Consent],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let spec = Spec {
        table: "consents",
        cols: &["at", "purpose", "granted", "source"],
        time_col: 0,
        stream: None,
    };
    let items = rows
        .iter()
        .map(|c| Item {
            id: c.id.clone(),
            customer: CustomerRef::Id(c.customer.clone()),
            values: vec![
                Value::Integer(to_micros(c.at)),
                text(c.purpose.as_str()),
                Value::Integer(c.granted.into()),
                opt_text(c.source.as_deref()),
            ],
        })
        .collect();
    upsert(tx, &spec, items, o)
}

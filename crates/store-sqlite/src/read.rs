//! Reads: counts, summaries, and keyset-paginated export of every kind.

use crate::customers::{
    COMPANY_SELECT, CUSTOMER_SELECT, PRODUCT_SELECT, company_from_row, customer_from_row,
    product_from_row,
};
use crate::db_err;
use crate::summary::{COLUMNS, from_row};
use rapport_core::record::OrderRow;
use rapport_core::value::from_micros;
use rapport_core::*;
use rapport_store::{
    CHUNK, Counts, CustomerActivity, CustomerLabel, Kind, Page, PurchaseDay, PurchaseHistory,
    Rating, Record, StoreError, StoreResult, SummaryRow,
};
use rusqlite::{Connection, OptionalExtension, Row};
use tokio::sync::mpsc::Sender;

pub(crate) fn counts(c: &mut Connection) -> StoreResult<Counts> {
    let sql = "SELECT
        (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM companies), (SELECT COUNT(*) FROM products),
        (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_lines), (SELECT COUNT(*) FROM events),
        (SELECT COUNT(*) FROM interactions), (SELECT COUNT(*) FROM feedback), (SELECT COUNT(*) FROM consents),
        (SELECT COUNT(*) FROM orders WHERE status = 'purchase'),
        (SELECT COUNT(*) FROM orders WHERE status = 'return'),
        (SELECT COUNT(*) FROM orders WHERE status = 'cancelled'),
        (SELECT COUNT(*) FROM customer_summaries WHERE purchase_orders > 0),
        (SELECT COALESCE(SUM(l.amount_e4), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'purchase'),
        (SELECT COALESCE(SUM(purchase_value_e4), 0) FROM customer_summaries),
        (SELECT COALESCE(SUM(l.amount_e4), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'return')";
    c.query_row(sql, [], |r| {
        Ok(Counts {
            customers: r.get(0)?,
            companies: r.get(1)?,
            products: r.get(2)?,
            orders: r.get(3)?,
            order_lines: r.get(4)?,
            events: r.get(5)?,
            interactions: r.get(6)?,
            feedback: r.get(7)?,
            consents: r.get(8)?,
            purchase_orders: r.get(9)?,
            return_orders: r.get(10)?,
            cancelled_orders: r.get(11)?,
            customers_with_purchases: r.get(12)?,
            purchase_value: Money::from_e4(r.get(13)?),
            summarised_purchase_value: Money::from_e4(r.get(14)?),
            return_value: Money::from_e4(r.get(15)?),
        })
    })
    .map_err(db_err)
}

pub(crate) fn customer_summary(
    c: &mut Connection,
    customer: &ExternalId,
) -> StoreResult<CustomerSummary> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customer_summaries s JOIN customers c ON c.id = s.customer_id WHERE c.external_id = ?1"
    );
    c.query_row(&sql, [customer.as_str()], |r| from_row(r, 0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("customer '{customer}'")))
}

pub(crate) fn summaries(
    c: &Connection,
    after: Option<i64>,
    limit: usize,
) -> StoreResult<Page<SummaryRow>> {
    let sql = format!(
        "SELECT c.id, c.external_id, c.name, {COLUMNS} FROM customer_summaries s JOIN customers c ON c.id = s.customer_id
          WHERE c.id > ?1 ORDER BY c.id LIMIT ?2"
    );
    page(c, &sql, after, limit, |r| {
        let key = r.get(0)?;
        Ok((key, SummaryRow { key, id: ext(r, 1)?, name: r.get(2)?, summary: from_row(r, 3)? }))
    })
}

pub(crate) fn purchase_histories(c: &Connection) -> StoreResult<Vec<PurchaseHistory>> {
    let mut stmt = c
        .prepare(
            "SELECT customer_id, first_purchase_at, last_purchase_at, purchase_occasions,
                    purchase_value_e4, first_day_value_e4
               FROM customer_summaries WHERE purchase_occasions > 0 ORDER BY customer_id",
        )
        .map_err(db_err)?;
    let rows = stmt.query_map([], history_from_row).map_err(db_err)?;
    rows.filter_map(Result::transpose).collect::<Result<_, _>>().map_err(db_err)
}

/// A purchase history from columns 0 to 5 of a summaries row: key, first and last purchase,
/// occasions, value and first-day value.
fn history_from_row(r: &Row<'_>) -> rusqlite::Result<Option<PurchaseHistory>> {
    let t = |i| Ok::<_, rusqlite::Error>(r.get::<_, Option<i64>>(i)?.map(from_micros));
    Ok(PurchaseHistory::from_summary(r.get(0)?, t(1)?, t(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
}

pub(crate) fn last_purchase_at(c: &Connection) -> StoreResult<Option<Timestamp>> {
    // The expression is the one of the summaries_sort_last_purchase index, which answers it.
    let latest: Option<Option<i64>> = c
        .query_row(
            "SELECT last_purchase_at FROM customer_summaries
              ORDER BY IFNULL(last_purchase_at, -9223372036854775808) DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    Ok(latest.flatten().map(from_micros))
}

pub(crate) fn activities(c: &Connection) -> StoreResult<Vec<CustomerActivity>> {
    let mut stmt = c
        .prepare(
            "SELECT customer_id, first_purchase_at, last_purchase_at, purchase_occasions,
                    purchase_value_e4, first_day_value_e4, last_event_at
               FROM customer_summaries ORDER BY customer_id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            let (key, history) = (r.get(0)?, history_from_row(r)?);
            let last_event_at = r.get::<_, Option<i64>>(6)?.map(from_micros);
            Ok(CustomerActivity { key, history, last_event_at })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn customer_labels(c: &Connection, keys: &[i64]) -> StoreResult<Vec<CustomerLabel>> {
    let mut stmt = c
        .prepare_cached("SELECT external_id, name FROM customers WHERE id = ?1")
        .map_err(db_err)?;
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    let mut out = Vec::with_capacity(keys.len());
    for key in keys {
        let label = stmt
            .query_row([key], |r| Ok(CustomerLabel { key, id: ext(r, 0)?, name: r.get(1)? }))
            .optional()
            .map_err(db_err)?;
        out.extend(label);
    }
    Ok(out)
}

/// The purchase days of the customers with keys in `lo..=hi`, in (customer, day) order, sent
/// in chunks.
pub(crate) fn purchase_days(
    c: &Connection,
    lo: i64,
    hi: i64,
    tx: &Sender<StoreResult<Vec<PurchaseDay>>>,
) -> StoreResult<()> {
    let mut stmt = c
        .prepare(
            "SELECT customer_id, day, SUM(total_e4) FROM orders
              WHERE customer_id BETWEEN ?1 AND ?2 AND status = 'purchase'
              GROUP BY customer_id, day ORDER BY customer_id, day",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([lo, hi], |r| {
            Ok(PurchaseDay {
                customer: r.get(0)?,
                day: r.get(1)?,
                value: Money::from_e4(r.get(2)?),
            })
        })
        .map_err(db_err)?;
    send_chunks(rows.map(|r| r.map_err(db_err)), tx)
}

/// Sends rows in chunks of [`CHUNK`]; stops early, without error, when nobody listens.
fn send_chunks<T>(
    rows: impl Iterator<Item = StoreResult<T>>,
    tx: &Sender<StoreResult<Vec<T>>>,
) -> StoreResult<()> {
    let mut chunk = Vec::with_capacity(CHUNK);
    for row in rows {
        chunk.push(row?);
        if chunk.len() == CHUNK {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.blocking_send(Ok(chunk));
    }
    Ok(())
}

/// The smallest and largest customer key, `None` without customers (both from the rowid
/// b-tree's ends).
pub(crate) fn customer_key_range(c: &Connection) -> StoreResult<Option<(i64, i64)>> {
    let (lo, hi): (Option<i64>, Option<i64>) = c
        .query_row("SELECT MIN(id), MAX(id) FROM customers", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    Ok(lo.zip(hi))
}

/// The occasions of the customers with keys in `lo..=hi`, sent in chunks.
pub(crate) fn purchase_occasions(
    c: &Connection,
    from_day: Option<i64>,
    lo: i64,
    hi: i64,
    tx: &Sender<StoreResult<Vec<(i64, i64)>>>,
) -> StoreResult<()> {
    // The (customer_id, status, day) index holds every column, so no table row is read. A
    // scan of it yields rows in index order, which for one status is (customer, day) order;
    // an ORDER BY would add a sorter per customer that SQLite cannot see is unneeded (0.8 s of
    // 1.2 s at 10M orders). The order is checked as the rows pass: a planner that ever
    // differs fails the read rather than the report's numbers.
    let mut stmt = c
        .prepare(
            "SELECT customer_id, day FROM orders INDEXED BY orders_customer
              WHERE customer_id BETWEEN ?2 AND ?3 AND status = 'purchase' AND day >= ?1",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([from_day.unwrap_or(i64::MIN), lo, hi], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    // Same-day orders give one occasion; the order is checked as the rows pass.
    let mut last: Option<(i64, i64)> = None;
    let occasions = rows.map(|r| r.map_err(db_err)).filter_map(move |row| {
        let row = match row {
            Ok(row) => row,
            Err(e) => return Some(Err(e)),
        };
        match last {
            Some(previous) if previous == row => None,
            Some(previous) if previous > row => Some(Err(StoreError::Other(
                format!("purchase occasions out of index order at customer {}", row.0).into(),
            ))),
            _ => {
                last = Some(row);
                Some(Ok(row))
            }
        }
    });
    send_chunks(occasions, tx)
}

pub(crate) fn ratings(c: &Connection, source: &str) -> StoreResult<Vec<Rating>> {
    let mut stmt = c
        .prepare(
            "SELECT customer_id, created_at, rating FROM feedback
              WHERE source = ?1 AND rating IS NOT NULL",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([source], |r| {
            Ok(Rating { customer: r.get(0)?, at: from_micros(r.get(1)?), rating: r.get(2)? })
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn feedback_sentiment(
    c: &Connection,
    since: Timestamp,
) -> StoreResult<Vec<(i64, f64, u32)>> {
    let mut stmt = c
        .prepare(
            "SELECT customer_id, SUM(sentiment_e4), COUNT(*) FROM feedback
              WHERE sentiment_e4 IS NOT NULL AND created_at >= ?1 GROUP BY customer_id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([rapport_core::value::to_micros(since)], |r| {
            let (sum, n): (i64, u32) = (r.get(1)?, r.get(2)?);
            Ok((r.get(0)?, sum as f64 / 1e4 / f64::from(n), n))
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn interaction_counts(
    c: &Connection,
    channel: Channel,
    since: Timestamp,
) -> StoreResult<Vec<(i64, u32)>> {
    let mut stmt = c
        .prepare(
            "SELECT customer_id, COUNT(*) FROM interactions WHERE channel = ?1 AND at >= ?2
              GROUP BY customer_id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map((channel.as_str(), rapport_core::value::to_micros(since)), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn conv(e: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
}

pub(crate) fn ext(r: &Row<'_>, i: usize) -> rusqlite::Result<ExternalId> {
    ExternalId::parse(&r.get::<_, String>(i)?).map_err(conv)
}

/// Runs a keyset query (`?1` = after, `?2` = limit) whose mapper returns (key, item).
fn page<T>(
    c: &Connection,
    sql: &str,
    after: Option<i64>,
    limit: usize,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<(i64, T)>,
) -> StoreResult<Page<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt.query_map((after.unwrap_or(i64::MIN), limit as i64), f).map_err(db_err)?;
    let mut items = Vec::with_capacity(limit.min(10_000));
    let mut last = None;
    for row in rows {
        let (key, item) = row.map_err(db_err)?;
        last = Some(key);
        items.push(item);
    }
    let next = if items.len() == limit { last } else { None };
    Ok(Page { items, next })
}

pub(crate) fn export(
    c: &mut Connection,
    kind: Kind,
    after: Option<i64>,
    limit: usize,
) -> StoreResult<Page<Record>> {
    let keyset = "WHERE x.id > ?1 ORDER BY x.id LIMIT ?2";
    match kind {
        Kind::Customers => {
            let sql = format!("{CUSTOMER_SELECT} WHERE c.id > ?1 ORDER BY c.id LIMIT ?2");
            page(c, &sql, after, limit, |r| {
                customer_from_row(r).map(|(k, v)| (k, Record::Customer(v)))
            })
        }
        Kind::Companies => {
            let sql = format!("{} x {keyset}", COMPANY_SELECT);
            page(c, &sql, after, limit, |r| {
                company_from_row(r).map(|(k, v)| (k, Record::Company(v)))
            })
        }
        Kind::Products => {
            let sql = format!("{} x {keyset}", PRODUCT_SELECT);
            page(c, &sql, after, limit, |r| {
                product_from_row(r).map(|(k, v)| (k, Record::Product(v)))
            })
        }
        Kind::Orders => export_orders(c, after, limit),
        Kind::Events => page(c, &format!("SELECT {EVENT_FROM} {keyset}"), after, limit, |r| {
            event_from_row(r).map(|(k, v)| (k, Record::Event(v)))
        }),
        Kind::Interactions => {
            page(c, &format!("SELECT {INTERACTION_FROM} {keyset}"), after, limit, |r| {
                interaction_from_row(r).map(|(k, v)| (k, Record::Interaction(v)))
            })
        }
        Kind::Feedback => page(c, &format!("SELECT {FEEDBACK_FROM} {keyset}"), after, limit, |r| {
            feedback_from_row(r).map(|(k, v)| (k, Record::Feedback(v)))
        }),
        Kind::Consents => page(c, &format!("SELECT {CONSENT_FROM} {keyset}"), after, limit, |r| {
            consent_from_row(r).map(|(k, v)| (k, Record::Consent(v)))
        }),
    }
}

// CustomerActivity rows: `SELECT {X_FROM} WHERE ...` with `x` the stream and `c` its customer; the
// mappers return (internal id, record).
pub(crate) const EVENT_FROM: &str = "x.id, x.external_id, c.external_id, x.name, x.at, x.properties
    FROM events x JOIN customers c ON c.id = x.customer_id";
pub(crate) const INTERACTION_FROM: &str = "x.id, x.external_id, c.external_id, x.channel,
    x.direction, x.subject, x.body, x.at FROM interactions x JOIN customers c ON c.id = x.customer_id";
pub(crate) const FEEDBACK_FROM: &str = "x.id, x.external_id, c.external_id, x.source, x.text,
    x.rating, x.created_at FROM feedback x JOIN customers c ON c.id = x.customer_id";
pub(crate) const CONSENT_FROM: &str = "x.id, x.external_id, c.external_id, x.purpose, x.granted,
    x.source, x.at FROM consents x JOIN customers c ON c.id = x.customer_id";

pub(crate) fn event_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Event)> {
    let props: String = r.get(5)?;
    Ok((
        r.get(0)?,
        Event {
            id: ext(r, 1)?,
            customer: ext(r, 2)?,
            name: r.get(3)?,
            at: from_micros(r.get(4)?),
            properties: serde_json::from_str(&props).map_err(|e| conv(e.to_string()))?,
        },
    ))
}

pub(crate) fn interaction_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Interaction)> {
    Ok((
        r.get(0)?,
        Interaction {
            id: ext(r, 1)?,
            customer: ext(r, 2)?,
            channel: Channel::parse(&r.get::<_, String>(3)?).map_err(conv)?,
            direction: Direction::parse(&r.get::<_, String>(4)?).map_err(conv)?,
            subject: r.get(5)?,
            body: r.get(6)?,
            at: from_micros(r.get(7)?),
        },
    ))
}

pub(crate) fn feedback_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Feedback)> {
    Ok((
        r.get(0)?,
        Feedback {
            id: ext(r, 1)?,
            customer: ext(r, 2)?,
            source: r.get(3)?,
            text: r.get(4)?,
            rating: r.get(5)?,
            created_at: from_micros(r.get(6)?),
        },
    ))
}

pub(crate) fn consent_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Consent)> {
    Ok((
        r.get(0)?,
        Consent {
            id: ext(r, 1)?,
            customer: ext(r, 2)?,
            purpose: Purpose::parse(&r.get::<_, String>(3)?).map_err(conv)?,
            granted: r.get(4)?,
            source: r.get(5)?,
            at: from_micros(r.get(6)?),
        },
    ))
}

/// Orders export one row per line with the header repeated (one header-only row for an order
/// without lines). The page cursor is the order id, so a page never splits an order.
fn export_orders(
    c: &mut Connection,
    after: Option<i64>,
    limit: usize,
) -> StoreResult<Page<Record>> {
    let heads = page(
        c,
        "SELECT x.id, x.external_id, c.external_id, x.placed_at, x.currency, x.status
           FROM orders x JOIN customers c ON c.id = x.customer_id WHERE x.id > ?1 ORDER BY x.id LIMIT ?2",
        after,
        limit,
        |r| {
            let head = OrderRow {
                order: ext(r, 1)?,
                customer: Some(ext(r, 2)?),
                placed_at: Some(from_micros(r.get(3)?)),
                currency: Some(Currency::parse(&r.get::<_, String>(4)?).map_err(conv)?),
                status: Some(OrderStatus::parse(&r.get::<_, String>(5)?).map_err(conv)?),
                line: None,
            };
            Ok((r.get(0)?, (r.get::<_, i64>(0)?, head)))
        },
    )?;
    let mut lines = c
        .prepare_cached("SELECT sku, quantity, unit_price_e4, amount_e4 FROM order_lines WHERE order_id = ?1 ORDER BY line_no")
        .map_err(db_err)?;
    let mut items = Vec::new();
    for (order_id, head) in heads.items {
        let ls = lines
            .query_map([order_id], |r| {
                Ok(OrderLine {
                    sku: r
                        .get::<_, Option<String>>(0)?
                        .map(|s| ExternalId::parse(&s).map_err(conv))
                        .transpose()?,
                    quantity: r.get(1)?,
                    unit_price: Money::from_e4(r.get(2)?),
                    amount: Money::from_e4(r.get(3)?),
                })
            })
            .map_err(db_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db_err)?;
        if ls.is_empty() {
            items.push(Record::OrderRow(head.clone()));
        }
        for l in ls {
            items.push(Record::OrderRow(OrderRow { line: Some(l), ..head.clone() }));
        }
    }
    Ok(Page { items, next: heads.next })
}

//! Keeping `customer_summaries` equal to what the raw rows say.
//!
//! Orders: a customer whose batch only brought new orders gets them added ([`add_orders`]): a
//! probe per purchase day, whatever their history. A customer with a changed order (moved to
//! another day, customer or status, lines edited) is recomputed from the `orders` table (one
//! indexed range; lines are never re-read, orders carry their total), so an update cannot leave
//! a stale occasion count behind. Activity streams (events,
//! feedback, interactions) are append-mostly, so new rows add to the counters and only changed
//! rows trigger a recount.

use crate::db_err;
use rapport_core::value::{day_of, from_micros};
use rapport_core::{CustomerSummary, ExternalId, Money};
use rapport_store::{StoreResult, SummaryMismatch};
use rusqlite::{Connection, Row, Transaction};

pub(crate) fn recompute_orders(tx: &Transaction<'_>, customer_id: i64) -> StoreResult<()> {
    tx.prepare_cached(
        "UPDATE customer_summaries SET
           (orders, purchase_orders, purchase_value_e4, first_purchase_at, last_purchase_at,
            returns, return_value_e4, purchase_occasions) =
           (SELECT COUNT(*),
                   COALESCE(SUM(status = 'purchase'), 0),
                   COALESCE(SUM(CASE WHEN status = 'purchase' THEN total_e4 END), 0),
                   MIN(CASE WHEN status = 'purchase' THEN placed_at END),
                   MAX(CASE WHEN status = 'purchase' THEN placed_at END),
                   COALESCE(SUM(status = 'return'), 0),
                   COALESCE(SUM(CASE WHEN status = 'return' THEN total_e4 END), 0),
                   COUNT(DISTINCT CASE WHEN status = 'purchase' THEN day END)
              FROM orders WHERE customer_id = ?1),
           first_day_value_e4 =
           (SELECT COALESCE(SUM(total_e4), 0) FROM orders
             WHERE customer_id = ?1 AND status = 'purchase'
               AND day = (SELECT MIN(day) FROM orders WHERE customer_id = ?1 AND status = 'purchase'))
         WHERE customer_id = ?1",
    )
    .map_err(db_err)?
    .execute([customer_id])
    .map_err(db_err)?;
    Ok(())
}

/// An order inserted by the current batch, as the summary sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NewOrder {
    pub purchase: bool,
    pub is_return: bool,
    pub day: i64,
    pub placed_at: i64,
    pub total_e4: i64,
}

/// Adds a customer's newly inserted orders (already in `orders`) to their summary; the same
/// result as [`recompute_orders`] when no other order of theirs changed in the batch.
pub(crate) fn add_orders(
    tx: &Transaction<'_>,
    customer_id: i64,
    new: &[NewOrder],
) -> StoreResult<()> {
    let (old_first, old_first_value): (Option<i64>, i64) = tx
        .prepare_cached(
            "SELECT first_purchase_at, first_day_value_e4 FROM customer_summaries WHERE customer_id = ?1",
        )
        .map_err(db_err)?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    let buys: Vec<&NewOrder> = new.iter().filter(|o| o.purchase).collect();
    let occasions = new_occasions(tx, customer_id, &buys)?;
    let first_day_value = match buys.iter().map(|o| o.day).min() {
        None => old_first_value,
        Some(day) => {
            let on_day: i64 = buys.iter().filter(|o| o.day == day).map(|o| o.total_e4).sum();
            match old_first.map(|t| day_of(from_micros(t))) {
                Some(old) if old < day => old_first_value,
                Some(old) if old == day => old_first_value + on_day,
                _ => on_day,
            }
        }
    };
    let sum = |f: fn(&NewOrder) -> bool| -> (i64, i64) {
        new.iter().filter(|o| f(o)).fold((0, 0), |(n, v), o| (n + 1, v + o.total_e4))
    };
    let (purchases, purchase_value) = sum(|o| o.purchase);
    let (returns, return_value) = sum(|o| o.is_return);
    let first = buys.iter().map(|o| o.placed_at).min();
    let last = buys.iter().map(|o| o.placed_at).max();
    tx.prepare_cached(
        "UPDATE customer_summaries SET orders = orders + ?2, purchase_orders = purchase_orders + ?3,
            purchase_value_e4 = purchase_value_e4 + ?4, returns = returns + ?5,
            return_value_e4 = return_value_e4 + ?6, purchase_occasions = purchase_occasions + ?7,
            first_purchase_at = COALESCE(MIN(first_purchase_at, ?8), first_purchase_at, ?8),
            last_purchase_at = COALESCE(MAX(last_purchase_at, ?9), last_purchase_at, ?9),
            first_day_value_e4 = ?10
         WHERE customer_id = ?1",
    )
    .map_err(db_err)?
    .execute(rusqlite::params![
        customer_id,
        new.len() as i64,
        purchases,
        purchase_value,
        returns,
        return_value,
        occasions,
        first,
        last,
        first_day_value
    ])
    .map_err(db_err)?;
    Ok(())
}

/// How many of the new purchases' days had no purchase before this batch: a day is new when
/// every purchase the customer has on it is one of the new ones.
fn new_occasions(tx: &Transaction<'_>, customer_id: i64, buys: &[&NewOrder]) -> StoreResult<i64> {
    let mut per_day = std::collections::BTreeMap::<i64, i64>::new();
    for o in buys {
        *per_day.entry(o.day).or_default() += 1;
    }
    let mut probe = tx
        .prepare_cached(
            "SELECT COUNT(*) FROM orders WHERE customer_id = ?1 AND status = 'purchase' AND day = ?2",
        )
        .map_err(db_err)?;
    let mut occasions = 0;
    for (day, n) in per_day {
        let all: i64 = probe.query_row((customer_id, day), |r| r.get(0)).map_err(db_err)?;
        occasions += i64::from(all == n);
    }
    Ok(occasions)
}

/// One summarised activity stream: its table, time column and summary columns.
#[derive(Clone, Copy)]
pub(crate) struct Stream {
    pub table: &'static str,
    pub time: &'static str,
    pub count_col: &'static str,
    pub last_col: &'static str,
}

pub(crate) const EVENTS: Stream =
    Stream { table: "events", time: "at", count_col: "events", last_col: "last_event_at" };
pub(crate) const FEEDBACK: Stream = Stream {
    table: "feedback",
    time: "created_at",
    count_col: "feedback",
    last_col: "last_feedback_at",
};
pub(crate) const INTERACTIONS: Stream = Stream {
    table: "interactions",
    time: "at",
    count_col: "interactions",
    last_col: "last_interaction_at",
};

/// Adds `n` new rows, the latest at `last`, to a customer's counters.
pub(crate) fn bump(
    tx: &Transaction<'_>,
    s: Stream,
    customer_id: i64,
    n: i64,
    last: i64,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE customer_summaries SET {c} = {c} + ?2, {l} = MAX(COALESCE({l}, ?3), ?3) WHERE customer_id = ?1",
        c = s.count_col,
        l = s.last_col
    );
    tx.prepare_cached(&sql).map_err(db_err)?.execute((customer_id, n, last)).map_err(db_err)?;
    Ok(())
}

pub(crate) fn recount(tx: &Transaction<'_>, s: Stream, customer_id: i64) -> StoreResult<()> {
    let sql = format!(
        "UPDATE customer_summaries SET ({c}, {l}) =
           (SELECT COUNT(*), MAX({t}) FROM {tab} WHERE customer_id = ?1) WHERE customer_id = ?1",
        c = s.count_col,
        l = s.last_col,
        t = s.time,
        tab = s.table
    );
    tx.prepare_cached(&sql).map_err(db_err)?.execute([customer_id]).map_err(db_err)?;
    Ok(())
}

/// The summary columns, in the order [`from_row`] reads them.
pub(crate) const COLUMNS: &str = "orders, purchase_orders, purchase_occasions, purchase_value_e4,
    first_day_value_e4, first_purchase_at, last_purchase_at, returns, return_value_e4, events,
    last_event_at, feedback, last_feedback_at, interactions, last_interaction_at";

pub(crate) fn from_row(r: &Row<'_>, at: usize) -> rusqlite::Result<CustomerSummary> {
    let t =
        |i: usize| -> rusqlite::Result<_> { Ok(r.get::<_, Option<i64>>(at + i)?.map(from_micros)) };
    let m = |i: usize| -> rusqlite::Result<_> { Ok(Money::from_e4(r.get(at + i)?)) };
    Ok(CustomerSummary {
        orders: r.get(at)?,
        purchase_orders: r.get(at + 1)?,
        purchase_occasions: r.get(at + 2)?,
        purchase_value: m(3)?,
        first_day_value: m(4)?,
        first_purchase_at: t(5)?,
        last_purchase_at: t(6)?,
        returns: r.get(at + 7)?,
        return_value: m(8)?,
        events: r.get(at + 9)?,
        last_event_at: t(10)?,
        feedback: r.get(at + 11)?,
        last_feedback_at: t(12)?,
        interactions: r.get(at + 13)?,
        last_interaction_at: t(14)?,
    })
}

/// Every customer's summary recomputed from the raw tables in one pass (a second, set-based
/// statement of the definition), compared with what is stored.
pub(crate) fn verify(c: &mut Connection) -> StoreResult<Vec<SummaryMismatch>> {
    let sql = format!(
        "WITH o AS (
            SELECT customer_id, COUNT(*) AS orders,
                   COALESCE(SUM(status = 'purchase'), 0) AS purchase_orders,
                   COUNT(DISTINCT CASE WHEN status = 'purchase' THEN day END) AS purchase_occasions,
                   COALESCE(SUM(CASE WHEN status = 'purchase' THEN total_e4 END), 0) AS purchase_value_e4,
                   MIN(CASE WHEN status = 'purchase' THEN day END) AS first_day,
                   MIN(CASE WHEN status = 'purchase' THEN placed_at END) AS first_purchase_at,
                   MAX(CASE WHEN status = 'purchase' THEN placed_at END) AS last_purchase_at,
                   COALESCE(SUM(status = 'return'), 0) AS returns,
                   COALESCE(SUM(CASE WHEN status = 'return' THEN total_e4 END), 0) AS return_value_e4
              FROM (SELECT o.customer_id, o.status, o.day, o.placed_at,
                           (SELECT COALESCE(SUM(amount_e4), 0) FROM order_lines l WHERE l.order_id = o.id) AS total_e4
                      FROM orders o)
             GROUP BY customer_id),
         e AS (SELECT customer_id, COUNT(*) n, MAX(at) last FROM events GROUP BY 1),
         f AS (SELECT customer_id, COUNT(*) n, MAX(created_at) last FROM feedback GROUP BY 1),
         i AS (SELECT customer_id, COUNT(*) n, MAX(at) last FROM interactions GROUP BY 1)
         SELECT c.external_id, {COLUMNS_S},
                COALESCE(o.orders, 0), COALESCE(o.purchase_orders, 0), COALESCE(o.purchase_occasions, 0),
                COALESCE(o.purchase_value_e4, 0),
                COALESCE((SELECT SUM((SELECT COALESCE(SUM(amount_e4), 0) FROM order_lines l WHERE l.order_id = x.id))
                            FROM orders x WHERE x.customer_id = c.id AND x.status = 'purchase' AND x.day = o.first_day), 0),
                o.first_purchase_at, o.last_purchase_at, COALESCE(o.returns, 0), COALESCE(o.return_value_e4, 0),
                COALESCE(e.n, 0), e.last, COALESCE(f.n, 0), f.last, COALESCE(i.n, 0), i.last
           FROM customers c JOIN customer_summaries s ON s.customer_id = c.id
           LEFT JOIN o ON o.customer_id = c.id LEFT JOIN e ON e.customer_id = c.id
           LEFT JOIN f ON f.customer_id = c.id LEFT JOIN i ON i.customer_id = c.id
          ORDER BY c.id",
        COLUMNS_S = COLUMNS.split(',').map(|c| format!("s.{}", c.trim())).collect::<Vec<_>>().join(", ")
    );
    let mut stmt = c.prepare(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            let customer: String = r.get(0)?;
            Ok((customer, from_row(r, 1)?, from_row(r, 16)?))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (customer, stored, recomputed) = row.map_err(db_err)?;
        if stored != recomputed {
            let customer =
                ExternalId::parse(&customer).map_err(rapport_store::StoreError::Invalid)?;
            out.push(SummaryMismatch { customer, stored, recomputed });
        }
    }
    Ok(out)
}

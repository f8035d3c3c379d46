//! Keeping `customer_summaries` equal to what the raw rows say.
//!
//! Orders: a batch recomputes the order part of every customer it touched, from the `orders`
//! table, in one set-based statement (lines are never re-read: orders carry their total).
//! Recomputing rather than adjusting keeps updates exact: an order that moves to another day,
//! customer or status cannot leave a stale occasion count behind. Activity streams (events,
//! feedback, interactions) are append-mostly, so new rows add to the counters and only changed
//! rows trigger a recount.

use crate::{db_err, ext_id, get};
use rapport_core::{CustomerSummary, Money, Timestamp};
use rapport_store::{StoreResult, SummaryMismatch};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

/// Recomputes the order statistics of the given customers. Customers left without orders get
/// zeros and NULLs (the LEFT JOINs from the id list).
pub(crate) async fn recompute_orders(c: &mut PgConnection, customers: &[i64]) -> StoreResult<()> {
    if customers.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "WITH t AS (SELECT DISTINCT unnest($1::bigint[]) AS customer_id),
         o AS (
            SELECT customer_id,
                   COUNT(*) AS orders,
                   COUNT(*) FILTER (WHERE status = 'purchase') AS purchase_orders,
                   COUNT(DISTINCT day) FILTER (WHERE status = 'purchase') AS purchase_occasions,
                   SUM(total_e4) FILTER (WHERE status = 'purchase') AS purchase_value,
                   MIN(day) FILTER (WHERE status = 'purchase') AS first_day,
                   MIN(placed_at) FILTER (WHERE status = 'purchase') AS first_purchase_at,
                   MAX(placed_at) FILTER (WHERE status = 'purchase') AS last_purchase_at,
                   COUNT(*) FILTER (WHERE status = 'return') AS returns,
                   SUM(total_e4) FILTER (WHERE status = 'return') AS return_value
              FROM orders WHERE customer_id = ANY($1) GROUP BY customer_id),
         fd AS (
            SELECT x.customer_id, SUM(x.total_e4) AS value
              FROM orders x JOIN o ON o.customer_id = x.customer_id AND x.day = o.first_day
             WHERE x.status = 'purchase' GROUP BY x.customer_id)
         UPDATE customer_summaries s SET
            orders = COALESCE(o.orders, 0),
            purchase_orders = COALESCE(o.purchase_orders, 0),
            purchase_occasions = COALESCE(o.purchase_occasions, 0),
            purchase_value_e4 = COALESCE(o.purchase_value, 0)::bigint,
            first_day_value_e4 = COALESCE(fd.value, 0)::bigint,
            first_purchase_at = o.first_purchase_at,
            last_purchase_at = o.last_purchase_at,
            returns = COALESCE(o.returns, 0),
            return_value_e4 = COALESCE(o.return_value, 0)::bigint
           FROM t LEFT JOIN o ON o.customer_id = t.customer_id
                  LEFT JOIN fd ON fd.customer_id = t.customer_id
          WHERE s.customer_id = t.customer_id",
    )
    .bind(customers)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    Ok(())
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

/// Adds new rows to customers' counters: `(customer_id, rows, latest time)` each.
pub(crate) async fn bump(
    c: &mut PgConnection,
    s: Stream,
    bumps: Vec<(i64, i64, Timestamp)>,
) -> StoreResult<()> {
    if bumps.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE customer_summaries s SET {c} = s.{c} + b.n, {l} = GREATEST(s.{l}, b.last)
           FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[]) AS b(customer_id, n, last)
          WHERE s.customer_id = b.customer_id",
        c = s.count_col,
        l = s.last_col
    );
    let ids: Vec<i64> = bumps.iter().map(|b| b.0).collect();
    let ns: Vec<i64> = bumps.iter().map(|b| b.1).collect();
    let lasts: Vec<Timestamp> = bumps.iter().map(|b| b.2).collect();
    sqlx::query(AssertSqlSafe(sql))
        .bind(ids)
        .bind(ns)
        .bind(lasts)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(())
}

/// Recounts a stream for the given customers from its table.
pub(crate) async fn recount(c: &mut PgConnection, s: Stream, customers: &[i64]) -> StoreResult<()> {
    if customers.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE customer_summaries s SET ({c}, {l}) =
           (SELECT COUNT(*), MAX(x.{t}) FROM {tab} x WHERE x.customer_id = s.customer_id)
          WHERE s.customer_id = ANY($1)",
        c = s.count_col,
        l = s.last_col,
        t = s.time,
        tab = s.table
    );
    sqlx::query(AssertSqlSafe(sql)).bind(customers).execute(&mut *c).await.map_err(db_err)?;
    Ok(())
}

/// The summary columns, in the order [`from_row`] reads them.
pub(crate) const COLUMNS: &str = "s.orders, s.purchase_orders, s.purchase_occasions,
    s.purchase_value_e4, s.first_day_value_e4, s.first_purchase_at, s.last_purchase_at, s.returns,
    s.return_value_e4, s.events, s.last_event_at, s.feedback, s.last_feedback_at, s.interactions,
    s.last_interaction_at";

pub(crate) fn from_row(r: &PgRow, at: usize) -> StoreResult<CustomerSummary> {
    let t = |i: usize| get::<Option<Timestamp>>(r, at + i);
    let m = |i: usize| get::<i64>(r, at + i).map(Money::from_e4);
    let n = |i: usize| get::<i64>(r, at + i);
    Ok(CustomerSummary {
        orders: n(0)?,
        purchase_orders: n(1)?,
        purchase_occasions: n(2)?,
        purchase_value: m(3)?,
        first_day_value: m(4)?,
        first_purchase_at: t(5)?,
        last_purchase_at: t(6)?,
        returns: n(7)?,
        return_value: m(8)?,
        events: n(9)?,
        last_event_at: t(10)?,
        feedback: n(11)?,
        last_feedback_at: t(12)?,
        interactions: n(13)?,
        last_interaction_at: t(14)?,
    })
}

/// Every customer's summary recomputed from the raw tables in one pass (a second, set-based
/// statement of the definition that sums the lines themselves rather than the stored order
/// totals), compared with what is stored.
pub(crate) async fn verify(pool: &PgPool) -> StoreResult<Vec<SummaryMismatch>> {
    let sql = format!(
        "WITH lt AS (SELECT order_id, SUM(amount_e4) AS total FROM order_lines GROUP BY order_id),
         ot AS (SELECT x.customer_id, x.status, x.day, x.placed_at, COALESCE(lt.total, 0) AS total
                  FROM orders x LEFT JOIN lt ON lt.order_id = x.id),
         o AS (
            SELECT customer_id,
                   COUNT(*) AS orders,
                   COUNT(*) FILTER (WHERE status = 'purchase') AS purchase_orders,
                   COUNT(DISTINCT day) FILTER (WHERE status = 'purchase') AS purchase_occasions,
                   SUM(total) FILTER (WHERE status = 'purchase') AS purchase_value,
                   MIN(day) FILTER (WHERE status = 'purchase') AS first_day,
                   MIN(placed_at) FILTER (WHERE status = 'purchase') AS first_purchase_at,
                   MAX(placed_at) FILTER (WHERE status = 'purchase') AS last_purchase_at,
                   COUNT(*) FILTER (WHERE status = 'return') AS returns,
                   SUM(total) FILTER (WHERE status = 'return') AS return_value
              FROM ot GROUP BY customer_id),
         fd AS (
            SELECT ot.customer_id, SUM(ot.total) AS value
              FROM ot JOIN o ON o.customer_id = ot.customer_id AND ot.day = o.first_day
             WHERE ot.status = 'purchase' GROUP BY ot.customer_id),
         e AS (SELECT customer_id, COUNT(*) n, MAX(at) last FROM events GROUP BY 1),
         f AS (SELECT customer_id, COUNT(*) n, MAX(created_at) last FROM feedback GROUP BY 1),
         i AS (SELECT customer_id, COUNT(*) n, MAX(at) last FROM interactions GROUP BY 1)
         SELECT c.external_id, {COLUMNS},
                COALESCE(o.orders, 0), COALESCE(o.purchase_orders, 0),
                COALESCE(o.purchase_occasions, 0), COALESCE(o.purchase_value, 0)::bigint,
                COALESCE(fd.value, 0)::bigint, o.first_purchase_at, o.last_purchase_at,
                COALESCE(o.returns, 0), COALESCE(o.return_value, 0)::bigint,
                COALESCE(e.n, 0), e.last, COALESCE(f.n, 0), f.last, COALESCE(i.n, 0), i.last
           FROM customers c JOIN customer_summaries s ON s.customer_id = c.id
           LEFT JOIN o ON o.customer_id = c.id LEFT JOIN fd ON fd.customer_id = c.id
           LEFT JOIN e ON e.customer_id = c.id LEFT JOIN f ON f.customer_id = c.id
           LEFT JOIN i ON i.customer_id = c.id
          ORDER BY c.id"
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(pool).await.map_err(db_err)?;
    let mut out = Vec::new();
    for r in &rows {
        let (stored, recomputed) = (from_row(r, 1)?, from_row(r, 16)?);
        if stored != recomputed {
            out.push(SummaryMismatch { customer: ext_id(get(r, 0)?)?, stored, recomputed });
        }
    }
    Ok(out)
}

//! Reads: counts, summaries, and keyset-paginated export of every kind.

use crate::customers::{
    COMPANY_SELECT, CUSTOMER_COLUMNS, CUSTOMER_TABLES, PRODUCT_SELECT, company_from_row,
    customer_from_row, product_from_row,
};
use crate::summary::{COLUMNS, from_row};
use crate::{db_err, ext_id, get, invalid};
use futures_util::TryStreamExt;
use rapport_core::record::OrderRow;
use rapport_core::*;
use rapport_store::{
    CHUNK, Chunks, Counts, CustomerActivity, CustomerLabel, Kind, OccasionChunks, Page,
    PurchaseDay, PurchaseHistory, Rating, Record, StoreError, StoreResult, SummaryRow,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, Executor, PgPool, Postgres, Transaction};
use std::collections::HashMap;

pub(crate) async fn counts(pool: &PgPool) -> StoreResult<Counts> {
    let r = sqlx::query(
        "SELECT
        (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM companies),
        (SELECT COUNT(*) FROM products), (SELECT COUNT(*) FROM orders),
        (SELECT COUNT(*) FROM order_lines), (SELECT COUNT(*) FROM events),
        (SELECT COUNT(*) FROM interactions), (SELECT COUNT(*) FROM feedback),
        (SELECT COUNT(*) FROM consents),
        (SELECT COUNT(*) FROM orders WHERE status = 'purchase'),
        (SELECT COUNT(*) FROM orders WHERE status = 'return'),
        (SELECT COUNT(*) FROM orders WHERE status = 'cancelled'),
        (SELECT COUNT(*) FROM customer_summaries WHERE purchase_orders > 0),
        (SELECT COALESCE(SUM(l.amount_e4), 0)::bigint
           FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'purchase'),
        (SELECT COALESCE(SUM(purchase_value_e4), 0)::bigint FROM customer_summaries),
        (SELECT COALESCE(SUM(l.amount_e4), 0)::bigint
           FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE o.status = 'return')",
    )
    .fetch_one(pool)
    .await
    .map_err(db_err)?;
    Ok(Counts {
        customers: get(&r, 0)?,
        companies: get(&r, 1)?,
        products: get(&r, 2)?,
        orders: get(&r, 3)?,
        order_lines: get(&r, 4)?,
        events: get(&r, 5)?,
        interactions: get(&r, 6)?,
        feedback: get(&r, 7)?,
        consents: get(&r, 8)?,
        purchase_orders: get(&r, 9)?,
        return_orders: get(&r, 10)?,
        cancelled_orders: get(&r, 11)?,
        customers_with_purchases: get(&r, 12)?,
        purchase_value: Money::from_e4(get(&r, 13)?),
        summarised_purchase_value: Money::from_e4(get(&r, 14)?),
        return_value: Money::from_e4(get(&r, 15)?),
    })
}

pub(crate) async fn customer_summary(
    pool: &PgPool,
    customer: &ExternalId,
) -> StoreResult<CustomerSummary> {
    let sql = format!(
        "SELECT {COLUMNS} FROM customer_summaries s JOIN customers c ON c.id = s.customer_id
          WHERE c.external_id = $1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(customer.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("customer '{customer}'")))?;
    from_row(&row, 0)
}

pub(crate) async fn summaries(
    pool: &PgPool,
    after: Option<i64>,
    limit: usize,
) -> StoreResult<Page<SummaryRow>> {
    let sql = format!(
        "SELECT c.id, c.external_id, c.name, {COLUMNS}
           FROM customer_summaries s JOIN customers c ON c.id = s.customer_id
          WHERE c.id > $1 ORDER BY c.id LIMIT $2"
    );
    page(pool, sql, after, limit, |r| {
        let key = get(r, 0)?;
        let row =
            SummaryRow { key, id: ext_id(get(r, 1)?)?, name: get(r, 2)?, summary: from_row(r, 3)? };
        Ok((key, row))
    })
    .await
}

pub(crate) async fn purchase_histories(pool: &PgPool) -> StoreResult<Vec<PurchaseHistory>> {
    type Row = (i64, Option<Timestamp>, Option<Timestamp>, i64, i64, i64);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT customer_id, first_purchase_at, last_purchase_at, purchase_occasions,
                purchase_value_e4, first_day_value_e4
           FROM customer_summaries WHERE purchase_occasions > 0 ORDER BY customer_id",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .filter_map(|(key, first, last, occasions, value, first_day)| {
            PurchaseHistory::from_summary(key, first, last, occasions, value, first_day)
        })
        .collect())
}

pub(crate) async fn last_purchase_at(pool: &PgPool) -> StoreResult<Option<Timestamp>> {
    // The expression is the one of the summaries_sort_last_purchase index, which answers it.
    let latest: Option<(Option<Timestamp>,)> = sqlx::query_as(
        "SELECT last_purchase_at FROM customer_summaries
          ORDER BY COALESCE(last_purchase_at, '-infinity'::timestamptz) DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    Ok(latest.and_then(|r| r.0))
}

pub(crate) async fn activities(pool: &PgPool) -> StoreResult<Vec<CustomerActivity>> {
    type Row = (i64, Option<Timestamp>, Option<Timestamp>, i64, i64, i64, Option<Timestamp>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT customer_id, first_purchase_at, last_purchase_at, purchase_occasions,
                purchase_value_e4, first_day_value_e4, last_event_at
           FROM customer_summaries ORDER BY customer_id",
    )
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows
        .into_iter()
        .map(|(key, first, last, occasions, value, first_day, last_event_at)| {
            let history =
                PurchaseHistory::from_summary(key, first, last, occasions, value, first_day);
            CustomerActivity { key, history, last_event_at }
        })
        .collect())
}

pub(crate) async fn customer_labels(
    pool: &PgPool,
    keys: &[i64],
) -> StoreResult<Vec<CustomerLabel>> {
    let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
        "SELECT id, external_id, name FROM customers WHERE id = ANY($1) ORDER BY id",
    )
    .bind(keys)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    rows.into_iter()
        .map(|(key, id, name)| Ok(CustomerLabel { key, id: ext_id(id)?, name }))
        .collect()
}

/// Sends the purchase days in (customer, day) order, in chunks, from a task of its own.
pub(crate) fn purchase_day_chunks(pool: PgPool) -> Chunks<PurchaseDay> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let rows = sqlx::query_as::<_, (i64, i64, i64)>(
            "SELECT customer_id, day, SUM(total_e4)::bigint FROM orders WHERE status = 'purchase'
              GROUP BY customer_id, day ORDER BY customer_id, day",
        )
        .fetch(&pool);
        let day = |(customer, day, value): (i64, i64, i64)| PurchaseDay {
            customer,
            day,
            value: Money::from_e4(value),
        };
        send_chunks(rows, day, &tx).await;
    });
    rx
}

/// Sends the occasions in chunks from a task of its own; the caller gets the receiver at once.
pub(crate) fn purchase_occasion_chunks(pool: PgPool, from_day: Option<i64>) -> OccasionChunks {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let rows = sqlx::query_as::<_, (i64, i64)>(
            "SELECT DISTINCT customer_id, day FROM orders WHERE status = 'purchase' AND day >= $1
              ORDER BY customer_id, day",
        )
        .bind(from_day.unwrap_or(i64::MIN))
        .fetch(&pool);
        send_chunks(rows, |r| r, &tx).await;
    });
    rx
}

/// Sends rows in chunks of [`CHUNK`], an error as the last item; stops early when nobody
/// listens.
async fn send_chunks<R, T>(
    mut rows: impl futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin,
    map: impl Fn(R) -> T,
    tx: &tokio::sync::mpsc::Sender<StoreResult<Vec<T>>>,
) {
    let mut chunk = Vec::with_capacity(CHUNK);
    loop {
        match rows.try_next().await {
            Ok(Some(row)) => {
                chunk.push(map(row));
                if chunk.len() == CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    if tx.send(Ok(full)).await.is_err() {
                        return;
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.send(Err(db_err(e))).await;
                return;
            }
        }
    }
    if !chunk.is_empty() {
        let _ = tx.send(Ok(chunk)).await;
    }
}

pub(crate) async fn feedback_sentiment(
    pool: &PgPool,
    since: Timestamp,
) -> StoreResult<Vec<(i64, f64, u32)>> {
    let rows: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT customer_id, SUM(sentiment_e4)::bigint, COUNT(*) FROM feedback
          WHERE sentiment_e4 IS NOT NULL AND created_at >= $1 GROUP BY customer_id",
    )
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(|(key, sum, n)| (key, sum as f64 / 1e4 / n as f64, n as u32)).collect())
}

pub(crate) async fn ratings(pool: &PgPool, source: &str) -> StoreResult<Vec<Rating>> {
    let rows: Vec<(i64, Timestamp, i16)> = sqlx::query_as(
        "SELECT customer_id, created_at, rating::smallint FROM feedback
          WHERE source = $1 AND rating IS NOT NULL",
    )
    .bind(source)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(|(customer, at, rating)| Rating { customer, at, rating }).collect())
}

pub(crate) async fn interaction_counts(
    pool: &PgPool,
    channel: Channel,
    since: Timestamp,
) -> StoreResult<Vec<(i64, u32)>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT customer_id, COUNT(*) FROM interactions WHERE channel = $1 AND at >= $2
          GROUP BY customer_id",
    )
    .bind(channel.as_str())
    .bind(since)
    .fetch_all(pool)
    .await
    .map_err(db_err)?;
    Ok(rows.into_iter().map(|(c, n)| (c, u32::try_from(n).unwrap_or(u32::MAX))).collect())
}

/// Runs a keyset query (`$1` = after, `$2` = limit) whose mapper returns (key, item).
async fn page<'c, T>(
    ex: impl Executor<'c, Database = Postgres>,
    sql: String,
    after: Option<i64>,
    limit: usize,
    f: impl Fn(&PgRow) -> StoreResult<(i64, T)>,
) -> StoreResult<Page<T>> {
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(after.unwrap_or(i64::MIN))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(ex)
        .await
        .map_err(db_err)?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for r in &rows {
        let (key, item) = f(r)?;
        last = Some(key);
        items.push(item);
    }
    let next = if items.len() == limit { last } else { None };
    Ok(Page { items, next })
}

pub(crate) fn parse<T>(
    r: &PgRow,
    i: usize,
    f: fn(&str) -> Result<T, String>,
    what: &str,
) -> StoreResult<T> {
    f(&get::<String>(r, i)?).map_err(|e| invalid(what, e))
}

/// Selected columns and tables of each activity stream (the internal id first), for export and
/// the timeline; `x` is the stream's table.
pub(crate) const EVENT_FROM: &str = "x.id, x.external_id, c.external_id, x.name, x.at,
    x.properties::text FROM events x JOIN customers c ON c.id = x.customer_id";
pub(crate) const INTERACTION_FROM: &str = "x.id, x.external_id, c.external_id, x.channel,
    x.direction, x.subject, x.body, x.at FROM interactions x JOIN customers c ON c.id = x.customer_id";
pub(crate) const FEEDBACK_FROM: &str = "x.id, x.external_id, c.external_id, x.source, x.text,
    x.rating, x.created_at FROM feedback x JOIN customers c ON c.id = x.customer_id";
pub(crate) const CONSENT_FROM: &str = "x.id, x.external_id, c.external_id, x.purpose, x.granted,
    x.source, x.at FROM consents x JOIN customers c ON c.id = x.customer_id";

pub(crate) fn event_from_row(r: &PgRow) -> StoreResult<(i64, Event)> {
    let props: String = get(r, 5)?;
    let properties =
        serde_json::from_str(&props).map_err(|e| invalid("event properties", e.to_string()))?;
    let e = Event {
        id: ext_id(get(r, 1)?)?,
        customer: ext_id(get(r, 2)?)?,
        name: get(r, 3)?,
        at: get(r, 4)?,
        properties,
    };
    Ok((get(r, 0)?, e))
}

pub(crate) fn interaction_from_row(r: &PgRow) -> StoreResult<(i64, Interaction)> {
    let i = Interaction {
        id: ext_id(get(r, 1)?)?,
        customer: ext_id(get(r, 2)?)?,
        channel: parse(r, 3, Channel::parse, "channel")?,
        direction: parse(r, 4, Direction::parse, "direction")?,
        subject: get(r, 5)?,
        body: get(r, 6)?,
        at: get(r, 7)?,
    };
    Ok((get(r, 0)?, i))
}

pub(crate) fn feedback_from_row(r: &PgRow) -> StoreResult<(i64, Feedback)> {
    let f = Feedback {
        id: ext_id(get(r, 1)?)?,
        customer: ext_id(get(r, 2)?)?,
        source: get(r, 3)?,
        text: get(r, 4)?,
        rating: get(r, 5)?,
        created_at: get(r, 6)?,
    };
    Ok((get(r, 0)?, f))
}

pub(crate) fn consent_from_row(r: &PgRow) -> StoreResult<(i64, Consent)> {
    let c = Consent {
        id: ext_id(get(r, 1)?)?,
        customer: ext_id(get(r, 2)?)?,
        purpose: parse(r, 3, Purpose::parse, "purpose")?,
        granted: get(r, 4)?,
        source: get(r, 5)?,
        at: get(r, 6)?,
    };
    Ok((get(r, 0)?, c))
}

pub(crate) async fn export(
    pool: &PgPool,
    kind: Kind,
    after: Option<i64>,
    limit: usize,
) -> StoreResult<Page<Record>> {
    let keyset = "WHERE x.id > $1 ORDER BY x.id LIMIT $2";
    let sql = |from: &str| format!("SELECT {from} {keyset}");
    match kind {
        Kind::Customers => {
            let sql = format!(
                "SELECT {CUSTOMER_COLUMNS} FROM {CUSTOMER_TABLES}
                  WHERE c.id > $1 ORDER BY c.id LIMIT $2"
            );
            page(pool, sql, after, limit, |r| {
                customer_from_row(r).map(|(k, v)| (k, Record::Customer(v)))
            })
            .await
        }
        Kind::Companies => {
            let sql = format!("{COMPANY_SELECT} x {keyset}");
            page(pool, sql, after, limit, |r| {
                company_from_row(r).map(|(k, v)| (k, Record::Company(v)))
            })
            .await
        }
        Kind::Products => {
            let sql = format!("{PRODUCT_SELECT} x {keyset}");
            page(pool, sql, after, limit, |r| {
                product_from_row(r).map(|(k, v)| (k, Record::Product(v)))
            })
            .await
        }
        Kind::Orders => export_orders(pool, after, limit).await,
        Kind::Events => {
            let map = |r: &PgRow| event_from_row(r).map(|(k, v)| (k, Record::Event(v)));
            page(pool, sql(EVENT_FROM), after, limit, map).await
        }
        Kind::Interactions => {
            let map = |r: &PgRow| interaction_from_row(r).map(|(k, v)| (k, Record::Interaction(v)));
            page(pool, sql(INTERACTION_FROM), after, limit, map).await
        }
        Kind::Feedback => {
            let map = |r: &PgRow| feedback_from_row(r).map(|(k, v)| (k, Record::Feedback(v)));
            page(pool, sql(FEEDBACK_FROM), after, limit, map).await
        }
        Kind::Consents => {
            let map = |r: &PgRow| consent_from_row(r).map(|(k, v)| (k, Record::Consent(v)));
            page(pool, sql(CONSENT_FROM), after, limit, map).await
        }
    }
}

/// A read-only transaction on one snapshot, for reads made of several queries that must agree
/// with each other (a concurrent batch commits either wholly before or wholly after).
pub(crate) async fn snapshot(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await.map_err(db_err)
}

/// Orders export one row per line with the header repeated (one header-only row for an order
/// without lines). The page cursor is the order id, so a page never splits an order. The lines
/// of a whole page are read with one query, in the same snapshot as the heads.
async fn export_orders(
    pool: &PgPool,
    after: Option<i64>,
    limit: usize,
) -> StoreResult<Page<Record>> {
    let mut tx = snapshot(pool).await?;
    let sql = "SELECT x.id, x.external_id, c.external_id, x.placed_at, x.currency, x.status
                 FROM orders x JOIN customers c ON c.id = x.customer_id
                WHERE x.id > $1 ORDER BY x.id LIMIT $2";
    let heads = page(&mut *tx, sql.to_string(), after, limit, |r| {
        let head = OrderRow {
            order: ext_id(get(r, 1)?)?,
            customer: Some(ext_id(get(r, 2)?)?),
            placed_at: Some(get(r, 3)?),
            currency: Some(parse(r, 4, Currency::parse, "currency")?),
            status: Some(parse(r, 5, OrderStatus::parse, "order status")?),
            line: None,
        };
        Ok((get(r, 0)?, (get::<i64>(r, 0)?, head)))
    })
    .await?;
    let ids: Vec<i64> = heads.items.iter().map(|(id, _)| *id).collect();
    let rows = sqlx::query(
        "SELECT order_id, sku, quantity, unit_price_e4, amount_e4 FROM order_lines
          WHERE order_id = ANY($1) ORDER BY order_id, line_no",
    )
    .bind(&ids)
    .fetch_all(&mut *tx)
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    let mut lines: HashMap<i64, Vec<OrderLine>> = HashMap::new();
    for r in &rows {
        let line = OrderLine {
            sku: get::<Option<String>>(r, 1)?.map(ext_id).transpose()?,
            quantity: get(r, 2)?,
            unit_price: Money::from_e4(get(r, 3)?),
            amount: Money::from_e4(get(r, 4)?),
        };
        lines.entry(get(r, 0)?).or_default().push(line);
    }
    let mut items = Vec::with_capacity(rows.len() + heads.items.len());
    for (order_id, head) in heads.items {
        match lines.remove(&order_id) {
            None => items.push(Record::OrderRow(head)),
            Some(ls) => items.extend(
                ls.into_iter()
                    .map(|l| Record::OrderRow(OrderRow { line: Some(l), ..head.clone() })),
            ),
        }
    }
    Ok(Page { items, next: heads.next })
}

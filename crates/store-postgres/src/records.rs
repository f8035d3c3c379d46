//! The record API (every kind but customers): one table descriptor per kind drives the list,
//! get and delete SQL, and rows are read with the export's decoders. The same behaviour as the
//! SQLite store's `records.rs`, pinned by the shared `story_records` suite. Deletions run in
//! the caller's write transaction and bring the customer's summary up to date there.

use crate::customers::{COMPANY_SELECT, PRODUCT_SELECT, company_from_row, product_from_row};
use crate::read::{
    CONSENT_FROM, EVENT_FROM, FEEDBACK_FROM, INTERACTION_FROM, consent_from_row, event_from_row,
    feedback_from_row, interaction_from_row, parse, snapshot,
};
use crate::summary::{EVENTS, FEEDBACK, INTERACTIONS, Stream, recompute_orders, recount};
use crate::{db_err, ext_id, get, orders};
use rapport_core::*;
use rapport_store::{
    Entity, FilterValue, IngestOptions, Kind, ListPage, OrderDetail, OrderGroup, RecordQuery,
    RecordSort, RowOutcome, StoreError, StoreResult, not_a_record_kind, record_not_found,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, QueryBuilder};
use std::collections::HashMap;

type Decode = fn(&PgRow) -> StoreResult<(i64, Entity)>;

/// Where a kind's records live and how they are read.
struct Table {
    /// `SELECT <internal id first> FROM <table> x [JOIN customers c ...]`.
    select: String,
    table: &'static str,
    /// The external id column (`sku` for products).
    ext_col: &'static str,
    decode: Decode,
    /// The summary stream a deletion recounts (orders are recomputed instead).
    stream: Option<Stream>,
}

const ORDER_FROM: &str = "x.id, x.external_id, c.external_id, x.placed_at, x.currency, x.status,
    x.total_e4 FROM orders x JOIN customers c ON c.id = x.customer_id";

fn table(kind: Kind) -> StoreResult<Table> {
    let t = |select: String, table, ext_col, decode, stream| Table {
        select,
        table,
        ext_col,
        decode,
        stream,
    };
    let from = |f: &str| format!("SELECT {f}");
    Ok(match kind {
        Kind::Customers => return Err(not_a_record_kind(kind)),
        Kind::Companies => t(
            format!("{COMPANY_SELECT} x"),
            "companies",
            "external_id",
            |r| company_from_row(r).map(|(k, v)| (k, Entity::Company(v))),
            None,
        ),
        Kind::Products => t(
            format!("{PRODUCT_SELECT} x"),
            "products",
            "sku",
            |r| product_from_row(r).map(|(k, v)| (k, Entity::Product(v))),
            None,
        ),
        Kind::Orders => t(from(ORDER_FROM), "orders", "external_id", order_from_row, None),
        Kind::Events => t(
            from(EVENT_FROM),
            "events",
            "external_id",
            |r| event_from_row(r).map(|(k, v)| (k, Entity::Event(v))),
            Some(EVENTS),
        ),
        Kind::Interactions => t(
            from(INTERACTION_FROM),
            "interactions",
            "external_id",
            |r| interaction_from_row(r).map(|(k, v)| (k, Entity::Interaction(v))),
            Some(INTERACTIONS),
        ),
        Kind::Feedback => t(
            from(FEEDBACK_FROM),
            "feedback",
            "external_id",
            |r| feedback_from_row(r).map(|(k, v)| (k, Entity::Feedback(v))),
            Some(FEEDBACK),
        ),
        Kind::Consents => t(
            from(CONSENT_FROM),
            "consents",
            "external_id",
            |r| consent_from_row(r).map(|(k, v)| (k, Entity::Consent(v))),
            None,
        ),
    })
}

/// An order head; its lines are read by [`fill_lines`].
fn order_from_row(r: &PgRow) -> StoreResult<(i64, Entity)> {
    let order = Order {
        id: ext_id(get(r, 1)?)?,
        customer: ext_id(get(r, 2)?)?,
        placed_at: get(r, 3)?,
        currency: parse(r, 4, Currency::parse, "currency")?,
        status: parse(r, 5, OrderStatus::parse, "order status")?,
    };
    let total = Money::from_e4(get(r, 6)?);
    Ok((get(r, 0)?, Entity::Order(OrderDetail { order, total, lines: Vec::new() })))
}

/// Reads the lines of the orders among `rows` with one query.
async fn fill_lines(c: &mut PgConnection, rows: &mut [(i64, Entity)]) -> StoreResult<()> {
    let ids: Vec<i64> =
        rows.iter().filter(|(_, e)| matches!(e, Entity::Order(_))).map(|(id, _)| *id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    let found = sqlx::query(
        "SELECT order_id, sku, quantity, unit_price_e4, amount_e4 FROM order_lines
          WHERE order_id = ANY($1) ORDER BY order_id, line_no",
    )
    .bind(&ids)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let mut lines: HashMap<i64, Vec<OrderLine>> = HashMap::new();
    for r in &found {
        let line = OrderLine {
            sku: get::<Option<String>>(r, 1)?.map(ext_id).transpose()?,
            quantity: get(r, 2)?,
            unit_price: Money::from_e4(get(r, 3)?),
            amount: Money::from_e4(get(r, 4)?),
        };
        lines.entry(get(r, 0)?).or_default().push(line);
    }
    for (id, e) in rows {
        if let Entity::Order(o) = e {
            o.lines = lines.remove(id).unwrap_or_default();
        }
    }
    Ok(())
}

/// Appends the WHERE clause of a list query: filters, then the keyset position.
fn push_conditions(b: &mut QueryBuilder<Postgres>, q: &RecordQuery) {
    let mut sep = " WHERE ";
    let mut next = |b: &mut QueryBuilder<Postgres>, sql: String| {
        b.push(sep).push(sql);
        sep = " AND ";
    };
    if let Some(customer) = &q.customer {
        next(b, "x.customer_id = (SELECT id FROM customers WHERE external_id = ".into());
        b.push_bind(customer.to_string()).push(")");
    }
    let time = q.kind.time_field().unwrap_or("id");
    for (bound, op) in [(q.from, ">="), (q.to, "<")] {
        if let Some(t) = bound {
            next(b, format!("x.{time} {op} "));
            b.push_bind(t);
        }
    }
    for f in &q.filters {
        match f.value() {
            // PostgreSQL text cannot hold NUL: such a value matches nothing (and must not be sent).
            FilterValue::Text(t) if t.contains('\0') => next(b, "FALSE".into()),
            FilterValue::Text(t) => {
                next(b, format!("x.{} = ", f.field()));
                b.push_bind(t.to_string());
            }
            FilterValue::Bool(v) => {
                next(b, format!("x.{} = ", f.field()));
                b.push_bind(v);
            }
            FilterValue::Words(words) => {
                // Letters and digits only, so each quoted word is a plain lexeme.
                let query: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
                next(b, "x.search @@ to_tsquery('simple', ".into());
                b.push_bind(query.join(" & ")).push(")");
            }
        }
    }
    let cmp = if q.descending { "<" } else { ">" };
    match (q.after, q.sort) {
        (None, _) => {}
        (Some(a), RecordSort::Time) => {
            next(b, format!("(x.{time}, x.id) {cmp} ("));
            b.push_bind(a.time).push(", ").push_bind(a.id).push(")");
        }
        (Some(a), RecordSort::Id) => {
            next(b, format!("x.id {cmp} "));
            b.push_bind(a.id);
        }
    }
}

pub(crate) async fn list(pool: &PgPool, q: &RecordQuery) -> StoreResult<ListPage<Entity>> {
    q.check()?;
    let t = table(q.kind)?;
    let mut b = QueryBuilder::new(t.select.clone());
    push_conditions(&mut b, q);
    let dir = if q.descending { "DESC" } else { "ASC" };
    b.push(match (q.sort, q.kind.time_field()) {
        (RecordSort::Time, Some(time)) => format!(" ORDER BY x.{time} {dir}, x.id {dir} LIMIT "),
        _ => format!(" ORDER BY x.id {dir} LIMIT "),
    });
    b.push_bind(i64::try_from(q.limit).unwrap_or(i64::MAX));
    // Heads and lines from one snapshot, so a concurrent batch is seen wholly or not at all.
    let mut tx = snapshot(pool).await?;
    let found = b.build().fetch_all(&mut *tx).await.map_err(db_err)?;
    let mut rows = found.iter().map(t.decode).collect::<StoreResult<Vec<_>>>()?;
    fill_lines(&mut tx, &mut rows).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(q.page(rows))
}

pub(crate) async fn one(pool: &PgPool, kind: Kind, id: &ExternalId) -> StoreResult<Entity> {
    let t = table(kind)?;
    let sql = format!("{} WHERE x.{} = $1", t.select, t.ext_col);
    let mut tx = snapshot(pool).await?;
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| record_not_found(kind, id))?;
    let mut rows = [(t.decode)(&row)?];
    fill_lines(&mut tx, &mut rows).await?;
    tx.commit().await.map_err(db_err)?;
    let [(_, e)] = rows;
    Ok(e)
}

pub(crate) async fn delete(c: &mut PgConnection, kind: Kind, id: &ExternalId) -> StoreResult<()> {
    let t = table(kind)?;
    let customer_col = if kind.has_customer() { "customer_id" } else { "NULL::bigint" };
    let sql = format!("SELECT id, {customer_col} FROM {} WHERE {} = $1", t.table, t.ext_col);
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| record_not_found(kind, id))?;
    let (row_id, customer): (i64, Option<i64>) = (get(&row, 0)?, get(&row, 1)?);
    let first = match kind {
        Kind::Orders => Some("DELETE FROM order_lines WHERE order_id = $1"),
        // Members stay, without a company.
        Kind::Companies => Some("UPDATE customers SET company_id = NULL WHERE company_id = $1"),
        // The item stops being evidence for ideas (and its customer's request through it).
        Kind::Feedback => Some("DELETE FROM idea_feedback WHERE feedback_id = $1"),
        _ => None,
    };
    let last = format!("DELETE FROM {} WHERE id = $1", t.table);
    for sql in first.into_iter().map(str::to_string).chain([last]) {
        sqlx::query(AssertSqlSafe(sql)).bind(row_id).execute(&mut *c).await.map_err(db_err)?;
    }
    match (kind, customer, t.stream) {
        (Kind::Orders, Some(cu), _) => recompute_orders(c, &[cu]).await,
        (_, Some(cu), Some(stream)) => recount(c, stream, &[cu]).await,
        _ => Ok(()),
    }
}

/// Ingests the order, then removes stored lines beyond the group's.
pub(crate) async fn replace_order(
    c: &mut PgConnection,
    group: &OrderGroup,
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    if group.first_line_no != 1 || group.rows.is_empty() {
        let why = format!("order '{}': a replacement is rows from line 1", group.order);
        return Err(StoreError::Invalid(why));
    }
    let out = orders::ingest(c, std::slice::from_ref(group), o).await?;
    if out.iter().any(|r| matches!(r, RowOutcome::Rejected(_))) {
        return Ok(out);
    }
    let row = sqlx::query("SELECT id, customer_id FROM orders WHERE external_id = $1")
        .bind(group.order.as_str())
        .fetch_one(&mut *c)
        .await
        .map_err(db_err)?;
    let (order_id, customer): (i64, i64) = (get(&row, 0)?, get(&row, 1)?);
    let lines = group.rows.iter().filter(|r| r.line.is_some()).count() as i64;
    let removed = sqlx::query("DELETE FROM order_lines WHERE order_id = $1 AND line_no > $2")
        .bind(order_id)
        .bind(lines)
        .execute(&mut *c)
        .await
        .map_err(db_err)?
        .rows_affected();
    if removed > 0 {
        sqlx::query(
            "UPDATE orders SET total_e4 =
               (SELECT COALESCE(SUM(amount_e4), 0)::bigint FROM order_lines WHERE order_id = $1)
             WHERE id = $1",
        )
        .bind(order_id)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        recompute_orders(c, &[customer]).await?;
    }
    Ok(out)
}

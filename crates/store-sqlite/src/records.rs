//! The record API (every kind but customers): one table descriptor per kind drives the list,
//! get and delete SQL, and rows are read with the export's mappers. Deletions bring the
//! customer's summary up to date in the same transaction, as ingest does.

use crate::customers::{COMPANY_SELECT, PRODUCT_SELECT, company_from_row, product_from_row};
use crate::read::{
    CONSENT_FROM, EVENT_FROM, FEEDBACK_FROM, INTERACTION_FROM, consent_from_row, conv,
    event_from_row, ext, feedback_from_row, interaction_from_row,
};
use crate::summary::{EVENTS, FEEDBACK, INTERACTIONS, Stream, recompute_orders, recount};
use crate::{db_err, orders};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::*;
use rapport_store::{
    Entity, FilterValue, IngestOptions, Kind, ListPage, OrderDetail, OrderGroup, RecordQuery,
    RecordSort, RowOutcome, StoreError, StoreResult, not_a_record_kind, record_not_found,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params_from_iter};

type Mapper = fn(&Row<'_>) -> rusqlite::Result<(i64, Entity)>;

/// Where a kind's records live and how they are read.
struct Table {
    /// `SELECT <internal id first> FROM <table> x [JOIN customers c ...]`.
    select: String,
    table: &'static str,
    /// The external id column (`sku` for products).
    ext_col: &'static str,
    map: Mapper,
    /// The summary stream a deletion recounts (orders are recomputed instead).
    stream: Option<Stream>,
}

const ORDER_FROM: &str = "x.id, x.external_id, c.external_id, x.placed_at, x.currency, x.status,
    x.total_e4 FROM orders x JOIN customers c ON c.id = x.customer_id";

fn table(kind: Kind) -> StoreResult<Table> {
    let t =
        |select: String, table, ext_col, map, stream| Table { select, table, ext_col, map, stream };
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
fn order_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Entity)> {
    let order = Order {
        id: ext(r, 1)?,
        customer: ext(r, 2)?,
        placed_at: from_micros(r.get(3)?),
        currency: Currency::parse(&r.get::<_, String>(4)?).map_err(conv)?,
        status: OrderStatus::parse(&r.get::<_, String>(5)?).map_err(conv)?,
    };
    let total = Money::from_e4(r.get(6)?);
    Ok((r.get(0)?, Entity::Order(OrderDetail { order, total, lines: Vec::new() })))
}

fn fill_lines(c: &Connection, rows: &mut [(i64, Entity)]) -> StoreResult<()> {
    let mut stmt = c
        .prepare_cached(
            "SELECT sku, quantity, unit_price_e4, amount_e4 FROM order_lines
              WHERE order_id = ?1 ORDER BY line_no",
        )
        .map_err(db_err)?;
    for (order_id, e) in rows {
        let Entity::Order(o) = e else { continue };
        o.lines = stmt
            .query_map([*order_id], |r| {
                Ok(OrderLine {
                    sku: r
                        .get::<_, Option<String>>(0)?
                        .map(|s| ExternalId::parse(&s))
                        .transpose()
                        .map_err(conv)?,
                    quantity: r.get(1)?,
                    unit_price: Money::from_e4(r.get(2)?),
                    amount: Money::from_e4(r.get(3)?),
                })
            })
            .map_err(db_err)?
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
    }
    Ok(())
}

/// The WHERE conditions and their arguments of a list query.
fn conditions(q: &RecordQuery) -> (Vec<String>, Vec<Value>) {
    let mut conds = Vec::new();
    let mut args = Vec::new();
    if let Some(customer) = &q.customer {
        conds.push("x.customer_id = (SELECT id FROM customers WHERE external_id = ?)".to_string());
        args.push(Value::Text(customer.to_string()));
    }
    let time = q.kind.time_field().unwrap_or("id");
    for (bound, op) in [(q.from, ">="), (q.to, "<")] {
        if let Some(t) = bound {
            conds.push(format!("x.{time} {op} ?"));
            args.push(Value::Integer(to_micros(t)));
        }
    }
    for f in &q.filters {
        if let FilterValue::Words(words) = f.value() {
            // Each word quoted: a word alone, never FTS5 query syntax.
            conds.push(
                "x.id IN (SELECT rowid & 17179869183 FROM feedback_fts WHERE feedback_fts MATCH ?)"
                    .into(),
            );
            let quoted: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
            args.push(Value::Text(quoted.join(" ")));
            continue;
        }
        conds.push(format!("x.{} = ?", f.field()));
        args.push(match f.value() {
            FilterValue::Text(t) => Value::Text(t.to_string()),
            FilterValue::Bool(b) => Value::Integer(b.into()),
            FilterValue::Words(_) => unreachable!("handled above"),
        });
    }
    let cmp = if q.descending { "<" } else { ">" };
    match (q.after, q.sort) {
        (None, _) => {}
        (Some(a), RecordSort::Time) => {
            conds.push(format!("(x.{time}, x.id) {cmp} (?, ?)"));
            args.push(Value::Integer(a.time.map(to_micros).unwrap_or(i64::MIN)));
            args.push(Value::Integer(a.id));
        }
        (Some(a), RecordSort::Id) => {
            conds.push(format!("x.id {cmp} ?"));
            args.push(Value::Integer(a.id));
        }
    }
    (conds, args)
}

pub(crate) fn list(c: &Connection, q: &RecordQuery) -> StoreResult<ListPage<Entity>> {
    q.check()?;
    let t = table(q.kind)?;
    let (conds, args) = conditions(q);
    let where_ =
        if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
    let dir = if q.descending { "DESC" } else { "ASC" };
    let order = match (q.sort, q.kind.time_field()) {
        (RecordSort::Time, Some(time)) => format!("x.{time} {dir}, x.id {dir}"),
        _ => format!("x.id {dir}"),
    };
    let sql = format!("{} {where_} ORDER BY {order} LIMIT {}", t.select, q.limit);
    // Heads and lines from one snapshot, so a concurrent write is seen wholly or not at all.
    let tx = c.unchecked_transaction().map_err(db_err)?;
    let mut rows = tx
        .prepare_cached(&sql)
        .map_err(db_err)?
        .query_map(params_from_iter(args), t.map)
        .map_err(db_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    fill_lines(&tx, &mut rows)?;
    tx.finish().map_err(db_err)?;
    Ok(q.page(rows))
}

pub(crate) fn one(c: &Connection, kind: Kind, id: &ExternalId) -> StoreResult<Entity> {
    let t = table(kind)?;
    let sql = format!("{} WHERE x.{} = ?1", t.select, t.ext_col);
    let tx = c.unchecked_transaction().map_err(db_err)?;
    let row = tx
        .prepare_cached(&sql)
        .map_err(db_err)?
        .query_row([id.as_str()], t.map)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| record_not_found(kind, id))?;
    let mut rows = [row];
    fill_lines(&tx, &mut rows)?;
    tx.finish().map_err(db_err)?;
    let [(_, e)] = rows;
    Ok(e)
}

pub(crate) fn delete(tx: &Transaction<'_>, kind: Kind, id: &ExternalId) -> StoreResult<()> {
    let t = table(kind)?;
    let customer_col = if kind.has_customer() { "customer_id" } else { "NULL" };
    let sql = format!("SELECT id, {customer_col} FROM {} WHERE {} = ?1", t.table, t.ext_col);
    let (row_id, customer): (i64, Option<i64>) = tx
        .prepare_cached(&sql)
        .map_err(db_err)?
        .query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| record_not_found(kind, id))?;
    let exec = |sql: &str| -> StoreResult<usize> {
        tx.prepare_cached(sql).map_err(db_err)?.execute([row_id]).map_err(db_err)
    };
    match kind {
        Kind::Orders => {
            exec("DELETE FROM order_lines WHERE order_id = ?1")?;
        }
        // Members stay, without a company.
        Kind::Companies => {
            exec("UPDATE customers SET company_id = NULL WHERE company_id = ?1")?;
        }
        // The item stops being evidence for ideas (and its customer's request through it).
        Kind::Feedback => {
            exec("DELETE FROM idea_feedback WHERE feedback_id = ?1")?;
        }
        _ => {}
    }
    exec(&format!("DELETE FROM {} WHERE id = ?1", t.table))?;
    match (kind, customer, t.stream) {
        (Kind::Orders, Some(c), _) => recompute_orders(tx, c),
        (_, Some(c), Some(stream)) => recount(tx, stream, c),
        _ => Ok(()),
    }
}

/// Ingests the order, then removes stored lines beyond the group's.
pub(crate) fn replace_order(
    tx: &Transaction<'_>,
    group: &OrderGroup,
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    if group.first_line_no != 1 || group.rows.is_empty() {
        let why = format!("order '{}': a replacement is rows from line 1", group.order);
        return Err(StoreError::Invalid(why));
    }
    let out = orders::ingest(tx, std::slice::from_ref(group), o)?;
    if out.iter().any(|r| matches!(r, RowOutcome::Rejected(_))) {
        return Ok(out);
    }
    let (order_id, customer): (i64, i64) = tx
        .prepare_cached("SELECT id, customer_id FROM orders WHERE external_id = ?1")
        .map_err(db_err)?
        .query_row([group.order.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    let lines = group.rows.iter().filter(|r| r.line.is_some()).count() as i64;
    let removed = tx
        .prepare_cached("DELETE FROM order_lines WHERE order_id = ?1 AND line_no > ?2")
        .map_err(db_err)?
        .execute((order_id, lines))
        .map_err(db_err)?;
    if removed > 0 {
        tx.prepare_cached(
            "UPDATE orders SET total_e4 =
               (SELECT COALESCE(SUM(amount_e4), 0) FROM order_lines WHERE order_id = ?1)
             WHERE id = ?1",
        )
        .map_err(db_err)?
        .execute([order_id])
        .map_err(db_err)?;
        recompute_orders(tx, customer)?;
    }
    Ok(out)
}

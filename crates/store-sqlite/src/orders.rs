//! Order ingest: upsert orders by external id and lines by (order, position), then bring the
//! touched customers' summaries up to date, all inside the caller's transaction.

use crate::db_err;
use crate::resolve::Resolver;
use crate::summary::{NewOrder, add_orders, recompute_orders};
use rapport_core::record::OrderRow;
use rapport_core::value::{day_of, to_micros};
use rapport_core::{FieldError, Money, OrderLine, OrderStatus, Timestamp};
use rapport_store::{IngestOptions, OrderGroup, RowOutcome, StoreResult};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::{BTreeMap, BTreeSet};

/// An order header as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    customer_id: i64,
    placed_at: i64,
    currency: String,
    status: OrderStatus,
}

pub(crate) fn ingest(
    tx: &Transaction<'_>,
    groups: &[OrderGroup],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let mut res = Resolver::default();
    let mut touched = Touched::default();
    let mut out = Vec::with_capacity(groups.iter().map(|g| g.rows.len()).sum());
    for g in groups {
        ingest_group(tx, g, o, &mut res, &mut touched, &mut out)?;
    }
    touched.settle(tx)?;
    Ok(out)
}

/// The customers whose summaries the batch changed: those with only new orders get them added,
/// the others (an order of theirs changed) are recomputed.
#[derive(Default)]
struct Touched {
    changed: BTreeSet<i64>,
    added: BTreeMap<i64, Vec<NewOrder>>,
}

impl Touched {
    fn insert(&mut self, customer_id: i64) {
        self.changed.insert(customer_id);
    }

    fn settle(self, tx: &Transaction<'_>) -> StoreResult<()> {
        for (customer_id, new) in &self.added {
            if !self.changed.contains(customer_id) {
                add_orders(tx, *customer_id, new)?;
            }
        }
        for customer_id in self.changed {
            recompute_orders(tx, customer_id)?;
        }
        Ok(())
    }
}

fn reject_all(
    out: &mut Vec<RowOutcome>,
    g: &OrderGroup,
    field: &str,
    reason: String,
) -> StoreResult<()> {
    let e = FieldError::new(field, reason);
    out.extend(g.rows.iter().map(|_| RowOutcome::Rejected(e.clone())));
    Ok(())
}

fn ingest_group(
    tx: &Transaction<'_>,
    g: &OrderGroup,
    o: &IngestOptions,
    res: &mut Resolver,
    touched: &mut Touched,
    out: &mut Vec<RowOutcome>,
) -> StoreResult<()> {
    let head = load_head(tx, g)?;
    // Before resolving: a refused create must not create the customer it names.
    if o.create_only && head.is_some() {
        out.extend(g.rows.iter().map(|_| RowOutcome::Exists));
        return Ok(());
    }
    // Header fields come from the first row that carries them.
    let customer = g.rows.iter().find_map(|r| r.customer.as_ref());
    let placed_at = g.rows.iter().find_map(|r| r.placed_at);
    let customer_id = match customer {
        None => None,
        Some(c) => match res.customer(tx, c, o.create_customers)? {
            Some(id) => Some(id),
            None => {
                let why = format!("customer '{c}' is not known (customer creation is off)");
                return reject_all(out, g, "customer", why);
            }
        },
    };
    match head {
        None => {
            let Some(customer_id) = customer_id else {
                let why = format!("is required but empty or missing (order '{}' is new)", g.order);
                return reject_all(out, g, "customer", why);
            };
            let Some(placed_at) = placed_at else {
                let why = format!("is required but empty or missing (order '{}' is new)", g.order);
                return reject_all(out, g, "placed_at", why);
            };
            let new = insert_order(tx, g, o, customer_id, placed_at)?;
            touched.added.entry(customer_id).or_default().push(new);
            out.extend(g.rows.iter().map(|_| RowOutcome::Inserted));
        }
        // A continuation (the order's rows resumed after other orders, or a split batch) adds
        // lines; its header fields never override the ones its first rows set.
        Some((order_id, old)) if g.first_line_no > 1 => {
            upsert_lines_and_total(tx, order_id, &old, g, touched, out)?;
        }
        Some((order_id, old)) => {
            let new = Head {
                customer_id: customer_id.unwrap_or(old.customer_id),
                placed_at: placed_at.map(to_micros).unwrap_or(old.placed_at),
                currency: g
                    .rows
                    .iter()
                    .find_map(|r| r.currency.as_ref())
                    .map_or(old.currency.clone(), |c| c.to_string()),
                status: g.rows.iter().find_map(OrderRow::effective_status).unwrap_or(old.status),
            };
            let start = out.len();
            let lines_changed = upsert_lines(tx, order_id, g, out)?;
            if new != old
                && let Some(first) = out.get_mut(start).filter(|x| **x == RowOutcome::Unchanged)
            {
                *first = RowOutcome::Updated;
            }
            if new != old || lines_changed {
                update_order(tx, order_id, &new)?;
                touched.insert(old.customer_id);
                touched.insert(new.customer_id);
            }
        }
    }
    Ok(())
}

fn upsert_lines_and_total(
    tx: &Transaction<'_>,
    order_id: i64,
    head: &Head,
    g: &OrderGroup,
    touched: &mut Touched,
    out: &mut Vec<RowOutcome>,
) -> StoreResult<()> {
    if upsert_lines(tx, order_id, g, out)? {
        update_order(tx, order_id, head)?;
        touched.insert(head.customer_id);
    }
    Ok(())
}

fn load_head(tx: &Transaction<'_>, g: &OrderGroup) -> StoreResult<Option<(i64, Head)>> {
    tx.prepare_cached(
        "SELECT id, customer_id, placed_at, currency, status FROM orders WHERE external_id = ?1",
    )
    .map_err(db_err)?
    .query_row([g.order.as_str()], |r| {
        let status: String = r.get(4)?;
        Ok((
            r.get(0)?,
            Head {
                customer_id: r.get(1)?,
                placed_at: r.get(2)?,
                currency: r.get(3)?,
                status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Purchase),
            },
        ))
    })
    .optional()
    .map_err(db_err)
}

fn insert_order(
    tx: &Transaction<'_>,
    g: &OrderGroup,
    o: &IngestOptions,
    customer_id: i64,
    placed_at: Timestamp,
) -> StoreResult<NewOrder> {
    let currency = g.rows.iter().find_map(|r| r.currency.as_ref()).unwrap_or(&o.default_currency);
    let status =
        g.rows.iter().find_map(OrderRow::effective_status).unwrap_or(OrderStatus::Purchase);
    let total: Money = g.rows.iter().filter_map(|r| r.line.as_ref()).map(|l| l.amount).sum();
    tx.prepare_cached(
        "INSERT INTO orders (external_id, customer_id, placed_at, day, currency, status, total_e4)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(db_err)?
    .execute(params![
        g.order.as_str(),
        customer_id,
        to_micros(placed_at),
        day_of(placed_at),
        currency.as_str(),
        status.as_str(),
        total.e4()
    ])
    .map_err(db_err)?;
    let order_id = tx.last_insert_rowid();
    let lines: Vec<&OrderLine> = g.rows.iter().filter_map(|r| r.line.as_ref()).collect();
    insert_lines(tx, order_id, g.first_line_no as i64, &lines)?;
    Ok(NewOrder {
        purchase: status == OrderStatus::Purchase,
        is_return: status == OrderStatus::Return,
        day: day_of(placed_at),
        placed_at: to_micros(placed_at),
        total_e4: total.e4(),
    })
}

/// Inserts a new order's lines, numbered from `first`, several rows per statement: one
/// statement execution per line cost as much as the b-tree insert itself in `perf`.
fn insert_lines(
    tx: &Transaction<'_>,
    order_id: i64,
    first: i64,
    lines: &[&OrderLine],
) -> StoreResult<()> {
    let mut at = 0;
    while at < lines.len() {
        // Power-of-two chunks keep the set of cached statements small (16, 8, 4, 2, 1 rows).
        let n = LINE_CHUNKS.iter().copied().find(|&n| n <= lines.len() - at).unwrap_or(1);
        let mut stmt = tx.prepare_cached(insert_lines_sql(n)).map_err(db_err)?;
        for (i, line) in lines[at..at + n].iter().enumerate() {
            let p = line_params(order_id, first + (at + i) as i64, line);
            let base = i * 6;
            stmt.raw_bind_parameter(base + 1, p.0).map_err(db_err)?;
            stmt.raw_bind_parameter(base + 2, p.1).map_err(db_err)?;
            stmt.raw_bind_parameter(base + 3, p.2).map_err(db_err)?;
            stmt.raw_bind_parameter(base + 4, p.3).map_err(db_err)?;
            stmt.raw_bind_parameter(base + 5, p.4).map_err(db_err)?;
            stmt.raw_bind_parameter(base + 6, p.5).map_err(db_err)?;
        }
        stmt.raw_execute().map_err(db_err)?;
        at += n;
    }
    Ok(())
}

const LINE_CHUNKS: [usize; 5] = [16, 8, 4, 2, 1];

/// `INSERT INTO order_lines ... VALUES (...), (...)` with `n` rows, built once per size.
fn insert_lines_sql(n: usize) -> &'static str {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = SQL.get_or_init(|| {
        (0..=LINE_CHUNKS[0])
            .map(|n| {
                let rows: Vec<String> = (0..n)
                    .map(|i| {
                        let b = i * 6;
                        format!("(?{}, ?{}, ?{}, ?{}, ?{}, ?{})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6)
                    })
                    .collect();
                format!(
                    "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_e4, amount_e4) VALUES {}",
                    rows.join(", ")
                )
            })
            .collect()
    });
    &all[n]
}

fn line_params(order_id: i64, n: i64, l: &OrderLine) -> (i64, i64, Option<&str>, i64, i64, i64) {
    (order_id, n, l.sku.as_ref().map(|s| s.as_str()), l.quantity, l.unit_price.e4(), l.amount.e4())
}

/// Upserts the group's lines onto an existing order; pushes one outcome per row. Returns
/// whether any line changed.
fn upsert_lines(
    tx: &Transaction<'_>,
    order_id: i64,
    g: &OrderGroup,
    out: &mut Vec<RowOutcome>,
) -> StoreResult<bool> {
    let mut select = tx
        .prepare_cached("SELECT sku, quantity, unit_price_e4, amount_e4 FROM order_lines WHERE order_id = ?1 AND line_no = ?2")
        .map_err(db_err)?;
    let mut changed = false;
    let mut n = g.first_line_no as i64;
    for row in &g.rows {
        let Some(line) = &row.line else {
            out.push(RowOutcome::Unchanged);
            continue;
        };
        let old: Option<(Option<String>, i64, i64, i64)> = select
            .query_row((order_id, n), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()
            .map_err(db_err)?;
        let p = line_params(order_id, n, line);
        let outcome = match old {
            None => {
                tx.prepare_cached(
                    "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_e4, amount_e4)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(db_err)?
                .execute(p)
                .map_err(db_err)?;
                RowOutcome::Inserted
            }
            Some(o) if (o.0.as_deref(), o.1, o.2, o.3) == (p.2, p.3, p.4, p.5) => {
                RowOutcome::Unchanged
            }
            Some(_) => {
                tx.prepare_cached(
                    "UPDATE order_lines SET sku = ?3, quantity = ?4, unit_price_e4 = ?5, amount_e4 = ?6
                     WHERE order_id = ?1 AND line_no = ?2",
                )
                .map_err(db_err)?
                .execute(p)
                .map_err(db_err)?;
                RowOutcome::Updated
            }
        };
        changed |= outcome != RowOutcome::Unchanged;
        out.push(outcome);
        n += 1;
    }
    Ok(changed)
}

fn update_order(tx: &Transaction<'_>, order_id: i64, h: &Head) -> StoreResult<()> {
    let placed = rapport_core::value::from_micros(h.placed_at);
    tx.prepare_cached(
        "UPDATE orders SET customer_id = ?2, placed_at = ?3, day = ?4, currency = ?5, status = ?6,
            total_e4 = (SELECT COALESCE(SUM(amount_e4), 0) FROM order_lines WHERE order_id = ?1)
         WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute(params![
        order_id,
        h.customer_id,
        h.placed_at,
        day_of(placed),
        h.currency,
        h.status.as_str()
    ])
    .map_err(db_err)?;
    Ok(())
}

//! Order ingest: upsert orders by external id and lines by (order, position), then bring the
//! touched customers' summaries up to date, all inside the caller's transaction.
//!
//! The batch is applied set-based, in a fixed number of statements: resolve (and create) the
//! referenced customers, load the existing order heads and the lines the batch addresses, decide
//! every row's outcome in Rust by replaying the groups in order against that state (so an order
//! that appears twice in a batch sees its own earlier rows, exactly as row-by-row processing
//! would), then write new orders, changed lines and changed heads with `unnest` statements and
//! recompute the touched summaries with one statement.

use crate::resolve::{self, distinct};
use crate::summary::recompute_orders;
use crate::{db_err, get, invalid};
use rapport_core::record::OrderRow;
use rapport_core::value::{day_of, from_micros, to_micros};
use rapport_core::{ExternalId, FieldError, OrderLine, OrderStatus, Timestamp};
use rapport_store::{IngestOptions, OrderGroup, RowOutcome, StoreResult};
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap};

/// An order header as stored (`placed_at` in microseconds, as compared by the SQLite store).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    customer_id: i64,
    placed_at: i64,
    currency: String,
    status: OrderStatus,
}

/// A line's stored values: sku, quantity, unit price and amount (e4).
type Line = (Option<String>, i64, i64, i64);

fn line_values(l: &OrderLine) -> Line {
    (l.sku.as_ref().map(|s| s.to_string()), l.quantity, l.unit_price.e4(), l.amount.e4())
}

/// One order as the batch sees it: stored values overlaid with the batch's earlier rows.
struct State {
    /// `None` for an order this batch creates.
    id: Option<i64>,
    head: Head,
    /// Every line of a new order; for an existing one, the stored lines the batch addresses.
    lines: HashMap<i64, Line>,
    /// Which of `lines` are stored (updated in place rather than inserted).
    stored_lines: BTreeSet<i64>,
    /// Lines to write (existing orders only; a new order inserts all of its lines).
    changed_lines: BTreeSet<i64>,
    /// Existing order whose head (or total) must be rewritten.
    dirty: bool,
}

/// The group's customer: from the first row that names one.
fn customer_of(g: &OrderGroup) -> Option<&ExternalId> {
    g.rows.iter().find_map(|r| r.customer.as_ref())
}

fn line_count(g: &OrderGroup) -> i64 {
    g.rows.iter().filter(|r| r.line.is_some()).count() as i64
}

pub(crate) async fn ingest(
    c: &mut PgConnection,
    groups: &[OrderGroup],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    let mut orders = load(c, groups).await?;
    // A refused create must not create the customer it names.
    let wanted =
        groups.iter().filter(|g| !(o.create_only && orders.contains_key(g.order.as_str())));
    let names = distinct(wanted.filter_map(customer_of).map(ExternalId::as_str));
    let customers = resolve::customers(c, &names, o.create_customers).await?;
    let mut batch = Batch { new: Vec::new(), touched: BTreeSet::new(), out: Vec::new() };
    batch.out.reserve(groups.iter().map(|g| g.rows.len()).sum());
    for g in groups {
        batch.apply(g, o, &customers, &mut orders);
    }
    write(c, &orders, &batch.new).await?;
    let touched: Vec<i64> = batch.touched.into_iter().collect();
    recompute_orders(c, &touched).await?;
    Ok(batch.out)
}

/// Loads the heads of the batch's orders that exist, and their lines in the ranges the batch's
/// groups address.
async fn load(c: &mut PgConnection, groups: &[OrderGroup]) -> StoreResult<HashMap<String, State>> {
    let names = distinct(groups.iter().map(|g| g.order.as_str()));
    let rows = sqlx::query(
        "SELECT id, external_id, customer_id, placed_at, currency, status
           FROM orders WHERE external_id = ANY($1)",
    )
    .bind(&names)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    let mut orders = HashMap::with_capacity(rows.len());
    let mut keys = HashMap::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = get(r, 0)?;
        let status: String = get(r, 5)?;
        let head = Head {
            customer_id: get(r, 2)?,
            placed_at: to_micros(get(r, 3)?),
            currency: get(r, 4)?,
            status: OrderStatus::parse(&status).map_err(|e| invalid("order status", e))?,
        };
        let key: String = get(r, 1)?;
        keys.insert(id, key.clone());
        let (lines, stored_lines, changed_lines) =
            (HashMap::new(), BTreeSet::new(), BTreeSet::new());
        let state = State { id: Some(id), head, lines, stored_lines, changed_lines, dirty: false };
        orders.insert(key, state);
    }
    let (mut ids, mut los, mut his) = (Vec::new(), Vec::new(), Vec::new());
    for g in groups {
        let n = line_count(g);
        if let Some(id) = orders.get(g.order.as_str()).and_then(|s| s.id).filter(|_| n > 0) {
            ids.push(id);
            los.push(i64::from(g.first_line_no));
            his.push(i64::from(g.first_line_no) + n - 1);
        }
    }
    if ids.is_empty() {
        return Ok(orders);
    }
    let rows = sqlx::query(
        "SELECT l.order_id, l.line_no, l.sku, l.quantity, l.unit_price_e4, l.amount_e4
           FROM order_lines l
           JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS r(order_id, lo, hi)
             ON l.order_id = r.order_id AND l.line_no BETWEEN r.lo AND r.hi",
    )
    .bind(ids)
    .bind(los)
    .bind(his)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    for r in &rows {
        let order_id: i64 = get(r, 0)?;
        let line = (get(r, 2)?, get(r, 3)?, get(r, 4)?, get(r, 5)?);
        if let Some(state) = keys.get(&order_id).and_then(|k| orders.get_mut(k)) {
            let n = get(r, 1)?;
            state.lines.insert(n, line);
            state.stored_lines.insert(n);
        }
    }
    Ok(orders)
}

/// The outcome of replaying a batch's groups.
struct Batch<'a> {
    /// Orders the batch creates, in first-appearance order.
    new: Vec<&'a str>,
    touched: BTreeSet<i64>,
    out: Vec<RowOutcome>,
}

impl<'a> Batch<'a> {
    fn reject_all(&mut self, g: &OrderGroup, field: &str, reason: String) {
        let e = FieldError::new(field, reason);
        self.out.extend(g.rows.iter().map(|_| RowOutcome::Rejected(e.clone())));
    }

    /// One group, exactly as the SQLite store's `ingest_group` decides it.
    fn apply(
        &mut self,
        g: &'a OrderGroup,
        o: &IngestOptions,
        customers: &HashMap<String, i64>,
        orders: &mut HashMap<String, State>,
    ) {
        if o.create_only && orders.contains_key(g.order.as_str()) {
            return self.out.extend(g.rows.iter().map(|_| RowOutcome::Exists));
        }
        // Header fields come from the first row that carries them.
        let customer = customer_of(g);
        let placed_at = g.rows.iter().find_map(|r| r.placed_at);
        let currency = g.rows.iter().find_map(|r| r.currency.as_ref());
        let status = g.rows.iter().find_map(OrderRow::effective_status);
        let customer_id = match customer {
            None => None,
            Some(c) => match customers.get(c.as_str()) {
                Some(id) => Some(*id),
                None => {
                    let why = format!("customer '{c}' is not known (customer creation is off)");
                    return self.reject_all(g, "customer", why);
                }
            },
        };
        let Some(state) = orders.get_mut(g.order.as_str()) else {
            let Some(customer_id) = customer_id else {
                let why = format!("is required but empty or missing (order '{}' is new)", g.order);
                return self.reject_all(g, "customer", why);
            };
            let Some(placed_at) = placed_at else {
                let why = format!("is required but empty or missing (order '{}' is new)", g.order);
                return self.reject_all(g, "placed_at", why);
            };
            let head = Head {
                customer_id,
                placed_at: to_micros(placed_at),
                currency: currency.map_or(o.default_currency.to_string(), |c| c.to_string()),
                status: status.unwrap_or(OrderStatus::Purchase),
            };
            let lines = g.rows.iter().filter_map(|r| r.line.as_ref());
            let lines = (i64::from(g.first_line_no)..).zip(lines.map(line_values)).collect();
            let (stored_lines, changed_lines) = (BTreeSet::new(), BTreeSet::new());
            let state = State { id: None, head, lines, stored_lines, changed_lines, dirty: false };
            orders.insert(g.order.to_string(), state);
            self.new.push(g.order.as_str());
            self.touched.insert(customer_id);
            self.out.extend(g.rows.iter().map(|_| RowOutcome::Inserted));
            return;
        };
        // A continuation (the order's rows resumed after other orders, or a split batch) adds
        // lines; its header fields never override the ones its first rows set.
        if g.first_line_no > 1 {
            if self.upsert_lines(state, g) {
                self.touched.insert(state.head.customer_id);
                state.dirty = true;
            }
            return;
        }
        let old = state.head.clone();
        let new = Head {
            customer_id: customer_id.unwrap_or(old.customer_id),
            placed_at: placed_at.map(to_micros).unwrap_or(old.placed_at),
            currency: currency.map_or(old.currency.clone(), |c| c.to_string()),
            status: status.unwrap_or(old.status),
        };
        let start = self.out.len();
        let lines_changed = self.upsert_lines(state, g);
        let first = self.out.get_mut(start).filter(|x| **x == RowOutcome::Unchanged);
        if new != old
            && let Some(first) = first
        {
            *first = RowOutcome::Updated;
        }
        if new != old || lines_changed {
            self.touched.insert(old.customer_id);
            self.touched.insert(new.customer_id);
            state.head = new;
            state.dirty = true;
        }
    }

    /// Upserts the group's lines onto an existing order; pushes one outcome per row. Returns
    /// whether any line changed.
    fn upsert_lines(&mut self, state: &mut State, g: &OrderGroup) -> bool {
        let mut changed = false;
        let mut n = i64::from(g.first_line_no);
        for row in &g.rows {
            let Some(line) = &row.line else {
                self.out.push(RowOutcome::Unchanged);
                continue;
            };
            let values = line_values(line);
            let outcome = match state.lines.get(&n) {
                None => RowOutcome::Inserted,
                Some(stored) if *stored == values => RowOutcome::Unchanged,
                Some(_) => RowOutcome::Updated,
            };
            if outcome != RowOutcome::Unchanged {
                changed = true;
                state.lines.insert(n, values);
                state.changed_lines.insert(n);
            }
            self.out.push(outcome);
            n += 1;
        }
        changed
    }
}

/// Writes the replayed state: new orders with their lines, changed lines, changed heads.
async fn write(
    c: &mut PgConnection,
    orders: &HashMap<String, State>,
    new: &[&str],
) -> StoreResult<()> {
    let mut new_ids: HashMap<String, i64> = HashMap::new();
    if !new.is_empty() {
        let states: Vec<&State> = new.iter().map(|k| &orders[*k]).collect();
        let heads = states.iter().map(|s| &s.head);
        let rows = sqlx::query(
            "INSERT INTO orders (external_id, customer_id, placed_at, day, currency, status, total_e4)
             SELECT u.x, u.customer_id, u.placed_at, u.day, u.currency, u.status, u.total
               FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::bigint[], $5::text[],
                           $6::text[], $7::bigint[])
                    WITH ORDINALITY AS u(x, customer_id, placed_at, day, currency, status, total, n)
              ORDER BY u.n
             RETURNING external_id, id",
        )
        .bind(new)
        .bind(heads.clone().map(|h| h.customer_id).collect::<Vec<_>>())
        .bind(heads.clone().map(|h| from_micros(h.placed_at)).collect::<Vec<Timestamp>>())
        .bind(heads.clone().map(|h| day_of(from_micros(h.placed_at))).collect::<Vec<_>>())
        .bind(heads.clone().map(|h| h.currency.as_str()).collect::<Vec<_>>())
        .bind(heads.map(|h| h.status.as_str()).collect::<Vec<_>>())
        .bind(states.iter().map(|s| s.lines.values().map(|l| l.3).sum::<i64>()).collect::<Vec<_>>())
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        for r in &rows {
            new_ids.insert(get(r, 0)?, get(r, 1)?);
        }
    }

    // The replay knows which lines are stored: new ones are inserted (no ON CONFLICT, which
    // costs), stored ones updated in place.
    let (mut inserts, mut updates) = (LineArrays::default(), LineArrays::default());
    let mut dirty = HeadArrays::default();
    for (key, s) in orders {
        match s.id {
            None => {
                let id = new_ids[key.as_str()];
                for (n, l) in &s.lines {
                    inserts.push(id, *n, l);
                }
            }
            Some(id) => {
                for n in &s.changed_lines {
                    let to = if s.stored_lines.contains(n) { &mut updates } else { &mut inserts };
                    to.push(id, *n, &s.lines[n]);
                }
                if s.dirty {
                    dirty.push(id, &s.head);
                }
            }
        }
    }
    inserts.insert(c).await?;
    updates.update(c).await?;
    dirty.write(c).await
}

#[derive(Default)]
struct LineArrays {
    order_id: Vec<i64>,
    line_no: Vec<i64>,
    sku: Vec<Option<String>>,
    quantity: Vec<i64>,
    unit_price: Vec<i64>,
    amount: Vec<i64>,
}

impl LineArrays {
    fn push(&mut self, order_id: i64, n: i64, l: &Line) {
        self.order_id.push(order_id);
        self.line_no.push(n);
        self.sku.push(l.0.clone());
        self.quantity.push(l.1);
        self.unit_price.push(l.2);
        self.amount.push(l.3);
    }

    /// New lines go straight into `order_lines` with `COPY ... FROM STDIN` (text format): they
    /// are plain inserts (the replay knows none of them is stored), and COPY skips building and
    /// decoding six parameter arrays.
    async fn insert(self, c: &mut PgConnection) -> StoreResult<()> {
        if self.order_id.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(self.order_id.len() * 48);
        for i in 0..self.order_id.len() {
            use std::io::Write as _;
            let _ = write!(buf, "{}\t{}\t", self.order_id[i], self.line_no[i]);
            match &self.sku[i] {
                Some(s) => copy_text(&mut buf, s),
                None => buf.extend_from_slice(b"\\N"),
            }
            let _ =
                writeln!(buf, "\t{}\t{}\t{}", self.quantity[i], self.unit_price[i], self.amount[i]);
        }
        let mut copy = c
            .copy_in_raw(
                "COPY order_lines (order_id, line_no, sku, quantity, unit_price_e4, amount_e4)
                 FROM STDIN",
            )
            .await
            .map_err(db_err)?;
        if let Err(e) = copy.send(buf).await {
            // The transaction is failed either way; report the original error.
            let _ = copy.abort("send failed").await;
            return Err(db_err(e));
        }
        copy.finish().await.map_err(db_err)?;
        Ok(())
    }

    async fn update(self, c: &mut PgConnection) -> StoreResult<()> {
        self.execute(
            c,
            "UPDATE order_lines l SET sku = u.sku, quantity = u.quantity,
                    unit_price_e4 = u.unit_price, amount_e4 = u.amount
               FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::bigint[],
                           $6::bigint[]) AS u(order_id, line_no, sku, quantity, unit_price, amount)
              WHERE l.order_id = u.order_id AND l.line_no = u.line_no",
        )
        .await
    }

    async fn execute(self, c: &mut PgConnection, sql: &'static str) -> StoreResult<()> {
        if self.order_id.is_empty() {
            return Ok(());
        }
        sqlx::query(sql)
            .bind(self.order_id)
            .bind(self.line_no)
            .bind(self.sku)
            .bind(self.quantity)
            .bind(self.unit_price)
            .bind(self.amount)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}

/// Appends a value to a COPY text-format row, escaping backslash and the delimiter and line
/// characters (every other character, multibyte UTF-8 included, is taken literally).
fn copy_text(buf: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

#[derive(Default)]
struct HeadArrays {
    id: Vec<i64>,
    customer_id: Vec<i64>,
    placed_at: Vec<Timestamp>,
    day: Vec<i64>,
    currency: Vec<String>,
    status: Vec<&'static str>,
}

impl HeadArrays {
    fn push(&mut self, id: i64, h: &Head) {
        let placed_at = from_micros(h.placed_at);
        self.id.push(id);
        self.customer_id.push(h.customer_id);
        self.placed_at.push(placed_at);
        self.day.push(day_of(placed_at));
        self.currency.push(h.currency.clone());
        self.status.push(h.status.as_str());
    }

    /// Rewrites changed heads; the total is re-summed from the lines (after they are written).
    async fn write(self, c: &mut PgConnection) -> StoreResult<()> {
        if self.id.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "UPDATE orders o SET customer_id = u.customer_id, placed_at = u.placed_at, day = u.day,
                    currency = u.currency, status = u.status,
                    total_e4 = (SELECT COALESCE(SUM(l.amount_e4), 0)::bigint
                                  FROM order_lines l WHERE l.order_id = o.id)
               FROM unnest($1::bigint[], $2::bigint[], $3::timestamptz[], $4::bigint[],
                           $5::text[], $6::text[])
                    AS u(id, customer_id, placed_at, day, currency, status)
              WHERE o.id = u.id",
        )
        .bind(self.id)
        .bind(self.customer_id)
        .bind(self.placed_at)
        .bind(self.day)
        .bind(self.currency)
        .bind(self.status)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
        Ok(())
    }
}

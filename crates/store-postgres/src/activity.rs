//! Activity streams: events, interactions, feedback, consents. Each row upserts by external id;
//! new rows add to the customer's summary counters, changed rows trigger a recount.
//!
//! One generic, set-based path serves all four: resolve the batch's customers (and, for
//! feedback, orders) at once, load the stored rows with `= ANY($1)`, replay the rows in order
//! against that state (the same external id may repeat within a batch), then insert new rows and
//! update changed ones with one `unnest` statement each.

use crate::resolve::{self, distinct};
use crate::summary::{EVENTS, FEEDBACK, INTERACTIONS, Stream, bump, recount};
use crate::{db_err, get};
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::*;
use rapport_store::{IngestOptions, RowOutcome, StoreError, StoreResult};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{AssertSqlSafe, PgConnection, Postgres};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The SQL type of a content column.
#[derive(Clone, Copy, PartialEq)]
enum Ty {
    Text,
    /// JSON text (stored in a `json` column).
    Json,
    Int,
    Time,
    Bool,
}

impl Ty {
    fn array(self) -> &'static str {
        match self {
            Ty::Text | Ty::Json => "text[]",
            Ty::Int => "bigint[]",
            Ty::Time => "timestamptz[]",
            Ty::Bool => "boolean[]",
        }
    }

    /// How a column is selected so that it decodes as this type.
    fn select(self, col: &str) -> String {
        match self {
            Ty::Json => format!("x.{col}::text"),
            Ty::Int => format!("x.{col}::bigint"),
            _ => format!("x.{col}"),
        }
    }

    /// How an unnest column is written into the table.
    fn write(self, i: usize) -> String {
        if self == Ty::Json { format!("u.v{i}::json") } else { format!("u.v{i}") }
    }
}

/// A content value, comparable with what is stored.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Text(Option<String>),
    Int(Option<i64>),
    Time(Timestamp),
    Bool(bool),
}

/// A stream's table and its content columns (customer_id excluded, it is resolved here);
/// `time_col` indexes the time column among `cols`.
struct Spec {
    table: &'static str,
    cols: &'static [(&'static str, Ty)],
    time_col: usize,
    stream: Option<Stream>,
}

/// One row to upsert: its external id, customer, and content values in `Spec::cols` order.
struct Item {
    id: ExternalId,
    customer: CustomerRef,
    values: Vec<V>,
}

/// A row as the batch sees it.
struct Slot {
    /// `None` for a row this batch inserts.
    row_id: Option<i64>,
    customer_id: i64,
    values: Vec<V>,
    dirty: bool,
}

fn decode(r: &PgRow, i: usize, ty: Ty) -> StoreResult<V> {
    Ok(match ty {
        Ty::Text | Ty::Json => V::Text(get(r, i)?),
        Ty::Int => V::Int(get(r, i)?),
        Ty::Time => V::Time(get(r, i)?),
        Ty::Bool => V::Bool(get(r, i)?),
    })
}

/// Column arrays for an `unnest` statement: ids first, then the content columns.
fn bind_columns<'q>(
    mut q: Query<'q, Postgres, PgArguments>,
    spec: &Spec,
    slots: &[&Slot],
) -> Query<'q, Postgres, PgArguments> {
    q = q.bind(slots.iter().map(|s| s.customer_id).collect::<Vec<_>>());
    for (i, (_, ty)) in spec.cols.iter().enumerate() {
        let vals = slots.iter().map(|s| &s.values[i]);
        q = match ty {
            Ty::Text | Ty::Json => q.bind(
                vals.map(|v| if let V::Text(t) = v { t.clone() } else { None }).collect::<Vec<_>>(),
            ),
            Ty::Int => {
                q.bind(vals.map(|v| if let V::Int(n) = v { *n } else { None }).collect::<Vec<_>>())
            }
            Ty::Time => q.bind(
                vals.map(|v| if let V::Time(t) = v { Some(*t) } else { None }).collect::<Vec<_>>(),
            ),
            Ty::Bool => q.bind(
                vals.map(|v| if let V::Bool(b) = v { Some(*b) } else { None }).collect::<Vec<_>>(),
            ),
        };
    }
    q
}

async fn upsert(
    c: &mut PgConnection,
    spec: &Spec,
    items: Vec<Item>,
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    // Rows whose text cannot be stored are rejected up front and resolve nothing.
    let nul: Vec<Option<FieldError>> = items
        .iter()
        .map(|it| {
            crate::nul_check(spec.cols.iter().zip(&it.values).filter_map(|((name, ty), v)| match (
                ty, v,
            ) {
                (Ty::Text, V::Text(t)) => Some((*name, t.as_deref())),
                _ => None,
            }))
        })
        .collect();
    let mut state = load(c, spec, &items).await?;
    // A refused create must not create the customer it names.
    let refused = |it: &Item| o.create_only && state.contains_key(it.id.as_str());
    let ok = || {
        items
            .iter()
            .zip(&nul)
            .filter(|(it, e)| e.is_none() && !refused(it))
            .map(|(it, _)| &it.customer)
    };
    let names = distinct(ok().filter_map(|r| match r {
        CustomerRef::Id(c) => Some(c.as_str()),
        CustomerRef::Order(_) => None,
    }));
    let customers = resolve::customers(c, &names, o.create_customers).await?;
    let order_names = distinct(ok().filter_map(|r| match r {
        CustomerRef::Order(ord) => Some(ord.as_str()),
        CustomerRef::Id(_) => None,
    }));
    let via_order = resolve::order_customers(c, &order_names).await?;

    let mut new_keys: Vec<String> = Vec::new();
    let mut bumps: BTreeMap<i64, (i64, Timestamp)> = BTreeMap::new();
    let mut recounts = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (item, nul) in items.into_iter().zip(nul) {
        if let Some(e) = nul {
            out.push(RowOutcome::Rejected(e));
            continue;
        }
        if o.create_only && state.contains_key(item.id.as_str()) {
            out.push(RowOutcome::Exists);
            continue;
        }
        let customer_id = match &item.customer {
            CustomerRef::Id(c) => customers.get(c.as_str()).copied().ok_or_else(|| {
                let why = format!("customer '{c}' is not known (customer creation is off)");
                FieldError::new("customer", why)
            }),
            CustomerRef::Order(ord) => via_order
                .get(ord.as_str())
                .copied()
                .ok_or_else(|| FieldError::new("order", format!("order '{ord}' is not known"))),
        };
        let customer_id = match customer_id {
            Ok(id) => id,
            Err(e) => {
                out.push(RowOutcome::Rejected(e));
                continue;
            }
        };
        let V::Time(time) = item.values[spec.time_col] else {
            return Err(StoreError::Invalid(format!("{}: time column is not a time", spec.table)));
        };
        out.push(match state.get_mut(item.id.as_str()) {
            None => {
                let b = bumps.entry(customer_id).or_insert((0, time));
                *b = (b.0 + 1, b.1.max(time));
                let slot = Slot { row_id: None, customer_id, values: item.values, dirty: false };
                state.insert(item.id.to_string(), slot);
                new_keys.push(item.id.to_string());
                RowOutcome::Inserted
            }
            Some(s) if s.customer_id == customer_id && s.values == item.values => {
                RowOutcome::Unchanged
            }
            Some(s) => {
                recounts.insert(s.customer_id);
                recounts.insert(customer_id);
                (s.customer_id, s.values, s.dirty) = (customer_id, item.values, true);
                RowOutcome::Updated
            }
        });
    }

    let new: Vec<&Slot> = new_keys.iter().map(|k| &state[k]).collect();
    insert(c, spec, &new_keys, &new).await?;
    let changed: Vec<&Slot> = state.values().filter(|s| s.dirty && s.row_id.is_some()).collect();
    update(c, spec, &changed).await?;
    if let Some(stream) = spec.stream {
        // A recount supersedes the bump of the same customer.
        let bumps = bumps.into_iter().filter(|(id, _)| !recounts.contains(id));
        bump(c, stream, bumps.map(|(id, (n, last))| (id, n, last)).collect()).await?;
        recount(c, stream, &recounts.into_iter().collect::<Vec<_>>()).await?;
    }
    Ok(out)
}

/// The stored rows the batch names, by external id.
async fn load(
    c: &mut PgConnection,
    spec: &Spec,
    items: &[Item],
) -> StoreResult<HashMap<String, Slot>> {
    let names = distinct(items.iter().map(|it| it.id.as_str()));
    let cols: Vec<String> = spec.cols.iter().map(|(col, ty)| ty.select(col)).collect();
    let sql = format!(
        "SELECT x.id, x.external_id, x.customer_id, {} FROM {} x WHERE x.external_id = ANY($1)",
        cols.join(", "),
        spec.table
    );
    let rows =
        sqlx::query(AssertSqlSafe(sql)).bind(&names).fetch_all(&mut *c).await.map_err(db_err)?;
    let mut state = HashMap::with_capacity(rows.len());
    for r in &rows {
        let values = spec.cols.iter().enumerate().map(|(i, (_, ty))| decode(r, i + 3, *ty));
        let slot = Slot {
            row_id: Some(get(r, 0)?),
            customer_id: get(r, 2)?,
            values: values.collect::<StoreResult<_>>()?,
            dirty: false,
        };
        state.insert(get(r, 1)?, slot);
    }
    Ok(state)
}

/// `$first::type[], ...` for the content columns, numbered from `first`, and `u.v0, ...`.
fn unnest_args(spec: &Spec, first: usize) -> (String, String) {
    let arrays =
        spec.cols.iter().enumerate().map(|(i, (_, ty))| format!("${}::{}", first + i, ty.array()));
    let names = (0..spec.cols.len()).map(|i| format!("v{i}"));
    (arrays.collect::<Vec<_>>().join(", "), names.collect::<Vec<_>>().join(", "))
}

async fn insert(
    c: &mut PgConnection,
    spec: &Spec,
    keys: &[String],
    slots: &[&Slot],
) -> StoreResult<()> {
    if slots.is_empty() {
        return Ok(());
    }
    let cols: Vec<&str> = spec.cols.iter().map(|(col, _)| *col).collect();
    let (arrays, names) = unnest_args(spec, 3);
    let values: Vec<String> =
        spec.cols.iter().enumerate().map(|(i, (_, ty))| ty.write(i)).collect();
    let sql = format!(
        "INSERT INTO {table} (external_id, customer_id, {cols})
         SELECT u.x, u.customer_id, {values}
           FROM unnest($1::text[], $2::bigint[], {arrays}) WITH ORDINALITY AS u(x, customer_id, {names}, n)
          ORDER BY u.n",
        table = spec.table,
        cols = cols.join(", "),
        values = values.join(", "),
    );
    let q = sqlx::query(AssertSqlSafe(sql)).bind(keys);
    bind_columns(q, spec, slots).execute(&mut *c).await.map_err(db_err)?;
    Ok(())
}

async fn update(c: &mut PgConnection, spec: &Spec, slots: &[&Slot]) -> StoreResult<()> {
    if slots.is_empty() {
        return Ok(());
    }
    let (arrays, names) = unnest_args(spec, 3);
    let sets: Vec<String> = spec
        .cols
        .iter()
        .enumerate()
        .map(|(i, (col, ty))| format!("{col} = {}", ty.write(i)))
        .collect();
    let sql = format!(
        "UPDATE {table} x SET customer_id = u.customer_id, {sets}
           FROM unnest($1::bigint[], $2::bigint[], {arrays}) AS u(id, customer_id, {names})
          WHERE x.id = u.id",
        table = spec.table,
        sets = sets.join(", "),
    );
    let ids: Vec<i64> = slots.iter().filter_map(|s| s.row_id).collect();
    let q = sqlx::query(AssertSqlSafe(sql)).bind(ids);
    bind_columns(q, spec, slots).execute(&mut *c).await.map_err(db_err)?;
    Ok(())
}

/// Times compare at the stored precision (microseconds), as in the SQLite store.
fn time(t: Timestamp) -> V {
    V::Time(from_micros(to_micros(t)))
}

fn text(s: &str) -> V {
    V::Text(Some(s.to_string()))
}

fn opt_text(s: Option<&str>) -> V {
    V::Text(s.map(str::to_string))
}

pub(crate) async fn events(
    c: &mut PgConnection,
    rows: &[Event],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    const SPEC: Spec = Spec {
        table: "events",
        cols: &[("name", Ty::Text), ("at", Ty::Time), ("properties", Ty::Json)],
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
                values: vec![text(&e.name), time(e.at), V::Text(Some(props))],
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    upsert(c, &SPEC, items, o).await
}

pub(crate) async fn interactions(
    c: &mut PgConnection,
    rows: &[Interaction],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    const SPEC: Spec = Spec {
        table: "interactions",
        cols: &[
            ("at", Ty::Time),
            ("channel", Ty::Text),
            ("direction", Ty::Text),
            ("subject", Ty::Text),
            ("body", Ty::Text),
        ],
        time_col: 0,
        stream: Some(INTERACTIONS),
    };
    let items = rows
        .iter()
        .map(|i| Item {
            id: i.id.clone(),
            customer: CustomerRef::Id(i.customer.clone()),
            values: vec![
                time(i.at),
                text(i.channel.as_str()),
                text(i.direction.as_str()),
                opt_text(i.subject.as_deref()),
                opt_text(i.body.as_deref()),
            ],
        })
        .collect();
    upsert(c, &SPEC, items, o).await
}

pub(crate) async fn feedback(
    c: &mut PgConnection,
    rows: &[FeedbackRow],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    const SPEC: Spec = Spec {
        table: "feedback",
        cols: &[
            ("created_at", Ty::Time),
            ("source", Ty::Text),
            ("text", Ty::Text),
            ("rating", Ty::Int),
            ("sentiment_e4", Ty::Int),
        ],
        time_col: 0,
        stream: Some(FEEDBACK),
    };
    let items = rows
        .iter()
        .map(|f| Item {
            id: f.id.clone(),
            customer: f.customer.clone(),
            values: vec![
                time(f.created_at),
                text(&f.source),
                opt_text(f.text.as_deref()),
                V::Int(f.rating.map(i64::from)),
                // The stored sentiment: none without text (NULL or empty).
                V::Int(
                    f.text
                        .as_deref()
                        .filter(|t| !t.is_empty())
                        .map(rapport_analytics::sentiment::score_e4),
                ),
            ],
        })
        .collect();
    upsert(c, &SPEC, items, o).await
}

pub(crate) async fn consents(
    c: &mut PgConnection,
    rows: &[Consent],
    o: &IngestOptions,
) -> StoreResult<Vec<RowOutcome>> {
    const SPEC: Spec = Spec {
        table: "consents",
        cols: &[
            ("at", Ty::Time),
            ("purpose", Ty::Text),
            ("granted", Ty::Bool),
            ("source", Ty::Text),
        ],
        time_col: 0,
        stream: None,
    };
    let items = rows
        .iter()
        .map(|c| Item {
            id: c.id.clone(),
            customer: CustomerRef::Id(c.customer.clone()),
            values: vec![
                time(c.at),
                text(c.purpose.as_str()),
                V::Bool(c.granted),
                opt_text(c.source.as_deref()),
            ],
        })
        .collect();
    upsert(c, &SPEC, items, o).await
}

/// Scores the feedback stored before sentiment was (schema v5), a batch per statement;
/// returns how many items were scored.
pub(crate) async fn backfill_sentiment(pool: &sqlx::PgPool) -> StoreResult<u64> {
    let mut scored = 0;
    loop {
        let batch: Vec<(i64, String)> = sqlx::query_as(
            "SELECT id, text FROM feedback
              WHERE sentiment_e4 IS NULL AND text IS NOT NULL AND text <> '' LIMIT 10000",
        )
        .fetch_all(pool)
        .await
        .map_err(db_err)?;
        if batch.is_empty() {
            return Ok(scored);
        }
        let ids: Vec<i64> = batch.iter().map(|b| b.0).collect();
        let e4: Vec<i64> =
            batch.iter().map(|b| rapport_analytics::sentiment::score_e4(&b.1)).collect();
        sqlx::query(
            "UPDATE feedback f SET sentiment_e4 = u.e4
               FROM unnest($1::bigint[], $2::bigint[]) AS u(id, e4) WHERE f.id = u.id",
        )
        .bind(&ids)
        .bind(&e4)
        .execute(pool)
        .await
        .map_err(db_err)?;
        scored += batch.len() as u64;
    }
}

//! Read models for the server: the customers list (search, filters, keyset-paginated sorts),
//! the customer 360 view, the merged timeline, and erasure.

use crate::customers::{
    COMPANY_SELECT, CUSTOMER_COLUMNS, CUSTOMER_SELECT, CUSTOMER_TABLES, company_from_row,
    customer_from_row,
};
use crate::db_err;
use crate::read::{
    CONSENT_FROM, EVENT_FROM, FEEDBACK_FROM, INTERACTION_FROM, consent_from_row, conv,
    event_from_row, ext, feedback_from_row, interaction_from_row,
};
use crate::summary::{COLUMNS, from_row};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{Currency, ExternalId, Money, Order, OrderStatus};
use rapport_store::{
    CustomerListItem, CustomerQuery, CustomerSort, CustomerView, ListPage, OrderEntry, StoreError,
    StoreResult, TIMELINE_SLACK, TimelineCursor, TimelineItem, merge_timeline,
};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params_from_iter};

/// The SQL sort key of each sort; must match the expressions of the indexes in migration 2.
fn sort_expr(s: CustomerSort) -> &'static str {
    match s {
        CustomerSort::Id => "c.id",
        CustomerSort::Name => "IFNULL(c.name, '')",
        CustomerSort::SignupAt => "IFNULL(c.signup_at, -9223372036854775808)",
        CustomerSort::LastPurchaseAt => "IFNULL(s.last_purchase_at, -9223372036854775808)",
        CustomerSort::PurchaseValue => "s.purchase_value_e4",
    }
}

/// Cursor: `{id}:{key}`, where key is the sort value of the last row (text for name sorts).
fn encode_cursor(id: i64, key: &Value) -> String {
    match key {
        Value::Integer(i) => format!("{id}:{i}"),
        Value::Text(t) => format!("{id}:{t}"),
        _ => format!("{id}:"),
    }
}

fn decode_cursor(s: &str, sort: CustomerSort) -> StoreResult<(i64, Value)> {
    let bad = || StoreError::Invalid(format!("cursor '{s}' is not one this list issued"));
    let (id, key) = s.split_once(':').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let key = match sort {
        CustomerSort::Name => Value::Text(key.to_string()),
        _ => Value::Integer(key.parse().map_err(|_| bad())?),
    };
    Ok((id, key))
}

/// Turns what a person typed into an FTS5 query: every word must match as a prefix. Words are
/// reduced to letters and digits and quoted, so no input can break the query syntax.
pub(crate) fn fts_query(search: &str) -> Option<String> {
    let terms: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" AND "))
}

/// The index that walks a sort's order (migration 2) and whether it is on the summaries; none
/// for id order, which the search index gives itself.
fn sort_index(sort: CustomerSort) -> Option<(&'static str, bool)> {
    match sort {
        CustomerSort::Id => None,
        CustomerSort::Name => Some(("customers_sort_name", false)),
        CustomerSort::SignupAt => Some(("customers_sort_signup", false)),
        CustomerSort::LastPurchaseAt => Some(("summaries_sort_last_purchase", true)),
        CustomerSort::PurchaseValue => Some(("summaries_sort_value", true)),
    }
}

/// A search matching at most this many customers is answered from its matches (fetched and
/// sorted); a broader one walks the sort order's index and keeps the rows that match, which
/// finds a page after about `limit × customers / matches` index entries.
const FEW_MATCHES: i64 = 5_000;

/// Which table leads a customers-list query.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Lead {
    /// SQLite's planner chooses (no search, or a search combined with other filters).
    Planner,
    /// The full-text index, in rowid order or feeding a sort of its few matches.
    Search,
    /// The sort order's index (name, on the summaries?), probing the search's matches.
    SortIndex((&'static str, bool)),
}

/// The customers list. A word-prefix search alone ("ma") can match a tenth of a million
/// customers; instead of collecting and sorting all of them, the query is led by the search
/// index (id order, or few matches) or by the sort's index (many matches), so a page costs a
/// few milliseconds at a million customers (BENCHMARKS.md).
pub(crate) fn customers(
    c: &Connection,
    q: &CustomerQuery,
) -> StoreResult<ListPage<CustomerListItem>> {
    let fts = q.search.as_deref().and_then(fts_query);
    let other_filters = q.country.is_some()
        || q.company.is_some()
        || q.signup_from.is_some()
        || q.signup_to.is_some();
    let lead = match (&fts, sort_index(q.sort)) {
        (None, _) => Lead::Planner,
        (Some(_), _) if other_filters => Lead::Planner,
        (Some(_), None) => Lead::Search,
        (Some(m), Some(index)) => match SearchHits::find(c, m)? {
            hits if hits.count <= FEW_MATCHES => Lead::Search,
            hits => {
                hits.register(c)?;
                Lead::SortIndex(index)
            }
        },
    };
    // The tie-break is the led table's own id column, so that its index gives the order.
    let summary_sort = matches!(q.sort, CustomerSort::LastPurchaseAt | CustomerSort::PurchaseValue);
    let (key, tie) = match (lead, q.sort) {
        (Lead::Search, CustomerSort::Id) => ("f.rowid", "f.rowid"),
        (_, CustomerSort::Id) => ("c.id", "c.id"),
        (_, sort) if summary_sort => (sort_expr(sort), "s.customer_id"),
        (_, sort) => (sort_expr(sort), "c.id"),
    };
    let from = match lead {
        Lead::Search => format!(
            "customer_search f CROSS JOIN {CUSTOMER_TABLES} JOIN customer_summaries s ON s.customer_id = c.id"
        ),
        Lead::SortIndex((index, false)) => format!(
            "customers c INDEXED BY {index} LEFT JOIN companies co ON co.id = c.company_id
                 CROSS JOIN customer_summaries s ON s.customer_id = c.id"
        ),
        Lead::SortIndex((index, true)) => format!(
            "customer_summaries s INDEXED BY {index} CROSS JOIN customers c ON c.id = s.customer_id
             LEFT JOIN companies co ON co.id = c.company_id"
        ),
        Lead::Planner => {
            format!("{CUSTOMER_TABLES} JOIN customer_summaries s ON s.customer_id = c.id")
        }
    };
    let mut filters = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    if let Some(m) = fts {
        match lead {
            Lead::Search => filters.push("f.rowid = c.id AND customer_search MATCH ?"),
            Lead::SortIndex(_) => filters.push("search_hit(c.id)"),
            Lead::Planner => filters
                .push("c.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH ?)"),
        }
        if !matches!(lead, Lead::SortIndex(_)) {
            args.push(Value::Text(m));
        }
    }
    if let Some(country) = &q.country {
        filters.push("c.country = ?");
        args.push(Value::Text(country.clone()));
    }
    if let Some(company) = &q.company {
        filters.push("co.external_id = ?");
        args.push(Value::Text(company.as_str().to_string()));
    }
    if let Some(from) = q.signup_from {
        filters.push("c.signup_at >= ?");
        args.push(Value::Integer(to_micros(from)));
    }
    if let Some(to) = q.signup_to {
        filters.push("c.signup_at < ?");
        args.push(Value::Integer(to_micros(to)));
    }
    let (cmp, dir) = if q.descending { ("<", "DESC") } else { (">", "ASC") };
    let keyset;
    if let Some(cursor) = &q.after {
        let (id, value) = decode_cursor(cursor, q.sort)?;
        keyset = if key == tie {
            format!("{key} {cmp} ?")
        } else {
            args.push(value);
            format!("({key}, {tie}) {cmp} (?, ?)")
        };
        filters.push(&keyset);
        args.push(Value::Integer(id));
    }
    let where_ =
        if filters.is_empty() { String::new() } else { format!("WHERE {}", filters.join(" AND ")) };
    let summary_cols = COLUMNS.split(',').map(|c| format!("s.{}", c.trim())).collect::<Vec<_>>();
    let order =
        if key == tie { format!("{key} {dir}") } else { format!("{key} {dir}, {tie} {dir}") };
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS}, {key}, {} FROM {from} {where_} ORDER BY {order} LIMIT {}",
        summary_cols.join(", "),
        q.limit
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params_from_iter(args), |r| {
            let (id, customer) = customer_from_row(r)?;
            let key: Value = r.get(12)?;
            Ok((id, key, CustomerListItem { customer, summary: from_row(r, 13)? }))
        })
        .map_err(db_err)?;
    let mut items = Vec::with_capacity(q.limit);
    let mut last = None;
    for row in rows {
        let (id, key, item) = row.map_err(db_err)?;
        last = Some((id, key));
        items.push(item);
    }
    let next = last.filter(|_| items.len() == q.limit).map(|(id, key)| encode_cursor(id, &key));
    Ok(ListPage { items, next })
}

/// The customers a search matches, as a bitmap over internal ids. The sort-index walk tests
/// each entry against it: a bit test, where SQLite's `IN (subquery)` would first build a
/// b-tree of every match and then search it per entry (three times slower at 100,000 matches).
struct SearchHits {
    bits: Vec<u64>,
    count: i64,
}

impl SearchHits {
    fn find(c: &Connection, fts: &str) -> StoreResult<SearchHits> {
        let mut stmt = c
            .prepare_cached("SELECT rowid FROM customer_search WHERE customer_search MATCH ?1")
            .map_err(db_err)?;
        let mut rows = stmt.query([fts]).map_err(db_err)?;
        let mut hits = SearchHits { bits: Vec::new(), count: 0 };
        while let Some(r) = rows.next().map_err(db_err)? {
            let id = u64::try_from(r.get::<_, i64>(0).map_err(db_err)?).unwrap_or(0) as usize;
            if hits.bits.len() <= id / 64 {
                hits.bits.resize(id / 64 + 1, 0);
            }
            hits.bits[id / 64] |= 1 << (id % 64);
            hits.count += 1;
        }
        Ok(hits)
    }

    /// Makes `search_hit(id)` answer for these hits on this connection (until the next search
    /// replaces it).
    fn register(self, c: &Connection) -> StoreResult<()> {
        use rusqlite::functions::FunctionFlags;
        c.create_scalar_function("search_hit", 1, FunctionFlags::SQLITE_UTF8, move |ctx| {
            let id = usize::try_from(ctx.get::<i64>(0)?).unwrap_or(usize::MAX);
            Ok(self.bits.get(id / 64).is_some_and(|w| w & (1 << (id % 64)) != 0))
        })
        .map_err(db_err)
    }
}

pub(crate) fn customer_id(c: &Connection, id: &ExternalId) -> StoreResult<i64> {
    c.prepare_cached("SELECT id FROM customers WHERE external_id = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("customer '{id}'")))
}

pub(crate) fn customer_by_email(c: &Connection, email: &str) -> StoreResult<Option<ExternalId>> {
    // `lower(email)` is the expression of the `customers_email` index (migration 3).
    c.prepare_cached(
        "SELECT external_id FROM customers WHERE lower(email) = lower(?1) ORDER BY id LIMIT 1",
    )
    .map_err(db_err)?
    .query_row([email], |r| ext(r, 0))
    .optional()
    .map_err(db_err)
}

pub(crate) fn customer(c: &Connection, id: &ExternalId) -> StoreResult<CustomerView> {
    let internal = customer_id(c, id)?;
    let (_, customer) = c
        .prepare_cached(&format!("{CUSTOMER_SELECT} WHERE c.id = ?1"))
        .map_err(db_err)?
        .query_row([internal], customer_from_row)
        .map_err(db_err)?;
    let company = match &customer.company {
        None => None,
        Some(co) => c
            .prepare_cached(&format!("{COMPANY_SELECT} WHERE external_id = ?1"))
            .map_err(db_err)?
            .query_row([co.as_str()], company_from_row)
            .optional()
            .map_err(db_err)?
            .map(|(_, co)| co),
    };
    let summary = c
        .prepare_cached(&format!("SELECT {COLUMNS} FROM customer_summaries WHERE customer_id = ?1"))
        .map_err(db_err)?
        .query_row([internal], |r| from_row(r, 0))
        .map_err(db_err)?;
    // The latest decision per purpose (ties on time go to the later row).
    let consents = c
        .prepare_cached(&format!(
            "SELECT {CONSENT_FROM} WHERE x.customer_id = ?1 AND x.id = (
               SELECT y.id FROM consents y WHERE y.customer_id = x.customer_id AND y.purpose = x.purpose
                ORDER BY y.at DESC, y.id DESC LIMIT 1)
             ORDER BY x.purpose"
        ))
        .map_err(db_err)?
        .query_map([internal], consent_from_row)
        .map_err(db_err)?
        .map(|r| r.map(|(_, v)| v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(db_err)?;
    Ok(CustomerView { customer, company, summary, consents })
}

/// Reads one stream's row as a timeline item.
type RowMapper = fn(&rusqlite::Row<'_>) -> rusqlite::Result<TimelineItem>;

pub(crate) fn timeline(
    c: &Connection,
    id: &ExternalId,
    after: Option<&TimelineCursor>,
    limit: usize,
) -> StoreResult<Vec<TimelineItem>> {
    let internal = customer_id(c, id)?;
    let until = after.map_or(i64::MAX, |a| to_micros(a.at));
    let n = (limit + TIMELINE_SLACK) as i64;
    let mut items = orders_before(c, internal, until, n)?;
    let streams: [(&str, &str, RowMapper); 4] = [
        (EVENT_FROM, "at", |r| event_from_row(r).map(|(_, v)| TimelineItem::Event(v))),
        (INTERACTION_FROM, "at", |r| {
            interaction_from_row(r).map(|(_, v)| TimelineItem::Interaction(v))
        }),
        (FEEDBACK_FROM, "created_at", |r| {
            feedback_from_row(r).map(|(_, v)| TimelineItem::Feedback(v))
        }),
        (CONSENT_FROM, "at", |r| consent_from_row(r).map(|(_, v)| TimelineItem::Consent(v))),
    ];
    for (from, time, map) in streams {
        let sql = format!(
            "SELECT {from} WHERE x.customer_id = ?1 AND x.{time} <= ?2 ORDER BY x.{time} DESC LIMIT ?3"
        );
        let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
        let rows = stmt.query_map((internal, until, n), map).map_err(db_err)?;
        items.extend(rows.collect::<Result<Vec<_>, _>>().map_err(db_err)?);
    }
    if let Some(a) = after {
        items.retain(|i| a.admits(i));
    }
    Ok(merge_timeline(items, limit))
}

fn orders_before(
    c: &Connection,
    customer: i64,
    until: i64,
    n: i64,
) -> StoreResult<Vec<TimelineItem>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT o.external_id, c.external_id, o.placed_at, o.currency, o.status, o.total_e4,
                    (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id)
               FROM orders o JOIN customers c ON c.id = o.customer_id
              WHERE o.customer_id = ?1 AND o.placed_at <= ?2 ORDER BY o.placed_at DESC LIMIT ?3",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map((customer, until, n), |r| {
            Ok(TimelineItem::Order(OrderEntry {
                order: Order {
                    id: ext(r, 0)?,
                    customer: ext(r, 1)?,
                    placed_at: from_micros(r.get(2)?),
                    currency: Currency::parse(&r.get::<_, String>(3)?).map_err(conv)?,
                    status: OrderStatus::parse(&r.get::<_, String>(4)?).map_err(conv)?,
                },
                total: Money::from_e4(r.get(5)?),
                lines: r.get(6)?,
            }))
        })
        .map_err(db_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db_err)
}

/// Erases the customer's rows, children first (foreign keys are enforced).
pub(crate) fn delete_customer(tx: &Transaction<'_>, id: &ExternalId) -> StoreResult<()> {
    let internal = customer_id(tx, id)?;
    for sql in [
        "DELETE FROM idea_feedback WHERE feedback_id IN (SELECT id FROM feedback WHERE customer_id = ?1)",
        "DELETE FROM idea_requesters WHERE customer_id = ?1",
        "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE customer_id = ?1)",
        "DELETE FROM orders WHERE customer_id = ?1",
        "DELETE FROM events WHERE customer_id = ?1",
        "DELETE FROM interactions WHERE customer_id = ?1",
        "DELETE FROM feedback WHERE customer_id = ?1",
        "DELETE FROM segment_members WHERE customer_id = ?1",
        "DELETE FROM customer_factors WHERE customer_id = ?1",
        "DELETE FROM loyalty_entries WHERE customer_id = ?1",
        "DELETE FROM loyalty_accounts WHERE customer_id = ?1",
        "DELETE FROM campaign_recipients WHERE customer_id = ?1",
        "DELETE FROM survey_tokens WHERE customer_id = ?1",
        "DELETE FROM survey_responses WHERE customer_id = ?1",
        "DELETE FROM consents WHERE customer_id = ?1",
        "DELETE FROM outbox WHERE customer_id = ?1",
        "DELETE FROM customer_summaries WHERE customer_id = ?1",
        "DELETE FROM customers WHERE id = ?1",
    ] {
        tx.prepare_cached(sql).map_err(db_err)?.execute([internal]).map_err(db_err)?;
    }
    Ok(())
}

//! Read models for the server: the customers list (search, filters, keyset-paginated sorts),
//! the customer 360 view, the merged timeline, and erasure. The same behaviour as the SQLite
//! store's `view.rs`, pinned by the shared `story_views` suite.

use crate::customers::{
    COMPANY_SELECT, CUSTOMER_COLUMNS, CUSTOMER_TABLES, company_from_row, customer_from_row,
};
use crate::read::{
    CONSENT_FROM, EVENT_FROM, FEEDBACK_FROM, INTERACTION_FROM, consent_from_row, event_from_row,
    feedback_from_row, interaction_from_row, parse, snapshot,
};
use crate::summary::{COLUMNS, from_row};
use crate::{db_err, ext_id, get};
use rapport_core::value::{to_micros, try_from_micros};
use rapport_core::{Currency, CustomerSummary, ExternalId, Money, Order, OrderStatus, Timestamp};
use rapport_store::{
    CustomerListItem, CustomerQuery, CustomerSort, CustomerView, ListPage, OrderEntry, StoreError,
    StoreResult, TIMELINE_SLACK, TimelineCursor, TimelineItem, merge_timeline,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres, QueryBuilder};

/// The SQL sort key of each sort and the id column that breaks its ties; must match the index
/// expressions of migration 2. Summary sorts tie-break on `s.customer_id` so that the summary
/// index alone gives the order.
fn sort_expr(s: CustomerSort) -> (&'static str, &'static str) {
    match s {
        CustomerSort::Id => ("c.id", "c.id"),
        CustomerSort::Name => (r#"COALESCE(c.name, '') COLLATE "C""#, "c.id"),
        CustomerSort::SignupAt => ("COALESCE(c.signup_at, '-infinity'::timestamptz)", "c.id"),
        CustomerSort::LastPurchaseAt => {
            ("COALESCE(s.last_purchase_at, '-infinity'::timestamptz)", "s.customer_id")
        }
        CustomerSort::PurchaseValue => ("s.purchase_value_e4", "s.customer_id"),
    }
}

/// The sort value of a row, as carried by a cursor. A missing time is NULL, which the keyset
/// comparison turns into `-infinity` as the sort key does.
#[derive(Debug, PartialEq)]
enum Key {
    Id,
    Text(String),
    Time(Option<Timestamp>),
    Int(i64),
}

fn key_of(sort: CustomerSort, item: &CustomerListItem) -> Key {
    let (c, s) = (&item.customer, &item.summary);
    match sort {
        CustomerSort::Id => Key::Id,
        CustomerSort::Name => Key::Text(c.name.clone().unwrap_or_default()),
        CustomerSort::SignupAt => Key::Time(c.signup_at),
        CustomerSort::LastPurchaseAt => Key::Time(s.last_purchase_at),
        CustomerSort::PurchaseValue => Key::Int(s.purchase_value.e4()),
    }
}

/// Cursor: `{id}:{key}` (key: the name, micros or nothing for a missing time, an integer, or
/// nothing for the id sort). The id never holds a colon, so names may.
fn encode_cursor(id: i64, key: &Key) -> String {
    match key {
        Key::Id | Key::Time(None) => format!("{id}:"),
        Key::Text(t) => format!("{id}:{t}"),
        Key::Time(Some(t)) => format!("{id}:{}", to_micros(*t)),
        Key::Int(i) => format!("{id}:{i}"),
    }
}

fn decode_cursor(s: &str, sort: CustomerSort) -> StoreResult<(i64, Key)> {
    let bad = || StoreError::Invalid(format!("cursor '{s}' is not one this list issued"));
    let (id, key) = s.split_once(':').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let key = match sort {
        CustomerSort::Id if key.is_empty() => Key::Id,
        CustomerSort::Id => return Err(bad()),
        // PostgreSQL text cannot hold NUL, so no issued cursor does.
        CustomerSort::Name if key.contains('\0') => return Err(bad()),
        CustomerSort::Name => Key::Text(key.to_string()),
        CustomerSort::SignupAt | CustomerSort::LastPurchaseAt if key.is_empty() => Key::Time(None),
        CustomerSort::SignupAt | CustomerSort::LastPurchaseAt => {
            let micros = key.parse().map_err(|_| bad())?;
            Key::Time(Some(try_from_micros(micros).ok_or_else(bad)?))
        }
        CustomerSort::PurchaseValue => Key::Int(key.parse().map_err(|_| bad())?),
    };
    Ok((id, key))
}

/// Turns what a person typed into a tsquery: every word must match as a prefix
/// (`ann:* & smi:*`). Words are reduced to letters and digits, so no input can break the query
/// syntax. Combining marks are dropped here too: `search_fold` in SQL removes them, and a word
/// made only of them would leave an empty operand (a syntax error) behind.
pub(crate) fn fts_query(search: &str) -> Option<String> {
    let terms: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .map(|w| w.chars().filter(|c| !('\u{300}'..='\u{36f}').contains(c)).collect::<String>())
        .filter(|w| !w.is_empty())
        .map(|w| format!("{w}:*"))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" & "))
}

/// Appends the WHERE clause of the list query: filters, then the keyset position.
fn push_filters(b: &mut QueryBuilder<Postgres>, q: &CustomerQuery) -> StoreResult<()> {
    let mut sep = " WHERE ";
    let mut next = |b: &mut QueryBuilder<Postgres>, sql: &str| {
        b.push(sep).push(sql);
        sep = " AND ";
    };
    if let Some(words) = q.search.as_deref().and_then(fts_query) {
        next(b, "c.search @@ to_tsquery('simple', search_fold(");
        b.push_bind(words).push("))");
    }
    let texts = [
        ("c.country = ", q.country.as_deref()),
        ("co.external_id = ", q.company.as_ref().map(ExternalId::as_str)),
    ];
    for (cond, value) in texts.into_iter().filter_map(|(c, v)| v.map(|v| (c, v))) {
        // PostgreSQL text cannot hold NUL: such a value matches nothing (and must not be sent).
        if value.contains('\0') {
            next(b, "FALSE");
        } else {
            next(b, cond);
            b.push_bind(value.to_string());
        }
    }
    if let Some(from) = q.signup_from {
        next(b, "c.signup_at >= ");
        b.push_bind(from);
    }
    if let Some(to) = q.signup_to {
        next(b, "c.signup_at < ");
        b.push_bind(to);
    }
    if let Some(cursor) = &q.after {
        let (id, key) = decode_cursor(cursor, q.sort)?;
        next(b, "");
        push_keyset(b, q, id, key);
    }
    Ok(())
}

/// Rows strictly after the cursor's (sort key, id) in the list's direction; the same
/// expressions as the ORDER BY, so the comparison and the order agree (collation included).
fn push_keyset(b: &mut QueryBuilder<Postgres>, q: &CustomerQuery, id: i64, key: Key) {
    let (expr, tie) = sort_expr(q.sort);
    let cmp = if q.descending { "<" } else { ">" };
    let open = format!("({expr}, {tie}) {cmp} (");
    match key {
        Key::Id => {
            b.push(format!("c.id {cmp} ")).push_bind(id);
            return;
        }
        Key::Text(t) => b.push(open).push_bind(t),
        Key::Int(i) => b.push(open).push_bind(i),
        // A missing time sorts as -infinity, as in the sort key.
        Key::Time(t) => {
            b.push(open).push("COALESCE(").push_bind(t).push("::timestamptz, '-infinity')")
        }
    };
    b.push(", ").push_bind(id).push(")");
}

pub(crate) async fn customers(
    pool: &PgPool,
    q: &CustomerQuery,
) -> StoreResult<ListPage<CustomerListItem>> {
    let (expr, tie) = sort_expr(q.sort);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let mut b = QueryBuilder::new(format!(
        "SELECT {CUSTOMER_COLUMNS}, {COLUMNS} FROM {CUSTOMER_TABLES}
           JOIN customer_summaries s ON s.customer_id = c.id"
    ));
    push_filters(&mut b, q)?;
    b.push(format!(" ORDER BY {expr} {dir}, {tie} {dir} LIMIT "));
    b.push_bind(i64::try_from(q.limit).unwrap_or(i64::MAX));
    let rows = b.build().fetch_all(pool).await.map_err(db_err)?;
    let mut items = Vec::with_capacity(rows.len());
    let mut last = None;
    for r in &rows {
        let (id, customer) = customer_from_row(r)?;
        last = Some(id);
        items.push(CustomerListItem { customer, summary: from_row(r, 12)? });
    }
    let next = match (last, items.last()) {
        (Some(id), Some(item)) if items.len() == q.limit => {
            Some(encode_cursor(id, &key_of(q.sort, item)))
        }
        _ => None,
    };
    Ok(ListPage { items, next })
}

fn not_found(id: &ExternalId) -> StoreError {
    StoreError::NotFound(format!("customer '{id}'"))
}

async fn customer_id(c: &mut PgConnection, id: &ExternalId) -> StoreResult<i64> {
    let row = sqlx::query("SELECT id FROM customers WHERE external_id = $1")
        .bind(id.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?;
    row.map(|r| get(&r, 0)).transpose()?.ok_or_else(|| not_found(id))
}

/// The customer with their summary, and their internal id.
async fn customer_row(
    c: &mut PgConnection,
    id: &ExternalId,
) -> StoreResult<(i64, rapport_core::Customer, CustomerSummary)> {
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS}, {COLUMNS} FROM {CUSTOMER_TABLES}
           JOIN customer_summaries s ON s.customer_id = c.id WHERE c.external_id = $1"
    );
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id.as_str())
        .fetch_optional(&mut *c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| not_found(id))?;
    let (internal, customer) = customer_from_row(&row)?;
    Ok((internal, customer, from_row(&row, 12)?))
}

pub(crate) async fn customer_by_email(
    pool: &PgPool,
    email: &str,
) -> StoreResult<Option<ExternalId>> {
    if email.contains('\0') {
        return Ok(None);
    }
    // `lower(email)` is the expression of the `customers_email` index (migration 3).
    let row = sqlx::query(
        "SELECT external_id FROM customers WHERE lower(email) = lower($1) ORDER BY id LIMIT 1",
    )
    .bind(email)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.map(|r| ext_id(get(&r, 0)?)).transpose()
}

pub(crate) async fn customer(pool: &PgPool, id: &ExternalId) -> StoreResult<CustomerView> {
    let mut tx = snapshot(pool).await?;
    let (internal, customer, summary) = customer_row(&mut tx, id).await?;
    let company = match &customer.company {
        None => None,
        Some(co) => sqlx::query(AssertSqlSafe(format!("{COMPANY_SELECT} WHERE external_id = $1")))
            .bind(co.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?
            .map(|r| company_from_row(&r).map(|(_, co)| co))
            .transpose()?,
    };
    // The latest decision per purpose (ties on time go to the later row), purposes in byte
    // order as on SQLite.
    let sql = format!(
        r#"SELECT DISTINCT ON (x.purpose COLLATE "C") {CONSENT_FROM} WHERE x.customer_id = $1
            ORDER BY x.purpose COLLATE "C", x.at DESC, x.id DESC"#
    );
    let rows =
        sqlx::query(AssertSqlSafe(sql)).bind(internal).fetch_all(&mut *tx).await.map_err(db_err)?;
    let consents =
        rows.iter().map(|r| consent_from_row(r).map(|(_, v)| v)).collect::<StoreResult<_>>()?;
    tx.commit().await.map_err(db_err)?;
    Ok(CustomerView { customer, company, summary, consents })
}

type Decode = fn(&PgRow) -> StoreResult<TimelineItem>;

/// Each stream of the timeline: selected columns and tables, time column, decoder.
const STREAMS: [(&str, &str, Decode); 4] = [
    (EVENT_FROM, "at", |r| event_from_row(r).map(|(_, v)| TimelineItem::Event(v))),
    (INTERACTION_FROM, "at", |r| {
        interaction_from_row(r).map(|(_, v)| TimelineItem::Interaction(v))
    }),
    (FEEDBACK_FROM, "created_at", |r| feedback_from_row(r).map(|(_, v)| TimelineItem::Feedback(v))),
    (CONSENT_FROM, "at", |r| consent_from_row(r).map(|(_, v)| TimelineItem::Consent(v))),
];

/// Up to `limit` items after `after`, newest first. Each stream reads its newest rows not later
/// than the cursor's time (with slack for rows sharing that exact time), and the shared
/// [`merge_timeline`] orders them, exactly as on SQLite. Within one time, rows are read in id
/// byte order (the order of the merge's tie-break), so the slack is spent on the right rows.
pub(crate) async fn timeline(
    pool: &PgPool,
    id: &ExternalId,
    after: Option<&TimelineCursor>,
    limit: usize,
) -> StoreResult<Vec<TimelineItem>> {
    let mut tx = snapshot(pool).await?;
    let internal = customer_id(&mut tx, id).await?;
    let until = after.map(|a| a.at);
    let n = i64::try_from(limit + TIMELINE_SLACK).unwrap_or(i64::MAX);
    let mut items = orders_until(&mut tx, internal, until, n).await?;
    for (from, time, decode) in STREAMS {
        let sql = format!(
            r#"SELECT {from} WHERE x.customer_id = $1
                 AND x.{time} <= COALESCE($2::timestamptz, 'infinity')
               ORDER BY x.{time} DESC, x.external_id COLLATE "C" LIMIT $3"#
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(internal)
            .bind(until)
            .bind(n)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        for r in &rows {
            items.push(decode(r)?);
        }
    }
    tx.commit().await.map_err(db_err)?;
    if let Some(a) = after {
        items.retain(|i| a.admits(i));
    }
    Ok(merge_timeline(items, limit))
}

async fn orders_until(
    c: &mut PgConnection,
    customer: i64,
    until: Option<Timestamp>,
    n: i64,
) -> StoreResult<Vec<TimelineItem>> {
    let rows = sqlx::query(
        r#"SELECT o.external_id, c.external_id, o.placed_at, o.currency, o.status, o.total_e4,
                  (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = o.id)
             FROM orders o JOIN customers c ON c.id = o.customer_id
            WHERE o.customer_id = $1 AND o.placed_at <= COALESCE($2::timestamptz, 'infinity')
            ORDER BY o.placed_at DESC, o.external_id COLLATE "C" LIMIT $3"#,
    )
    .bind(customer)
    .bind(until)
    .bind(n)
    .fetch_all(&mut *c)
    .await
    .map_err(db_err)?;
    rows.iter()
        .map(|r| {
            let order = Order {
                id: ext_id(get(r, 0)?)?,
                customer: ext_id(get(r, 1)?)?,
                placed_at: get(r, 2)?,
                currency: parse(r, 3, Currency::parse, "currency")?,
                status: parse(r, 4, OrderStatus::parse, "order status")?,
            };
            let (total, lines) = (Money::from_e4(get(r, 5)?), get(r, 6)?);
            Ok(TimelineItem::Order(OrderEntry { order, total, lines }))
        })
        .collect()
}

/// Erases the customer's rows, children first (the foreign keys have no cascades, so nothing
/// is ever deleted by accident). Runs in the caller's write transaction.
pub(crate) async fn delete_customer(c: &mut PgConnection, id: &ExternalId) -> StoreResult<()> {
    let internal = customer_id(c, id).await?;
    for sql in [
        "DELETE FROM idea_feedback WHERE feedback_id IN (SELECT id FROM feedback WHERE customer_id = $1)",
        "DELETE FROM idea_requesters WHERE customer_id = $1",
        "DELETE FROM order_lines WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $1)",
        "DELETE FROM orders WHERE customer_id = $1",
        "DELETE FROM events WHERE customer_id = $1",
        "DELETE FROM interactions WHERE customer_id = $1",
        "DELETE FROM feedback WHERE customer_id = $1",
        "DELETE FROM segment_members WHERE customer_id = $1",
        "DELETE FROM customer_factors WHERE customer_id = $1",
        "DELETE FROM loyalty_entries WHERE customer_id = $1",
        "DELETE FROM loyalty_accounts WHERE customer_id = $1",
        "DELETE FROM campaign_recipients WHERE customer_id = $1",
        "DELETE FROM survey_tokens WHERE customer_id = $1",
        "DELETE FROM survey_responses WHERE customer_id = $1",
        "DELETE FROM consents WHERE customer_id = $1",
        "DELETE FROM outbox WHERE customer_id = $1",
        "DELETE FROM customer_summaries WHERE customer_id = $1",
        "DELETE FROM customers WHERE id = $1",
    ] {
        sqlx::query(sql).bind(internal).execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_cannot_break_the_query() {
        assert_eq!(fts_query("Ann  SMI").as_deref(), Some("Ann:* & SMI:*"));
        assert_eq!(fts_query("jones.org").as_deref(), Some("jones:* & org:*"));
        assert_eq!(fts_query("\"* -:()&|!<>'\\"), None);
        assert_eq!(fts_query("\u{345}").as_deref(), None, "a lone combining mark");
    }

    #[test]
    fn cursors_round_trip_and_reject_nonsense() {
        let t = rapport_core::value::from_micros(1_700_000_000_123_456);
        let cases = [
            (CustomerSort::Id, Key::Id),
            (CustomerSort::Name, Key::Text("a:b é".into())),
            (CustomerSort::Name, Key::Text(String::new())),
            (CustomerSort::SignupAt, Key::Time(Some(t))),
            (CustomerSort::LastPurchaseAt, Key::Time(None)),
            (CustomerSort::PurchaseValue, Key::Int(-5)),
        ];
        for (sort, key) in cases {
            assert_eq!(decode_cursor(&encode_cursor(7, &key), sort).unwrap(), (7, key));
        }
        for (bad, sort) in [
            ("nonsense", CustomerSort::Id),
            ("1:x", CustomerSort::Id),
            ("x:1", CustomerSort::PurchaseValue),
            ("1:1.5", CustomerSort::SignupAt),
            ("1:a\0", CustomerSort::Name),
        ] {
            assert!(matches!(decode_cursor(bad, sort), Err(StoreError::Invalid(_))), "{bad}");
        }
    }
}

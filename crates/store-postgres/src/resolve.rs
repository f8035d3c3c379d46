//! External id -> internal id for a whole batch at once, creating bare customers/companies where
//! asked. Names are passed in first-appearance order, so new rows get ids in the order a row by
//! row import would have given them.

use crate::{db_err, get};
use rapport_store::StoreResult;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};

/// Distinct values in first-appearance order.
pub(crate) fn distinct<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    names.into_iter().filter(|n| seen.insert(*n)).collect()
}

async fn lookup(
    c: &mut PgConnection,
    sql: &'static str,
    names: &[&str],
) -> StoreResult<HashMap<String, i64>> {
    let rows = sqlx::query(sql).bind(names).fetch_all(&mut *c).await.map_err(db_err)?;
    rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?))).collect()
}

/// The internal ids of the named customers (distinct names). With `create`, unknown ones are
/// first inserted as bare customers with their (zero) summary rows; without, they are absent
/// from the map.
pub(crate) async fn customers(
    c: &mut PgConnection,
    names: &[&str],
    create: bool,
) -> StoreResult<HashMap<String, i64>> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    if create {
        // NOT EXISTS first so that known names do not use up identity values.
        sqlx::query(
            "WITH new AS (
                INSERT INTO customers (external_id)
                SELECT u.x FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n)
                 WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.external_id = u.x)
                 ORDER BY u.n
                ON CONFLICT (external_id) DO NOTHING
                RETURNING id)
             INSERT INTO customer_summaries (customer_id) SELECT id FROM new",
        )
        .bind(names)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    }
    // A join with the unnested names, not `external_id = ANY($1)`: once the prepared statement
    // switches to a generic plan, `= ANY($1)` becomes a sequential scan that searches the array
    // linearly for every customer (quadratic in batch and table size).
    lookup(
        c,
        "SELECT c.external_id, c.id FROM unnest($1::text[]) AS u(x)
           JOIN customers c ON c.external_id = u.x",
        names,
    )
    .await
}

/// The internal ids of the named companies (distinct names), creating bare companies for the
/// ones not known yet.
pub(crate) async fn companies(
    c: &mut PgConnection,
    names: &[&str],
) -> StoreResult<HashMap<String, i64>> {
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    sqlx::query(
        "INSERT INTO companies (external_id)
         SELECT u.x FROM unnest($1::text[]) WITH ORDINALITY AS u(x, n)
          WHERE NOT EXISTS (SELECT 1 FROM companies c WHERE c.external_id = u.x)
          ORDER BY u.n
         ON CONFLICT (external_id) DO NOTHING",
    )
    .bind(names)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    lookup(
        c,
        "SELECT c.external_id, c.id FROM unnest($1::text[]) AS u(x)
           JOIN companies c ON c.external_id = u.x",
        names,
    )
    .await
}

/// The customers of the named orders (for feedback that names an order, not a customer).
pub(crate) async fn order_customers(
    c: &mut PgConnection,
    orders: &[&str],
) -> StoreResult<HashMap<String, i64>> {
    if orders.is_empty() {
        return Ok(HashMap::new());
    }
    lookup(c, "SELECT external_id, customer_id FROM orders WHERE external_id = ANY($1)", orders)
        .await
}

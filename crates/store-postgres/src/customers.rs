//! Profiles: customers (with company membership), companies, products. Upsert by external id,
//! merging: fields a record does not carry keep their stored values.
//!
//! Set-based: the stored rows a batch names are loaded at once, the rows are merged in order in
//! Rust (the same id may repeat within a batch), and new and changed rows are written with one
//! `unnest` statement each.

use crate::resolve::{self, distinct};
use crate::{db_err, ext_id, get, invalid, nul_check};
use rapport_core::*;
use rapport_store::{RowOutcome, StoreError, StoreResult};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres};
use std::collections::HashMap;

/// What a batch of merges comes to.
struct Merged<T> {
    outcomes: Vec<RowOutcome>,
    /// Rows to insert, in first-appearance order, as they stand after the whole batch.
    new: Vec<(String, T)>,
    /// Stored rows that changed, with their internal ids.
    changed: Vec<(i64, T)>,
}

/// Replays a batch of upserts against the stored rows, row by row: a new id is inserted as
/// given, a known one is merged and counts as updated when the merge changes it. `written` sees
/// every value as it is written (inserted or updated). With `create_only` a known id (stored or
/// earlier in the batch) is left alone: [`RowOutcome::Exists`].
fn merge<T: Clone + PartialEq>(
    create_only: bool,
    rows: &[T],
    stored: Vec<(i64, T)>,
    key: impl Fn(&T) -> &str,
    merged_with: impl Fn(&T, &T) -> T,
    reject: impl Fn(&T) -> Option<FieldError>,
    mut written: impl FnMut(&T),
) -> Merged<T> {
    let mut slots: HashMap<String, (Option<i64>, T, bool)> =
        stored.into_iter().map(|(id, v)| (key(&v).to_string(), (Some(id), v, false))).collect();
    let mut new_keys = Vec::new();
    let mut outcomes = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(e) = reject(row) {
            outcomes.push(RowOutcome::Rejected(e));
            continue;
        }
        outcomes.push(match slots.get_mut(key(row)) {
            Some(_) if create_only => RowOutcome::Exists,
            None => {
                written(row);
                slots.insert(key(row).to_string(), (None, row.clone(), false));
                new_keys.push(key(row).to_string());
                RowOutcome::Inserted
            }
            Some(slot) => {
                let merged = merged_with(&slot.1, row);
                if merged == slot.1 {
                    RowOutcome::Unchanged
                } else {
                    written(&merged);
                    (slot.1, slot.2) = (merged, true);
                    RowOutcome::Updated
                }
            }
        });
    }
    let new = new_keys
        .into_iter()
        .map(|k| {
            let v = slots[&k].1.clone();
            (k, v)
        })
        .collect();
    let changed =
        slots.into_values().filter_map(|(id, v, dirty)| id.filter(|_| dirty).map(|id| (id, v)));
    Merged { outcomes, new, changed: changed.collect() }
}

/// The columns [`customer_from_row`] reads (12), selected from [`CUSTOMER_TABLES`].
pub(crate) const CUSTOMER_COLUMNS: &str = "c.id, c.external_id, c.name, c.email, c.phone,
    c.country, c.city, c.birth_year, c.gender, c.signup_at, co.external_id, c.attributes::text";
pub(crate) const CUSTOMER_TABLES: &str =
    "customers c LEFT JOIN companies co ON co.id = c.company_id";

/// A nullable text column parsed as a domain type.
fn parse_opt<T>(
    r: &PgRow,
    i: usize,
    f: fn(&str) -> Result<T, String>,
    what: &str,
) -> StoreResult<Option<T>> {
    get::<Option<String>>(r, i)?.map(|s| f(&s).map_err(|e| invalid(what, e))).transpose()
}

pub(crate) fn customer_from_row(r: &PgRow) -> StoreResult<(i64, Customer)> {
    let attrs: String = get(r, 11)?;
    Ok((
        get(r, 0)?,
        Customer {
            id: ext_id(get(r, 1)?)?,
            name: get(r, 2)?,
            email: parse_opt(r, 3, Email::parse, "email")?,
            phone: parse_opt(r, 4, Phone::parse, "phone")?,
            country: get(r, 5)?,
            city: get(r, 6)?,
            birth_year: get(r, 7)?,
            gender: parse_opt(r, 8, Gender::parse, "gender")?,
            signup_at: get(r, 9)?,
            company: get::<Option<String>>(r, 10)?.map(ext_id).transpose()?,
            attributes: serde_json::from_str(&attrs)
                .map_err(|e| invalid("attributes", e.to_string()))?,
        },
    ))
}

/// Binds a customer's content columns (everything after the key) as arrays.
fn bind_customers<'q>(
    q: Query<'q, Postgres, PgArguments>,
    rows: &[&Customer],
    companies: &HashMap<String, i64>,
) -> StoreResult<Query<'q, Postgres, PgArguments>> {
    let text = |f: fn(&Customer) -> Option<&str>| {
        rows.iter().map(|c| f(c).map(str::to_string)).collect::<Vec<_>>()
    };
    let attrs =
        rows.iter().map(|c| serde_json::to_string(&c.attributes)).collect::<Result<Vec<_>, _>>();
    Ok(q.bind(text(|c| c.name.as_deref()))
        .bind(text(|c| c.email.as_ref().map(Email::as_str)))
        .bind(text(|c| c.phone.as_ref().map(Phone::as_str)))
        .bind(text(|c| c.country.as_deref()))
        .bind(text(|c| c.city.as_deref()))
        .bind(rows.iter().map(|c| c.birth_year).collect::<Vec<_>>())
        .bind(text(|c| c.gender.map(Gender::as_str)))
        .bind(rows.iter().map(|c| c.signup_at).collect::<Vec<_>>())
        .bind(
            rows.iter()
                .map(|c| c.company.as_ref().map(|e| companies[e.as_str()]))
                .collect::<Vec<_>>(),
        )
        .bind(attrs.map_err(StoreError::other)?))
}

const CUSTOMER_ARRAYS: &str = "$2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::smallint[], $8::text[], $9::timestamptz[], $10::bigint[], $11::text[]";

pub(crate) async fn upsert_customers(
    c: &mut PgConnection,
    rows: &[Customer],
) -> StoreResult<Vec<RowOutcome>> {
    let names = distinct(rows.iter().map(|r| r.id.as_str()));
    let sql =
        format!("SELECT {CUSTOMER_COLUMNS} FROM {CUSTOMER_TABLES} WHERE c.external_id = ANY($1)");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&names)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let stored = found.iter().map(customer_from_row).collect::<StoreResult<Vec<_>>>()?;
    let mut memberships: Vec<String> = Vec::new();
    let m = merge(
        false,
        rows,
        stored,
        |c| c.id.as_str(),
        Customer::merged_with,
        |c| {
            let email = c.email.as_ref().map(Email::as_str);
            nul_check([
                ("name", c.name.as_deref()),
                ("email", email),
                ("country", c.country.as_deref()),
            ])
            .or_else(|| nul_check([("city", c.city.as_deref())]))
        },
        |c| memberships.extend(c.company.as_ref().map(|e| e.to_string())),
    );
    // Memberships that name a new company create it (bare), as on SQLite.
    let companies =
        resolve::companies(c, &distinct(memberships.iter().map(String::as_str))).await?;

    if !m.new.is_empty() {
        let sql = format!(
            "WITH new AS (
                INSERT INTO customers (external_id, name, email, phone, country, city, birth_year,
                                       gender, signup_at, company_id, attributes)
                SELECT u.x, u.name, u.email, u.phone, u.country, u.city, u.birth_year, u.gender,
                       u.signup_at, u.company_id, u.attributes::json
                  FROM unnest($1::text[], {CUSTOMER_ARRAYS})
                       WITH ORDINALITY AS u(x, name, email, phone, country, city, birth_year,
                                            gender, signup_at, company_id, attributes, n)
                 ORDER BY u.n
                RETURNING id)
             INSERT INTO customer_summaries (customer_id) SELECT id FROM new"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(m.new.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
        let rows: Vec<&Customer> = m.new.iter().map(|(_, v)| v).collect();
        bind_customers(q, &rows, &companies)?.execute(&mut *c).await.map_err(db_err)?;
    }
    if !m.changed.is_empty() {
        let sql = format!(
            "UPDATE customers c SET name = u.name, email = u.email, phone = u.phone,
                    country = u.country, city = u.city, birth_year = u.birth_year,
                    gender = u.gender, signup_at = u.signup_at, company_id = u.company_id,
                    attributes = u.attributes::json
               FROM unnest($1::bigint[], {CUSTOMER_ARRAYS})
                    AS u(id, name, email, phone, country, city, birth_year, gender, signup_at,
                         company_id, attributes)
              WHERE c.id = u.id"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(m.changed.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        let rows: Vec<&Customer> = m.changed.iter().map(|(_, v)| v).collect();
        bind_customers(q, &rows, &companies)?.execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(m.outcomes)
}

pub(crate) const COMPANY_SELECT: &str =
    "SELECT id, external_id, name, industry, size, plan, mrr_e4 FROM companies";

pub(crate) fn company_from_row(r: &PgRow) -> StoreResult<(i64, Company)> {
    Ok((
        get(r, 0)?,
        Company {
            id: ext_id(get(r, 1)?)?,
            name: get(r, 2)?,
            industry: get(r, 3)?,
            size: get(r, 4)?,
            plan: get(r, 5)?,
            mrr: get::<Option<i64>>(r, 6)?.map(Money::from_e4),
        },
    ))
}

fn bind_companies<'q>(
    q: Query<'q, Postgres, PgArguments>,
    rows: &[&Company],
) -> Query<'q, Postgres, PgArguments> {
    let text =
        |f: fn(&Company) -> &Option<String>| rows.iter().map(|c| f(c).clone()).collect::<Vec<_>>();
    q.bind(text(|c| &c.name))
        .bind(text(|c| &c.industry))
        .bind(text(|c| &c.size))
        .bind(text(|c| &c.plan))
        .bind(rows.iter().map(|c| c.mrr.map(Money::e4)).collect::<Vec<_>>())
}

pub(crate) async fn upsert_companies(
    c: &mut PgConnection,
    rows: &[Company],
    create_only: bool,
) -> StoreResult<Vec<RowOutcome>> {
    let names = distinct(rows.iter().map(|r| r.id.as_str()));
    let sql = format!("{COMPANY_SELECT} WHERE external_id = ANY($1)");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&names)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let stored = found.iter().map(company_from_row).collect::<StoreResult<Vec<_>>>()?;
    let m = merge(
        create_only,
        rows,
        stored,
        |c| c.id.as_str(),
        Company::merged_with,
        |c| {
            let f = [
                ("name", &c.name),
                ("industry", &c.industry),
                ("size", &c.size),
                ("plan", &c.plan),
            ];
            nul_check(f.map(|(n, v)| (n, v.as_deref())))
        },
        |_| {},
    );
    if !m.new.is_empty() {
        let q = sqlx::query(
            "INSERT INTO companies (external_id, name, industry, size, plan, mrr_e4)
             SELECT u.x, u.name, u.industry, u.size, u.plan, u.mrr
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                    WITH ORDINALITY AS u(x, name, industry, size, plan, mrr, n)
              ORDER BY u.n",
        )
        .bind(m.new.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
        let rows: Vec<&Company> = m.new.iter().map(|(_, v)| v).collect();
        bind_companies(q, &rows).execute(&mut *c).await.map_err(db_err)?;
    }
    if !m.changed.is_empty() {
        let q = sqlx::query(
            "UPDATE companies c SET name = u.name, industry = u.industry, size = u.size,
                    plan = u.plan, mrr_e4 = u.mrr
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
                    AS u(id, name, industry, size, plan, mrr)
              WHERE c.id = u.id",
        )
        .bind(m.changed.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        let rows: Vec<&Company> = m.changed.iter().map(|(_, v)| v).collect();
        bind_companies(q, &rows).execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(m.outcomes)
}

pub(crate) const PRODUCT_SELECT: &str = "SELECT id, sku, name, category, price_e4 FROM products";

pub(crate) fn product_from_row(r: &PgRow) -> StoreResult<(i64, Product)> {
    Ok((
        get(r, 0)?,
        Product {
            sku: ext_id(get(r, 1)?)?,
            name: get(r, 2)?,
            category: get(r, 3)?,
            price: get::<Option<i64>>(r, 4)?.map(Money::from_e4),
        },
    ))
}

fn bind_products<'q>(
    q: Query<'q, Postgres, PgArguments>,
    rows: &[&Product],
) -> Query<'q, Postgres, PgArguments> {
    q.bind(rows.iter().map(|p| p.name.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| p.category.clone()).collect::<Vec<_>>())
        .bind(rows.iter().map(|p| p.price.map(Money::e4)).collect::<Vec<_>>())
}

pub(crate) async fn upsert_products(
    c: &mut PgConnection,
    rows: &[Product],
    create_only: bool,
) -> StoreResult<Vec<RowOutcome>> {
    let names = distinct(rows.iter().map(|r| r.sku.as_str()));
    let sql = format!("{PRODUCT_SELECT} WHERE sku = ANY($1)");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&names)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
    let stored = found.iter().map(product_from_row).collect::<StoreResult<Vec<_>>>()?;
    let m = merge(
        create_only,
        rows,
        stored,
        |p| p.sku.as_str(),
        Product::merged_with,
        |p| nul_check([("name", p.name.as_deref()), ("category", p.category.as_deref())]),
        |_| {},
    );
    if !m.new.is_empty() {
        let q = sqlx::query(
            "INSERT INTO products (sku, name, category, price_e4)
             SELECT u.x, u.name, u.category, u.price
               FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
                    WITH ORDINALITY AS u(x, name, category, price, n)
              ORDER BY u.n",
        )
        .bind(m.new.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>());
        let rows: Vec<&Product> = m.new.iter().map(|(_, v)| v).collect();
        bind_products(q, &rows).execute(&mut *c).await.map_err(db_err)?;
    }
    if !m.changed.is_empty() {
        let q = sqlx::query(
            "UPDATE products p SET name = u.name, category = u.category, price_e4 = u.price
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[])
                    AS u(id, name, category, price)
              WHERE p.id = u.id",
        )
        .bind(m.changed.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        let rows: Vec<&Product> = m.changed.iter().map(|(_, v)| v).collect();
        bind_products(q, &rows).execute(&mut *c).await.map_err(db_err)?;
    }
    Ok(m.outcomes)
}

//! Profiles: customers (with company membership), companies, products. Upsert by external id,
//! merging: fields a record does not carry keep their stored values.

use crate::db_err;
use crate::resolve::{company, insert_customer};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::*;
use rapport_store::{RowOutcome, StoreError, StoreResult};
use rusqlite::{OptionalExtension, Row, Transaction, params};

// Macros rather than consts so that `concat!` can build CUSTOMER_SELECT at compile time.
macro_rules! customer_columns {
    () => {
        "c.id, c.external_id, c.name, c.email, c.phone, c.country, c.city, c.birth_year,
         c.gender, c.signup_at, co.external_id, c.attributes"
    };
}
macro_rules! customer_tables {
    () => {
        "customers c LEFT JOIN companies co ON co.id = c.company_id"
    };
}
/// The 12 columns [`customer_from_row`] reads, over [`CUSTOMER_TABLES`].
pub(crate) const CUSTOMER_COLUMNS: &str = customer_columns!();
pub(crate) const CUSTOMER_TABLES: &str = customer_tables!();
pub(crate) const CUSTOMER_SELECT: &str =
    concat!("SELECT ", customer_columns!(), " FROM ", customer_tables!());

fn invalid(e: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
}

fn ext(s: String) -> rusqlite::Result<ExternalId> {
    ExternalId::parse(&s).map_err(invalid)
}

pub(crate) fn customer_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Customer)> {
    let attrs: String = r.get(11)?;
    let gender: Option<String> = r.get(8)?;
    Ok((
        r.get(0)?,
        Customer {
            id: ext(r.get(1)?)?,
            name: r.get(2)?,
            email: r
                .get::<_, Option<String>>(3)?
                .map(|s| Email::parse(&s))
                .transpose()
                .map_err(invalid)?,
            phone: r
                .get::<_, Option<String>>(4)?
                .map(|s| Phone::parse(&s))
                .transpose()
                .map_err(invalid)?,
            country: r.get(5)?,
            city: r.get(6)?,
            birth_year: r.get(7)?,
            gender: gender.map(|g| Gender::parse(&g)).transpose().map_err(invalid)?,
            signup_at: r.get::<_, Option<i64>>(9)?.map(from_micros),
            company: r.get::<_, Option<String>>(10)?.map(ext).transpose()?,
            attributes: serde_json::from_str(&attrs).map_err(|e| invalid(e.to_string()))?,
        },
    ))
}

fn load_customer(tx: &Transaction<'_>, id: &ExternalId) -> StoreResult<Option<(i64, Customer)>> {
    let sql = format!("{CUSTOMER_SELECT} WHERE c.external_id = ?1");
    tx.prepare_cached(&sql)
        .map_err(db_err)?
        .query_row([id.as_str()], customer_from_row)
        .optional()
        .map_err(db_err)
}

fn write_customer(tx: &Transaction<'_>, id: i64, c: &Customer) -> StoreResult<()> {
    let company_id = c.company.as_ref().map(|e| company(tx, e)).transpose()?;
    let attrs = serde_json::to_string(&c.attributes).map_err(StoreError::other)?;
    tx.prepare_cached(
        "UPDATE customers SET name = ?2, email = ?3, phone = ?4, country = ?5, city = ?6,
            birth_year = ?7, gender = ?8, signup_at = ?9, company_id = ?10, attributes = ?11
         WHERE id = ?1",
    )
    .map_err(db_err)?
    .execute(params![
        id,
        c.name,
        c.email.as_ref().map(Email::as_str),
        c.phone.as_ref().map(Phone::as_str),
        c.country,
        c.city,
        c.birth_year,
        c.gender.map(Gender::as_str),
        c.signup_at.map(to_micros),
        company_id,
        attrs
    ])
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn upsert_customers(
    tx: &Transaction<'_>,
    rows: &[Customer],
) -> StoreResult<Vec<RowOutcome>> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(match load_customer(tx, &row.id)? {
            None => {
                let id = insert_customer(tx, &row.id)?;
                write_customer(tx, id, row)?;
                RowOutcome::Inserted
            }
            Some((id, old)) => {
                let merged = old.merged_with(row);
                if merged == old {
                    RowOutcome::Unchanged
                } else {
                    write_customer(tx, id, &merged)?;
                    RowOutcome::Updated
                }
            }
        });
    }
    Ok(out)
}

pub(crate) const COMPANY_SELECT: &str =
    "SELECT id, external_id, name, industry, size, plan, mrr_e4 FROM companies";

pub(crate) fn company_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Company)> {
    Ok((
        r.get(0)?,
        Company {
            id: ext(r.get(1)?)?,
            name: r.get(2)?,
            industry: r.get(3)?,
            size: r.get(4)?,
            plan: r.get(5)?,
            mrr: r.get::<_, Option<i64>>(6)?.map(Money::from_e4),
        },
    ))
}

pub(crate) fn upsert_companies(
    tx: &Transaction<'_>,
    rows: &[Company],
    create_only: bool,
) -> StoreResult<Vec<RowOutcome>> {
    let mut out = Vec::with_capacity(rows.len());
    let sql = format!("{COMPANY_SELECT} WHERE external_id = ?1");
    for row in rows {
        let old =
            tx.prepare_cached(&sql).map_err(db_err)?.query_row([row.id.as_str()], company_from_row);
        let old = old.optional().map_err(db_err)?;
        let (id, merged, outcome) = match old {
            Some(_) if create_only => {
                out.push(RowOutcome::Exists);
                continue;
            }
            None => (company(tx, &row.id)?, row.clone(), RowOutcome::Inserted),
            Some((id, old)) => {
                let merged = old.merged_with(row);
                let outcome =
                    if merged == old { RowOutcome::Unchanged } else { RowOutcome::Updated };
                (id, merged, outcome)
            }
        };
        if outcome != RowOutcome::Unchanged {
            tx.prepare_cached("UPDATE companies SET name = ?2, industry = ?3, size = ?4, plan = ?5, mrr_e4 = ?6 WHERE id = ?1")
                .map_err(db_err)?
                .execute(params![id, merged.name, merged.industry, merged.size, merged.plan, merged.mrr.map(Money::e4)])
                .map_err(db_err)?;
        }
        out.push(outcome);
    }
    Ok(out)
}

pub(crate) const PRODUCT_SELECT: &str = "SELECT id, sku, name, category, price_e4 FROM products";

pub(crate) fn product_from_row(r: &Row<'_>) -> rusqlite::Result<(i64, Product)> {
    Ok((
        r.get(0)?,
        Product {
            sku: ext(r.get(1)?)?,
            name: r.get(2)?,
            category: r.get(3)?,
            price: r.get::<_, Option<i64>>(4)?.map(Money::from_e4),
        },
    ))
}

pub(crate) fn upsert_products(
    tx: &Transaction<'_>,
    rows: &[Product],
    create_only: bool,
) -> StoreResult<Vec<RowOutcome>> {
    let mut out = Vec::with_capacity(rows.len());
    let sql = format!("{PRODUCT_SELECT} WHERE sku = ?1");
    for row in rows {
        let old = tx
            .prepare_cached(&sql)
            .map_err(db_err)?
            .query_row([row.sku.as_str()], product_from_row);
        let outcome = match old.optional().map_err(db_err)? {
            Some(_) if create_only => RowOutcome::Exists,
            None => {
                tx.prepare_cached(
                    "INSERT INTO products (sku, name, category, price_e4) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db_err)?
                .execute(params![
                    row.sku.as_str(),
                    row.name,
                    row.category,
                    row.price.map(Money::e4)
                ])
                .map_err(db_err)?;
                RowOutcome::Inserted
            }
            Some((id, old)) => {
                let merged = old.merged_with(row);
                if merged == old {
                    RowOutcome::Unchanged
                } else {
                    tx.prepare_cached(
                        "UPDATE products SET name = ?2, category = ?3, price_e4 = ?4 WHERE id = ?1",
                    )
                    .map_err(db_err)?
                    .execute(params![id, merged.name, merged.category, merged.price.map(Money::e4)])
                    .map_err(db_err)?;
                    RowOutcome::Updated
                }
            }
        };
        out.push(outcome);
    }
    Ok(out)
}

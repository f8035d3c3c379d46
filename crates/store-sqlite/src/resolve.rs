//! External id -> internal id, creating bare customers/companies where asked.

use crate::db_err;
use rapport_core::ExternalId;
use rapport_store::StoreResult;
use rusqlite::{OptionalExtension, Transaction};
use std::collections::HashMap;

/// Per-batch cache: an import names the same customer on many rows.
#[derive(Default)]
pub(crate) struct Resolver {
    customers: HashMap<String, i64>,
}

impl Resolver {
    pub fn customer(
        &mut self,
        tx: &Transaction<'_>,
        ext: &ExternalId,
        create: bool,
    ) -> StoreResult<Option<i64>> {
        if let Some(id) = self.customers.get(ext.as_str()) {
            return Ok(Some(*id));
        }
        let found: Option<i64> = tx
            .prepare_cached("SELECT id FROM customers WHERE external_id = ?1")
            .map_err(db_err)?
            .query_row([ext.as_str()], |r| r.get(0))
            .optional()
            .map_err(db_err)?;
        let id = match found {
            Some(id) => id,
            None if create => insert_customer(tx, ext)?,
            None => return Ok(None),
        };
        self.customers.insert(ext.as_str().to_string(), id);
        Ok(Some(id))
    }
}

/// Inserts a bare customer and its (zero) summary row.
pub(crate) fn insert_customer(tx: &Transaction<'_>, ext: &ExternalId) -> StoreResult<i64> {
    tx.prepare_cached("INSERT INTO customers (external_id) VALUES (?1)")
        .map_err(db_err)?
        .execute([ext.as_str()])
        .map_err(db_err)?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("INSERT INTO customer_summaries (customer_id) VALUES (?1)")
        .map_err(db_err)?
        .execute([id])
        .map_err(db_err)?;
    Ok(id)
}

/// The company's internal id, creating a bare company for a membership that names a new one.
pub(crate) fn company(tx: &Transaction<'_>, ext: &ExternalId) -> StoreResult<i64> {
    let found: Option<i64> = tx
        .prepare_cached("SELECT id FROM companies WHERE external_id = ?1")
        .map_err(db_err)?
        .query_row([ext.as_str()], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    if let Some(id) = found {
        return Ok(id);
    }
    tx.prepare_cached("INSERT INTO companies (external_id) VALUES (?1)")
        .map_err(db_err)?
        .execute([ext.as_str()])
        .map_err(db_err)?;
    Ok(tx.last_insert_rowid())
}

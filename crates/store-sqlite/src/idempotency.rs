//! Idempotency records: the [`IdempotencyStore`](rapport_store::IdempotencyStore) of
//! [`SqliteStore`](crate::SqliteStore). Claims run on the writer connection, so they are
//! serialised with every other write; the primary key (principal, key) guarantees one winner
//! even so.

use crate::db_err;
use rapport_core::Timestamp;
use rapport_core::value::to_micros;
use rapport_store::{Claimed, IdempotencyClaim, StoreResult, StoredResponse};
use rusqlite::{Connection, OptionalExtension, Transaction};

pub(crate) fn claim(c: &mut Connection, cl: &IdempotencyClaim) -> StoreResult<Claimed> {
    let tx = c.transaction().map_err(db_err)?;
    // An expired record, or a pending one whose request died with its process, is no record.
    tx.prepare_cached(
        "DELETE FROM idempotency_keys WHERE principal = ?1 AND idem_key = ?2
            AND (created_at < ?3 OR (status IS NULL AND created_at < ?4))",
    )
    .map_err(db_err)?
    .execute((&cl.principal, &cl.key, to_micros(cl.expired_before), to_micros(cl.abandoned_before)))
    .map_err(db_err)?;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO idempotency_keys (principal, idem_key, fingerprint, created_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        )
        .map_err(db_err)?
        .execute((&cl.principal, &cl.key, &cl.fingerprint, to_micros(cl.now)))
        .map_err(db_err)?;
    let out = if inserted == 1 { Claimed::Fresh } else { existing(&tx, cl)? };
    tx.commit().map_err(db_err)?;
    Ok(out)
}

fn existing(tx: &Transaction<'_>, cl: &IdempotencyClaim) -> StoreResult<Claimed> {
    let row = tx
        .prepare_cached(
            "SELECT fingerprint, status, content_type, body FROM idempotency_keys
              WHERE principal = ?1 AND idem_key = ?2",
        )
        .map_err(db_err)?
        .query_row((&cl.principal, &cl.key), |r| {
            let status: Option<u16> = r.get(1)?;
            Ok((r.get::<_, String>(0)?, status, r.get(2)?, r.get::<_, Option<Vec<u8>>>(3)?))
        })
        .optional()
        .map_err(db_err)?;
    Ok(match row {
        Some((fingerprint, _, _, _)) if fingerprint != cl.fingerprint => Claimed::Mismatch,
        Some((_, Some(status), content_type, body)) => {
            Claimed::Done(StoredResponse { status, content_type, body: body.unwrap_or_default() })
        }
        // Pending; or released between our insert and this read, which a retry will find free.
        _ => Claimed::InFlight,
    })
}

pub(crate) fn complete(
    c: &Connection,
    principal: &str,
    key: &str,
    r: &StoredResponse,
) -> StoreResult<()> {
    c.prepare_cached(
        "UPDATE idempotency_keys SET status = ?3, content_type = ?4, body = ?5
          WHERE principal = ?1 AND idem_key = ?2 AND status IS NULL",
    )
    .map_err(db_err)?
    .execute((principal, key, r.status, &r.content_type, &r.body))
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn release(c: &Connection, principal: &str, key: &str) -> StoreResult<()> {
    c.prepare_cached(
        "DELETE FROM idempotency_keys WHERE principal = ?1 AND idem_key = ?2 AND status IS NULL",
    )
    .map_err(db_err)?
    .execute((principal, key))
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn purge(c: &Connection, before: Timestamp) -> StoreResult<u64> {
    let n = c
        .prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")
        .map_err(db_err)?
        .execute([to_micros(before)])
        .map_err(db_err)?;
    Ok(n as u64)
}

//! Idempotency records: the [`IdempotencyStore`] of [`PgStore`].
//!
//! On the pool, without the import writer lock (like access control): a keyed API call must
//! not wait for an import batch just to claim its key. The primary key (principal, key)
//! decides between concurrent claims: the loser's `INSERT ... ON CONFLICT DO NOTHING` waits
//! for the winner's transaction and inserts nothing.

use crate::{PgStore, db_err, get};
use async_trait::async_trait;
use rapport_core::Timestamp;
use rapport_store::{
    Claimed, IdempotencyClaim, IdempotencyStore, StoreError, StoreResult, StoredResponse,
};

fn check_nul(values: &[&str]) -> StoreResult<()> {
    if values.iter().any(|v| v.contains('\0')) {
        return Err(StoreError::Invalid("idempotency key contains a NUL character".into()));
    }
    Ok(())
}

impl PgStore {
    async fn existing_claim(&self, cl: &IdempotencyClaim) -> StoreResult<Claimed> {
        let row = sqlx::query(
            "SELECT fingerprint, status, content_type, body FROM idempotency_keys
              WHERE principal = $1 AND idem_key = $2",
        )
        .bind(&cl.principal)
        .bind(&cl.key)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = row else {
            // Released between our insert and this read: a retry will find it free.
            return Ok(Claimed::InFlight);
        };
        if get::<String>(&r, 0)? != cl.fingerprint {
            return Ok(Claimed::Mismatch);
        }
        Ok(match get::<Option<i16>>(&r, 1)? {
            None => Claimed::InFlight,
            Some(status) => Claimed::Done(StoredResponse {
                status: u16::try_from(status).unwrap_or(500),
                content_type: get(&r, 2)?,
                body: get::<Option<Vec<u8>>>(&r, 3)?.unwrap_or_default(),
            }),
        })
    }
}

#[async_trait]
impl IdempotencyStore for PgStore {
    async fn claim_idempotency_key(&self, cl: &IdempotencyClaim) -> StoreResult<Claimed> {
        check_nul(&[&cl.principal, &cl.key, &cl.fingerprint])?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        // An expired record, or a pending one whose request died with its process, is no record.
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2
                AND (created_at < $3 OR (status IS NULL AND created_at < $4))",
        )
        .bind(&cl.principal)
        .bind(&cl.key)
        .bind(cl.expired_before)
        .bind(cl.abandoned_before)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (principal, idem_key, fingerprint, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&cl.principal)
        .bind(&cl.key)
        .bind(&cl.fingerprint)
        .bind(cl.now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        if inserted.rows_affected() == 1 {
            return Ok(Claimed::Fresh);
        }
        self.existing_claim(cl).await
    }

    async fn complete_idempotency_key(
        &self,
        principal: &str,
        key: &str,
        r: &StoredResponse,
    ) -> StoreResult<()> {
        check_nul(&[principal, key, r.content_type.as_deref().unwrap_or("")])?;
        let status = i16::try_from(r.status).map_err(StoreError::other)?;
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5
              WHERE principal = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(principal)
        .bind(key)
        .bind(status)
        .bind(&r.content_type)
        .bind(&r.body)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn release_idempotency_key(&self, principal: &str, key: &str) -> StoreResult<()> {
        check_nul(&[principal, key])?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE principal = $1 AND idem_key = $2 AND status IS NULL",
        )
        .bind(principal)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn purge_idempotency_keys(&self, before: Timestamp) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(done.rows_affected())
    }
}

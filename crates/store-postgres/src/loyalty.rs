//! The loyalty programme (schema v16): the [`LoyaltyStore`] of [`PgStore`]. A change locks the
//! member's `loyalty_accounts` row (`FOR UPDATE`, created first if missing), so concurrent
//! changes to one member run one after another while other members' run side by side.

use crate::{PgStore, db_err, ext_id, get};
use async_trait::async_trait;
use rapport_core::loyalty::{Account, Entry, EntryKind, Programme, Reward};
use rapport_core::{ExternalId, Money, Timestamp};
use rapport_store::{
    Decide, Ledger, LoyaltyStore, LoyaltyWrite, PurchaseToCredit, Recorded, StoreError,
    StoreResult, StoredEntry,
};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

/// The ledger's columns as [`stored`] reads them, then `$rest` (static SQL, as sqlx asks).
macro_rules! entries_where {
    ($rest:literal) => {
        concat!(
            "SELECT id, at, points, kind, key, recorded_at, customer_id FROM loyalty_entries ",
            $rest
        )
    };
}

fn stored(r: &PgRow) -> StoreResult<(i64, StoredEntry)> {
    let kind: String = get(r, 3)?;
    let kind: EntryKind = serde_json::from_str(&kind).map_err(StoreError::other)?;
    let entry = Entry { at: get(r, 1)?, points: get(r, 2)?, kind, key: get(r, 4)? };
    Ok((get(r, 6)?, StoredEntry { id: get(r, 0)?, entry, recorded_at: get(r, 5)? }))
}

async fn customer_key(c: &mut PgConnection, id: &ExternalId) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM customers WHERE external_id = $1")
        .bind(id.as_str())
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("customer {}", id.as_str())))
}

async fn programme(c: &mut PgConnection) -> StoreResult<Option<Programme>> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT settings FROM loyalty_programme WHERE id = 1")
            .fetch_optional(c)
            .await
            .map_err(db_err)?;
    text.map(|t| serde_json::from_str(&t).map_err(StoreError::other)).transpose()
}

async fn entries(c: &mut PgConnection, customer: i64) -> StoreResult<Vec<StoredEntry>> {
    let rows = sqlx::query(entries_where!("WHERE customer_id = $1 ORDER BY id"))
        .bind(customer)
        .fetch_all(c)
        .await
        .map_err(db_err)?;
    rows.iter().map(|r| stored(r).map(|(_, e)| e)).collect()
}

/// Creates the member's account row if missing and locks it; returns the balance.
async fn lock(c: &mut PgConnection, customer: i64) -> StoreResult<i64> {
    sqlx::query(
        "INSERT INTO loyalty_accounts (customer_id, balance) VALUES ($1, 0)
         ON CONFLICT (customer_id) DO NOTHING",
    )
    .bind(customer)
    .execute(&mut *c)
    .await
    .map_err(db_err)?;
    sqlx::query_scalar("SELECT balance FROM loyalty_accounts WHERE customer_id = $1 FOR UPDATE")
        .bind(customer)
        .fetch_one(c)
        .await
        .map_err(db_err)
}

/// The entries stored under `key`, if any: for the same member a replay, for another a
/// conflict.
async fn by_key(
    c: &mut PgConnection,
    key: &str,
    customer: i64,
) -> StoreResult<Option<Vec<StoredEntry>>> {
    let rows = sqlx::query(entries_where!("WHERE key = $1"))
        .bind(key)
        .fetch_all(c)
        .await
        .map_err(db_err)?;
    let found: Vec<(i64, StoredEntry)> = rows.iter().map(stored).collect::<StoreResult<_>>()?;
    match found.first() {
        None => Ok(None),
        Some((owner, _)) if *owner != customer => {
            Err(StoreError::Conflict(format!("idempotency key '{key}' belongs to another member")))
        }
        Some(_) => Ok(Some(found.into_iter().map(|(_, e)| e).collect())),
    }
}

async fn record(
    c: &mut PgConnection,
    customer: &ExternalId,
    key: Option<&str>,
    decide: Decide,
    now: Timestamp,
) -> StoreResult<Recorded> {
    let member = customer_key(c, customer).await?;
    let stored_balance = lock(c, member).await?;
    if let Some(key) = key
        && let Some(entries) = by_key(c, key, member).await?
    {
        return Ok(Recorded::Replayed { entries, balance: stored_balance });
    }
    let programme =
        programme(c).await?.ok_or_else(|| StoreError::NotFound("loyalty programme".into()))?;
    let ledger: Vec<Entry> = entries(c, member).await?.into_iter().map(|e| e.entry).collect();
    let account = Account::replay(&ledger).map_err(StoreError::other)?;
    let before = account.balance();
    let new = match decide(account, &programme) {
        Ok(new) => new,
        Err(refusal) => return Ok(Recorded::Refused(refusal)),
    };
    let mut out = Vec::with_capacity(new.len());
    let mut sum = 0i64;
    for e in new {
        let kind = serde_json::to_string(&e.kind).map_err(StoreError::other)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO loyalty_entries (customer_id, at, points, kind, key, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(member)
        .bind(e.at)
        .bind(e.points)
        .bind(kind)
        .bind(&e.key)
        .bind(now)
        .fetch_one(&mut *c)
        .await
        .map_err(db_err)?;
        sum += e.points;
        out.push(StoredEntry { id, entry: e, recorded_at: now });
    }
    let balance = before + sum;
    sqlx::query("UPDATE loyalty_accounts SET balance = $2 WHERE customer_id = $1")
        .bind(member)
        .bind(balance)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    Ok(Recorded::New { entries: out, balance })
}

#[async_trait]
impl LoyaltyStore for PgStore {
    async fn loyalty_programme(&self) -> StoreResult<Option<Programme>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        programme(&mut c).await
    }

    async fn save_loyalty_programme(&self, p: &Programme, at: Timestamp) -> StoreResult<()> {
        let text = serde_json::to_string(p).map_err(StoreError::other)?;
        sqlx::query(
            "INSERT INTO loyalty_programme (id, settings, launched_at, updated_at)
             VALUES (1, $1, $2, $2)
             ON CONFLICT (id) DO UPDATE SET settings = excluded.settings,
                                            updated_at = excluded.updated_at",
        )
        .bind(text)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn rewards(&self) -> StoreResult<Vec<Reward>> {
        let rows = sqlx::query("SELECT key, name, cost, active FROM loyalty_rewards ORDER BY key")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(Reward {
                    key: ext_id(get(r, 0)?)?,
                    name: get(r, 1)?,
                    cost: get(r, 2)?,
                    active: get(r, 3)?,
                })
            })
            .collect()
    }

    async fn save_reward(&self, r: &Reward) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO loyalty_rewards (key, name, cost, active) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key) DO UPDATE SET name = excluded.name, cost = excluded.cost,
                                             active = excluded.active",
        )
        .bind(r.key.as_str())
        .bind(&r.name)
        .bind(r.cost)
        .bind(r.active)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn record_loyalty(
        &self,
        customer: &ExternalId,
        key: Option<&str>,
        decide: Decide,
        now: Timestamp,
    ) -> StoreResult<Recorded> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let out = record(&mut tx, customer, key, decide, now).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    async fn record_loyalty_batch(
        &self,
        mut writes: Vec<LoyaltyWrite>,
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Recorded>>> {
        // Members are locked in one order, so two batches cannot wait on each other.
        let mut order: Vec<usize> = (0..writes.len()).collect();
        order.sort_by(|&a, &b| writes[a].customer.as_str().cmp(writes[b].customer.as_str()));
        let mut slots: Vec<Option<StoreResult<Recorded>>> =
            (0..writes.len()).map(|_| None).collect();
        let mut taken: Vec<Option<LoyaltyWrite>> = writes.drain(..).map(Some).collect();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for i in order {
            let w = taken[i].take().expect("each write is taken once");
            slots[i] =
                Some(match record(&mut tx, &w.customer, w.key.as_deref(), w.decide, now).await {
                    Err(e @ (StoreError::NotFound(_) | StoreError::Conflict(_))) => Err(e),
                    other => Ok(other?),
                });
        }
        tx.commit().await.map_err(db_err)?;
        Ok(slots.into_iter().map(|s| s.expect("every write has an outcome")).collect())
    }

    async fn purchases_to_credit(&self, limit: usize) -> StoreResult<Vec<PurchaseToCredit>> {
        let rows = sqlx::query(
            "SELECT o.id, o.external_id, c.external_id, o.placed_at, o.total_e4
               FROM loyalty_programme p
               JOIN orders o ON o.id > p.credited_through AND o.placed_at >= p.launched_at
               JOIN customers c ON c.id = o.customer_id
              WHERE p.id = 1 AND o.status = 'purchase'
              ORDER BY o.id LIMIT $1",
        )
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(PurchaseToCredit {
                    key: get(r, 0)?,
                    order: ext_id(get(r, 1)?)?,
                    customer: ext_id(get(r, 2)?)?,
                    at: get(r, 3)?,
                    amount: Money::from_e4(get(r, 4)?),
                })
            })
            .collect()
    }

    async fn mark_credited(&self, through: i64) -> StoreResult<()> {
        sqlx::query(
            "UPDATE loyalty_programme SET credited_through = GREATEST(credited_through, $1)
              WHERE id = 1",
        )
        .bind(through)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn loyalty_entries(&self, customer: &ExternalId) -> StoreResult<Vec<StoredEntry>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let key = customer_key(&mut c, customer).await?;
        entries(&mut c, key).await
    }

    async fn loyalty_ledgers(&self) -> StoreResult<Vec<Ledger>> {
        let rows = sqlx::query(entries_where!("ORDER BY customer_id, id"))
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        let mut out: Vec<Ledger> = Vec::new();
        for r in &rows {
            let (customer, e) = stored(r)?;
            match out.last_mut() {
                Some(l) if l.customer == customer => l.entries.push(e.entry),
                _ => out.push(Ledger { customer, entries: vec![e.entry] }),
            }
        }
        Ok(out)
    }
}

//! The loyalty programme (schema v16): the [`LoyaltyStore`] of [`SqliteStore`]. A change is
//! decided and appended inside one write transaction; SQLite's single writer serialises them.

use crate::view::customer_id;
use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_core::loyalty::{Account, Entry, EntryKind, Programme, Reward};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Money, Timestamp};
use rapport_store::{
    Decide, Ledger, LoyaltyStore, LoyaltyWrite, PurchaseToCredit, Recorded, StoreError,
    StoreResult, StoredEntry,
};
use rusqlite::{Connection, OptionalExtension, Row, Transaction};

const ENTRY: &str =
    "SELECT id, at, points, kind, key, recorded_at, customer_id FROM loyalty_entries";

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn stored(r: &Row<'_>) -> rusqlite::Result<(i64, StoredEntry)> {
    let kind: String = r.get(3)?;
    let kind: EntryKind = serde_json::from_str(&kind).map_err(conversion)?;
    let entry = Entry { at: from_micros(r.get(1)?), points: r.get(2)?, kind, key: r.get(4)? };
    Ok((r.get(6)?, StoredEntry { id: r.get(0)?, entry, recorded_at: from_micros(r.get(5)?) }))
}

fn programme(c: &Connection) -> StoreResult<Option<Programme>> {
    let text: Option<String> = c
        .query_row("SELECT settings FROM loyalty_programme WHERE id = 1", [], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    text.map(|t| serde_json::from_str(&t).map_err(StoreError::other)).transpose()
}

fn entries(c: &Connection, customer: i64) -> StoreResult<Vec<StoredEntry>> {
    let mut stmt =
        c.prepare_cached(&format!("{ENTRY} WHERE customer_id = ?1 ORDER BY id")).map_err(db_err)?;
    let rows = stmt.query_map([customer], stored).map_err(db_err)?;
    rows.map(|r| r.map(|(_, e)| e)).collect::<Result<_, _>>().map_err(db_err)
}

fn balance(c: &Connection, customer: i64) -> StoreResult<i64> {
    c.prepare_cached("SELECT balance FROM loyalty_accounts WHERE customer_id = ?1")
        .map_err(db_err)?
        .query_row([customer], |r| r.get(0))
        .optional()
        .map_err(db_err)
        .map(Option::unwrap_or_default)
}

/// The entries stored under `key`, if any: for the same member a replay, for another a
/// conflict.
fn by_key(c: &Connection, key: &str, customer: i64) -> StoreResult<Option<Vec<StoredEntry>>> {
    let mut stmt = c.prepare_cached(&format!("{ENTRY} WHERE key = ?1")).map_err(db_err)?;
    let found: Vec<(i64, StoredEntry)> =
        stmt.query_map([key], stored).map_err(db_err)?.collect::<Result<_, _>>().map_err(db_err)?;
    match found.first() {
        None => Ok(None),
        Some((owner, _)) if *owner != customer => {
            Err(StoreError::Conflict(format!("idempotency key '{key}' belongs to another member")))
        }
        Some(_) => Ok(Some(found.into_iter().map(|(_, e)| e).collect())),
    }
}

fn record(
    tx: &Transaction<'_>,
    customer: &ExternalId,
    key: Option<&str>,
    decide: Decide,
    now: Timestamp,
) -> StoreResult<Recorded> {
    let member = customer_id(tx, customer)?;
    if let Some(key) = key
        && let Some(entries) = by_key(tx, key, member)?
    {
        return Ok(Recorded::Replayed { entries, balance: balance(tx, member)? });
    }
    let programme =
        programme(tx)?.ok_or_else(|| StoreError::NotFound("loyalty programme".into()))?;
    let ledger: Vec<Entry> = entries(tx, member)?.into_iter().map(|e| e.entry).collect();
    let account = Account::replay(&ledger).map_err(StoreError::other)?;
    let before = account.balance();
    let new = match decide(account, &programme) {
        Ok(new) => new,
        Err(refusal) => return Ok(Recorded::Refused(refusal)),
    };
    let mut ins = tx
        .prepare_cached(
            "INSERT INTO loyalty_entries (customer_id, at, points, kind, key, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(db_err)?;
    let mut out = Vec::with_capacity(new.len());
    let mut sum = 0i64;
    for e in new {
        let kind = serde_json::to_string(&e.kind).map_err(StoreError::other)?;
        ins.execute((member, to_micros(e.at), e.points, kind, &e.key, to_micros(now)))
            .map_err(db_err)?;
        sum += e.points;
        out.push(StoredEntry { id: tx.last_insert_rowid(), entry: e, recorded_at: now });
    }
    let balance = before + sum;
    tx.prepare_cached(
        "INSERT INTO loyalty_accounts (customer_id, balance) VALUES (?1, ?2)
         ON CONFLICT (customer_id) DO UPDATE SET balance = excluded.balance",
    )
    .map_err(db_err)?
    .execute((member, balance))
    .map_err(db_err)?;
    Ok(Recorded::New { entries: out, balance })
}

#[async_trait]
impl LoyaltyStore for SqliteStore {
    async fn loyalty_programme(&self) -> StoreResult<Option<Programme>> {
        self.read(programme).await
    }

    async fn save_loyalty_programme(&self, p: &Programme, at: Timestamp) -> StoreResult<()> {
        let text = serde_json::to_string(p).map_err(StoreError::other)?;
        self.write(false, move |tx| {
            tx.execute(
                "INSERT INTO loyalty_programme (id, settings, launched_at, updated_at)
                 VALUES (1, ?1, ?2, ?2)
                 ON CONFLICT (id) DO UPDATE SET settings = excluded.settings,
                                                updated_at = excluded.updated_at",
                (text, to_micros(at)),
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn rewards(&self) -> StoreResult<Vec<Reward>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached("SELECT key, name, cost, active FROM loyalty_rewards ORDER BY key")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| {
                    let key: String = r.get(0)?;
                    Ok(Reward {
                        key: ExternalId::parse(&key)
                            .map_err(|e| conversion(StoreError::Invalid(e)))?,
                        name: r.get(1)?,
                        cost: r.get(2)?,
                        active: r.get(3)?,
                    })
                })
                .map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)
        })
        .await
    }

    async fn save_reward(&self, r: &Reward) -> StoreResult<()> {
        let r = r.clone();
        self.write(false, move |tx| {
            tx.execute(
                "INSERT INTO loyalty_rewards (key, name, cost, active) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (key) DO UPDATE SET name = excluded.name, cost = excluded.cost,
                                                 active = excluded.active",
                (r.key.as_str(), &r.name, r.cost, r.active),
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn record_loyalty(
        &self,
        customer: &ExternalId,
        key: Option<&str>,
        decide: Decide,
        now: Timestamp,
    ) -> StoreResult<Recorded> {
        let (customer, key) = (customer.clone(), key.map(str::to_string));
        self.write(false, move |tx| record(tx, &customer, key.as_deref(), decide, now)).await
    }

    async fn record_loyalty_batch(
        &self,
        writes: Vec<LoyaltyWrite>,
        now: Timestamp,
    ) -> StoreResult<Vec<StoreResult<Recorded>>> {
        self.write(false, move |tx| {
            let mut out = Vec::with_capacity(writes.len());
            for w in writes {
                out.push(match record(tx, &w.customer, w.key.as_deref(), w.decide, now) {
                    Err(e @ (StoreError::NotFound(_) | StoreError::Conflict(_))) => Err(e),
                    other => Ok(other?),
                });
            }
            Ok(out)
        })
        .await
    }

    async fn purchases_to_credit(&self, limit: usize) -> StoreResult<Vec<PurchaseToCredit>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT o.id, o.external_id, c.external_id, o.placed_at, o.total_e4
                       FROM loyalty_programme p
                       JOIN orders o ON o.id > p.credited_through AND o.placed_at >= p.launched_at
                       JOIN customers c ON c.id = o.customer_id
                      WHERE p.id = 1 AND o.status = 'purchase'
                      ORDER BY o.id LIMIT ?1",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map([limit as i64], |r| {
                    let (order, customer): (String, String) = (r.get(1)?, r.get(2)?);
                    let parse = |s: &str| {
                        ExternalId::parse(s).map_err(|e| conversion(StoreError::Invalid(e)))
                    };
                    Ok(PurchaseToCredit {
                        key: r.get(0)?,
                        order: parse(&order)?,
                        customer: parse(&customer)?,
                        at: from_micros(r.get(3)?),
                        amount: Money::from_e4(r.get(4)?),
                    })
                })
                .map_err(db_err)?;
            rows.collect::<Result<_, _>>().map_err(db_err)
        })
        .await
    }

    async fn mark_credited(&self, through: i64) -> StoreResult<()> {
        self.write(false, move |tx| {
            tx.execute(
                "UPDATE loyalty_programme SET credited_through = max(credited_through, ?1)
                  WHERE id = 1",
                [through],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn loyalty_entries(&self, customer: &ExternalId) -> StoreResult<Vec<StoredEntry>> {
        let customer = customer.clone();
        self.read(move |c| entries(c, customer_id(c, &customer)?)).await
    }

    async fn loyalty_ledgers(&self) -> StoreResult<Vec<Ledger>> {
        self.read(|c| {
            let mut stmt =
                c.prepare_cached(&format!("{ENTRY} ORDER BY customer_id, id")).map_err(db_err)?;
            let mut out: Vec<Ledger> = Vec::new();
            for row in stmt.query_map([], stored).map_err(db_err)? {
                let (customer, e) = row.map_err(db_err)?;
                match out.last_mut() {
                    Some(l) if l.customer == customer => l.entries.push(e.entry),
                    _ => out.push(Ledger { customer, entries: vec![e.entry] }),
                }
            }
            Ok(out)
        })
        .await
    }
}

//! Personas (schema v13) and the facts they are computed from.

use crate::{SqliteStore, db_err};
use async_trait::async_trait;
use rapport_analytics::persona::PersonaProfile;
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Money, Timestamp};
use rapport_store::{
    NewPersona, PersonaCustomer, PersonaEdit, PersonaFacts, PersonaFeedback, PersonaRecord,
    PersonaStore, StoreError, StoreResult,
};
use rusqlite::{Connection, OptionalExtension, Row};
use std::collections::HashMap;

const RECORD: &str = "SELECT id, name, generated_name, notes, source_kind, source, profile,
       generated_at, created_at, updated_at FROM personas";

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("persona {id}"))
}

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn record(r: &Row<'_>) -> rusqlite::Result<PersonaRecord> {
    let id: i64 = r.get(0)?;
    let (name, generated): (Option<String>, Option<String>) = (r.get(1)?, r.get(2)?);
    let profile: Option<String> = r.get(6)?;
    let profile: Option<PersonaProfile> =
        profile.map(|p| serde_json::from_str(&p)).transpose().map_err(conversion)?;
    Ok(PersonaRecord {
        id,
        name: PersonaRecord::display_name(id, name.as_deref(), generated.as_deref()),
        name_edited: name.is_some(),
        generated_name: generated,
        notes: r.get(3)?,
        source_kind: r.get(4)?,
        source: r.get(5)?,
        profile,
        generated_at: r.get::<_, Option<i64>>(7)?.map(from_micros),
        created_at: from_micros(r.get(8)?),
        updated_at: from_micros(r.get(9)?),
    })
}

fn one(c: &Connection, id: i64) -> StoreResult<PersonaRecord> {
    c.query_row(&format!("{RECORD} WHERE id = ?1"), [id], record)
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| missing(id))
}

fn changed(n: usize, id: i64) -> StoreResult<()> {
    if n == 0 { Err(missing(id)) } else { Ok(()) }
}

/// Every purchase line's customer, product and amount: summed per customer and category in
/// Rust, which is three times faster than SQLite's GROUP BY (a temporary b-tree of 600k rows).
const LINES: &str = "SELECT o.customer_id, p.id, l.amount_e4
  FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.sku = l.sku
 WHERE o.status = 'purchase' AND p.category IS NOT NULL";

const CUSTOMERS: &str = "SELECT c.id, c.external_id, c.birth_year, c.gender, c.country,
       co.size, COALESCE(s.purchase_orders, 0), COALESCE(s.purchase_value_e4, 0)
  FROM customers c LEFT JOIN companies co ON co.id = c.company_id
  LEFT JOIN customer_summaries s ON s.customer_id = c.id
 ORDER BY c.id";

const FEEDBACK: &str = "SELECT f.customer_id, f.text, COALESCE(f.sentiment_e4, 0), t.label
  FROM feedback f LEFT JOIN themes t ON t.id = f.theme
 WHERE f.text IS NOT NULL AND f.text <> ''";

fn customers(c: &Connection) -> StoreResult<Vec<PersonaCustomer>> {
    let mut stmt = c.prepare(CUSTOMERS).map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            let id: String = r.get(1)?;
            Ok(PersonaCustomer {
                key: r.get(0)?,
                id: ExternalId::parse(&id).map_err(|e| conversion(StoreError::Invalid(e)))?,
                birth_year: r.get(2)?,
                gender: r.get(3)?,
                country: r.get(4)?,
                company_size: r.get(5)?,
                purchase_orders: r.get(6)?,
                purchase_value: Money::from_e4(r.get(7)?),
            })
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

/// Purchase value per customer and product category.
fn categories(c: &Connection) -> StoreResult<Vec<(i64, String, Money)>> {
    let mut stmt = c
        .prepare("SELECT id, category FROM products WHERE category IS NOT NULL")
        .map_err(db_err)?;
    let category: HashMap<i64, String> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?
        .collect::<Result<_, _>>()
        .map_err(db_err)?;
    let mut sums: HashMap<(i64, &str), i64> = HashMap::new();
    let mut stmt = c.prepare(LINES).map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(r) = rows.next().map_err(db_err)? {
        let (customer, product, amount): (i64, i64, i64) =
            (r.get(0).map_err(db_err)?, r.get(1).map_err(db_err)?, r.get(2).map_err(db_err)?);
        if let Some(cat) = category.get(&product) {
            *sums.entry((customer, cat.as_str())).or_default() += amount;
        }
    }
    Ok(sums.into_iter().map(|((c, cat), v)| (c, cat.to_string(), Money::from_e4(v))).collect())
}

/// Events per customer and name, counted in Rust over one scan of the table: SQLite's
/// GROUP BY would sort 900k rows in a temporary b-tree first.
fn events(c: &Connection) -> StoreResult<Vec<(i64, String, i64)>> {
    let mut names: Vec<String> = Vec::new();
    let mut counts: HashMap<(i64, usize), i64> = HashMap::new();
    let mut stmt = c.prepare("SELECT customer_id, name FROM events").map_err(db_err)?;
    let mut rows = stmt.query([]).map_err(db_err)?;
    while let Some(r) = rows.next().map_err(db_err)? {
        let customer: i64 = r.get(0).map_err(db_err)?;
        let name = r.get_ref(1).map_err(db_err)?.as_str().map_err(|e| db_err(e.into()))?;
        let n = match names.iter().position(|x| x == name) {
            Some(n) => n,
            None => {
                names.push(name.to_string());
                names.len() - 1
            }
        };
        *counts.entry((customer, n)).or_default() += 1;
    }
    Ok(counts.into_iter().map(|((c, n), k)| (c, names[n].clone(), k)).collect())
}

/// (customer, name, number) rows of a grouping query.
fn grouped<T>(c: &Connection, sql: &str, f: fn(i64) -> T) -> StoreResult<Vec<(i64, String, T)>> {
    let mut stmt = c.prepare(sql).map_err(db_err)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, f(r.get(2)?)))).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

fn feedback(c: &Connection) -> StoreResult<Vec<PersonaFeedback>> {
    let mut stmt = c.prepare(FEEDBACK).map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(PersonaFeedback {
                customer: r.get(0)?,
                text: r.get(1)?,
                sentiment: r.get::<_, i64>(2)? as f64 / 10_000.0,
                theme: r.get(3)?,
            })
        })
        .map_err(db_err)?;
    rows.map(|r| r.map_err(db_err)).collect()
}

#[async_trait]
impl PersonaStore for SqliteStore {
    async fn create_persona(&self, p: &NewPersona, at: Timestamp) -> StoreResult<i64> {
        let p = p.clone();
        self.write(false, move |tx| {
            tx.execute(
                "INSERT INTO personas (name, notes, source_kind, source, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                (
                    p.name.filter(|n| !n.trim().is_empty()),
                    &p.notes,
                    &p.source_kind,
                    &p.source,
                    to_micros(at),
                ),
            )
            .map_err(db_err)?;
            Ok(tx.last_insert_rowid())
        })
        .await
    }

    async fn personas(&self) -> StoreResult<Vec<PersonaRecord>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!("{RECORD} ORDER BY id")).map_err(db_err)?;
            let rows = stmt.query_map([], record).map_err(db_err)?;
            rows.map(|r| r.map_err(db_err)).collect()
        })
        .await
    }

    async fn persona(&self, id: i64) -> StoreResult<PersonaRecord> {
        self.read(move |c| one(c, id)).await
    }

    async fn edit_persona(&self, id: i64, edit: &PersonaEdit, at: Timestamp) -> StoreResult<()> {
        let edit = edit.clone();
        self.write(false, move |tx| {
            // An empty name clears the edited one: the generated name shows again.
            let name = edit.name.as_ref().map(|n| Some(n.trim()).filter(|n| !n.is_empty()));
            let n = tx
                .execute(
                    "UPDATE personas SET name = CASE WHEN ?2 THEN ?3 ELSE name END,
                            notes = COALESCE(?4, notes), updated_at = ?5 WHERE id = ?1",
                    (id, name.is_some(), name.flatten(), edit.notes, to_micros(at)),
                )
                .map_err(db_err)?;
            changed(n, id)
        })
        .await
    }

    async fn save_persona_profile(
        &self,
        id: i64,
        profile: &PersonaProfile,
        at: Timestamp,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(profile).map_err(StoreError::other)?;
        let suggested = profile.suggested_name.clone();
        self.write(false, move |tx| {
            let n = tx
                .execute(
                    "UPDATE personas SET profile = ?2, generated_name = ?3, generated_at = ?4,
                            updated_at = ?4 WHERE id = ?1",
                    (id, json, suggested, to_micros(at)),
                )
                .map_err(db_err)?;
            changed(n, id)
        })
        .await
    }

    async fn delete_persona(&self, id: i64) -> StoreResult<()> {
        self.write(false, move |tx| {
            changed(tx.execute("DELETE FROM personas WHERE id = ?1", [id]).map_err(db_err)?, id)
        })
        .await
    }

    async fn persona_facts(&self) -> StoreResult<PersonaFacts> {
        // Five reads on pooled connections at once: the two biggest (lines, events) dominate.
        let (customers, categories, channels, events, feedback) = tokio::try_join!(
            self.read(customers),
            self.read(categories),
            self.read(|c| grouped(c, "SELECT customer_id, channel, COUNT(*) FROM interactions GROUP BY customer_id, channel", |n| n)),
            self.read(events),
            self.read(feedback),
        )?;
        Ok(PersonaFacts { customers, categories, channels, events, feedback })
    }
}

//! Personas (schema v13) and the facts they are computed from: the [`PersonaStore`] of
//! [`PgStore`].

use crate::{PgStore, db_err, ext_id, get};
use async_trait::async_trait;
use rapport_analytics::persona::PersonaProfile;
use rapport_core::{Money, Timestamp};
use rapport_store::{
    NewPersona, PersonaCustomer, PersonaEdit, PersonaFacts, PersonaFeedback, PersonaRecord,
    PersonaStore, StoreError, StoreResult,
};
use sqlx::postgres::PgRow;

fn missing(id: i64) -> StoreError {
    StoreError::NotFound(format!("persona {id}"))
}

fn changed(n: u64, id: i64) -> StoreResult<()> {
    if n == 0 { Err(missing(id)) } else { Ok(()) }
}

/// PostgreSQL text cannot hold NUL.
fn no_nul(field: &str, v: Option<&str>) -> StoreResult<()> {
    match v.is_some_and(|s| s.contains('\0')) {
        true => Err(StoreError::Invalid(format!("{field} contains a NUL character"))),
        false => Ok(()),
    }
}

const ALL: &str = "SELECT id, name, generated_name, notes, source_kind, source, profile,
       generated_at, created_at, updated_at FROM personas ORDER BY id";
const ONE: &str = "SELECT id, name, generated_name, notes, source_kind, source, profile,
       generated_at, created_at, updated_at FROM personas WHERE id = $1";

fn record(r: &PgRow) -> StoreResult<PersonaRecord> {
    let id: i64 = get(r, 0)?;
    let (name, generated): (Option<String>, Option<String>) = (get(r, 1)?, get(r, 2)?);
    let profile: Option<String> = get(r, 6)?;
    let profile = profile
        .map(|p| serde_json::from_str::<PersonaProfile>(&p))
        .transpose()
        .map_err(StoreError::other)?;
    Ok(PersonaRecord {
        id,
        name: PersonaRecord::display_name(id, name.as_deref(), generated.as_deref()),
        name_edited: name.is_some(),
        generated_name: generated,
        notes: get(r, 3)?,
        source_kind: get(r, 4)?,
        source: get(r, 5)?,
        profile,
        generated_at: get(r, 7)?,
        created_at: get(r, 8)?,
        updated_at: get(r, 9)?,
    })
}

const CATEGORIES: &str = "SELECT o.customer_id, p.category, SUM(l.amount_e4)::bigint
  FROM orders o JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.sku = l.sku
 WHERE o.status = 'purchase' AND p.category IS NOT NULL
 GROUP BY o.customer_id, p.category";
const CHANNELS: &str =
    "SELECT customer_id, channel, COUNT(*) FROM interactions GROUP BY customer_id, channel";
const EVENTS: &str = "SELECT customer_id, name, COUNT(*) FROM events GROUP BY customer_id, name";
const CUSTOMERS: &str = "SELECT c.id, c.external_id, c.birth_year, c.gender, c.country,
       co.size, COALESCE(s.purchase_orders, 0)::bigint, COALESCE(s.purchase_value_e4, 0)::bigint
  FROM customers c LEFT JOIN companies co ON co.id = c.company_id
  LEFT JOIN customer_summaries s ON s.customer_id = c.id
 ORDER BY c.id";
const FEEDBACK: &str = "SELECT f.customer_id, f.text, COALESCE(f.sentiment_e4, 0)::bigint, t.label
  FROM feedback f LEFT JOIN themes t ON t.id = f.theme
 WHERE f.text IS NOT NULL AND f.text <> ''";

impl PgStore {
    async fn rows(&self, sql: &'static str) -> StoreResult<Vec<PgRow>> {
        sqlx::query(sql).fetch_all(&self.pool).await.map_err(db_err)
    }

    async fn grouped(&self, sql: &'static str) -> StoreResult<Vec<(i64, String, i64)>> {
        let rows = self.rows(sql).await?;
        rows.iter().map(|r| Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?))).collect()
    }

    async fn fact_customers(&self) -> StoreResult<Vec<PersonaCustomer>> {
        let rows = self.rows(CUSTOMERS).await?;
        rows.iter()
            .map(|r| {
                Ok(PersonaCustomer {
                    key: get(r, 0)?,
                    id: ext_id(get(r, 1)?)?,
                    birth_year: get(r, 2)?,
                    gender: get(r, 3)?,
                    country: get(r, 4)?,
                    company_size: get(r, 5)?,
                    purchase_orders: get(r, 6)?,
                    purchase_value: Money::from_e4(get(r, 7)?),
                })
            })
            .collect()
    }

    async fn fact_feedback(&self) -> StoreResult<Vec<PersonaFeedback>> {
        let rows = self.rows(FEEDBACK).await?;
        rows.iter()
            .map(|r| {
                Ok(PersonaFeedback {
                    customer: get(r, 0)?,
                    text: get(r, 1)?,
                    sentiment: get::<i64>(r, 2)? as f64 / 10_000.0,
                    theme: get(r, 3)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl PersonaStore for PgStore {
    async fn create_persona(&self, p: &NewPersona, at: Timestamp) -> StoreResult<i64> {
        no_nul("name", p.name.as_deref())?;
        no_nul("notes", Some(&p.notes))?;
        no_nul("source", Some(&p.source))?;
        let name = p.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
        sqlx::query_scalar(
            "INSERT INTO personas (name, notes, source_kind, source, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(name)
        .bind(&p.notes)
        .bind(&p.source_kind)
        .bind(&p.source)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn personas(&self) -> StoreResult<Vec<PersonaRecord>> {
        self.rows(ALL).await?.iter().map(record).collect()
    }

    async fn persona(&self, id: i64) -> StoreResult<PersonaRecord> {
        let row = sqlx::query(ONE).bind(id).fetch_optional(&self.pool).await.map_err(db_err)?;
        record(&row.ok_or_else(|| missing(id))?)
    }

    async fn edit_persona(&self, id: i64, edit: &PersonaEdit, at: Timestamp) -> StoreResult<()> {
        no_nul("name", edit.name.as_deref())?;
        no_nul("notes", edit.notes.as_deref())?;
        // An empty name clears the edited one: the generated name shows again.
        let name = edit.name.as_deref().map(|n| Some(n.trim()).filter(|n| !n.is_empty()));
        let done = sqlx::query(
            "UPDATE personas SET name = CASE WHEN $2 THEN $3 ELSE name END,
                    notes = COALESCE($4, notes), updated_at = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(name.is_some())
        .bind(name.flatten())
        .bind(&edit.notes)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        changed(done.rows_affected(), id)
    }

    async fn save_persona_profile(
        &self,
        id: i64,
        profile: &PersonaProfile,
        at: Timestamp,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(profile).map_err(StoreError::other)?;
        let done = sqlx::query(
            "UPDATE personas SET profile = $2, generated_name = $3, generated_at = $4,
                    updated_at = $4 WHERE id = $1",
        )
        .bind(id)
        .bind(json.replace('\0', ""))
        .bind(profile.suggested_name.replace('\0', ""))
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        changed(done.rows_affected(), id)
    }

    async fn delete_persona(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM personas WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        changed(done.rows_affected(), id)
    }

    async fn persona_facts(&self) -> StoreResult<PersonaFacts> {
        let (customers, categories, channels, events, feedback) = tokio::try_join!(
            self.fact_customers(),
            self.grouped(CATEGORIES),
            self.grouped(CHANNELS),
            self.grouped(EVENTS),
            self.fact_feedback(),
        )?;
        let categories =
            categories.into_iter().map(|(c, n, v)| (c, n, Money::from_e4(v))).collect();
        Ok(PersonaFacts { customers, categories, channels, events, feedback })
    }
}

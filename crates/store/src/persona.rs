//! Personas: a description of a segment's members, generated from the data and kept current
//! by regeneration, with a name and notes a team member may edit. Regeneration replaces only
//! the generated profile (and the suggested name); an edited name and the notes survive it.
//!
//! A persona's source is text, `kind` and `expression`: a filter today (`filter`), saved
//! segments or clusters later, without a schema change.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_analytics::persona::PersonaProfile;
use rapport_core::{ExternalId, Money, Timestamp};
use serde::Serialize;

/// A stored persona.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonaRecord {
    pub id: i64,
    /// The name shown: the edited one, else the generated one, else "Persona {id}".
    pub name: String,
    /// Whether a team member named it (regeneration then keeps the name).
    pub name_edited: bool,
    /// The name the last generation suggested.
    pub generated_name: Option<String>,
    pub notes: String,
    pub source_kind: String,
    pub source: String,
    /// None until first generated.
    pub profile: Option<PersonaProfile>,
    pub generated_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PersonaRecord {
    /// The name shown for these stored columns.
    pub fn display_name(id: i64, edited: Option<&str>, generated: Option<&str>) -> String {
        edited.or(generated).map_or_else(|| format!("Persona {id}"), str::to_string)
    }
}

/// A persona to create.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewPersona {
    /// A name given at creation counts as edited.
    pub name: Option<String>,
    pub notes: String,
    pub source_kind: String,
    pub source: String,
}

/// An edit: each `Some` replaces. An empty name goes back to the generated one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonaEdit {
    pub name: Option<String>,
    pub notes: Option<String>,
}

/// One customer's demographic and purchase facts, for personas.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonaCustomer {
    /// The store's internal number, which the other fact lists refer to.
    pub key: i64,
    pub id: ExternalId,
    pub birth_year: Option<i16>,
    pub gender: Option<String>,
    pub country: Option<String>,
    /// The size of the customer's company, as the company records it.
    pub company_size: Option<String>,
    pub purchase_orders: i64,
    pub purchase_value: Money,
}

/// A feedback item with text, for personas.
#[derive(Debug, Clone, PartialEq)]
pub struct PersonaFeedback {
    pub customer: i64,
    pub text: String,
    /// VADER compound, −1..1 (0 when not scored).
    pub sentiment: f64,
    /// The label of the item's theme, when it has one.
    pub theme: Option<String>,
}

/// Everything personas are computed from, per customer key: aggregated in the database, so
/// a million orders and events cross as a few rows per customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonaFacts {
    /// In key order.
    pub customers: Vec<PersonaCustomer>,
    /// (customer, product category, purchase value of its lines).
    pub categories: Vec<(i64, String, Money)>,
    /// (customer, interaction channel, interactions).
    pub channels: Vec<(i64, String, i64)>,
    /// (customer, event name, events).
    pub events: Vec<(i64, String, i64)>,
    pub feedback: Vec<PersonaFeedback>,
}

#[async_trait]
pub trait PersonaStore: Send + Sync {
    /// Stores a new persona, not yet generated, and returns its id.
    async fn create_persona(&self, p: &NewPersona, at: Timestamp) -> StoreResult<i64>;

    /// Every persona, by id.
    async fn personas(&self) -> StoreResult<Vec<PersonaRecord>>;

    /// One persona; `NotFound` when absent.
    async fn persona(&self, id: i64) -> StoreResult<PersonaRecord>;

    /// Edits the name and/or notes; `NotFound` when absent.
    async fn edit_persona(&self, id: i64, edit: &PersonaEdit, at: Timestamp) -> StoreResult<()>;

    /// Replaces the generated profile and suggested name; the edited name and notes stay.
    /// `NotFound` when absent.
    async fn save_persona_profile(
        &self,
        id: i64,
        profile: &PersonaProfile,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// `NotFound` when absent.
    async fn delete_persona(&self, id: i64) -> StoreResult<()>;

    /// The facts of every customer (see [`PersonaFacts`]).
    async fn persona_facts(&self) -> StoreResult<PersonaFacts>;
}

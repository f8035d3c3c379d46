//! The documented webhook bodies, and how they become a feedback row or an interaction: through
//! the same parsers as imports and batches (`rapport_core::record`), with ids derived from the
//! source so that a redelivery upserts the same row.

use crate::api::dto::FieldList;
use crate::error::{ApiError, ApiResult};
use chrono::Datelike;
use rapport_core::access::SourceName;
use rapport_core::record::{FeedbackRow, ParseOptions, parse_feedback, parse_interaction};
use rapport_core::value::parse_text;
use rapport_core::{Customer, Email, ExternalId, Interaction, Timestamp};
use rapport_store::{Backend, IngestOptions, RowOutcome, StoreError};
use serde::Deserialize;

/// Who the item is from: by id, else by e-mail address.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerIn {
    pub id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// `POST /hooks/feedback/{source}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackHook {
    /// The sender's id for the item; without one, the id is derived from the content.
    pub id: Option<String>,
    pub customer: CustomerIn,
    pub text: String,
    /// A whole number from 0 to 10.
    pub rating: Option<serde_json::Number>,
    /// RFC 3339; default: when received.
    pub at: Option<String>,
    /// Where the feedback was given. Part of the derived id; not stored yet (feedback has no
    /// URL field).
    pub url: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookDirection {
    Inbound,
    Outbound,
}

/// `POST /hooks/tickets/{source}`: one ticket, stored as one `support` interaction that later
/// deliveries of the same ticket update.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TicketHook {
    /// The ticket's id in the help desk.
    pub id: String,
    pub customer: CustomerIn,
    pub subject: String,
    pub body: Option<String>,
    /// Default inbound.
    pub direction: Option<HookDirection>,
    /// The help desk's status. Validated, not stored yet (interactions have no status field).
    pub status: Option<String>,
    /// RFC 3339; default: when received.
    pub at: Option<String>,
}

/// A validated customer reference, not yet looked up.
#[derive(Debug)]
pub struct Who {
    /// The id given, or one derived from the e-mail address (`by_email`).
    key: ExternalId,
    by_email: bool,
    email: Option<Email>,
    name: Option<String>,
}

fn invalid(field: &str) -> impl Fn(String) -> ApiError + '_ {
    move |reason| ApiError::invalid(field, reason)
}

impl Who {
    pub fn parse(c: &CustomerIn) -> ApiResult<Who> {
        let nonblank = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        let id = nonblank(&c.id)
            .map(|s| ExternalId::parse(&s))
            .transpose()
            .map_err(invalid("customer.id"))?;
        let email = nonblank(&c.email)
            .map(|s| Email::parse(&s))
            .transpose()
            .map_err(invalid("customer.email"))?;
        let name = nonblank(&c.name)
            .map(|s| parse_text(&s, 200))
            .transpose()
            .map_err(invalid("customer.name"))?;
        let (key, by_email) = match (id, &email) {
            (Some(id), _) => (id, false),
            (None, Some(e)) => (email_id(e), true),
            (None, None) => {
                return Err(ApiError::invalid("customer", "give the customer's id or email"));
            }
        };
        Ok(Who { key, by_email, email, name })
    }

    /// The customer's id as far as the delivery says: the id, or one derived from the e-mail
    /// address (`email:<address>`, lower-cased), the same on every redelivery.
    pub fn key(&self) -> &ExternalId {
        &self.key
    }

    /// The stored customer: the one with the id, else the one with the e-mail address, else a
    /// new one (with the name and address given). An existing profile is not changed.
    pub async fn resolve(&self, db: &dyn Backend) -> ApiResult<ExternalId> {
        if self.by_email
            && let Some(email) = &self.email
            && let Some(found) = db.customer_by_email(email.as_str()).await?
        {
            return Ok(found);
        }
        let id = self.key.clone();
        match db.customer(&id).await {
            Ok(_) => return Ok(id),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
        let mut c = Customer::bare(id.clone());
        c.email = self.email.clone();
        c.name = self.name.clone();
        let outcome = db.upsert_customers(vec![c], &IngestOptions::default()).await?;
        if let Some(RowOutcome::Rejected(e)) = outcome.into_iter().next() {
            return Err(e.into());
        }
        Ok(id)
    }
}

fn email_id(e: &Email) -> ExternalId {
    let lower = e.as_str().to_lowercase();
    ExternalId::parse(&format!("email:{lower}"))
        .unwrap_or_else(|_| ExternalId::derived(&["email", &lower]))
}

/// The item's id: `<source>:<sender's id>` (derived from both when too long for an id), or a
/// digest of the content when the sender gives none.
fn item_id(source: &SourceName, given: Option<&str>, content: &[&str]) -> ApiResult<ExternalId> {
    let Some(given) = given else {
        let parts: Vec<&str> = ["hook", source.as_str()].iter().chain(content).copied().collect();
        return Ok(ExternalId::derived(&parts));
    };
    let given = ExternalId::parse(given).map_err(invalid("id"))?;
    let id = format!("{}:{given}", source.as_str());
    Ok(ExternalId::parse(&id)
        .unwrap_or_else(|_| ExternalId::derived(&[source.as_str(), given.as_str()])))
}

/// The feedback `source` (a slug of at most 40 characters) for a webhook source name.
fn feedback_source(name: &SourceName) -> String {
    name.as_str().replace('-', "_").chars().take(40).collect()
}

fn options() -> ParseOptions {
    ParseOptions::new(chrono::Utc::now().year())
}

fn put(f: &mut Vec<(&'static str, String)>, k: &'static str, v: Option<&str>) {
    if let Some(v) = v {
        f.push((k, v.to_string()));
    }
}

impl FeedbackHook {
    /// The row to store, with the customer as `who` names them (the caller resolves it).
    pub fn to_row(&self, source: &SourceName, who: &Who, now: Timestamp) -> ApiResult<FeedbackRow> {
        if let Some(url) = &self.url {
            parse_text(url, 2000).map_err(invalid("url"))?;
        }
        let rating = self.rating.as_ref().map(ToString::to_string);
        let key = who.key();
        let content = [
            key.as_str(),
            &self.text,
            rating.as_deref().unwrap_or(""),
            self.at.as_deref().unwrap_or(""),
            self.url.as_deref().unwrap_or(""),
        ];
        let given = self.id.as_deref().filter(|g| !g.trim().is_empty());
        let id = item_id(source, given, &content)?;
        let at = self.at.clone().unwrap_or_else(|| now.to_rfc3339());
        let mut f = Vec::new();
        put(&mut f, "id", Some(id.as_str()));
        put(&mut f, "customer", Some(key.as_str()));
        put(&mut f, "source", Some(&feedback_source(source)));
        put(&mut f, "text", Some(&self.text));
        put(&mut f, "rating", rating.as_deref());
        put(&mut f, "created_at", Some(&at));
        let row = parse_feedback(&FieldList(f), &options()).map_err(|mut e| {
            // The parser's name for the field; the sender wrote `at`.
            if e.field == "created_at" {
                e.field = "at".into();
            }
            e
        })?;
        if row.text.is_none() {
            return Err(ApiError::invalid("text", "is empty"));
        }
        Ok(row)
    }
}

impl TicketHook {
    /// The interaction to store, with the customer as `who` names them.
    pub fn to_interaction(
        &self,
        source: &SourceName,
        who: &Who,
        now: Timestamp,
    ) -> ApiResult<Interaction> {
        if let Some(status) = &self.status {
            parse_text(status, 40).map_err(invalid("status"))?;
        }
        // Blank is not absent here: every delivery of a ticket must name it.
        let id = item_id(source, Some(&self.id), &[])?;
        let direction = match self.direction.unwrap_or(HookDirection::Inbound) {
            HookDirection::Inbound => "inbound",
            HookDirection::Outbound => "outbound",
        };
        let at = self.at.clone().unwrap_or_else(|| now.to_rfc3339());
        let mut f = Vec::new();
        put(&mut f, "id", Some(id.as_str()));
        put(&mut f, "customer", Some(who.key().as_str()));
        put(&mut f, "channel", Some("support"));
        put(&mut f, "direction", Some(direction));
        put(&mut f, "subject", Some(&self.subject));
        put(&mut f, "body", self.body.as_deref());
        put(&mut f, "at", Some(&at));
        let it = parse_interaction(&FieldList(f), &options())?;
        if it.subject.is_none() {
            return Err(ApiError::invalid("subject", "is empty"));
        }
        Ok(it)
    }
}

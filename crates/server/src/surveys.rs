//! Survey operations shared by the API, the pages and the CLI: creating a survey from its
//! spec, sending it (one token per consenting customer), and the signatures embedding sites
//! vouch for a customer with.

use crate::auth::{digest, random_token};
use crate::error::ApiError;
use chrono::{Duration, Utc};
use hmac::{Hmac, Mac};
use rapport_analytics::rfm::Segment;
use rapport_core::survey::{Survey, SurveySpec};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{AudienceFilter, Backend, EmbedKeys, RowOutcome};
use serde::Serialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// Reads a survey definition written as TOML, or as JSON when it starts with `{`. Errors say
/// where (TOML's own messages give the line and column).
pub fn parse_spec(text: &str) -> Result<SurveySpec, ApiError> {
    let bad = |reason: String| ApiError::invalid("definition", reason);
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| bad(format!("not a valid JSON survey: {e}")))
    } else {
        toml::from_str(text)
            .map_err(|e| bad(format!("not a valid TOML survey: {}", e.to_string().trim())))
    }
}

/// Checks a spec and stores the survey (created, or its definition replaced).
pub async fn create(db: &dyn Backend, spec: SurveySpec) -> Result<(Survey, RowOutcome), ApiError> {
    let survey = Survey::parse(spec)?;
    let embed = EmbedKeys {
        token: format!("e{}", random_token()),
        digest: String::new(),
        secret: random_token(),
    };
    let embed = EmbedKeys { digest: digest(&embed.token), ..embed };
    let outcome = db.put_survey(&survey, &embed, Utc::now()).await?;
    Ok((survey, outcome))
}

/// One invitation sent: whom, and the link that answers as them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Invitation {
    #[schema(value_type = String)]
    pub customer: ExternalId,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The survey page for this customer: `{base}/s/{token}`. Shown once: only the token's
    /// digest is stored.
    pub link: String,
}

/// What a send did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Sent {
    pub invited: Vec<Invitation>,
    /// Matched customers whose latest surveys consent is not a grant: not invited.
    pub without_consent: i64,
    /// Matched customers invited before (one invitation per customer and survey).
    pub already_invited: i64,
    #[schema(value_type = String)]
    pub expires_at: Timestamp,
}

/// Who a survey goes to: the store's filter, narrowed to one RFM segment (as of the day after
/// the last purchase) when `segment` is set.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    pub filter: AudienceFilter,
    pub segment: Option<Segment>,
    /// Only the customers a segment filter selects (docs/filter-language.md).
    pub matching: Option<rapport_core::filter::Filter>,
}

/// Invites every customer of the audience who consented to surveys and has no invitation yet:
/// running it twice invites nobody twice. `base` is the server's public address.
pub async fn send(
    db: &dyn Backend,
    survey: &ExternalId,
    audience: &Audience,
    base: &str,
) -> Result<Sent, ApiError> {
    let info = db.survey(survey).await?;
    let now = Utc::now();
    let expires_at = now + Duration::days(i64::from(info.survey.expires_after_days));
    let mut filter = audience.filter.clone();
    let mut narrowed = false;
    if let Some(segment) = audience.segment {
        let scored = rapport_reports::rfm::customers(db, None).await?.rows;
        let named = filter.customers.clone();
        filter.customers = scored
            .into_iter()
            .filter(|c| {
                c.rfm.segment == segment && (named.is_empty() || named.contains(&c.customer))
            })
            .map(|c| c.customer)
            .collect();
        narrowed = true;
    }
    if let Some(matching) = &audience.matching
        && !(narrowed && filter.customers.is_empty())
    {
        let selected = rapport_reports::segments::members(db, matching, now).await?;
        filter.customers = match filter.customers.is_empty() {
            true => selected,
            false => {
                let named: std::collections::HashSet<_> = filter.customers.iter().collect();
                selected.into_iter().filter(|c| named.contains(c)).collect()
            }
        };
        narrowed = true;
    }
    // An empty list means everyone to the store: an empty segment means no one here.
    if narrowed && filter.customers.is_empty() {
        return Ok(Sent {
            invited: Vec::new(),
            without_consent: 0,
            already_invited: 0,
            expires_at,
        });
    }
    let audience = db.survey_audience(survey, &filter).await?;
    let mut tokens = Vec::with_capacity(audience.members.len());
    let mut rows = Vec::with_capacity(audience.members.len());
    for m in &audience.members {
        let token = random_token();
        rows.push((m.key, digest(&token)));
        tokens.push(token);
    }
    // Written in batches, so a large audience does not hold the writer for long at a time.
    let mut invited = Vec::new();
    let base = base.trim_end_matches('/');
    for (members, batch) in
        audience.members.chunks(5_000).zip(rows.chunks(5_000).zip(tokens.chunks(5_000)))
    {
        let (rows, tokens) = batch;
        let done = db.create_invitations(survey, rows.to_vec(), expires_at, now).await?;
        for (m, token) in members.iter().zip(tokens) {
            if done.binary_search(&m.key).is_ok() {
                invited.push(Invitation {
                    customer: m.id.clone(),
                    name: m.name.clone(),
                    email: m.email.clone(),
                    link: format!("{base}/s/{token}"),
                });
            }
        }
    }
    // Anyone dropped between reading the audience and writing had just revoked consent.
    let revoked = (audience.members.len() - invited.len()) as i64;
    Ok(Sent {
        invited,
        without_consent: audience.without_consent + revoked,
        already_invited: audience.already_invited,
        expires_at,
    })
}

type HmacSha256 = Hmac<Sha256>;

/// The signature an embedding site sends with a customer id: hex HMAC-SHA256 of the id under
/// the survey's embed secret (computed on the site's server, never in the browser).
pub fn embed_signature(secret: &str, customer: &str) -> String {
    let mut m = HmacSha256::new_from_slice(secret.as_bytes()).expect("any key length");
    m.update(customer.as_bytes());
    m.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `signature` vouches for `customer`, compared in constant time.
pub fn verify_embed(secret: &str, customer: &str, signature: &str) -> bool {
    let expected = embed_signature(secret, customer);
    bool::from(expected.as_bytes().ct_eq(signature.trim().to_ascii_lowercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_signatures_verify_only_their_customer() {
        let sig = embed_signature("s3cret", "c42");
        assert_eq!(sig.len(), 64);
        assert!(verify_embed("s3cret", "c42", &sig));
        assert!(verify_embed("s3cret", "c42", &sig.to_uppercase()));
        assert!(!verify_embed("s3cret", "c43", &sig));
        assert!(!verify_embed("other", "c42", &sig));
        // printf %s c42 | openssl dgst -sha256 -hmac s3cret -r
        assert_eq!(sig, "2555f670c9453d35c915d8991196542617771d04531d2d3695226b61367fb734");
    }
}

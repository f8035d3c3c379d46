//! Surveys, their invitations (one token per customer) and responses.
//!
//! Tokens are chosen by the caller (256 random bits) and reach the store only as the hex of
//! their SHA-256 digest, like API keys: a copy of the database does not let anyone answer as a
//! customer. A survey also has one public embed token, for website and in-app snippets, which
//! accepts any number of responses.

use crate::{RowOutcome, StoreResult};
use async_trait::async_trait;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_core::survey::{self, Answer, Survey};
use rapport_core::{ExternalId, Timestamp};
use serde::Serialize;

/// A survey with its public embed token and how far it has gone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SurveyInfo {
    pub survey: Survey,
    /// Not secret: it is written into web pages.
    pub embed_token: String,
    /// The key an embedding site signs customer ids with; shown to team members only.
    #[serde(skip)]
    pub embed_secret: String,
    pub created_at: Timestamp,
    pub invited: i64,
    pub responses: i64,
    pub last_response_at: Option<Timestamp>,
}

/// A new survey's embed token (with the digest it is found by) and signing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedKeys {
    pub token: String,
    pub digest: String,
    pub secret: String,
}

/// Which customers a survey goes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudienceFilter {
    /// Only these customers (external ids); everyone when empty.
    pub customers: Vec<ExternalId>,
    /// Only customers in this country (ISO code, as stored).
    pub country: Option<String>,
}

/// One customer to invite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudienceMember {
    /// The store's internal number, passed back in [`SurveyStore::create_invitations`].
    #[serde(skip)]
    pub key: i64,
    pub id: ExternalId,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The customers a survey can go to, and how many the filter matched that it cannot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience {
    pub members: Vec<AudienceMember>,
    /// Matched, but their latest surveys consent is not a grant (or they never gave one).
    pub without_consent: i64,
    /// Matched and consenting, but already invited to this survey.
    pub already_invited: i64,
}

/// What a token opens.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenView {
    pub survey: Survey,
    /// Changes whenever the survey is edited: a cache key for its rendered form.
    pub survey_version: i64,
    pub state: TokenState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenState {
    /// An invitation not yet answered and not expired.
    Open {
        customer: ExternalId,
        customer_name: Option<String>,
    },
    /// Answered; `follow_up_open` while the score's follow-up questions are still unanswered.
    Answered {
        response: i64,
        score: Option<i16>,
        follow_up_open: bool,
    },
    Expired,
    /// A survey's embed token: open to anyone, any number of times.
    Embed,
}

/// A first-step response.
#[derive(Debug, Clone, PartialEq)]
pub struct NewResponse {
    pub token_digest: String,
    /// For embed tokens: the customer the embedding site vouched for (by signature), if any.
    pub customer: Option<ExternalId>,
    pub answers: Vec<Answer>,
    pub at: Timestamp,
    /// Whether follow-up questions remain for this score.
    pub follow_up_open: bool,
}

/// What became of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    Recorded { response: i64 },
    AlreadyAnswered,
    Expired,
    UnknownToken,
}

/// One stored response, for the results page and exports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseRow {
    pub id: i64,
    pub customer: Option<ExternalId>,
    pub customer_name: Option<String>,
    pub score: Option<i16>,
    pub answers: Vec<Answer>,
    pub at: Timestamp,
    /// `link` (an invitation) or `embed`.
    pub via: String,
}

/// The feedback item a response becomes (`survey-<response id>`, the survey's source, the score
/// as rating, the text answers as text), the same on every backend; `None` when the response
/// holds neither a score nor text.
pub fn response_feedback(
    s: &Survey,
    response: i64,
    customer: ExternalId,
    answers: &[Answer],
    at: Timestamp,
) -> Option<FeedbackRow> {
    let row = FeedbackRow {
        id: ExternalId::parse(&format!("survey-{response}")).expect("a valid id"),
        customer: CustomerRef::Id(customer),
        source: s.feedback_source().to_string(),
        // PostgreSQL text cannot hold NUL (answers are cleaned of it; survey text may not be).
        text: survey::feedback_text(s, answers).map(|t| t.replace('\0', "")),
        rating: survey::score_of(s, answers),
        created_at: at,
    };
    (row.text.is_some() || row.rating.is_some()).then_some(row)
}

#[async_trait]
pub trait SurveyStore: Send + Sync {
    /// Creates a survey, or replaces the definition of the one with its id (its tokens,
    /// invitations and responses stay). `embed` is used only when creating.
    async fn put_survey(
        &self,
        survey: &Survey,
        embed: &EmbedKeys,
        now: Timestamp,
    ) -> StoreResult<RowOutcome>;

    /// Every survey, newest first.
    async fn surveys(&self) -> StoreResult<Vec<SurveyInfo>>;

    /// One survey; `NotFound` when absent.
    async fn survey(&self, id: &ExternalId) -> StoreResult<SurveyInfo>;

    /// The customers matching `filter` who granted the surveys purpose (their latest surveys
    /// consent is a grant) and are not yet invited to this survey, in key order.
    async fn survey_audience(
        &self,
        survey: &ExternalId,
        filter: &AudienceFilter,
    ) -> StoreResult<Audience>;

    /// Stores one invitation per (customer key, token digest), expiring at `expires_at`, in
    /// one transaction. Consent is checked again as they are written: a customer who revoked
    /// it since the audience was read gets no invitation. Returns the keys invited.
    async fn create_invitations(
        &self,
        survey: &ExternalId,
        invitations: Vec<(i64, String)>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<i64>>;

    /// What a token (by digest) opens at `now`; `None` for an unknown token.
    async fn open_token(
        &self,
        token_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<TokenView>>;

    /// Records a first-step response in one transaction: the invitation is claimed (a second
    /// submission gets `AlreadyAnswered`, also when two race), the response stored, and for a
    /// known customer a feedback item `survey-<response id>` written with the survey's
    /// source, score and text, so it reaches the timeline, the inbox and the reports.
    async fn submit_response(&self, r: NewResponse) -> StoreResult<Submitted>;

    /// Adds follow-up answers to an invitation's response, once; the feedback item's text is
    /// rewritten to include them.
    async fn submit_follow_up(
        &self,
        token_digest: &str,
        answers: Vec<Answer>,
    ) -> StoreResult<Submitted>;

    /// A survey's responses, oldest first.
    async fn survey_responses(&self, survey: &ExternalId) -> StoreResult<Vec<ResponseRow>>;
}

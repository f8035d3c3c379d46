//! Surveys, invitations and responses (schema v7): the [`SurveyStore`] of [`PgStore`].
//!
//! Reads are single statements on the pool. Submissions take the writer lock (`begin`), as
//! any write that adds feedback does, because the feedback item moves the customer's summary.

use crate::{PgStore, activity, db_err, ext_id, finish, get};
use async_trait::async_trait;
use rapport_core::survey::{self, Answer, Survey};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{
    Audience, AudienceFilter, AudienceMember, EmbedKeys, IngestOptions, NewResponse, ResponseRow,
    RowOutcome, StoreError, StoreResult, Submitted, SurveyInfo, SurveyStore, TokenState, TokenView,
    response_feedback,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection};

/// The latest surveys consent of customer `c.id` is a grant.
const CONSENTED: &str = "(SELECT y.granted FROM consents y WHERE y.customer_id = c.id
      AND y.purpose = 'surveys' ORDER BY y.at DESC, y.id DESC LIMIT 1)";

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::other(e)
}

fn parse_def(def: &str) -> StoreResult<Survey> {
    serde_json::from_str(def).map_err(json_err)
}

async fn survey_key(c: &mut PgConnection, id: &ExternalId) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT id FROM surveys WHERE external_id = $1")
        .bind(id.as_str())
        .fetch_optional(c)
        .await
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("survey '{id}'")))
}

const INFO: &str = "SELECT s.definition, s.embed_token, s.embed_secret, s.created_at,
      (SELECT COUNT(*) FROM survey_tokens t WHERE t.survey_id = s.id AND t.customer_id IS NOT NULL),
      (SELECT COUNT(*) FROM survey_responses r WHERE r.survey_id = s.id),
      (SELECT MAX(r.at) FROM survey_responses r WHERE r.survey_id = s.id)
    FROM surveys s";

fn info_from_row(r: &PgRow) -> StoreResult<SurveyInfo> {
    Ok(SurveyInfo {
        survey: parse_def(&get::<String>(r, 0)?)?,
        embed_token: get(r, 1)?,
        embed_secret: get(r, 2)?,
        created_at: get(r, 3)?,
        invited: get(r, 4)?,
        responses: get(r, 5)?,
        last_response_at: get(r, 6)?,
    })
}

/// Token, survey, customer, expiry and response with its score and follow-up flag.
struct TokenRow {
    survey: i64,
    version: i64,
    definition: String,
    customer: Option<i64>,
    expires_at: Option<Timestamp>,
    response: Option<i64>,
    score: Option<i16>,
    follow_up_open: bool,
}

async fn token_row(
    c: &mut PgConnection,
    digest: &str,
    lock: bool,
) -> StoreResult<Option<TokenRow>> {
    let sql = format!(
        "SELECT s.id, s.version, s.definition, t.customer_id, t.expires_at, r.id, r.score,
                COALESCE(r.follow_up_open, false)
           FROM survey_tokens t JOIN surveys s ON s.id = t.survey_id
           LEFT JOIN survey_responses r ON r.id = t.response_id
          WHERE t.digest = $1 {}",
        if lock { "FOR UPDATE OF t" } else { "" }
    );
    let row =
        sqlx::query(AssertSqlSafe(sql)).bind(digest).fetch_optional(c).await.map_err(db_err)?;
    row.map(|r| {
        Ok(TokenRow {
            survey: get(&r, 0)?,
            version: get(&r, 1)?,
            definition: get(&r, 2)?,
            customer: get(&r, 3)?,
            expires_at: get(&r, 4)?,
            response: get(&r, 5)?,
            score: get(&r, 6)?,
            follow_up_open: get(&r, 7)?,
        })
    })
    .transpose()
}

async fn customer_of(c: &mut PgConnection, key: i64) -> StoreResult<(ExternalId, Option<String>)> {
    let r = sqlx::query("SELECT external_id, name FROM customers WHERE id = $1")
        .bind(key)
        .fetch_one(c)
        .await
        .map_err(db_err)?;
    Ok((ext_id(get(&r, 0)?)?, get(&r, 1)?))
}

async fn write_feedback(
    c: &mut PgConnection,
    s: &Survey,
    response: i64,
    customer: ExternalId,
    answers: &[Answer],
    at: Timestamp,
) -> StoreResult<()> {
    if let Some(row) = response_feedback(s, response, customer, answers, at) {
        activity::feedback(c, &[row], &IngestOptions::default()).await?;
    }
    Ok(())
}

async fn submit(c: &mut PgConnection, r: &NewResponse) -> StoreResult<Submitted> {
    // FOR UPDATE: of two racing submissions, the second waits here and then sees the response.
    let Some(t) = token_row(c, &r.token_digest, true).await? else {
        return Ok(Submitted::UnknownToken);
    };
    let s = parse_def(&t.definition)?;
    let customer = match t.customer {
        Some(_) if t.response.is_some() => return Ok(Submitted::AlreadyAnswered),
        Some(_) if t.expires_at.is_some_and(|e| e <= r.at) => return Ok(Submitted::Expired),
        Some(key) => Some(key),
        None => match &r.customer {
            Some(id) => sqlx::query_scalar("SELECT id FROM customers WHERE external_id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *c)
                .await
                .map_err(db_err)?,
            None => None,
        },
    };
    let response: i64 = sqlx::query_scalar(
        "INSERT INTO survey_responses (survey_id, customer_id, score, answers, follow_up_open, via, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(t.survey)
    .bind(customer)
    .bind(survey::score_of(&s, &r.answers))
    .bind(serde_json::to_string(&r.answers).map_err(json_err)?)
    .bind(r.follow_up_open)
    .bind(if t.customer.is_some() { "link" } else { "embed" })
    .bind(r.at)
    .fetch_one(&mut *c)
    .await
    .map_err(db_err)?;
    if t.customer.is_some() {
        sqlx::query("UPDATE survey_tokens SET response_id = $2 WHERE digest = $1")
            .bind(&r.token_digest)
            .bind(response)
            .execute(&mut *c)
            .await
            .map_err(db_err)?;
    }
    if let Some(key) = customer {
        let (id, _) = customer_of(c, key).await?;
        write_feedback(c, &s, response, id, &r.answers, r.at).await?;
    }
    Ok(Submitted::Recorded { response })
}

async fn follow_up(
    c: &mut PgConnection,
    digest: &str,
    more: Vec<Answer>,
) -> StoreResult<Submitted> {
    let Some(t) = token_row(c, digest, true).await? else {
        return Ok(Submitted::UnknownToken);
    };
    let (Some(key), Some(response)) = (t.customer, t.response) else {
        return Ok(Submitted::UnknownToken);
    };
    if !t.follow_up_open {
        return Ok(Submitted::AlreadyAnswered);
    }
    let s = parse_def(&t.definition)?;
    let r = sqlx::query("SELECT answers, at FROM survey_responses WHERE id = $1")
        .bind(response)
        .fetch_one(&mut *c)
        .await
        .map_err(db_err)?;
    let mut answers: Vec<Answer> =
        serde_json::from_str(&get::<String>(&r, 0)?).map_err(json_err)?;
    let at: Timestamp = get(&r, 1)?;
    answers.extend(more);
    sqlx::query("UPDATE survey_responses SET answers = $2, follow_up_open = false WHERE id = $1")
        .bind(response)
        .bind(serde_json::to_string(&answers).map_err(json_err)?)
        .execute(&mut *c)
        .await
        .map_err(db_err)?;
    let (id, _) = customer_of(c, key).await?;
    write_feedback(c, &s, response, id, &answers, at).await?;
    Ok(Submitted::Recorded { response })
}

#[async_trait]
impl SurveyStore for PgStore {
    async fn put_survey(
        &self,
        survey: &Survey,
        embed: &EmbedKeys,
        now: Timestamp,
    ) -> StoreResult<RowOutcome> {
        let def = serde_json::to_string(survey).map_err(json_err)?;
        if def.contains("\\u0000") {
            return Err(StoreError::Invalid("the survey contains a NUL character".into()));
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let old =
            sqlx::query("SELECT id, definition FROM surveys WHERE external_id = $1 FOR UPDATE")
                .bind(survey.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let outcome = match old {
            Some(r) if get::<String>(&r, 1)? == def => RowOutcome::Unchanged,
            Some(r) => {
                sqlx::query("UPDATE surveys SET definition = $2, version = version + 1, updated_at = $3 WHERE id = $1")
                    .bind(get::<i64>(&r, 0)?)
                    .bind(&def)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                RowOutcome::Updated
            }
            None => {
                let key: i64 = sqlx::query_scalar(
                    "INSERT INTO surveys (external_id, definition, embed_token, embed_secret, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(survey.id.as_str())
                .bind(&def)
                .bind(&embed.token)
                .bind(&embed.secret)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO survey_tokens (digest, survey_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(&embed.digest)
                .bind(key)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
                RowOutcome::Inserted
            }
        };
        finish(tx, false).await?;
        Ok(outcome)
    }

    async fn surveys(&self) -> StoreResult<Vec<SurveyInfo>> {
        let sql = format!("{INFO} ORDER BY s.created_at DESC, s.id DESC");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(info_from_row).collect()
    }

    async fn survey(&self, id: &ExternalId) -> StoreResult<SurveyInfo> {
        let sql = format!("{INFO} WHERE s.external_id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref()
            .map(info_from_row)
            .transpose()?
            .ok_or_else(|| StoreError::NotFound(format!("survey '{id}'")))
    }

    async fn survey_audience(
        &self,
        survey: &ExternalId,
        f: &AudienceFilter,
    ) -> StoreResult<Audience> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let key = survey_key(&mut c, survey).await?;
        let ids: Option<Vec<&str>> =
            (!f.customers.is_empty()).then(|| f.customers.iter().map(|i| i.as_str()).collect());
        let sql = format!(
            "SELECT c.id, c.external_id, c.name, c.email, COALESCE({CONSENTED}, false),
                    EXISTS (SELECT 1 FROM survey_tokens t WHERE t.survey_id = $1 AND t.customer_id = c.id)
               FROM customers c
              WHERE ($2::text IS NULL OR c.country = $2) AND ($3::text[] IS NULL OR c.external_id = ANY($3))
              ORDER BY c.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(key)
            .bind(f.country.as_deref())
            .bind(ids)
            .fetch_all(&mut *c)
            .await
            .map_err(db_err)?;
        let mut out = Audience::default();
        for r in rows {
            if !get::<bool>(&r, 4)? {
                out.without_consent += 1;
            } else if get::<bool>(&r, 5)? {
                out.already_invited += 1;
            } else {
                out.members.push(AudienceMember {
                    key: get(&r, 0)?,
                    id: ext_id(get(&r, 1)?)?,
                    name: get(&r, 2)?,
                    email: get(&r, 3)?,
                });
            }
        }
        Ok(out)
    }

    async fn create_invitations(
        &self,
        survey: &ExternalId,
        invitations: Vec<(i64, String)>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<i64>> {
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let key = survey_key(&mut tx, survey).await?;
        let (customers, digests): (Vec<i64>, Vec<String>) = invitations.into_iter().unzip();
        // Consent is read again inside the write: the audience may be minutes old.
        let sql = format!(
            "INSERT INTO survey_tokens (digest, survey_id, customer_id, created_at, expires_at)
             SELECT i.digest, $1, c.id, $4, $5
               FROM unnest($2::bigint[], $3::text[]) AS i(customer, digest)
               JOIN customers c ON c.id = i.customer
              WHERE {CONSENTED}
             ON CONFLICT DO NOTHING RETURNING customer_id"
        );
        let mut invited: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(key)
            .bind(customers)
            .bind(digests)
            .bind(now)
            .bind(expires_at)
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?;
        finish(tx, false).await?;
        invited.sort_unstable();
        Ok(invited)
    }

    async fn open_token(
        &self,
        token_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<TokenView>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let Some(t) = token_row(&mut c, token_digest, false).await? else {
            return Ok(None);
        };
        let state = match (t.customer, t.response) {
            (None, _) => TokenState::Embed,
            (Some(_), Some(response)) => {
                TokenState::Answered { response, score: t.score, follow_up_open: t.follow_up_open }
            }
            (Some(_), None) if t.expires_at.is_some_and(|e| e <= now) => TokenState::Expired,
            (Some(key), None) => {
                let (customer, customer_name) = customer_of(&mut c, key).await?;
                TokenState::Open { customer, customer_name }
            }
        };
        Ok(Some(TokenView { survey: parse_def(&t.definition)?, survey_version: t.version, state }))
    }

    async fn submit_response(&self, r: NewResponse) -> StoreResult<Submitted> {
        let mut tx = self.begin().await?;
        let out = submit(&mut tx, &r).await?;
        finish(tx, false).await?;
        Ok(out)
    }

    async fn submit_follow_up(
        &self,
        token_digest: &str,
        answers: Vec<Answer>,
    ) -> StoreResult<Submitted> {
        let mut tx = self.begin().await?;
        let out = follow_up(&mut tx, token_digest, answers).await?;
        finish(tx, false).await?;
        Ok(out)
    }

    async fn survey_responses(&self, survey: &ExternalId) -> StoreResult<Vec<ResponseRow>> {
        let mut c = self.pool.acquire().await.map_err(db_err)?;
        let key = survey_key(&mut c, survey).await?;
        let rows = sqlx::query(
            "SELECT r.id, c.external_id, c.name, r.score, r.answers, r.at, r.via
               FROM survey_responses r LEFT JOIN customers c ON c.id = r.customer_id
              WHERE r.survey_id = $1 ORDER BY r.at, r.id",
        )
        .bind(key)
        .fetch_all(&mut *c)
        .await
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                Ok(ResponseRow {
                    id: get(r, 0)?,
                    customer: get::<Option<String>>(r, 1)?.map(ext_id).transpose()?,
                    customer_name: get(r, 2)?,
                    score: get(r, 3)?,
                    answers: serde_json::from_str(&get::<String>(r, 4)?).map_err(json_err)?,
                    at: get(r, 5)?,
                    via: get(r, 6)?,
                })
            })
            .collect()
    }
}

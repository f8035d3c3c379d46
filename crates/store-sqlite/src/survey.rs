//! Surveys, invitations and responses (schema v7).

use crate::{SqliteStore, activity, db_err};
use async_trait::async_trait;
use rapport_core::survey::{self, Answer, Survey};
use rapport_core::value::{from_micros, to_micros};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{
    Audience, AudienceFilter, AudienceMember, EmbedKeys, IngestOptions, NewResponse, ResponseRow,
    RowOutcome, StoreError, StoreResult, Submitted, SurveyInfo, SurveyStore, TokenState, TokenView,
    response_feedback,
};
use rusqlite::{Connection, OptionalExtension, Transaction};

/// The latest surveys consent of customer `c.id` is a grant (1), else 0 or NULL.
const CONSENTED: &str = "(SELECT y.granted FROM consents y WHERE y.customer_id = c.id
      AND y.purpose = 'surveys' ORDER BY y.at DESC, y.id DESC LIMIT 1)";

fn ext(s: &str) -> StoreResult<ExternalId> {
    ExternalId::parse(s).map_err(|r| StoreError::Invalid(format!("stored external id '{s}': {r}")))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::other(e)
}

fn survey_key(c: &Connection, id: &ExternalId) -> StoreResult<(i64, Survey)> {
    c.prepare_cached("SELECT id, definition FROM surveys WHERE external_id = ?1")
        .map_err(db_err)?
        .query_row([id.as_str()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
        .optional()
        .map_err(db_err)?
        .ok_or_else(|| StoreError::NotFound(format!("survey '{id}'")))
        .and_then(|(k, d)| Ok((k, serde_json::from_str(&d).map_err(json_err)?)))
}

fn put_survey(
    tx: &Transaction<'_>,
    s: &Survey,
    embed: &EmbedKeys,
    now: i64,
) -> StoreResult<RowOutcome> {
    let def = serde_json::to_string(s).map_err(json_err)?;
    let old: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, definition FROM surveys WHERE external_id = ?1",
            [s.id.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db_err)?;
    match old {
        Some((_, d)) if d == def => Ok(RowOutcome::Unchanged),
        Some((key, _)) => {
            tx.execute(
                "UPDATE surveys SET definition = ?2, version = version + 1, updated_at = ?3 WHERE id = ?1",
                (key, &def, now),
            )
            .map_err(db_err)?;
            Ok(RowOutcome::Updated)
        }
        None => {
            tx.execute(
                "INSERT INTO surveys (external_id, definition, embed_token, embed_secret, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                (s.id.as_str(), &def, &embed.token, &embed.secret, now),
            )
            .map_err(db_err)?;
            tx.execute(
                "INSERT INTO survey_tokens (digest, survey_id, created_at) VALUES (?1, ?2, ?3)",
                (&embed.digest, tx.last_insert_rowid(), now),
            )
            .map_err(db_err)?;
            Ok(RowOutcome::Inserted)
        }
    }
}

const INFO: &str = "SELECT s.definition, s.embed_token, s.embed_secret, s.created_at,
      (SELECT COUNT(*) FROM survey_tokens t WHERE t.survey_id = s.id AND t.customer_id IS NOT NULL),
      (SELECT COUNT(*) FROM survey_responses r WHERE r.survey_id = s.id),
      (SELECT MAX(r.at) FROM survey_responses r WHERE r.survey_id = s.id)
    FROM surveys s";

fn info_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, SurveyInfoParts)> {
    Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)))
}

type SurveyInfoParts = (String, String, i64, i64, i64, Option<i64>);

fn to_info(
    (def, (embed_token, embed_secret, created, invited, responses, last)): (
        String,
        SurveyInfoParts,
    ),
) -> StoreResult<SurveyInfo> {
    Ok(SurveyInfo {
        survey: serde_json::from_str(&def).map_err(json_err)?,
        embed_token,
        embed_secret,
        created_at: from_micros(created),
        invited,
        responses,
        last_response_at: last.map(from_micros),
    })
}

fn surveys(c: &Connection, id: Option<&ExternalId>) -> StoreResult<Vec<SurveyInfo>> {
    let sql = match id {
        Some(_) => format!("{INFO} WHERE s.external_id = ?1"),
        None => format!("{INFO} WHERE ?1 IS NULL ORDER BY s.created_at DESC, s.id DESC"),
    };
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map([id.map(|i| i.as_str())], info_from_row).map_err(db_err)?;
    rows.map(|r| r.map_err(db_err).and_then(to_info)).collect()
}

fn audience(c: &Connection, survey: &ExternalId, f: &AudienceFilter) -> StoreResult<Audience> {
    let (key, _) = survey_key(c, survey)?;
    let sql = format!(
        "SELECT c.id, c.external_id, c.name, c.email, COALESCE({CONSENTED}, 0),
                EXISTS (SELECT 1 FROM survey_tokens t WHERE t.survey_id = ?1 AND t.customer_id = c.id)
           FROM customers c
          WHERE (?2 IS NULL OR c.country = ?2) AND (?3 IS NULL OR c.external_id = ?3)
          ORDER BY c.id"
    );
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let mut out = Audience::default();
    let one: Vec<Option<&str>> = match f.customers.is_empty() {
        true => vec![None],
        false => f.customers.iter().map(|i| Some(i.as_str())).collect(),
    };
    for who in one {
        let mut rows = stmt.query((key, f.country.as_deref(), who)).map_err(db_err)?;
        while let Some(r) = rows.next().map_err(db_err)? {
            let (granted, invited): (bool, bool) =
                (r.get(4).map_err(db_err)?, r.get(5).map_err(db_err)?);
            if !granted {
                out.without_consent += 1;
            } else if invited {
                out.already_invited += 1;
            } else {
                let id: String = r.get(1).map_err(db_err)?;
                out.members.push(AudienceMember {
                    key: r.get(0).map_err(db_err)?,
                    id: ext(&id)?,
                    name: r.get(2).map_err(db_err)?,
                    email: r.get(3).map_err(db_err)?,
                });
            }
        }
    }
    Ok(out)
}

fn create_invitations(
    tx: &Transaction<'_>,
    survey: &ExternalId,
    invitations: &[(i64, String)],
    expires_at: i64,
    now: i64,
) -> StoreResult<Vec<i64>> {
    let (key, _) = survey_key(tx, survey)?;
    // Consent is read again inside the write: the audience may be minutes old.
    let sql = format!(
        "INSERT INTO survey_tokens (digest, survey_id, customer_id, created_at, expires_at)
         SELECT ?1, ?2, c.id, ?4, ?5 FROM customers c WHERE c.id = ?3 AND {CONSENTED} = 1
         ON CONFLICT DO NOTHING"
    );
    let mut stmt = tx.prepare_cached(&sql).map_err(db_err)?;
    let mut invited = Vec::new();
    for (customer, digest) in invitations {
        if stmt.execute((digest, key, customer, now, expires_at)).map_err(db_err)? == 1 {
            invited.push(*customer);
        }
    }
    Ok(invited)
}

/// The token's survey, customer, expiry and response (with its score and follow-up flag).
type TokenRow =
    (i64, i64, String, Option<i64>, Option<i64>, Option<i64>, Option<i64>, Option<i16>, bool);

fn token_row(c: &Connection, digest: &str) -> StoreResult<Option<TokenRow>> {
    c.prepare_cached(
        "SELECT s.id, s.version, s.definition, t.customer_id, t.expires_at, t.response_id,
                r.id, r.score, COALESCE(r.follow_up_open, 0)
           FROM survey_tokens t JOIN surveys s ON s.id = t.survey_id
           LEFT JOIN survey_responses r ON r.id = t.response_id
          WHERE t.digest = ?1",
    )
    .map_err(db_err)?
    .query_row([digest], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        ))
    })
    .optional()
    .map_err(db_err)
}

fn open_token(c: &Connection, digest: &str, now: i64) -> StoreResult<Option<TokenView>> {
    let Some((_, version, def, customer, expires, _, response, score, follow)) =
        token_row(c, digest)?
    else {
        return Ok(None);
    };
    let state = match (customer, response) {
        (None, _) => TokenState::Embed,
        (Some(_), Some(response)) => {
            TokenState::Answered { response, score, follow_up_open: follow }
        }
        (Some(_), None) if expires.is_some_and(|e| e <= now) => TokenState::Expired,
        (Some(key), None) => {
            let (id, name): (String, Option<String>) = c
                .prepare_cached("SELECT external_id, name FROM customers WHERE id = ?1")
                .map_err(db_err)?
                .query_row([key], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?;
            TokenState::Open { customer: ext(&id)?, customer_name: name }
        }
    };
    Ok(Some(TokenView {
        survey: serde_json::from_str(&def).map_err(json_err)?,
        survey_version: version,
        state,
    }))
}

fn customer_of(tx: &Transaction<'_>, key: i64) -> StoreResult<ExternalId> {
    let id: String = tx
        .query_row("SELECT external_id FROM customers WHERE id = ?1", [key], |r| r.get(0))
        .map_err(db_err)?;
    ext(&id)
}

/// Writes (or rewrites) the feedback item of a response.
fn write_feedback(
    tx: &Transaction<'_>,
    s: &Survey,
    response: i64,
    customer: ExternalId,
    answers: &[Answer],
    at: Timestamp,
) -> StoreResult<()> {
    if let Some(row) = response_feedback(s, response, customer, answers, at) {
        activity::feedback(tx, &[row], &IngestOptions::default())?;
    }
    Ok(())
}

fn submit(tx: &Transaction<'_>, r: &NewResponse) -> StoreResult<Submitted> {
    let Some((survey, _, def, invited, expires, answered, ..)) = token_row(tx, &r.token_digest)?
    else {
        return Ok(Submitted::UnknownToken);
    };
    let s: Survey = serde_json::from_str(&def).map_err(json_err)?;
    let at = to_micros(r.at);
    let customer = match invited {
        Some(_) if answered.is_some() => return Ok(Submitted::AlreadyAnswered),
        Some(_) if expires.is_some_and(|e| e <= at) => return Ok(Submitted::Expired),
        Some(key) => Some(key),
        None => match &r.customer {
            Some(id) => tx
                .query_row("SELECT id FROM customers WHERE external_id = ?1", [id.as_str()], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db_err)?,
            None => None,
        },
    };
    tx.execute(
        "INSERT INTO survey_responses (survey_id, customer_id, score, answers, follow_up_open, via, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        (
            survey,
            customer,
            survey::score_of(&s, &r.answers),
            serde_json::to_string(&r.answers).map_err(json_err)?,
            r.follow_up_open,
            if invited.is_some() { "link" } else { "embed" },
            at,
        ),
    )
    .map_err(db_err)?;
    let response = tx.last_insert_rowid();
    if invited.is_some() {
        // The single statement that makes a token answered: of two racing submissions, the
        // second finds `response_id` set (SQLite has one writer; the check above ran in this
        // same transaction).
        tx.execute(
            "UPDATE survey_tokens SET response_id = ?2 WHERE digest = ?1 AND response_id IS NULL",
            (&r.token_digest, response),
        )
        .map_err(db_err)?;
    }
    if let Some(key) = customer {
        write_feedback(tx, &s, response, customer_of(tx, key)?, &r.answers, r.at)?;
    }
    Ok(Submitted::Recorded { response })
}

fn follow_up(tx: &Transaction<'_>, digest: &str, more: Vec<Answer>) -> StoreResult<Submitted> {
    let Some((_, _, def, invited, _, _, response, _, open)) = token_row(tx, digest)? else {
        return Ok(Submitted::UnknownToken);
    };
    let (Some(key), Some(response)) = (invited, response) else {
        return Ok(Submitted::UnknownToken);
    };
    if !open {
        return Ok(Submitted::AlreadyAnswered);
    }
    let s: Survey = serde_json::from_str(&def).map_err(json_err)?;
    let (answers, at): (String, i64) = tx
        .query_row("SELECT answers, at FROM survey_responses WHERE id = ?1", [response], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .map_err(db_err)?;
    let mut answers: Vec<Answer> = serde_json::from_str(&answers).map_err(json_err)?;
    answers.extend(more);
    tx.execute(
        "UPDATE survey_responses SET answers = ?2, follow_up_open = 0 WHERE id = ?1",
        (response, serde_json::to_string(&answers).map_err(json_err)?),
    )
    .map_err(db_err)?;
    write_feedback(tx, &s, response, customer_of(tx, key)?, &answers, from_micros(at))?;
    Ok(Submitted::Recorded { response })
}

fn responses(c: &Connection, survey: &ExternalId) -> StoreResult<Vec<ResponseRow>> {
    let (key, _) = survey_key(c, survey)?;
    let mut stmt = c
        .prepare_cached(
            "SELECT r.id, c.external_id, c.name, r.score, r.answers, r.at, r.via
               FROM survey_responses r LEFT JOIN customers c ON c.id = r.customer_id
              WHERE r.survey_id = ?1 ORDER BY r.at, r.id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([key], |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, String>(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(db_err)?;
    rows.map(|r| {
        let (id, customer, customer_name, score, answers, at, via) = r.map_err(db_err)?;
        Ok(ResponseRow {
            id,
            customer: customer.map(|c| ext(&c)).transpose()?,
            customer_name,
            score,
            answers: serde_json::from_str(&answers).map_err(json_err)?,
            at: from_micros(at),
            via,
        })
    })
    .collect()
}

#[async_trait]
impl SurveyStore for SqliteStore {
    async fn put_survey(
        &self,
        survey: &Survey,
        embed: &EmbedKeys,
        now: Timestamp,
    ) -> StoreResult<RowOutcome> {
        let (s, e) = (survey.clone(), embed.clone());
        self.write(false, move |tx| put_survey(tx, &s, &e, to_micros(now))).await
    }

    async fn surveys(&self) -> StoreResult<Vec<SurveyInfo>> {
        self.read(|c| surveys(c, None)).await
    }

    async fn survey(&self, id: &ExternalId) -> StoreResult<SurveyInfo> {
        let (id, missing) = (id.clone(), StoreError::NotFound(format!("survey '{id}'")));
        self.read(move |c| surveys(c, Some(&id))).await?.pop().ok_or(missing)
    }

    async fn survey_audience(
        &self,
        survey: &ExternalId,
        filter: &AudienceFilter,
    ) -> StoreResult<Audience> {
        let (s, f) = (survey.clone(), filter.clone());
        self.read(move |c| audience(c, &s, &f)).await
    }

    async fn create_invitations(
        &self,
        survey: &ExternalId,
        invitations: Vec<(i64, String)>,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<Vec<i64>> {
        let s = survey.clone();
        self.write(false, move |tx| {
            create_invitations(tx, &s, &invitations, to_micros(expires_at), to_micros(now))
        })
        .await
    }

    async fn open_token(
        &self,
        token_digest: &str,
        now: Timestamp,
    ) -> StoreResult<Option<TokenView>> {
        let d = token_digest.to_string();
        self.read(move |c| open_token(c, &d, to_micros(now))).await
    }

    async fn submit_response(&self, r: NewResponse) -> StoreResult<Submitted> {
        self.write(false, move |tx| submit(tx, &r)).await
    }

    async fn submit_follow_up(
        &self,
        token_digest: &str,
        answers: Vec<Answer>,
    ) -> StoreResult<Submitted> {
        let d = token_digest.to_string();
        self.write(false, move |tx| follow_up(tx, &d, answers)).await
    }

    async fn survey_responses(&self, survey: &ExternalId) -> StoreResult<Vec<ResponseRow>> {
        let s = survey.clone();
        self.read(move |c| responses(c, &s)).await
    }
}

//! The public survey page, `/s/{token}`: what a customer opens from an invitation, and what
//! website and in-app snippets post to (a survey's embed token).
//!
//! Plain HTML forms, no JavaScript, no cookies: the token in the path is the credential. The
//! first step asks the questions without a band; when the score calls for follow-ups, the
//! answer to the first step is recorded at once and the follow-ups come on a second page, so a
//! customer who leaves after the score still counts. Pages carry `Referrer-Policy:
//! no-referrer` so the token never leaves in a `Referer` header, and only embed pages may be
//! framed by other sites.

use super::render;
use crate::AppState;
use crate::auth::digest;
use crate::surveys::verify_embed;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use rapport_core::ExternalId;
use rapport_core::FieldError;
use rapport_core::survey::{Answer, AnswerKind, Question, Survey};
use rapport_store::{NewResponse, Submitted, TokenState, TokenView};
use std::collections::HashMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/s/{token}", get(show).post(answer))
        .route("/s/{token}/more", post(answer_more))
}

type Fields = Vec<(String, String)>;

fn field_values(fields: &Fields) -> impl Fn(&str) -> Vec<String> + '_ {
    move |name| fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// One option of a rating or choice question, as the template draws it.
struct Opt {
    value: String,
    checked: bool,
}

/// A question as the template draws it.
struct QView {
    id: String,
    prompt: String,
    required: bool,
    /// `rating`, `single`, `multiple` or `text`.
    kind: &'static str,
    options: Vec<Opt>,
    low: String,
    high: String,
    text: String,
    error: Option<String>,
}

fn view(q: &Question, sent: &dyn Fn(&str) -> Vec<String>, errors: &[FieldError]) -> QView {
    let given = sent(&q.id);
    let opts = |values: Vec<String>| -> Vec<Opt> {
        values.into_iter().map(|v| Opt { checked: given.contains(&v), value: v }).collect()
    };
    let (kind, options, low, high) = match &q.answer {
        AnswerKind::Rating { min, max, low, high } => (
            "rating",
            opts((*min..=*max).map(|v| v.to_string()).collect()),
            low.clone().unwrap_or_default(),
            high.clone().unwrap_or_default(),
        ),
        AnswerKind::Single { choices } => {
            ("single", opts(choices.clone()), String::new(), String::new())
        }
        AnswerKind::Multiple { choices } => {
            ("multiple", opts(choices.clone()), String::new(), String::new())
        }
        AnswerKind::Text => ("text", Vec::new(), String::new(), String::new()),
    };
    QView {
        id: q.id.clone(),
        prompt: q.prompt.clone(),
        required: q.required,
        kind,
        options,
        low,
        high,
        text: if kind == "text" { given.join("\n") } else { String::new() },
        error: errors.iter().find(|e| e.field == q.id).map(|e| e.reason.clone()),
    }
}

#[derive(Template)]
#[template(path = "respond.html")]
struct FormPage {
    title: String,
    intro: Option<String>,
    greeting: Option<String>,
    action: String,
    questions: Vec<QView>,
    errors: usize,
    hidden: Vec<(String, String)>,
    submit: &'static str,
}

#[derive(Template)]
#[template(path = "respond_message.html")]
struct MessagePage {
    title: String,
    heading: &'static str,
    message: String,
}

/// Survey pages: never cached (a token's state changes), never leaking the token.
fn page(status: StatusCode, body: Response, frameable: bool) -> Response {
    let mut res = (status, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if frameable {
        // Embed pages go into other sites' iframes; invitation pages never do.
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *",
            ),
        );
    }
    res
}

fn message(status: StatusCode, s: Option<&Survey>, heading: &'static str, text: &str) -> Response {
    let title = s.map_or_else(|| "Survey".to_string(), |s| s.name.clone());
    page(status, render(&MessagePage { title, heading, message: text.to_string() }), false)
}

fn not_found() -> Response {
    message(
        StatusCode::NOT_FOUND,
        None,
        "Survey not found",
        "This link is not valid. Check that it was copied whole, or ask the sender for a new one.",
    )
}

fn thanks(s: &Survey) -> Response {
    message(StatusCode::OK, Some(s), "Thank you", &s.thanks)
}

fn already(s: &Survey) -> Response {
    message(
        StatusCode::CONFLICT,
        Some(s),
        "Already answered",
        "This survey has already been answered with this link. Thank you!",
    )
}

fn expired(s: &Survey) -> Response {
    message(
        StatusCode::GONE,
        Some(s),
        "This survey has closed",
        "The link has expired. Thank you for your interest.",
    )
}

#[allow(clippy::too_many_arguments)]
fn form(
    status: StatusCode,
    s: &Survey,
    greeting: Option<String>,
    action: String,
    questions: Vec<&Question>,
    sent: &dyn Fn(&str) -> Vec<String>,
    errors: &[FieldError],
    hidden: Vec<(String, String)>,
    frameable: bool,
) -> Response {
    let follow_up = questions.iter().any(|q| q.when.is_some());
    let p = FormPage {
        title: s.name.clone(),
        intro: if follow_up { None } else { s.intro.clone() },
        greeting,
        action,
        questions: questions.into_iter().map(|q| view(q, sent, errors)).collect(),
        errors: errors.len(),
        hidden,
        submit: if follow_up { "Send" } else { "Submit" },
    };
    page(status, render(&p), frameable)
}

/// What a token opens (with its digest), or the page to answer with: 404 for an unknown token.
/// The empty follow-up step for a score, posting to `/s/{token}/more`.
fn follow_up_form(s: &Survey, token: &str, score: Option<i16>) -> Response {
    let more: Vec<&Question> = s.follow_ups(score).collect();
    let action = format!("/s/{token}/more");
    form(StatusCode::OK, s, None, action, more, &|_| Vec::new(), &[], Vec::new(), false)
}

async fn open(s: &AppState, token: &str) -> Result<(String, TokenView), Response> {
    let d = digest(token);
    match s.db.open_token(&d, Utc::now()).await {
        Ok(Some(v)) => Ok((d, v)),
        Ok(None) => Err(not_found()),
        Err(e) => Err(super::page_error(e.into())),
    }
}

/// `GET /s/{token}`: the form, the follow-up, or where the token stands. `?score=N` preselects
/// a score (links in e-mails can carry one per number); embed pages take `customer` and
/// `signature` to pass on.
async fn show(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (_, v) = match open(&s, &token).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let sent = |name: &str| -> Vec<String> {
        let key = if name == "score" || v.survey.score_question().is_some_and(|q| q.id == name) {
            "score"
        } else {
            ""
        };
        q.get(key).cloned().into_iter().collect()
    };
    match v.state {
        TokenState::Open { customer_name, .. } => {
            let greeting = customer_name.map(|n| format!("Hello {n},"));
            let first: Vec<&Question> = v.survey.first_step().collect();
            form(
                StatusCode::OK,
                &v.survey,
                greeting,
                format!("/s/{token}"),
                first,
                &sent,
                &[],
                Vec::new(),
                false,
            )
        }
        TokenState::Embed => {
            let hidden = ["customer", "signature"]
                .iter()
                .filter_map(|k| q.get(*k).map(|v| (k.to_string(), v.clone())))
                .collect();
            let first: Vec<&Question> = v.survey.first_step().collect();
            form(
                StatusCode::OK,
                &v.survey,
                None,
                format!("/s/{token}"),
                first,
                &sent,
                &[],
                hidden,
                true,
            )
        }
        TokenState::Answered { score, follow_up_open: true, .. } => {
            follow_up_form(&v.survey, &token, score)
        }
        TokenState::Answered { .. } => already(&v.survey),
        TokenState::Expired => expired(&v.survey),
    }
}

/// `POST /s/{token}`: the first step's answers.
async fn answer(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let (d, v) = match open(&s, &token).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let embed = v.state == TokenState::Embed;
    match &v.state {
        TokenState::Answered { .. } => return already(&v.survey),
        TokenState::Expired => return expired(&v.survey),
        _ => {}
    }
    let sent = field_values(&fields);
    let customer = match embed_customer(&s, &v, &fields).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let answers = match v.survey.read_answers(v.survey.first_step(), &sent) {
        Ok(a) => a,
        Err(errors) => {
            let hidden = if embed {
                ["customer", "signature"]
                    .iter()
                    .filter_map(|k| sent(k).pop().map(|v| (k.to_string(), v)))
                    .collect()
            } else {
                Vec::new()
            };
            let first: Vec<&Question> = v.survey.first_step().collect();
            return form(
                StatusCode::UNPROCESSABLE_ENTITY,
                &v.survey,
                None,
                format!("/s/{token}"),
                first,
                &sent,
                &errors,
                hidden,
                embed,
            );
        }
    };
    let score = rapport_core::survey::score_of(&v.survey, &answers);
    // Embed responses have no token of their own to come back with: one step only.
    let follow_up_open = !embed && v.survey.follow_ups(score).next().is_some();
    let r = NewResponse { token_digest: d, customer, answers, at: Utc::now(), follow_up_open };
    match s.db.submit_response(r).await {
        Ok(Submitted::Recorded { .. }) if follow_up_open => {
            follow_up_form(&v.survey, &token, score)
        }
        Ok(Submitted::Recorded { .. }) => {
            let mut res = thanks(&v.survey);
            if embed {
                res = page(StatusCode::OK, res, true);
            }
            res
        }
        Ok(Submitted::AlreadyAnswered) => already(&v.survey),
        Ok(Submitted::Expired) => expired(&v.survey),
        Ok(Submitted::UnknownToken) => not_found(),
        Err(e) => super::page_error(e.into()),
    }
}

/// The customer an embedding site vouches for: none without `customer`; refused when the
/// signature does not match.
async fn embed_customer(
    s: &AppState,
    v: &TokenView,
    fields: &Fields,
) -> Result<Option<ExternalId>, Response> {
    let sent = field_values(fields);
    if v.state != TokenState::Embed {
        return Ok(None);
    }
    let Some(customer) = sent("customer").pop().filter(|c| !c.trim().is_empty()) else {
        return Ok(None);
    };
    let info = s.db.survey(&v.survey.id).await.map_err(|e| super::page_error(e.into()))?;
    let signature = sent("signature").pop().unwrap_or_default();
    match ExternalId::parse(&customer) {
        Ok(id) if verify_embed(&info.embed_secret, id.as_str(), &signature) => Ok(Some(id)),
        _ => Err(message(
            StatusCode::FORBIDDEN,
            Some(&v.survey),
            "This form could not be accepted",
            "The page that showed this survey did not sign it correctly. Please tell its owner.",
        )),
    }
}

/// `POST /s/{token}/more`: the follow-up answers, once.
async fn answer_more(
    State(s): State<AppState>,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let (d, v) = match open(&s, &token).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let TokenState::Answered { score, follow_up_open: true, .. } = v.state else {
        return match v.state {
            TokenState::Expired => expired(&v.survey),
            TokenState::Answered { .. } => already(&v.survey),
            _ => not_found(),
        };
    };
    let sent = field_values(&fields);
    let answers: Vec<Answer> = match v.survey.read_answers(v.survey.follow_ups(score), &sent) {
        Ok(a) => a,
        Err(errors) => {
            let more: Vec<&Question> = v.survey.follow_ups(score).collect();
            return form(
                StatusCode::UNPROCESSABLE_ENTITY,
                &v.survey,
                None,
                format!("/s/{token}/more"),
                more,
                &sent,
                &errors,
                Vec::new(),
                false,
            );
        }
    };
    match s.db.submit_follow_up(&d, answers).await {
        Ok(Submitted::Recorded { .. }) => thanks(&v.survey),
        Ok(Submitted::AlreadyAnswered) => already(&v.survey),
        Ok(_) => not_found(),
        Err(e) => super::page_error(e.into()),
    }
}

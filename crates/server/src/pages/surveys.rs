//! Surveys in the UI: the list with a form for a new survey, and each survey's page with its
//! results, the send form and the snippet for websites.

use super::charts::{self, Bar, TrendPoint};
use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use crate::api::surveys::{SendIn, audience, base_url};
use crate::error::ApiError;
use crate::surveys::{self, Sent};
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::survey::{QuestionSpec, SurveyKind, SurveySpec};
use rapport_reports::survey::{QuestionResult, Results};
use rapport_store::SurveyInfo;
use serde::Deserialize;

struct Row {
    href: String,
    name: String,
    kind: &'static str,
    invited: i64,
    responses: i64,
    rate: String,
    last: String,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    can_write: bool,
    error: Option<String>,
    form: NewSurvey,
}

fn row(i: &SurveyInfo) -> Row {
    let linked = i.invited.max(1) as f64;
    Row {
        href: format!("/surveys/{}", super::urlencode(i.survey.id.as_str())),
        name: i.survey.name.clone(),
        kind: i.survey.kind.as_str(),
        invited: i.invited,
        responses: i.responses,
        rate: if i.invited > 0 {
            format!("{:.0}%", 100.0 * (i.responses.min(i.invited)) as f64 / linked)
        } else {
            "–".into()
        },
        last: i.last_response_at.map_or("–".into(), |t| t.format("%Y-%m-%d").to_string()),
    }
}

async fn list_page(
    s: &AppState,
    viewer: &Viewer,
    form: NewSurvey,
    error: Option<String>,
) -> Response {
    match s.db.surveys().await {
        Ok(all) => {
            let status =
                if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            let page = ListPage {
                layout: viewer.layout("Surveys"),
                rows: all.iter().map(row).collect(),
                can_write: viewer.0.allows(Permission::Write),
                error,
                form,
            };
            (status, render(&page)).into_response()
        }
        Err(e) => page_error(e.into()),
    }
}

pub async fn list(State(s): State<AppState>, viewer: Viewer) -> Response {
    list_page(&s, &viewer, NewSurvey::default(), None).await
}

/// The new-survey form: the common case in fields, anything else as a TOML definition.
#[derive(Debug, Default, Deserialize)]
pub struct NewSurvey {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    low_follow_up: String,
    #[serde(default)]
    high_follow_up: String,
    #[serde(default)]
    definition: String,
}

/// The scores a "low" and a "high" follow-up are asked for, per kind.
fn bands(kind: SurveyKind) -> (&'static str, &'static str) {
    match kind {
        SurveyKind::Nps => ("0-6", "7-10"),
        SurveyKind::Csat => ("1-3", "4-5"),
        _ => ("1-4", "5-7"),
    }
}

fn spec_of(f: &NewSurvey) -> Result<SurveySpec, ApiError> {
    if !f.definition.trim().is_empty() {
        return surveys::parse_spec(&f.definition);
    }
    let kind = SurveyKind::parse(&f.kind).map_err(|r| ApiError::invalid("kind", r))?;
    if kind == SurveyKind::Custom {
        return Err(ApiError::invalid(
            "definition",
            "write a custom survey's questions as a TOML definition",
        ));
    }
    let (low, high) = bands(kind);
    let follow = |id: &str, prompt: &str, band: &str| {
        (!prompt.trim().is_empty()).then(|| QuestionSpec {
            id: id.into(),
            prompt: prompt.trim().into(),
            kind: "text".into(),
            when: Some(band.into()),
            ..Default::default()
        })
    };
    Ok(SurveySpec {
        id: f.id.clone(),
        name: f.name.clone(),
        kind: f.kind.clone(),
        question: Some(f.question.trim().to_string()).filter(|q| !q.is_empty()),
        questions: [
            follow("why_low", &f.low_follow_up, low),
            follow("why_high", &f.high_follow_up, high),
        ]
        .into_iter()
        .flatten()
        .collect(),
        ..Default::default()
    })
}

pub async fn create(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<NewSurvey>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let created = match spec_of(&f) {
        Ok(spec) => surveys::create(s.db.as_ref(), spec).await,
        Err(e) => Err(e),
    };
    match created {
        Ok((survey, _)) => {
            tracing::info!(by = %viewer.0.label(), survey = %survey.id, "survey saved");
            Redirect::to(&format!("/surveys/{}", super::urlencode(survey.id.as_str())))
                .into_response()
        }
        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(_))) => {
            list_page(&s, &viewer, f, Some(e.to_string())).await
        }
        Err(e) => page_error(e),
    }
}

struct Figure {
    label: &'static str,
    value: String,
    note: String,
}

struct QuestionView {
    prompt: String,
    answered: u64,
    chart: Option<String>,
    comments: Vec<CommentView>,
}

struct CommentView {
    at: String,
    who: String,
    href: Option<String>,
    score: String,
    text: String,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    layout: Layout,
    id: String,
    name: String,
    kind: &'static str,
    figures: Vec<Figure>,
    trend: Option<String>,
    questions: Vec<QuestionView>,
    can_write: bool,
    embed_url: String,
    embed_secret: String,
    sent: Option<SentView>,
    error: Option<String>,
    segments: Vec<&'static str>,
}

struct SentView {
    invited: usize,
    without_consent: i64,
    already_invited: i64,
    expires: String,
    csv: String,
}

fn figures(r: &Results) -> Vec<Figure> {
    let mut out = Vec::new();
    if let Some(e) = &r.score {
        let label = match r.kind {
            SurveyKind::Nps => "NPS",
            SurveyKind::Csat => "CSAT",
            _ => "CES",
        };
        let fmt =
            |v: f64| if r.kind == SurveyKind::Ces { format!("{v:.2}") } else { format!("{v:.0}") };
        out.push(Figure {
            label,
            value: fmt(e.score),
            note: format!("95% CI {} to {}", fmt(e.low), fmt(e.high)),
        });
    }
    out.push(Figure { label: "Responses", value: r.responses.to_string(), note: String::new() });
    out.push(Figure { label: "Invited", value: r.invited.to_string(), note: String::new() });
    if let Some(rate) = r.response_rate {
        out.push(Figure {
            label: "Response rate",
            value: format!("{:.0}%", rate * 100.0),
            note: "of invitations".into(),
        });
    }
    out
}

fn trend_chart(r: &Results) -> Option<String> {
    if r.trend.len() < 2 {
        return None;
    }
    let range = match r.kind {
        SurveyKind::Nps => (-100.0, 100.0),
        SurveyKind::Csat => (0.0, 100.0),
        _ => (1.0, 7.0),
    };
    let points: Vec<TrendPoint> = r
        .trend
        .iter()
        .map(|p| TrendPoint {
            label: p.start.format("%m-%d").to_string(),
            value: p.estimate.as_ref().map(|e| (e.score, e.low, e.high)),
            note: p
                .estimate
                .as_ref()
                .map_or(String::new(), |e| format!("{} responses", e.responses)),
        })
        .collect();
    Some(charts::trend("survey-trend", "Score over time", "score", range, &points))
}

fn question_view(q: &QuestionResult) -> QuestionView {
    let total: u64 = q.counts.iter().map(|(_, n)| n).sum();
    let bars: Vec<Bar> = q
        .counts
        .iter()
        .map(|(label, n)| Bar {
            label: label.clone(),
            value: *n as f64,
            text: format!("{n} ({:.0}%)", 100.0 * *n as f64 / total.max(1) as f64),
        })
        .collect();
    let id = format!("q-{}", q.id);
    QuestionView {
        prompt: q.prompt.clone(),
        answered: q.answered,
        chart: match q.kind {
            _ if bars.is_empty() => None,
            "rating" => Some(charts::columns(
                &id,
                &q.prompt,
                "How many gave each score",
                "score",
                "responses",
                &bars,
            )),
            _ => Some(charts::bars(&id, &q.prompt, "How many chose each answer", &bars)),
        },
        comments: q
            .comments
            .iter()
            .map(|c| CommentView {
                at: c.at.format("%Y-%m-%d").to_string(),
                who: c
                    .customer_name
                    .clone()
                    .or_else(|| c.customer.as_ref().map(|i| i.to_string()))
                    .unwrap_or_else(|| "anonymous".into()),
                href: c
                    .customer
                    .as_ref()
                    .map(|i| format!("/customers/{}", super::urlencode(i.as_str()))),
                score: c.score.map_or(String::new(), |s| s.to_string()),
                text: c.text.clone(),
            })
            .collect(),
    }
}

async fn survey_page(
    s: &AppState,
    viewer: &Viewer,
    headers: &HeaderMap,
    id: &str,
    sent: Option<Sent>,
    error: Option<String>,
) -> Response {
    let id = match ExternalId::parse(id) {
        Ok(id) => id,
        Err(r) => return page_error(ApiError::parameter("id", r)),
    };
    let (info, results) =
        match tokio::try_join!(async { s.db.survey(&id).await.map_err(ApiError::from) }, async {
            rapport_reports::survey::results(s.db.as_ref(), &id).await.map_err(ApiError::from)
        }) {
            Ok(v) => v,
            Err(e) => return page_error(e),
        };
    let can_write = viewer.0.allows(Permission::Write);
    let sent = sent.map(|r| SentView {
        invited: r.invited.len(),
        without_consent: r.without_consent,
        already_invited: r.already_invited,
        expires: r.expires_at.format("%Y-%m-%d").to_string(),
        csv: std::iter::once("customer,name,email,link".to_string())
            .chain(r.invited.iter().map(|i| {
                let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
                format!(
                    "{},{},{},{}",
                    q(i.customer.as_str()),
                    q(i.name.as_deref().unwrap_or("")),
                    q(i.email.as_deref().unwrap_or("")),
                    i.link
                )
            }))
            .collect::<Vec<_>>()
            .join("\n"),
    });
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let page = SurveyPage {
        layout: viewer.layout("Surveys"),
        id: info.survey.id.to_string(),
        name: info.survey.name.clone(),
        kind: info.survey.kind.as_str(),
        figures: figures(&results),
        trend: trend_chart(&results),
        questions: results.questions.iter().map(question_view).collect(),
        can_write,
        embed_url: format!("{}/s/{}", base_url(headers), info.embed_token),
        // The signing secret lets a site answer as any customer: members only.
        embed_secret: if can_write { info.embed_secret.clone() } else { String::new() },
        sent,
        error,
        segments: rapport_analytics::rfm::Segment::ALL.iter().map(|s| s.as_str()).collect(),
    };
    (status, render(&page)).into_response()
}

pub async fn show(
    State(s): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    survey_page(&s, &viewer, &headers, &id, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct SendForm {
    csrf: String,
    /// `all`, `country`, `segment`, `where` or `customers`.
    audience: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    customers: String,
    #[serde(default)]
    segment: String,
    /// A segment filter (docs/filter-language.md).
    #[serde(default, rename = "where")]
    matching: String,
}

pub async fn send(
    State(s): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<SendForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Write)) {
        return page_error(e);
    }
    let body = SendIn {
        all: f.audience == "all",
        country: (f.audience == "country").then(|| f.country.clone()),
        segment: (f.audience == "segment").then(|| f.segment.clone()),
        matching: (f.audience == "where").then(|| f.matching.clone()),
        customers: if f.audience == "customers" {
            f.customers
                .split([',', '\n', ' '])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect()
        } else {
            Vec::new()
        },
    };
    let result = match (audience(body), ExternalId::parse(&id)) {
        (Ok(filter), Ok(sid)) => {
            surveys::send(s.db.as_ref(), &sid, &filter, &base_url(&headers)).await
        }
        (Err(e), _) => Err(e),
        (_, Err(r)) => Err(ApiError::parameter("id", r)),
    };
    match result {
        Ok(sent) => {
            tracing::info!(by = %viewer.0.label(), survey = %id, invited = sent.invited.len(), "survey sent");
            survey_page(&s, &viewer, &headers, &id, Some(sent), None).await
        }
        Err(e @ ApiError::Invalid { .. }) => {
            survey_page(&s, &viewer, &headers, &id, None, Some(e.to_string())).await
        }
        Err(e) => page_error(e),
    }
}

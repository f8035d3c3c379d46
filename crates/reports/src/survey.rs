//! A survey's results: its score with a 95% interval and trend (NPS, CSAT, CES), the
//! distribution of every rating and choice question, and the comments, newest first.

use crate::ReportResult;
use rapport_analytics::satisfaction::{self, Estimate, Period, PeriodEstimate, Scale};
use rapport_core::survey::{AnswerKind, AnswerValue, SurveyKind};
use rapport_core::{ExternalId, Timestamp};
use rapport_store::{ResponseRow, SurveyStore};
use serde::Serialize;

/// How many comments the results carry per text question.
pub const COMMENTS: usize = 50;

#[derive(Debug, Clone, Serialize)]
pub struct Results {
    pub id: ExternalId,
    pub name: String,
    pub kind: SurveyKind,
    pub invited: i64,
    pub responses: u64,
    /// Responses through invitations over invitations sent (embed responses are not invited).
    pub response_rate: Option<f64>,
    /// The survey's score (NPS, CSAT or CES), `None` for custom surveys or without responses.
    pub score: Option<Estimate>,
    pub period: Period,
    pub trend: Vec<PeriodEstimate>,
    pub questions: Vec<QuestionResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuestionResult {
    pub id: String,
    pub prompt: String,
    /// `rating`, `single`, `multiple` or `text`.
    pub kind: &'static str,
    pub answered: u64,
    /// Per score or choice, in the scale's or the survey's order (empty for text).
    pub counts: Vec<(String, u64)>,
    /// Text answers, newest first, at most [`COMMENTS`].
    pub comments: Vec<Comment>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub at: Timestamp,
    pub customer: Option<ExternalId>,
    pub customer_name: Option<String>,
    pub score: Option<i16>,
    pub text: String,
}

fn scale(kind: SurveyKind) -> Option<Scale> {
    match kind {
        SurveyKind::Nps => Some(Scale::Nps),
        SurveyKind::Csat => Some(Scale::Csat),
        SurveyKind::Ces => Some(Scale::Ces),
        SurveyKind::Custom => None,
    }
}

pub async fn results(store: &dyn SurveyStore, id: &ExternalId) -> ReportResult<Results> {
    let info = store.survey(id).await?;
    let responses = store.survey_responses(id).await?;
    Ok(summarise(info.survey, info.invited, &responses))
}

/// The results of `responses` (oldest first, as the store gives them).
pub fn summarise(
    survey: rapport_core::survey::Survey,
    invited: i64,
    responses: &[ResponseRow],
) -> Results {
    let scores: Vec<(Timestamp, i16)> =
        responses.iter().filter_map(|r| r.score.map(|s| (r.at, s))).collect();
    // Weekly points while the responses span a few months, monthly after.
    let span = match (scores.first(), scores.last()) {
        (Some(a), Some(b)) => (b.0 - a.0).num_days(),
        _ => 0,
    };
    let period = if span <= 120 { Period::Week } else { Period::Month };
    let scale = scale(survey.kind);
    let linked = responses.iter().filter(|r| r.via == "link").count();
    Results {
        response_rate: (invited > 0).then(|| linked as f64 / invited as f64),
        score: scale.and_then(|s| satisfaction::estimate(s, scores.iter().map(|(_, v)| *v))),
        trend: scale.map(|s| satisfaction::trend(s, &scores, period)).unwrap_or_default(),
        period,
        questions: survey.questions.iter().map(|q| question(q, responses)).collect(),
        id: survey.id,
        name: survey.name,
        kind: survey.kind,
        invited,
        responses: responses.len() as u64,
    }
}

fn question(q: &rapport_core::survey::Question, responses: &[ResponseRow]) -> QuestionResult {
    let answers = responses
        .iter()
        .filter_map(|r| r.answers.iter().find(|a| a.question == q.id).map(|a| (r, &a.value)));
    let mut out = QuestionResult {
        id: q.id.clone(),
        prompt: q.prompt.clone(),
        kind: "text",
        answered: 0,
        counts: Vec::new(),
        comments: Vec::new(),
    };
    let labels: Vec<String> = match &q.answer {
        AnswerKind::Rating { min, max, .. } => (*min..=*max).map(|v| v.to_string()).collect(),
        AnswerKind::Single { choices } | AnswerKind::Multiple { choices } => choices.clone(),
        AnswerKind::Text => Vec::new(),
    };
    out.kind = match &q.answer {
        AnswerKind::Rating { .. } => "rating",
        AnswerKind::Single { .. } => "single",
        AnswerKind::Multiple { .. } => "multiple",
        AnswerKind::Text => "text",
    };
    let mut counts = vec![0u64; labels.len()];
    let mut count = |label: &str| {
        if let Some(i) = labels.iter().position(|l| l == label) {
            counts[i] += 1;
        }
    };
    for (r, value) in answers {
        out.answered += 1;
        match value {
            AnswerValue::Score(s) => count(&s.to_string()),
            AnswerValue::Choices(cs) => cs.iter().for_each(|c| count(c)),
            AnswerValue::Text(t) if out.kind == "text" => out.comments.push(Comment {
                at: r.at,
                customer: r.customer.clone(),
                customer_name: r.customer_name.clone(),
                score: r.score,
                text: t.clone(),
            }),
            AnswerValue::Text(t) => count(t),
        }
    }
    out.comments.reverse();
    out.comments.truncate(COMMENTS);
    out.counts = labels.into_iter().zip(counts).collect();
    out
}

//! Surveys: their definition, valid by construction, and the answers a respondent gives.
//!
//! A survey arrives as a [`SurveySpec`] (TOML or JSON written by a person, or an API body) and
//! becomes a [`Survey`] once, through [`Survey::parse`], which says what is wrong by field. NPS,
//! CSAT and CES surveys carry their score question built in, on its standard scale, so that
//! their answers feed the satisfaction reports unchanged; custom surveys may score on any
//! rating question they like (the first one). Follow-up questions name a band of scores
//! (`when = "0-6"`) and are asked on a second step, after the score is known, so the hosted page
//! needs no JavaScript.

use crate::error::FieldError;
use crate::value::ExternalId;
use serde::{Deserialize, Serialize};

/// The kind of a survey, which fixes the scale of its score and the report it feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurveyKind {
    Nps,
    Csat,
    Ces,
    Custom,
}

impl SurveyKind {
    pub fn parse(s: &str) -> Result<SurveyKind, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nps" => Ok(SurveyKind::Nps),
            "csat" => Ok(SurveyKind::Csat),
            "ces" => Ok(SurveyKind::Ces),
            "custom" => Ok(SurveyKind::Custom),
            _ => Err(format!("'{}' is not one of: nps, csat, ces, custom", s.trim())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SurveyKind::Nps => "nps",
            SurveyKind::Csat => "csat",
            SurveyKind::Ces => "ces",
            SurveyKind::Custom => "custom",
        }
    }

    /// The standard score question of a kind: scale, wording and the labels of its ends.
    fn score_question(self, prompt: Option<String>) -> Option<Question> {
        let (min, max, text, low, high) = match self {
            SurveyKind::Nps => (
                0,
                10,
                "How likely are you to recommend us to a friend or colleague?",
                "Not at all likely",
                "Extremely likely",
            ),
            SurveyKind::Csat => {
                (1, 5, "How satisfied are you with us?", "Very dissatisfied", "Very satisfied")
            }
            SurveyKind::Ces => {
                (1, 7, "How easy was it to get what you needed?", "Very difficult", "Very easy")
            }
            SurveyKind::Custom => return None,
        };
        Some(Question {
            id: "score".into(),
            prompt: prompt.unwrap_or_else(|| text.into()),
            answer: AnswerKind::Rating { min, max, low: Some(low.into()), high: Some(high.into()) },
            required: true,
            when: None,
        })
    }
}

/// What a question accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum AnswerKind {
    /// A whole number from `min` to `max`, with optional labels for the two ends.
    Rating { min: i16, max: i16, low: Option<String>, high: Option<String> },
    /// One of the choices.
    Single { choices: Vec<String> },
    /// Any number of the choices.
    Multiple { choices: Vec<String> },
    /// Free text, up to [`MAX_TEXT`] characters.
    Text,
}

/// A band of scores, inclusive at both ends: the scores a follow-up question is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Band {
    pub min: i16,
    pub max: i16,
}

impl Band {
    /// Parses `"0-6"` or `"9"`.
    pub fn parse(s: &str) -> Result<Band, String> {
        let num = |t: &str| {
            t.trim()
                .parse::<i16>()
                .map_err(|_| format!("'{s}' is not a band of scores such as \"0-6\""))
        };
        let (min, max) = match s.split_once('-') {
            Some((a, b)) => (num(a)?, num(b)?),
            None => (num(s)?, num(s)?),
        };
        if min > max {
            return Err(format!("'{s}' starts above where it ends"));
        }
        Ok(Band { min, max })
    }

    pub fn contains(self, score: i16) -> bool {
        (self.min..=self.max).contains(&score)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Unique within the survey: letters, digits, `_`; names the form field and the answer.
    pub id: String,
    pub prompt: String,
    #[serde(flatten)]
    pub answer: AnswerKind,
    pub required: bool,
    /// Asked only when the score falls in this band, on the follow-up step.
    pub when: Option<Band>,
}

/// The longest free-text answer accepted, in characters.
pub const MAX_TEXT: usize = 5_000;

/// A survey as a person writes it; [`Survey::parse`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurveySpec {
    pub id: String,
    pub name: String,
    pub kind: String,
    /// The wording of the built-in score question of NPS/CSAT/CES surveys.
    pub question: Option<String>,
    pub intro: Option<String>,
    pub thanks: Option<String>,
    /// How long an invitation stays open; 30 days when absent.
    pub expires_after_days: Option<u32>,
    #[serde(default)]
    pub questions: Vec<QuestionSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionSpec {
    pub id: String,
    pub prompt: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub choices: Vec<String>,
    pub min: Option<i16>,
    pub max: Option<i16>,
    pub low: Option<String>,
    pub high: Option<String>,
    /// Required unless said otherwise; follow-ups are optional unless said otherwise.
    pub required: Option<bool>,
    pub when: Option<String>,
}

/// A checked survey definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Survey {
    pub id: ExternalId,
    pub name: String,
    pub kind: SurveyKind,
    pub intro: Option<String>,
    pub thanks: String,
    pub expires_after_days: u32,
    /// The score question first (for NPS/CSAT/CES), then the others in the order written.
    pub questions: Vec<Question>,
}

impl Survey {
    /// Checks a spec; every problem names its field (`questions[2].choices`).
    pub fn parse(spec: SurveySpec) -> Result<Survey, FieldError> {
        let id = ExternalId::parse(&spec.id).map_err(|r| FieldError::new("id", r))?;
        let name = required_text(&spec.name, "name", 200)?;
        let kind = SurveyKind::parse(&spec.kind).map_err(|r| FieldError::new("kind", r))?;
        if kind == SurveyKind::Custom && spec.question.is_some() {
            return Err(FieldError::new(
                "question",
                "only NPS, CSAT and CES surveys have a built-in question; write it under [[questions]]",
            ));
        }
        let expires_after_days = spec.expires_after_days.unwrap_or(30);
        if !(1..=365).contains(&expires_after_days) {
            return Err(FieldError::new("expires_after_days", "must be from 1 to 365"));
        }
        let mut questions: Vec<Question> = kind.score_question(spec.question).into_iter().collect();
        for (i, q) in spec.questions.into_iter().enumerate() {
            let q = parse_question(q)
                .map_err(|e| FieldError::new(format!("questions[{i}].{}", e.field), e.reason))?;
            if questions.iter().any(|o| o.id == q.id) {
                return Err(FieldError::new(
                    format!("questions[{i}].id"),
                    format!("'{}' is used twice", q.id),
                ));
            }
            questions.push(q);
        }
        let survey = Survey {
            id,
            name,
            kind,
            intro: spec.intro.filter(|s| !s.trim().is_empty()),
            thanks: spec
                .thanks
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "Thank you for your answer.".into()),
            expires_after_days,
            questions,
        };
        survey.check_steps()?;
        Ok(survey)
    }

    /// The question whose answer is the response's score: the first rating question.
    pub fn score_question(&self) -> Option<&Question> {
        self.questions
            .iter()
            .find(|q| q.when.is_none() && matches!(q.answer, AnswerKind::Rating { .. }))
    }

    /// The questions of the first step (those without a band).
    pub fn first_step(&self) -> impl Iterator<Item = &Question> {
        self.questions.iter().filter(|q| q.when.is_none())
    }

    /// The follow-up questions for a score.
    pub fn follow_ups(&self, score: Option<i16>) -> impl Iterator<Item = &Question> {
        self.questions
            .iter()
            .filter(move |q| matches!((q.when, score), (Some(b), Some(s)) if b.contains(s)))
    }

    /// The feedback source a response becomes: the report's name for NPS/CSAT/CES, else
    /// `survey`.
    pub fn feedback_source(&self) -> &'static str {
        match self.kind {
            SurveyKind::Custom => "survey",
            k => k.as_str(),
        }
    }

    /// Follow-ups need a score to be asked after; and there must be something to answer.
    fn check_steps(&self) -> Result<(), FieldError> {
        if self.first_step().next().is_none() {
            return Err(FieldError::new(
                "questions",
                "a survey needs at least one question asked without `when`",
            ));
        }
        let scored = self.score_question();
        // Field names count the written questions, not the built-in score question.
        let builtin = usize::from(self.kind != SurveyKind::Custom);
        for (i, q) in self.questions.iter().enumerate().skip(builtin).map(|(i, q)| (i - builtin, q))
        {
            let Some(band) = q.when else { continue };
            let Some(AnswerKind::Rating { min, max, .. }) = scored.map(|s| &s.answer) else {
                return Err(FieldError::new(
                    format!("questions[{i}].when"),
                    "a follow-up needs a rating question to follow",
                ));
            };
            if band.max < *min || band.min > *max {
                return Err(FieldError::new(
                    format!("questions[{i}].when"),
                    format!("{}-{} lies outside the score's scale {min}-{max}", band.min, band.max),
                ));
            }
        }
        Ok(())
    }

    /// Reads one step's answers from a form (`field(name)` gives every value sent under
    /// `name`; fields are the question ids). Every problem is reported, by question id.
    pub fn read_answers<'a>(
        &self,
        questions: impl Iterator<Item = &'a Question>,
        field: &dyn Fn(&str) -> Vec<String>,
    ) -> Result<Vec<Answer>, Vec<FieldError>> {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        for q in questions {
            match read_answer(q, &field(&q.id)) {
                Ok(Some(value)) => out.push(Answer { question: q.id.clone(), value }),
                Ok(None) if q.required => {
                    errors.push(FieldError::new(&q.id, "please answer this question"))
                }
                Ok(None) => {}
                Err(reason) => errors.push(FieldError::new(&q.id, reason)),
            }
        }
        if errors.is_empty() { Ok(out) } else { Err(errors) }
    }
}

fn required_text(s: &str, field: &str, max: usize) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(FieldError::missing(field));
    }
    if t.chars().count() > max {
        return Err(FieldError::new(field, format!("is longer than {max} characters")));
    }
    Ok(t.to_string())
}

fn parse_question(q: QuestionSpec) -> Result<Question, FieldError> {
    let id = q.id.trim().to_string();
    let id_ok = !id.is_empty()
        && id.len() <= 40
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !id_ok || id == "score" && q.kind != "rating" {
        return Err(FieldError::new(
            "id",
            format!("'{id}' is not a question id (letters, digits, _; `score` names a rating)"),
        ));
    }
    let prompt = required_text(&q.prompt, "prompt", 500)?;
    let when =
        q.when.as_deref().map(Band::parse).transpose().map_err(|r| FieldError::new("when", r))?;
    let choices = |multiple: bool| -> Result<AnswerKind, FieldError> {
        let choices: Vec<String> =
            q.choices.iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
        if choices.len() < 2 {
            return Err(FieldError::new("choices", "needs at least two choices"));
        }
        if let Some(d) = choices.iter().enumerate().find(|(i, c)| choices[..*i].contains(c)) {
            return Err(FieldError::new("choices", format!("'{}' is listed twice", d.1)));
        }
        Ok(if multiple { AnswerKind::Multiple { choices } } else { AnswerKind::Single { choices } })
    };
    let answer = match q.kind.trim().to_ascii_lowercase().as_str() {
        "rating" => {
            let (min, max) = (q.min.unwrap_or(1), q.max.unwrap_or(5));
            if !(0..=10).contains(&min) || !(0..=10).contains(&max) || min >= max {
                return Err(FieldError::new(
                    "max",
                    format!(
                        "a rating runs from min to max within 0-10, min below max (got {min}-{max})"
                    ),
                ));
            }
            AnswerKind::Rating { min, max, low: q.low, high: q.high }
        }
        "single" => choices(false)?,
        "multiple" => choices(true)?,
        "text" => AnswerKind::Text,
        other => {
            return Err(FieldError::new(
                "type",
                format!("'{other}' is not one of: rating, single, multiple, text"),
            ));
        }
    };
    let required = q.required.unwrap_or(when.is_none() && answer != AnswerKind::Text);
    Ok(Question { id, prompt, answer, required, when })
}

/// One answer to one question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub question: String,
    pub value: AnswerValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AnswerValue {
    Score(i16),
    Text(String),
    Choices(Vec<String>),
}

fn read_answer(q: &Question, values: &[String]) -> Result<Option<AnswerValue>, String> {
    // NUL never means anything in an answer, and PostgreSQL text cannot hold it.
    let cleaned: Vec<String> = values.iter().map(|v| v.replace('\0', "")).collect();
    let given: Vec<&str> = cleaned.iter().map(|v| v.trim()).filter(|v| !v.is_empty()).collect();
    if given.is_empty() {
        return Ok(None);
    }
    match &q.answer {
        AnswerKind::Rating { min, max, .. } => match given[0].parse::<i16>() {
            Ok(v) if (*min..=*max).contains(&v) && given.len() == 1 => {
                Ok(Some(AnswerValue::Score(v)))
            }
            _ => Err(format!("choose a whole number from {min} to {max}")),
        },
        AnswerKind::Single { choices }
            if given.len() == 1 && choices.iter().any(|c| c == given[0]) =>
        {
            Ok(Some(AnswerValue::Text(given[0].to_string())))
        }
        AnswerKind::Single { .. } => Err("choose one of the choices".into()),
        AnswerKind::Multiple { choices } => {
            if let Some(bad) = given.iter().find(|g| !choices.iter().any(|c| c == *g)) {
                return Err(format!("'{bad}' is not one of the choices"));
            }
            // Kept in the survey's order, each once, whatever order the form sent.
            let picked = choices.iter().filter(|c| given.contains(&c.as_str())).cloned().collect();
            Ok(Some(AnswerValue::Choices(picked)))
        }
        AnswerKind::Text => {
            let text = given.join("\n");
            if text.chars().count() > MAX_TEXT {
                return Err(format!("is longer than {MAX_TEXT} characters"));
            }
            Ok(Some(AnswerValue::Text(text)))
        }
    }
}

/// The score among answers (the answer to the survey's score question).
pub fn score_of(survey: &Survey, answers: &[Answer]) -> Option<i16> {
    let q = survey.score_question()?;
    answers.iter().find_map(|a| match (&a.value, a.question == q.id) {
        (AnswerValue::Score(s), true) => Some(*s),
        _ => None,
    })
}

/// The free text of a response, as its feedback item's text: the text answers, each on its
/// own line; a response without text but with choices says what was chosen instead, so
/// that the feedback item is not empty.
pub fn feedback_text(survey: &Survey, answers: &[Answer]) -> Option<String> {
    let is_text = |a: &&Answer| {
        survey.questions.iter().any(|q| q.id == a.question && q.answer == AnswerKind::Text)
    };
    let texts: Vec<&str> = answers
        .iter()
        .filter(is_text)
        .filter_map(|a| match &a.value {
            AnswerValue::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    if !texts.is_empty() {
        return Some(texts.join("\n"));
    }
    let chosen: Vec<String> = answers
        .iter()
        .filter_map(|a| {
            let q = survey.questions.iter().find(|q| q.id == a.question)?;
            match &a.value {
                AnswerValue::Text(t) => Some(format!("{}: {t}", q.prompt)),
                AnswerValue::Choices(c) => Some(format!("{}: {}", q.prompt, c.join(", "))),
                AnswerValue::Score(_) => None,
            }
        })
        .collect();
    (!chosen.is_empty()).then(|| chosen.join("\n"))
}

#[cfg(test)]
#[path = "survey_tests.rs"]
mod tests;

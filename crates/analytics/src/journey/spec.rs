//! What a journey is made of: stages and their conditions, as stored (JSON) and as written on
//! the command line (`Name=event:site_visit | purchase>=2`).

use serde::{Deserialize, Serialize};

/// Most stages a journey may have: a map wider than this is no longer readable.
pub const MAX_STAGES: usize = 12;
/// Longest stage or journey name, in characters.
pub const MAX_NAME: usize = 80;

/// Which survey's responses a survey condition counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurveySource {
    Nps,
    Csat,
    Ces,
    Any,
}

impl SurveySource {
    pub fn parse(s: &str) -> Result<SurveySource, String> {
        match s {
            "nps" => Ok(SurveySource::Nps),
            "csat" => Ok(SurveySource::Csat),
            "ces" => Ok(SurveySource::Ces),
            "any" => Ok(SurveySource::Any),
            _ => Err(format!("unknown survey source {s:?} (nps, csat, ces or any)")),
        }
    }

    /// The feedback sources it covers.
    pub fn sources(self) -> &'static [&'static str] {
        match self {
            SurveySource::Nps => &["nps"],
            SurveySource::Csat => &["csat"],
            SurveySource::Ces => &["ces"],
            SurveySource::Any => &["nps", "csat", "ces"],
        }
    }
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

/// One way of reaching a stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// At least `min_count` events of this name.
    Event {
        name: String,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        min_count: u32,
    },
    /// At least `min_count` purchase occasions (days with a purchase order).
    Purchase {
        #[serde(default = "one", skip_serializing_if = "is_one")]
        min_count: u32,
    },
    /// A survey response of this source, rated at least `min_rating` when given.
    Survey {
        source: SurveySource,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_rating: Option<i16>,
    },
    /// Selected by a segment filter (the filter language); it has no time of its own.
    Filter { expr: String },
}

impl Condition {
    /// Parses `event:NAME[>=N]`, `purchase[>=N]`, `survey:SOURCE[>=R]` or `filter:EXPR`.
    pub fn parse(s: &str) -> Result<Condition, String> {
        let s = s.trim();
        let (head, count) = split_count(s)?;
        let (kind, arg) = head.split_once(':').map_or((head, ""), |(k, a)| (k.trim(), a.trim()));
        match kind {
            "event" if !arg.is_empty() => {
                Ok(Condition::Event { name: arg.to_string(), min_count: positive(count)? })
            }
            "purchase" if arg.is_empty() => Ok(Condition::Purchase { min_count: positive(count)? }),
            "survey" => Ok(Condition::Survey {
                source: SurveySource::parse(arg)?,
                min_rating: count.map(|c| c as i16),
            }),
            _ => Err(format!(
                "condition {s:?}: expected event:NAME[>=N], purchase[>=N], survey:nps|csat|ces|any[>=R] or filter:EXPR"
            )),
        }
    }

    fn check(&self) -> Result<(), String> {
        match self {
            Condition::Event { name, min_count } if name.trim().is_empty() || *min_count == 0 => {
                Err("an event condition needs a name and a count of at least 1".into())
            }
            Condition::Purchase { min_count: 0 } => {
                Err("a purchase condition needs a count of at least 1".into())
            }
            Condition::Survey { min_rating: Some(r), .. } if !(0..=10).contains(r) => {
                Err(format!("survey rating {r} is outside 0..10"))
            }
            Condition::Filter { expr } if expr.trim().is_empty() => {
                Err("a filter condition needs an expression".into())
            }
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::Event { name, min_count: 1 } => write!(f, "event:{name}"),
            Condition::Event { name, min_count } => write!(f, "event:{name}>={min_count}"),
            Condition::Purchase { min_count: 1 } => write!(f, "purchase"),
            Condition::Purchase { min_count } => write!(f, "purchase>={min_count}"),
            Condition::Survey { source, min_rating } => {
                let s = serde_variant(*source);
                match min_rating {
                    Some(r) => write!(f, "survey:{s}>={r}"),
                    None => write!(f, "survey:{s}"),
                }
            }
            Condition::Filter { expr } => write!(f, "filter:{expr}"),
        }
    }
}

fn serde_variant(s: SurveySource) -> &'static str {
    match s {
        SurveySource::Nps => "nps",
        SurveySource::Csat => "csat",
        SurveySource::Ces => "ces",
        SurveySource::Any => "any",
    }
}

/// `head>=N` into (head, Some(N)); a filter is never split (it may contain `>=` itself).
fn split_count(s: &str) -> Result<(&str, Option<u32>), String> {
    if s.starts_with("filter:") {
        return Ok((s, None));
    }
    match s.rsplit_once(">=") {
        Some((head, n)) => {
            let n = n.trim().parse::<u32>().map_err(|_| format!("{s:?}: {n:?} is not a count"))?;
            Ok((head.trim(), Some(n)))
        }
        None => Ok((s, None)),
    }
}

fn positive(count: Option<u32>) -> Result<u32, String> {
    match count.unwrap_or(1) {
        0 => Err("a count must be at least 1".into()),
        n => Ok(n),
    }
}

/// One stage: reached when any of its conditions is met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDef {
    pub name: String,
    pub conditions: Vec<Condition>,
}

impl StageDef {
    /// Parses `Name=COND | COND ...`. A filter condition takes the rest of the text, so it
    /// comes last.
    pub fn parse(s: &str) -> Result<StageDef, String> {
        let (name, rest) =
            s.split_once('=').ok_or_else(|| format!("stage {s:?}: expected NAME=CONDITION"))?;
        let mut conditions = Vec::new();
        let mut rest = rest.trim();
        while !rest.is_empty() {
            if let Some(expr) = rest.strip_prefix("filter:") {
                conditions.push(Condition::Filter { expr: expr.trim().to_string() });
                break;
            }
            let (head, tail) = rest.split_once('|').unwrap_or((rest, ""));
            conditions.push(Condition::parse(head)?);
            rest = tail.trim();
        }
        let stage = StageDef { name: name.trim().to_string(), conditions };
        stage.check()?;
        Ok(stage)
    }

    pub fn check(&self) -> Result<(), String> {
        check_name("stage name", &self.name)?;
        if self.conditions.is_empty() {
            return Err(format!("stage {:?} has no condition", self.name));
        }
        self.conditions.iter().try_for_each(Condition::check)
    }

    /// The conditions written back as `parse` reads them.
    pub fn conditions_text(&self) -> String {
        self.conditions.iter().map(ToString::to_string).collect::<Vec<_>>().join(" | ")
    }
}

fn check_name(what: &str, name: &str) -> Result<(), String> {
    let n = name.trim().chars().count();
    match n {
        0 => Err(format!("{what} is empty")),
        n if n > MAX_NAME => Err(format!("{what} is longer than {MAX_NAME} characters")),
        _ if name.contains('\0') => Err(format!("{what} contains a NUL character")),
        _ => Ok(()),
    }
}

/// A journey as written and stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JourneySpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub stages: Vec<StageDef>,
    /// A filter expression: the journey of that segment's customers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
}

impl JourneySpec {
    /// Checks names, stage count and conditions; the filter expressions are parsed by the
    /// caller (they need the field table of `rapport-core`'s filter language).
    pub fn check(&self) -> Result<(), String> {
        check_name("journey name", &self.name)?;
        if self.description.contains('\0') {
            return Err("description contains a NUL character".into());
        }
        if self.stages.is_empty() || self.stages.len() > MAX_STAGES {
            return Err(format!("a journey has 1 to {MAX_STAGES} stages"));
        }
        self.stages.iter().try_for_each(StageDef::check)
    }

    /// Every filter expression it holds: the segment's and the filter conditions'.
    pub fn filters(&self) -> impl Iterator<Item = &str> {
        let conditions = self.stages.iter().flat_map(|s| &s.conditions);
        let stages = conditions.filter_map(|c| match c {
            Condition::Filter { expr } => Some(expr.as_str()),
            _ => None,
        });
        self.segment.as_deref().into_iter().chain(stages)
    }

    /// The default journey: awareness → consideration → purchase → onboarding → regular use →
    /// renewal/advocacy, on the events the demo company and typical product analytics send.
    /// Renewal counts from regular use on (the ordering rule), so its purchase is a repeat
    /// purchase, and advocacy is a promoter's NPS response.
    pub fn default_journey() -> JourneySpec {
        let stage = |name: &str, text: &str| {
            StageDef::parse(&format!("{name}={text}")).expect("the default stages parse")
        };
        JourneySpec {
            name: "Customer journey".into(),
            description: "From the first visit to renewal and advocacy.".into(),
            stages: vec![
                stage("Awareness", "event:site_visit"),
                stage("Consideration", "event:pricing_viewed | event:trial_started"),
                stage("Purchase", "purchase"),
                stage("Onboarding", "event:integration_connected | event:seat_added"),
                stage("Regular use", "event:login>=5"),
                stage("Renewal / advocacy", "purchase | survey:nps>=9"),
            ],
            segment: None,
        }
    }
}

//! Feature ideas: what they are, where they stand, and the RICE inputs a team gives them.
//!
//! An idea arrives as an [`IdeaSpec`] (TOML or JSON written by a person, or an API body) and
//! becomes an [`Idea`] once, through [`Idea::parse`], which names the field at fault. Its
//! status moves along a small graph ([`IdeaStatus::check_move`]): new → planned →
//! in_progress → shipped; any open status → declined; declined or planned → new (reopened).
//! The evidence (feedback items) and the customers who asked live in the store; the priority
//! score computed from them is `rapport_analytics::priority`.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// Where an idea stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdeaStatus {
    New,
    Planned,
    InProgress,
    Shipped,
    Declined,
}

impl IdeaStatus {
    /// In board order.
    pub const ALL: [IdeaStatus; 5] = [
        IdeaStatus::New,
        IdeaStatus::Planned,
        IdeaStatus::InProgress,
        IdeaStatus::Shipped,
        IdeaStatus::Declined,
    ];

    pub fn parse(s: &str) -> Result<IdeaStatus, String> {
        let t = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        IdeaStatus::ALL.into_iter().find(|st| st.as_str() == t).ok_or_else(|| {
            format!("'{}' is not one of: new, planned, in_progress, shipped, declined", s.trim())
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IdeaStatus::New => "new",
            IdeaStatus::Planned => "planned",
            IdeaStatus::InProgress => "in_progress",
            IdeaStatus::Shipped => "shipped",
            IdeaStatus::Declined => "declined",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IdeaStatus::New => "New",
            IdeaStatus::Planned => "Planned",
            IdeaStatus::InProgress => "In progress",
            IdeaStatus::Shipped => "Shipped",
            IdeaStatus::Declined => "Declined",
        }
    }

    /// Still to be decided or delivered.
    pub fn is_open(self) -> bool {
        matches!(self, IdeaStatus::New | IdeaStatus::Planned | IdeaStatus::InProgress)
    }

    /// The statuses an idea in this one may move to.
    pub fn next(self) -> &'static [IdeaStatus] {
        use IdeaStatus::*;
        match self {
            New => &[Planned, Declined],
            // Planned may go back to new: a plan can be dropped without declining the idea.
            Planned => &[InProgress, Declined, New],
            InProgress => &[Shipped, Declined],
            // Shipped is final: a follow-up is a new idea.
            Shipped => &[],
            Declined => &[New],
        }
    }

    /// Whether `self` may move to `to`; the error says which moves are allowed.
    pub fn check_move(self, to: IdeaStatus) -> Result<(), String> {
        if self.next().contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.as_str()).collect();
        Err(match allowed.is_empty() {
            true => format!("a {} idea cannot change status", self.as_str()),
            false => format!(
                "a {} idea cannot move to {}; it can move to: {}",
                self.as_str(),
                to.as_str(),
                allowed.join(", ")
            ),
        })
    }
}

/// A new capability, or an improvement of something that exists (whose usage then matters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdeaKind {
    New,
    Improve,
}

impl IdeaKind {
    pub fn parse(s: &str) -> Result<IdeaKind, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "new" => Ok(IdeaKind::New),
            "improve" => Ok(IdeaKind::Improve),
            _ => Err(format!("'{}' is not one of: new, improve", s.trim())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IdeaKind::New => "new",
            IdeaKind::Improve => "improve",
        }
    }
}

/// RICE's impact scale: 0.25 minimal, 0.5 low, 1 medium, 2 high, 3 massive.
pub const IMPACTS: [f64; 5] = [0.25, 0.5, 1.0, 2.0, 3.0];

/// The RICE inputs, each optional until the team has estimated it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Rice {
    /// People or events per quarter the idea reaches.
    pub reach: Option<u32>,
    /// One of [`IMPACTS`].
    pub impact: Option<f64>,
    /// Percent, 0–100.
    pub confidence: Option<u8>,
    /// Person-weeks, above zero.
    pub effort: Option<f64>,
}

impl Rice {
    /// reach × impact × confidence / effort, once every input is given.
    pub fn score(&self) -> Option<f64> {
        let (r, i, c, e) = (self.reach?, self.impact?, self.confidence?, self.effort?);
        Some(f64::from(r) * i * f64::from(c) / 100.0 / e)
    }

    fn check(self) -> Result<Rice, FieldError> {
        if let Some(i) = self.impact
            && !IMPACTS.contains(&i)
        {
            return Err(FieldError::new(
                "impact",
                format!("{i} is not one of 0.25 (minimal), 0.5, 1, 2, 3 (massive)"),
            ));
        }
        if let Some(c) = self.confidence
            && c > 100
        {
            return Err(FieldError::new("confidence", format!("{c} is not a percent (0-100)")));
        }
        if let Some(e) = self.effort
            && !(e > 0.0 && e <= 10_000.0)
        {
            return Err(FieldError::new(
                "effort",
                format!("{e} person-weeks: effort must be above 0 (and at most 10000)"),
            ));
        }
        Ok(self)
    }
}

/// An idea as a person writes it; [`Idea::parse`] checks it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdeaSpec {
    pub title: String,
    pub description: Option<String>,
    /// `new` (the default) or `improve`.
    pub kind: Option<String>,
    pub reach: Option<u32>,
    pub impact: Option<f64>,
    pub confidence: Option<u8>,
    pub effort: Option<f64>,
    /// Event names of the feature an idea improves (`export_pdf`), whose usage is weighed.
    pub events: Vec<String>,
}

/// A checked idea.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Idea {
    pub title: String,
    pub description: Option<String>,
    pub kind: IdeaKind,
    pub rice: Rice,
    /// Distinct, trimmed, in the order written.
    pub events: Vec<String>,
}

/// The longest description accepted, in characters.
pub const MAX_DESCRIPTION: usize = 10_000;

impl Idea {
    /// Checks a spec; every problem names its field (`events[1]`).
    pub fn parse(spec: IdeaSpec) -> Result<Idea, FieldError> {
        let title = clean(&spec.title);
        if title.is_empty() {
            return Err(FieldError::missing("title"));
        }
        if title.chars().count() > 200 {
            return Err(FieldError::new("title", "is longer than 200 characters"));
        }
        let description = spec.description.as_deref().map(clean).filter(|d| !d.is_empty());
        if description.as_ref().is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
            return Err(FieldError::new(
                "description",
                format!("is longer than {MAX_DESCRIPTION} characters"),
            ));
        }
        let kind = IdeaKind::parse(spec.kind.as_deref().unwrap_or(""))
            .map_err(|r| FieldError::new("kind", r))?;
        let rice = Rice {
            reach: spec.reach,
            impact: spec.impact,
            confidence: spec.confidence,
            effort: spec.effort,
        }
        .check()?;
        let mut events: Vec<String> = Vec::new();
        for (i, e) in spec.events.iter().enumerate() {
            let e = e.trim();
            if e.is_empty() || e.chars().count() > 100 || e.contains(char::is_control) {
                return Err(FieldError::new(
                    format!("events[{i}]"),
                    "an event name is 1-100 characters without control characters",
                ));
            }
            if !events.iter().any(|o| o == e) {
                events.push(e.to_string());
            }
        }
        Ok(Idea { title, description, kind, rice, events })
    }

    /// The spec this idea reads back as: an update overlays its fields on this and parses.
    pub fn to_spec(&self) -> IdeaSpec {
        IdeaSpec {
            title: self.title.clone(),
            description: self.description.clone(),
            kind: Some(self.kind.as_str().into()),
            reach: self.rice.reach,
            impact: self.rice.impact,
            confidence: self.rice.confidence,
            effort: self.rice.effort,
            events: self.events.clone(),
        }
    }
}

/// Trimmed, without NUL (PostgreSQL text cannot hold it and it never means anything here).
fn clean(s: &str) -> String {
    s.replace('\0', "").trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(title: &str) -> IdeaSpec {
        IdeaSpec { title: title.into(), ..Default::default() }
    }

    #[test]
    fn the_status_graph_allows_the_documented_moves_only() {
        use IdeaStatus::*;
        let allowed = [
            (New, Planned),
            (Planned, InProgress),
            (InProgress, Shipped),
            (New, Declined),
            (Planned, Declined),
            (InProgress, Declined),
            (Declined, New),
            (Planned, New),
        ];
        for from in IdeaStatus::ALL {
            for to in IdeaStatus::ALL {
                assert_eq!(
                    from.check_move(to).is_ok(),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
        let e = New.check_move(Shipped).unwrap_err();
        assert_eq!(e, "a new idea cannot move to shipped; it can move to: planned, declined");
        assert_eq!(Shipped.check_move(New).unwrap_err(), "a shipped idea cannot change status");
    }

    #[test]
    fn statuses_parse_as_written_in_forms_and_flags() {
        assert_eq!(IdeaStatus::parse("In progress"), Ok(IdeaStatus::InProgress));
        assert_eq!(IdeaStatus::parse("in-progress"), Ok(IdeaStatus::InProgress));
        assert_eq!(IdeaStatus::parse(" SHIPPED "), Ok(IdeaStatus::Shipped));
        assert!(IdeaStatus::parse("done").unwrap_err().contains("'done' is not one of"));
    }

    #[test]
    fn rice_is_reach_times_impact_times_confidence_over_effort() {
        let rice =
            Rice { reach: Some(400), impact: Some(2.0), confidence: Some(80), effort: Some(4.0) };
        assert_eq!(rice.score(), Some(160.0));
        assert_eq!(Rice { effort: None, ..rice }.score(), None);
    }

    #[test]
    fn problems_name_their_field() {
        let e = |s: IdeaSpec| Idea::parse(s).unwrap_err().field;
        assert_eq!(e(spec("  ")), "title");
        assert_eq!(e(IdeaSpec { impact: Some(1.5), ..spec("x") }), "impact");
        assert_eq!(e(IdeaSpec { confidence: Some(101), ..spec("x") }), "confidence");
        assert_eq!(e(IdeaSpec { effort: Some(0.0), ..spec("x") }), "effort");
        assert_eq!(e(IdeaSpec { effort: Some(f64::NAN), ..spec("x") }), "effort");
        assert_eq!(e(IdeaSpec { kind: Some("fix".into()), ..spec("x") }), "kind");
        assert_eq!(e(IdeaSpec { events: vec!["a".into(), " ".into()], ..spec("x") }), "events[1]");
    }

    #[test]
    fn a_spec_reads_from_toml_and_json_and_round_trips() {
        let toml_like = serde_json::json!({
            "title": " Export to PDF ", "kind": "improve", "reach": 300, "impact": 2,
            "confidence": 50, "effort": 3, "events": ["export_pdf", "export_pdf", "export_csv"]
        });
        let idea = Idea::parse(serde_json::from_value(toml_like).unwrap()).unwrap();
        assert_eq!(idea.title, "Export to PDF");
        assert_eq!(idea.kind, IdeaKind::Improve);
        assert_eq!(idea.events, ["export_pdf", "export_csv"]);
        assert_eq!(Idea::parse(idea.to_spec()).unwrap(), idea);
        let unknown = serde_json::from_value::<IdeaSpec>(serde_json::json!({"titel": "x"}));
        assert!(unknown.unwrap_err().to_string().contains("unknown field `titel`"));
    }
}

//! Customer-marketing campaigns: a message to a segment, with a random holdout that is not sent
//! anything, and a goal metric on which the two groups are compared afterwards.
//!
//! A campaign arrives as a [`CampaignSpec`] (an API body, a form, CLI flags) and becomes a
//! [`Campaign`] through [`CampaignSpec::check`], which names the field at fault. Sending,
//! consent and holdout assignment happen in the server; measuring in `reports::campaigns`;
//! the statistics in `rapport_analytics::campaign`.

use crate::error::FieldError;
use serde::{Deserialize, Serialize};

/// What a campaign is meant to change, measured over `days` after the send for every recipient
/// and every holdout member alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GoalMetric {
    /// Made a purchase within the window (a proportion: two-proportion z-test).
    Purchase,
    /// Still active within the window: a purchase or a product-usage event (a proportion).
    Retention,
    /// Revenue per customer within the window (a mean: Welch's t-test).
    Revenue,
    /// Change in predicted lifetime value between the send and the measurement (a mean).
    ClvChange,
}

impl GoalMetric {
    pub const ALL: [GoalMetric; 4] =
        [GoalMetric::Purchase, GoalMetric::Retention, GoalMetric::Revenue, GoalMetric::ClvChange];

    pub fn parse(s: &str) -> Result<GoalMetric, String> {
        let t = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        GoalMetric::ALL.into_iter().find(|g| g.as_str() == t).ok_or_else(|| {
            format!("'{}' is not one of: purchase, retention, revenue, clv_change", s.trim())
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GoalMetric::Purchase => "purchase",
            GoalMetric::Retention => "retention",
            GoalMetric::Revenue => "revenue",
            GoalMetric::ClvChange => "clv_change",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GoalMetric::Purchase => "Purchase rate",
            GoalMetric::Retention => "Retention (active)",
            GoalMetric::Revenue => "Revenue per customer",
            GoalMetric::ClvChange => "Change in predicted CLV",
        }
    }

    /// A share of customers (compared as proportions) rather than an amount (compared as means).
    pub fn is_proportion(self) -> bool {
        matches!(self, GoalMetric::Purchase | GoalMetric::Retention)
    }
}

/// How messages go out: e-mail to the customer's address, or a signed webhook to the notify
/// URL of a webhook source (which then delivers, e.g. a messaging tool).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CampaignChannel {
    Email,
    Webhook { source: String },
}

impl CampaignChannel {
    /// `email` or `webhook:<source>`.
    pub fn parse(s: &str) -> Result<CampaignChannel, String> {
        let t = s.trim();
        match t.split_once(':') {
            None if t.eq_ignore_ascii_case("email") => Ok(CampaignChannel::Email),
            Some((w, src)) if w.eq_ignore_ascii_case("webhook") && !src.trim().is_empty() => {
                Ok(CampaignChannel::Webhook { source: src.trim().to_string() })
            }
            _ => Err(format!("'{t}' is not one of: email, webhook:<source>")),
        }
    }

    pub fn as_text(&self) -> String {
        match self {
            CampaignChannel::Email => "email".into(),
            CampaignChannel::Webhook { source } => format!("webhook:{source}"),
        }
    }
}

/// A campaign as written, before checking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CampaignSpec {
    pub name: String,
    /// A saved segment's slug or a filter expression (`docs/filter-language.md`).
    pub segment: String,
    /// `email` or `webhook:<source>`.
    pub channel: String,
    pub subject: String,
    /// The plain-text body (minijinja; see the README for the variables).
    pub text: String,
    /// The HTML body, auto-escaped; optional.
    pub html: Option<String>,
    /// `purchase`, `retention`, `revenue` or `clv_change`.
    pub goal: String,
    /// The measurement window in days after the send.
    pub goal_days: u32,
    /// The share of the consenting audience held out, 0 to 0.5.
    pub holdout: f64,
    /// Seeds the holdout draw, so it can be reproduced.
    pub seed: u64,
}

/// A checked campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub name: String,
    pub segment: String,
    pub channel: CampaignChannel,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub goal: GoalMetric,
    pub goal_days: u32,
    pub holdout: f64,
    pub seed: u64,
}

/// The largest holdout: beyond half, the campaign would mostly not be sent.
pub const MAX_HOLDOUT: f64 = 0.5;

/// The longest measurement window, a year.
pub const MAX_GOAL_DAYS: u32 = 365;

impl CampaignSpec {
    /// Checks every field; the error names the first at fault.
    pub fn check(&self) -> Result<Campaign, FieldError> {
        let required = |field: &str, v: &str| -> Result<String, FieldError> {
            let t = v.trim();
            if t.is_empty() { Err(FieldError::missing(field)) } else { Ok(t.to_string()) }
        };
        let name = required("name", &self.name)?;
        if name.chars().count() > 200 {
            return Err(FieldError::new("name", "is longer than 200 characters"));
        }
        let segment = required("segment", &self.segment)?;
        let channel = CampaignChannel::parse(&self.channel)
            .map_err(|reason| FieldError::new("channel", reason))?;
        let subject = required("subject", &self.subject)?;
        let text = required("text", &self.text)?;
        let goal = GoalMetric::parse(&self.goal).map_err(|r| FieldError::new("goal", r))?;
        if self.goal_days == 0 || self.goal_days > MAX_GOAL_DAYS {
            return Err(FieldError::new("goal_days", "must be between 1 and 365"));
        }
        if !self.holdout.is_finite() || !(0.0..=MAX_HOLDOUT).contains(&self.holdout) {
            return Err(FieldError::new("holdout", "must be a share between 0 and 0.5"));
        }
        let html = self.html.as_deref().map(str::trim).filter(|h| !h.is_empty());
        Ok(Campaign {
            name,
            segment,
            channel,
            subject,
            text,
            html: html.map(str::to_string),
            goal,
            goal_days: self.goal_days,
            holdout: self.holdout,
            seed: self.seed,
        })
    }
}

/// Which group a member of the audience fell in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arm {
    /// Sent the message.
    Treatment,
    /// Deliberately not sent anything: the comparison.
    Holdout,
}

impl Arm {
    pub fn as_str(self) -> &'static str {
        match self {
            Arm::Treatment => "treatment",
            Arm::Holdout => "holdout",
        }
    }

    pub fn parse(s: &str) -> Result<Arm, String> {
        match s {
            "treatment" => Ok(Arm::Treatment),
            "holdout" => Ok(Arm::Holdout),
            _ => Err(format!("'{s}' is not one of: treatment, holdout")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CampaignSpec {
        CampaignSpec {
            name: "Win back".into(),
            segment: "at-risk".into(),
            channel: "email".into(),
            subject: "We miss you, {{ name }}".into(),
            text: "Hello".into(),
            html: Some("  ".into()),
            goal: "purchase".into(),
            goal_days: 30,
            holdout: 0.2,
            seed: 7,
        }
    }

    #[test]
    fn a_good_spec_is_checked_into_a_campaign() {
        let c = spec().check().unwrap();
        assert_eq!(c.channel, CampaignChannel::Email);
        assert_eq!(c.goal, GoalMetric::Purchase);
        assert_eq!(c.html, None, "a blank HTML body is no HTML body");
    }

    #[test]
    fn each_bad_field_is_named() {
        type Break = fn(&mut CampaignSpec);
        let cases: [(Break, &str); 7] = [
            (|s| s.name = " ".into(), "name"),
            (|s| s.segment = String::new(), "segment"),
            (|s| s.channel = "sms".into(), "channel"),
            (|s| s.text = String::new(), "text"),
            (|s| s.goal = "likes".into(), "goal"),
            (|s| s.goal_days = 0, "goal_days"),
            (|s| s.holdout = 0.6, "holdout"),
        ];
        for (break_it, field) in cases {
            let mut s = spec();
            break_it(&mut s);
            assert_eq!(s.check().unwrap_err().field, field);
        }
    }

    #[test]
    fn channels_parse_both_ways() {
        let w = CampaignChannel::parse("webhook: crm ").unwrap();
        assert_eq!(w, CampaignChannel::Webhook { source: "crm".into() });
        assert_eq!(CampaignChannel::parse(&w.as_text()).unwrap(), w);
        assert!(CampaignChannel::parse("webhook:").is_err());
        assert_eq!(GoalMetric::parse("CLV change").unwrap(), GoalMetric::ClvChange);
        assert!(GoalMetric::Retention.is_proportion() && !GoalMetric::Revenue.is_proportion());
    }
}

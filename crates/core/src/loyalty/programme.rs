//! Programme settings: how points are earned, when they expire, and the tiers.
//!
//! A [`Programme`] is written by a person (a settings form, a TOML file) and stored as JSON, so
//! its fields are plain and public; [`Programme::check`] is the gate before it is saved and
//! names the field at fault. The pricing functions here never panic on an unchecked programme
//! (no tiers means multiplier ×1) so that a bad row read back cannot take a page down.

use crate::error::FieldError;
use crate::money::{Money, SCALE};
use serde::{Deserialize, Serialize};

/// Upper bounds that keep every computation far from `i64` overflow and catch typos
/// (a million points per euro is a slipped finger, not a programme).
const MAX_POINTS_PER_UNIT: i64 = 10_000;
const MAX_ACTIVITY_POINTS: i64 = 1_000_000;
const MAX_MULTIPLIER_PCT: u32 = 1_000;
const MAX_DAYS: u32 = 36_500;

/// A status level reached by the points earned within the programme's rolling window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub name: String,
    /// Points earned within the window needed to hold this tier; the first tier's is 0.
    pub threshold: i64,
    /// Percent applied to purchase points: 100 = ×1, 150 = ×1.5.
    pub multiplier_pct: u32,
    /// What members of this tier get, as shown to them ("Free delivery").
    #[serde(default)]
    pub benefits: Vec<String>,
}

/// The settings of one loyalty programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Programme {
    pub name: String,
    /// Points per whole currency unit of a purchase, before the tier multiplier.
    pub points_per_unit: i64,
    /// Fixed points for answering a survey, writing a review, referring someone; 0 turns the
    /// activity off. Tier multipliers do not apply: they reward spend, not activity.
    pub survey_points: i64,
    pub review_points: i64,
    pub referral_points: i64,
    /// Points expire this many days after they were earned, oldest first; `None`: never.
    pub expiry_days: Option<u32>,
    /// Tiers are held by the points earned in the last `tier_window_days` days.
    pub tier_window_days: u32,
    /// In ascending threshold order.
    pub tiers: Vec<Tier>,
}

impl Default for Programme {
    /// What a mid-sized retailer would start from: 1 point per unit spent, points valid a
    /// year, and three tiers over a rolling year. Silver at 500 is a few regular orders; Gold at
    /// 2000 is the top few percent of a typical customer base.
    fn default() -> Self {
        let tier = |name: &str, threshold, multiplier_pct, benefits: &[&str]| Tier {
            name: name.into(),
            threshold,
            multiplier_pct,
            benefits: benefits.iter().map(|b| b.to_string()).collect(),
        };
        Programme {
            name: "Rewards".into(),
            points_per_unit: 1,
            survey_points: 20,
            review_points: 50,
            referral_points: 200,
            expiry_days: Some(365),
            tier_window_days: 365,
            tiers: vec![
                tier("Bronze", 0, 100, &["Member prices"]),
                tier("Silver", 500, 125, &["Member prices", "Free delivery"]),
                tier(
                    "Gold",
                    2000,
                    150,
                    &["Member prices", "Free delivery", "Early access to sales"],
                ),
            ],
        }
    }
}

impl Programme {
    /// Checks the settings; the error names the field (`tiers[2].threshold`) and the reason.
    pub fn check(&self) -> Result<(), FieldError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FieldError::missing("name"));
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new("name", "is longer than 100 characters"));
        }
        in_range("points_per_unit", self.points_per_unit, MAX_POINTS_PER_UNIT)?;
        in_range("survey_points", self.survey_points, MAX_ACTIVITY_POINTS)?;
        in_range("review_points", self.review_points, MAX_ACTIVITY_POINTS)?;
        in_range("referral_points", self.referral_points, MAX_ACTIVITY_POINTS)?;
        if let Some(d) = self.expiry_days
            && !(1..=MAX_DAYS).contains(&d)
        {
            return Err(FieldError::new(
                "expiry_days",
                format!(
                    "must be between 1 and {MAX_DAYS} days, not {d} (leave it out for points that never expire)"
                ),
            ));
        }
        if !(1..=MAX_DAYS).contains(&self.tier_window_days) {
            return Err(FieldError::new(
                "tier_window_days",
                format!("must be between 1 and {MAX_DAYS} days, not {}", self.tier_window_days),
            ));
        }
        self.check_tiers()
    }

    fn check_tiers(&self) -> Result<(), FieldError> {
        if self.tiers.is_empty() {
            return Err(FieldError::new("tiers", "at least one tier is needed"));
        }
        for (i, t) in self.tiers.iter().enumerate() {
            let field = |f: &str| format!("tiers[{i}].{f}");
            let name = t.name.trim();
            if name.is_empty() || name.chars().count() > 50 {
                return Err(FieldError::new(field("name"), "must be 1-50 characters"));
            }
            if let Some(j) =
                self.tiers[..i].iter().position(|o| o.name.trim().eq_ignore_ascii_case(name))
            {
                return Err(FieldError::new(
                    field("name"),
                    format!("'{name}' is already the name of tiers[{j}]"),
                ));
            }
            match i {
                0 if t.threshold != 0 => {
                    return Err(FieldError::new(
                        field("threshold"),
                        format!("the first tier starts at 0, not {}", t.threshold),
                    ));
                }
                0 => {}
                _ => {
                    let prev = self.tiers[i - 1].threshold;
                    if t.threshold <= prev {
                        return Err(FieldError::new(
                            field("threshold"),
                            format!("must be above the previous tier's {prev}"),
                        ));
                    }
                }
            }
            if !(1..=MAX_MULTIPLIER_PCT).contains(&t.multiplier_pct) {
                return Err(FieldError::new(
                    field("multiplier_pct"),
                    format!(
                        "must be between 1 and {MAX_MULTIPLIER_PCT} percent (100 = ×1), not {}",
                        t.multiplier_pct
                    ),
                ));
            }
            if let Some(b) = t.benefits.iter().position(|b| b.trim().is_empty()) {
                return Err(FieldError::missing(&field(&format!("benefits[{b}]"))));
            }
        }
        Ok(())
    }

    /// The index in [`Programme::tiers`] of the highest tier whose threshold `earned` reaches.
    pub fn tier_for(&self, earned: i64) -> usize {
        self.tiers.iter().rposition(|t| t.threshold <= earned).unwrap_or(0)
    }

    /// The multiplier of tier `tier`, in percent; 100 when there is no such tier.
    pub fn multiplier_pct(&self, tier: usize) -> u32 {
        self.tiers.get(tier).map_or(100, |t| t.multiplier_pct)
    }

    /// floor(amount × points_per_unit × multiplier): exact, in integers, never fractional.
    /// A refund or a zero amount earns 0 (taking points back is a manual adjustment).
    pub fn purchase_points(&self, amount: Money, tier: usize) -> i64 {
        let numerator = i128::from(amount.e4().max(0))
            * i128::from(self.points_per_unit.max(0))
            * i128::from(self.multiplier_pct(tier));
        let points = numerator / (i128::from(SCALE) * 100);
        i64::try_from(points).unwrap_or(i64::MAX)
    }
}

fn in_range(field: &str, v: i64, max: i64) -> Result<(), FieldError> {
    if v < 0 {
        return Err(FieldError::new(field, format!("must not be negative, not {v}")));
    }
    if v > max {
        return Err(FieldError::new(field, format!("must be at most {max}, not {v}")));
    }
    Ok(())
}

/// How a member's tier moved between two moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierChange {
    Upgrade,
    Downgrade,
    Same,
}

impl TierChange {
    /// Compares tier indices (rank in [`Programme::tiers`]), not names, so that renaming a
    /// tier is not mistaken for a move.
    pub fn between(previous: usize, current: usize) -> TierChange {
        match current.cmp(&previous) {
            std::cmp::Ordering::Greater => TierChange::Upgrade,
            std::cmp::Ordering::Less => TierChange::Downgrade,
            std::cmp::Ordering::Equal => TierChange::Same,
        }
    }
}

//! The rewards catalogue: what points can be spent on.

use crate::error::FieldError;
use crate::value::ExternalId;
use serde::{Deserialize, Serialize};

/// The most a single reward may cost, to catch a typo before members see it.
const MAX_REWARD_COST: i64 = 10_000_000;

/// A reward members can redeem points for. Rewards are deactivated, never deleted, because
/// past redemptions refer to them by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// A stable, SKU-like key (`voucher-10`), unique in the catalogue.
    pub key: ExternalId,
    pub name: String,
    /// Points, above zero.
    pub cost: i64,
    pub active: bool,
}

impl Reward {
    /// Checks a reward before it is saved; the error names the field.
    pub fn check(&self) -> Result<(), FieldError> {
        let key = self.key.as_str();
        let sku_like = key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !sku_like {
            return Err(FieldError::new(
                "key",
                format!("'{key}' must be 1-64 letters, digits, '-', '_' or '.'"),
            ));
        }
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FieldError::missing("name"));
        }
        if name.chars().count() > 200 {
            return Err(FieldError::new("name", "is longer than 200 characters"));
        }
        if !(1..=MAX_REWARD_COST).contains(&self.cost) {
            return Err(FieldError::new(
                "cost",
                format!("must be between 1 and {MAX_REWARD_COST} points, not {}", self.cost),
            ));
        }
        Ok(())
    }
}

//! The demo's loyalty programme: the default settings (three tiers over a rolling year),
//! launched six months before the demo's "today", a small rewards catalogue, every purchase
//! since the launch credited, and one member in three of those who can afford the 500-point
//! voucher redeeming it (at most 2,000 of them, so a million-customer demo stays quick).

use super::today;
use chrono::TimeDelta;
use rapport_core::ExternalId;
use rapport_core::loyalty::{Programme, Reward};
use rapport_reports::all_summaries;
use rapport_reports::loyalty::{self, Change, Credited};
use rapport_store::{Backend, Recorded};
use std::collections::HashMap;

/// (key, name, cost, active)
const REWARDS: &[(&str, &str, i64, bool)] = &[
    ("free-delivery", "Free delivery on the next order", 250, true),
    ("voucher-5", "5 € voucher", 500, true),
    ("gift-card-25", "25 € gift card", 2_000, true),
    ("tote-bag", "Tote bag (sold out)", 300, false),
];

const MOST_REDEMPTIONS: usize = 2_000;

pub struct LoyaltyStats {
    pub credited: Credited,
    pub redeemed: usize,
}

/// Sets the programme up and fills its ledgers; returns what was credited and redeemed.
pub async fn build(store: &dyn Backend) -> anyhow::Result<LoyaltyStats> {
    let launch = today() - TimeDelta::days(180);
    loyalty::save_programme(store, &Programme::default(), launch).await?;
    for &(key, name, cost, active) in REWARDS {
        let reward = Reward {
            key: ExternalId::parse(key).map_err(anyhow::Error::msg)?,
            name: name.into(),
            cost,
            active,
        };
        loyalty::save_reward(store, &reward).await?;
    }
    let credited = loyalty::credit_purchases(store, today()).await?;
    let ids: HashMap<i64, ExternalId> =
        all_summaries(store).await?.into_iter().map(|s| (s.key, s.id)).collect();
    let mut redeemed = 0;
    let ledgers = store.loyalty_ledgers().await?;
    let rich = ledgers.iter().filter(|l| l.entries.iter().map(|e| e.points).sum::<i64>() >= 500);
    for ledger in rich.step_by(3).take(MOST_REDEMPTIONS) {
        let Some(id) = ids.get(&ledger.customer) else { continue };
        let change =
            Change::Redeem { reward: ExternalId::parse("voucher-5").map_err(anyhow::Error::msg)? };
        let key = Some(format!("demo-redeem-{id}"));
        if let Recorded::New { .. } = loyalty::record(store, id, change, key, today()).await? {
            redeemed += 1;
        }
    }
    Ok(LoyaltyStats { credited, redeemed })
}

//! Programme figures over many members: a pure fold, so the store may stream accounts through
//! it without holding them all.

use super::account::Account;
use super::programme::Programme;
use crate::value::Timestamp;
use serde::Serialize;

/// How many members hold a tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TierCount {
    pub tier: String,
    pub members: u64,
}

/// Lifetime figures of a programme at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub members: u64,
    /// Points members hold and could still redeem: the sum of balances (what finance books
    /// as a liability).
    pub liability: i64,
    pub earned: i64,
    pub redeemed: i64,
    pub expired: i64,
    /// Taken back by negative manual adjustments; with the above,
    /// `earned - redeemed - expired - deducted == liability`.
    pub deducted: i64,
    /// One count per tier, in programme order, by the tier held at `now`.
    pub tiers: Vec<TierCount>,
}

impl Figures {
    /// No members yet, with a zero count for each of the programme's tiers.
    pub fn empty(programme: &Programme) -> Figures {
        Figures {
            members: 0,
            liability: 0,
            earned: 0,
            redeemed: 0,
            expired: 0,
            deducted: 0,
            tiers: programme
                .tiers
                .iter()
                .map(|t| TierCount { tier: t.name.clone(), members: 0 })
                .collect(),
        }
    }

    /// Adds one member, placed in the tier held at `now`.
    pub fn add(&mut self, account: &Account, now: Timestamp, programme: &Programme) {
        let t = account.totals();
        self.members += 1;
        self.liability += account.balance();
        self.earned += t.earned;
        self.redeemed += t.redeemed;
        self.expired += t.expired;
        self.deducted += t.deducted;
        if let Some(c) = self.tiers.get_mut(account.tier_at(now, programme)) {
            c.members += 1;
        }
    }

    /// The figures of all `accounts` at `now`.
    pub fn of<'a>(
        accounts: impl IntoIterator<Item = &'a Account>,
        now: Timestamp,
        programme: &Programme,
    ) -> Figures {
        let mut f = Figures::empty(programme);
        for a in accounts {
            f.add(a, now, programme);
        }
        f
    }

    /// Redeemed ÷ earned (0.4 = 40 % of points ever earned were spent); `None` before any
    /// point was earned. A float because it is only ever shown, never stored or summed.
    pub fn redemption_rate(&self) -> Option<f64> {
        (self.earned > 0).then(|| self.redeemed as f64 / self.earned as f64)
    }
}

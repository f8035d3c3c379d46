//! A member's account: the balance and the lots it is made of, rebuilt from the ledger.
//!
//! The account is never stored; it is the fold of the member's entries ([`Account::replay`]).
//! Every change goes through one private function, `apply`, both when replaying and when
//! recording something new, so an account built step by step and one replayed from the
//! appended entries cannot differ.

use super::ledger::{EarnReason, Entry, EntryKind};
use super::programme::Programme;
use super::reward::Reward;
use crate::money::Money;
use crate::value::{ExternalId, Timestamp};
use chrono::TimeDelta;
use serde::Serialize;

/// The most points a single entry may move: far above any real earning or reward, far below
/// where sums over millions of entries could overflow `i64`.
pub const MAX_ENTRY_POINTS: i64 = 1_000_000_000;

/// Points earned together, spent and expired oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub earned_at: Timestamp,
    /// Above zero: spent lots are dropped.
    pub remaining: i64,
}

/// Lifetime sums, each non-negative: `earned - redeemed - expired - deducted == balance`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Positive earn entries (manual credits included).
    pub earned: i64,
    pub redeemed: i64,
    pub expired: i64,
    /// Points taken back by negative manual adjustments.
    pub deducted: i64,
}

/// Why an entry was not recorded. `code()` is a stable name for API bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("points must be above zero, not {points}")]
    NotPositive { points: i64 },
    #[error("an adjustment of 0 points changes nothing")]
    ZeroAdjustment,
    #[error("a manual adjustment needs a note saying why")]
    NoNote,
    #[error("{points} points in one entry is more than the {MAX_ENTRY_POINTS} allowed")]
    TooLarge { points: i64 },
    #[error("the balance is {balance} points; {wanted} are needed")]
    Insufficient { balance: i64, wanted: i64 },
    #[error("the reward '{reward}' is not active")]
    Inactive { reward: ExternalId },
}

impl Refusal {
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotPositive { .. } => "not_positive",
            Refusal::ZeroAdjustment => "zero_adjustment",
            Refusal::NoNote => "no_note",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Insufficient { .. } => "insufficient_points",
            Refusal::Inactive { .. } => "reward_inactive",
        }
    }
}

/// A stored ledger that does not replay: a bug or a hand edit, never a member's doing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("loyalty ledger entry {index}: {reason}")]
pub struct LedgerError {
    /// Position in the slice given to [`Account::replay`].
    pub index: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Account {
    balance: i64,
    /// Ordered by earn date, then by append order.
    lots: Vec<Lot>,
    /// (date, points) of every positive earn entry, for the tier window.
    #[serde(skip)]
    earnings: Vec<(Timestamp, i64)>,
    totals: Totals,
}

impl Account {
    /// The account the entries add up to, in append order. Fails on an entry whose sign does
    /// not match its kind or that would take the balance below zero.
    pub fn replay(entries: &[Entry]) -> Result<Account, LedgerError> {
        let mut account = Account::default();
        for (index, e) in entries.iter().enumerate() {
            if !e.kind.sign_ok(e.points) {
                let reason = format!(
                    "{} points is the wrong sign for an entry of kind {}",
                    e.points,
                    e.kind.as_str()
                );
                return Err(LedgerError { index, reason });
            }
            account.apply(e).map_err(|r| LedgerError { index, reason: r.to_string() })?;
        }
        Ok(account)
    }

    pub fn balance(&self) -> i64 {
        self.balance
    }

    /// The unspent lots, oldest first; their `remaining` add up to the balance.
    pub fn lots(&self) -> &[Lot] {
        &self.lots
    }

    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Points earned in the tier window ending at `now`: earn entries dated after
    /// `now - tier_window_days` and at or before `now`. Negative adjustments do not count.
    pub fn earned_within(&self, now: Timestamp, programme: &Programme) -> i64 {
        let since = days_before(now, programme.tier_window_days);
        self.earnings
            .iter()
            .filter(|(at, _)| *at <= now && since.is_none_or(|s| *at > s))
            .map(|(_, p)| p)
            .sum()
    }

    /// The member's tier at `now`, as an index into [`Programme::tiers`].
    pub fn tier_at(&self, now: Timestamp, programme: &Programme) -> usize {
        programme.tier_for(self.earned_within(now, programme))
    }

    /// Credits `points` (above zero) for `reason`. For purchases prefer
    /// [`Account::earn_purchase`], which prices them.
    pub fn earn(
        &mut self,
        points: i64,
        at: Timestamp,
        reason: EarnReason,
    ) -> Result<Entry, Refusal> {
        if points <= 0 {
            return Err(Refusal::NotPositive { points });
        }
        if let EarnReason::Adjustment { note } = &reason
            && note.trim().is_empty()
        {
            return Err(Refusal::NoNote);
        }
        self.record(Entry { at, points, kind: EntryKind::Earn { reason }, key: None })
    }

    /// Credits a purchase at the multiplier of the tier held at `at`, reached before this
    /// purchase (it counts towards the tier from the next one on). An amount worth less than
    /// one point is refused as `NotPositive { points: 0 }`, which callers may ignore.
    pub fn earn_purchase(
        &mut self,
        order: ExternalId,
        amount: Money,
        at: Timestamp,
        programme: &Programme,
    ) -> Result<Entry, Refusal> {
        let points = programme.purchase_points(amount, self.tier_at(at, programme));
        self.earn(points, at, EarnReason::Purchase { order, amount })
    }

    /// A person's correction of either sign; taking back more than the balance is refused
    /// (the balance never goes negative).
    pub fn adjust(&mut self, points: i64, at: Timestamp, note: &str) -> Result<Entry, Refusal> {
        if points == 0 {
            return Err(Refusal::ZeroAdjustment);
        }
        if note.trim().is_empty() {
            return Err(Refusal::NoNote);
        }
        let reason = EarnReason::Adjustment { note: note.trim().to_string() };
        self.record(Entry { at, points, kind: EntryKind::Earn { reason }, key: None })
    }

    /// Spends `points` (above zero, at most the balance) on `reward`, oldest lots first.
    /// Run [`Account::expire_due`] first: this does not know the expiry rule, and points past
    /// their expiry but not yet expired are still in the balance.
    pub fn redeem(
        &mut self,
        points: i64,
        at: Timestamp,
        reward: ExternalId,
    ) -> Result<Entry, Refusal> {
        if points <= 0 {
            return Err(Refusal::NotPositive { points });
        }
        let kind = EntryKind::Redeem { reward };
        self.record(Entry { at, points: -points, kind, key: None })
    }

    /// Redeems a catalogue reward at its cost, if it is active.
    pub fn redeem_reward(&mut self, reward: &Reward, at: Timestamp) -> Result<Entry, Refusal> {
        if !reward.active {
            return Err(Refusal::Inactive { reward: reward.key.clone() });
        }
        self.redeem(reward.cost, at, reward.key.clone())
    }

    /// Expires every lot at least `expiry_days` old at `now`, as one entry (lots are in earn
    /// order, so the oldest-first consumption of its total on replay is exactly those lots).
    /// `None` when nothing is due or points never expire.
    pub fn expire_due(&mut self, now: Timestamp, programme: &Programme) -> Option<Entry> {
        let cutoff = days_before(now, programme.expiry_days?)?;
        let due: i64 =
            self.lots.iter().take_while(|l| l.earned_at <= cutoff).map(|l| l.remaining).sum();
        if due == 0 {
            return None;
        }
        let entry = Entry { at: now, points: -due, kind: EntryKind::Expire, key: None };
        self.apply(&entry).expect("expiring existing lots stays within the balance");
        Some(entry)
    }

    /// When the oldest lot expires and how many points it holds, for "120 points expire on
    /// 1 March"; `None` without lots or expiry.
    pub fn next_expiry(&self, programme: &Programme) -> Option<(Timestamp, i64)> {
        let lot = self.lots.first()?;
        let days = TimeDelta::days(i64::from(programme.expiry_days?));
        Some((lot.earned_at.checked_add_signed(days)?, lot.remaining))
    }

    /// Records a change asked for by a caller. The size cap lives here, not in `apply`: an
    /// expiry may sum many lots, and a stored ledger must replay whatever it holds.
    fn record(&mut self, entry: Entry) -> Result<Entry, Refusal> {
        if entry.points.unsigned_abs() > MAX_ENTRY_POINTS.unsigned_abs() {
            return Err(Refusal::TooLarge { points: entry.points });
        }
        self.apply(&entry)?;
        Ok(entry)
    }

    /// The one place the account changes. Leaves the account untouched on refusal.
    fn apply(&mut self, e: &Entry) -> Result<(), Refusal> {
        if e.points > 0 {
            let too_large = Refusal::TooLarge { points: e.points };
            self.balance = self.balance.checked_add(e.points).ok_or(too_large)?;
            self.totals.earned = self.totals.earned.saturating_add(e.points);
            let i = self.lots.partition_point(|l| l.earned_at <= e.at);
            self.lots.insert(i, Lot { earned_at: e.at, remaining: e.points });
            self.earnings.push((e.at, e.points));
            return Ok(());
        }
        let wanted = e.points.checked_neg().unwrap_or(i64::MAX);
        if wanted > self.balance {
            return Err(Refusal::Insufficient { balance: self.balance, wanted });
        }
        self.consume(wanted);
        self.balance -= wanted;
        match e.kind {
            EntryKind::Redeem { .. } => {
                self.totals.redeemed = self.totals.redeemed.saturating_add(wanted)
            }
            EntryKind::Expire => self.totals.expired = self.totals.expired.saturating_add(wanted),
            EntryKind::Earn { .. } => {
                self.totals.deducted = self.totals.deducted.saturating_add(wanted)
            }
        }
        Ok(())
    }

    /// Takes `points` (at most the balance) from the oldest lots.
    fn consume(&mut self, mut points: i64) {
        let mut spent = 0;
        for lot in &mut self.lots {
            if points == 0 {
                break;
            }
            let take = lot.remaining.min(points);
            lot.remaining -= take;
            points -= take;
            if lot.remaining == 0 {
                spent += 1;
            }
        }
        self.lots.drain(..spent);
    }
}

/// `now` minus `days`, or `None` if that is before the representable range.
fn days_before(now: Timestamp, days: u32) -> Option<Timestamp> {
    now.checked_sub_signed(TimeDelta::days(i64::from(days)))
}

//! A loyalty programme: points earned on purchases and activities, spent on rewards, expiring
//! oldest first, and tiers held by the points earned in a rolling window.
//!
//! - [`Programme`]: the settings, checked by [`Programme::check`] before they are saved.
//! - [`Entry`]: one line of a member's append-only ledger; the balance is the sum of the ledger.
//! - [`Account`]: the fold of a member's entries ([`Account::replay`]); its methods validate a
//!   change and return the [`Entry`] to append, or a [`Refusal`].
//! - [`Reward`]: the catalogue; [`Figures`]: programme totals over many accounts.
//!
//! # How a store is meant to use this
//!
//! Recording is read–decide–append in one transaction per member: load the member's entries,
//! `Account::replay`, call `expire_due(now)` (append its entry, if any) and then the change
//! (`earn_purchase`, `redeem_reward`...), append the returned entries, commit. Two concurrent
//! writers for one member must not both append (a per-member lock or an expected ledger
//! length), or two redemptions could each see the same balance.
//!
//! Idempotency keys are carried, not checked, here. Derive them from the source event so a
//! retry appends nothing: `order:<id>` for a purchase, `survey:<response>`, `review:<id>`,
//! `referral:<customer>`, `campaign:<id>:<customer>`, and the client's request id for a
//! redemption or adjustment. Expiry needs none: once appended, nothing is due until later.
//! On a duplicate key the store should answer with the entry already stored, not an error.
//!
//! Tiers are not stored facts: the tier at any moment follows from the entries
//! ([`Account::tier_at`]), and it can fall with no entry appended, as old earnings leave the
//! window. To tell a member of a change, keep the last tier announced and compare it with
//! [`TierChange::between`] after each earning and in a daily job. Entries may arrive out of
//! date order (a late order import); lots stay in earn-date order regardless, and tiers and
//! expiry read the dates, not the append order.
//!
//! Purchases are priced in the programme's currency: converting other currencies, and taking
//! points back on refunds (a negative [`Account::adjust`]), are the caller's decisions.

mod account;
mod figures;
mod ledger;
mod programme;
mod reward;

pub use account::{Account, LedgerError, Lot, MAX_ENTRY_POINTS, Refusal, Totals};
pub use figures::{Figures, TierCount};
pub use ledger::{EarnReason, Entry, EntryKind};
pub use programme::{Programme, Tier, TierChange};
pub use reward::Reward;

#[cfg(test)]
mod props;
#[cfg(test)]
mod tests;

//! The ledger: an append-only list of signed point entries, one list per member.
//!
//! Entries are facts and are never edited: a mistake is corrected by a new entry (a manual
//! adjustment). Each entry's sign follows from its kind (checked on replay): earnings are
//! positive, redemptions and expiries negative, and only a manual adjustment may be either.

use crate::money::Money;
use crate::value::{ExternalId, Timestamp};
use serde::{Deserialize, Serialize};

/// One line of a member's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When the points moved: the earn date of a lot, from which expiry and the tier window
    /// count.
    pub at: Timestamp,
    /// Signed: the balance is the sum of the ledger.
    pub points: i64,
    pub kind: EntryKind,
    /// A caller-chosen key the store keeps unique per programme, so that a retried request or a
    /// re-run import appends nothing new (see the module docs for the suggested shapes).
    pub key: Option<String>,
}

impl Entry {
    /// The same entry with an idempotency key.
    pub fn with_key(self, key: impl Into<String>) -> Entry {
        Entry { key: Some(key.into()), ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EntryKind {
    /// Points credited (or, for a manual adjustment only, taken back).
    Earn { reason: EarnReason },
    /// Points spent on a reward from the catalogue (or a reward reference the caller chose).
    Redeem { reward: ExternalId },
    /// Points that reached the programme's expiry, oldest first.
    Expire,
}

/// Why points were earned: the reference lets a person trace the entry to its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EarnReason {
    /// The amount is kept as the basis of the points, so a changed rate can be explained later.
    Purchase {
        order: ExternalId,
        #[serde(with = "crate::money::decimal")]
        amount: Money,
    },
    Survey {
        response: ExternalId,
    },
    Review {
        review: ExternalId,
    },
    Referral {
        referred: ExternalId,
    },
    Campaign {
        campaign: ExternalId,
    },
    /// A person's correction, either sign; the note says why.
    Adjustment {
        note: String,
    },
}

impl EntryKind {
    /// Whether `points` has the sign this kind of entry must have.
    pub(crate) fn sign_ok(&self, points: i64) -> bool {
        match self {
            EntryKind::Earn { reason: EarnReason::Adjustment { .. } } => points != 0,
            EntryKind::Earn { .. } => points > 0,
            EntryKind::Redeem { .. } | EntryKind::Expire => points < 0,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            EntryKind::Earn { .. } => "earn",
            EntryKind::Redeem { .. } => "redeem",
            EntryKind::Expire => "expire",
        }
    }
}

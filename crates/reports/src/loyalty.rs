//! The loyalty programme over a stored company: a change is decided by the domain rules
//! (`rapport_core::loyalty`) inside the store's per-member transaction, expiring what is due
//! first; a member's view (balance, tier, progress, next expiry, recent entries); and the
//! programme figures (members, liability, redemption rate, tiers).

use crate::{ReportError, ReportResult};
use chrono::SubsecRound;
use rapport_core::loyalty::{
    Account, EarnReason, Entry, Figures, Programme, Refusal, Reward, Totals,
};
use rapport_core::{ExternalId, Money, Timestamp};
use rapport_store::{Backend, Decide, LoyaltyWrite, Recorded, StoreError, StoredEntry};
use serde::Serialize;

/// A change to a member's points.
#[derive(Debug, Clone)]
pub enum Change {
    /// Points for an activity (survey, review, referral, campaign bonus, manual credit).
    Earn { points: i64, reason: EarnReason },
    /// A purchase placed at `at`, priced by the programme at the member's tier then.
    Purchase { order: ExternalId, amount: Money, at: Timestamp },
    /// A reward from the catalogue, at its cost.
    Redeem { reward: ExternalId },
    /// A person's correction of either sign.
    Adjust { points: i64, note: String },
}

/// Records `change` for `customer` at `now`; with `key`, a retry answers with what the first
/// request recorded. An unknown reward is `Invalid` on `reward`; before a programme is set up,
/// `NotFound`.
pub async fn record(
    store: &dyn Backend,
    customer: &ExternalId,
    change: Change,
    key: Option<String>,
    now: Timestamp,
) -> ReportResult<Recorded> {
    let w = write(store, customer, change, key, now).await?;
    Ok(store.record_loyalty(&w.customer, w.key.as_deref(), w.decide, now.trunc_subsecs(6)).await?)
}

/// The change as a write for [`LoyaltyStore::record_loyalty_batch`] (the server commits
/// concurrent requests' changes together); the reward of a redemption is read now.
///
/// [`LoyaltyStore::record_loyalty_batch`]: rapport_store::LoyaltyStore::record_loyalty_batch
pub async fn write(
    store: &dyn Backend,
    customer: &ExternalId,
    change: Change,
    key: Option<String>,
    now: Timestamp,
) -> ReportResult<LoyaltyWrite> {
    // Stored to the microsecond: what is answered now equals what a retry reads back.
    let now = now.trunc_subsecs(6);
    let reward = match &change {
        Change::Redeem { reward } => Some(reward_of(store, reward).await?),
        _ => None,
    };
    let stored_key = key.clone();
    let decide: Decide = Box::new(move |account, programme| {
        decide(account, programme, change, reward, stored_key, now)
    });
    Ok(LoyaltyWrite { customer: customer.clone(), key, decide })
}

async fn reward_of(store: &dyn Backend, key: &ExternalId) -> ReportResult<Reward> {
    let rewards = store.rewards().await?;
    rewards.into_iter().find(|r| &r.key == key).ok_or_else(|| ReportError::Invalid {
        field: "reward",
        reason: format!("there is no reward '{key}' in the catalogue"),
    })
}

/// Expires what is due, then applies the change; the key goes on the change's entry.
fn decide(
    mut account: Account,
    programme: &Programme,
    change: Change,
    reward: Option<Reward>,
    key: Option<String>,
    now: Timestamp,
) -> Result<Vec<Entry>, Refusal> {
    let mut out: Vec<Entry> = account.expire_due(now, programme).into_iter().collect();
    let entry = match change {
        Change::Earn { points, reason } => account.earn(points, now, reason)?,
        Change::Purchase { order, amount, at } => {
            account.earn_purchase(order, amount, at.min(now), programme)?
        }
        Change::Redeem { .. } => {
            let reward = reward.expect("a redemption's reward is read before deciding");
            account.redeem_reward(&reward, now)?
        }
        Change::Adjust { points, note } => account.adjust(points, now, &note)?,
    };
    out.push(match key {
        Some(k) => entry.with_key(k),
        None => entry,
    });
    Ok(out)
}

/// What one run of [`credit_purchases`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Credited {
    pub orders: u64,
    pub points: i64,
}

/// Purchase orders credited per transaction.
const CREDIT_BATCH: usize = 1_000;

/// Credits every purchase placed since the programme's launch and not yet credited, a batch
/// per transaction, each with the key `order:<id>` (so a batch retried after a crash credits
/// nothing twice). An order too small for a point, or whose customer was erased meanwhile,
/// earns nothing.
pub async fn credit_purchases(store: &dyn Backend, now: Timestamp) -> ReportResult<Credited> {
    let now = now.trunc_subsecs(6);
    let mut done = Credited::default();
    loop {
        let batch = store.purchases_to_credit(CREDIT_BATCH).await?;
        let Some(last) = batch.last().map(|p| p.key) else { return Ok(done) };
        let writes = batch
            .into_iter()
            .map(|p| {
                let key = format!("order:{}", p.order);
                let change = Change::Purchase { order: p.order, amount: p.amount, at: p.at };
                let stored_key = Some(key.clone());
                let decide: Decide = Box::new(move |account, programme| {
                    decide(account, programme, change, None, stored_key, now)
                });
                LoyaltyWrite { customer: p.customer, key: Some(key), decide }
            })
            .collect();
        for outcome in store.record_loyalty_batch(writes, now).await? {
            if let Ok(Recorded::New { entries, .. }) = outcome {
                done.orders += 1;
                done.points += entries.last().map_or(0, |e| e.entry.points);
            }
        }
        store.mark_credited(last).await?;
    }
}

/// A member as their customer page and the API show them.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    /// After expiring what is due now (the next change appends that expiry).
    pub balance: i64,
    pub tier: String,
    pub benefits: Vec<String>,
    /// Points earned in the tier window.
    pub earned_in_window: i64,
    /// The next tier up and the points still to earn for it.
    pub next_tier: Option<(String, i64)>,
    /// When the oldest points expire and how many.
    pub next_expiry: Option<(Timestamp, i64)>,
    pub totals: Totals,
    /// The latest entries, newest first.
    pub recent: Vec<StoredEntry>,
}

/// How many entries a member's view lists.
const RECENT: usize = 20;

/// A customer's membership at `now`: `None` before a programme exists or before they earned.
pub async fn member(
    store: &dyn Backend,
    customer: &ExternalId,
    now: Timestamp,
) -> ReportResult<Option<Member>> {
    let Some(programme) = store.loyalty_programme().await? else { return Ok(None) };
    let stored = store.loyalty_entries(customer).await?;
    if stored.is_empty() {
        return Ok(None);
    }
    let entries: Vec<Entry> = stored.iter().map(|e| e.entry.clone()).collect();
    let mut account = Account::replay(&entries).map_err(StoreError::other)?;
    account.expire_due(now, &programme);
    let tier = account.tier_at(now, &programme);
    let earned = account.earned_within(now, &programme);
    let next_tier =
        programme.tiers.get(tier + 1).map(|t| (t.name.clone(), (t.threshold - earned).max(0)));
    let held = programme.tiers.get(tier);
    Ok(Some(Member {
        balance: account.balance(),
        tier: held.map(|t| t.name.clone()).unwrap_or_default(),
        benefits: held.map(|t| t.benefits.clone()).unwrap_or_default(),
        earned_in_window: earned,
        next_tier,
        next_expiry: account.next_expiry(&programme),
        totals: account.totals(),
        recent: stored.into_iter().rev().take(RECENT).collect(),
    }))
}

/// The programme with its figures at `now`.
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    pub programme: Programme,
    pub figures: Figures,
    /// Points redeemed per point earned; `None` before any are earned.
    pub redemption_rate: Option<f64>,
    pub rewards: Vec<Reward>,
}

/// The programme's overview; `NotFound` before one is set up.
pub async fn overview(store: &dyn Backend, now: Timestamp) -> ReportResult<Overview> {
    let programme = store
        .loyalty_programme()
        .await?
        .ok_or_else(|| StoreError::NotFound("loyalty programme".into()))?;
    let (ledgers, rewards) = tokio::try_join!(store.loyalty_ledgers(), store.rewards())?;
    let mut figures = Figures::empty(&programme);
    for l in &ledgers {
        let mut account = Account::replay(&l.entries).map_err(StoreError::other)?;
        account.expire_due(now, &programme);
        figures.add(&account, now, &programme);
    }
    let redemption_rate = figures.redemption_rate();
    Ok(Overview { programme, figures, redemption_rate, rewards })
}

/// Checks and stores the programme's settings.
pub async fn save_programme(
    store: &dyn Backend,
    programme: &Programme,
    now: Timestamp,
) -> ReportResult<()> {
    programme.check().map_err(invalid)?;
    Ok(store.save_loyalty_programme(programme, now).await?)
}

/// Checks and stores a reward.
pub async fn save_reward(store: &dyn Backend, reward: &Reward) -> ReportResult<()> {
    reward.check().map_err(invalid)?;
    Ok(store.save_reward(reward).await?)
}

fn invalid(e: rapport_core::FieldError) -> ReportError {
    ReportError::Invalid { field: "loyalty", reason: e.to_string() }
}

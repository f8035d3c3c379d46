//! Property tests: random sequences of operations through the `Account` API.

use super::*;
use crate::money::Money;
use crate::value::{ExternalId, Timestamp};
use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Earn(i64),
    /// An amount in ten-thousandths, up to 300.00.
    Purchase(i64),
    /// An earning dated before now: a late import.
    LateEarn {
        points: i64,
        days_back: i64,
    },
    Redeem(i64),
    AdjustDown(i64),
    Expire,
    /// Move the clock on by some hours (up to 60 days).
    Advance(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1..500i64).prop_map(Op::Earn),
        2 => (0..3_000_000i64).prop_map(Op::Purchase),
        1 => (1..300i64, 0..120i64).prop_map(|(points, days_back)| Op::LateEarn { points, days_back }),
        4 => (1..900i64).prop_map(Op::Redeem),
        1 => (1..300i64).prop_map(Op::AdjustDown),
        2 => Just(Op::Expire),
        3 => (0..24 * 60i64).prop_map(Op::Advance),
    ]
}

/// Short expiries and windows, so that sequences of a hundred steps cross them.
fn programme() -> impl Strategy<Value = Programme> {
    (prop::option::of(1..120u32), 1..200u32).prop_map(|(expiry_days, tier_window_days)| Programme {
        expiry_days,
        tier_window_days,
        ..Programme::default()
    })
}

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

/// The invariants that must hold after every step.
fn check(a: &Account, ledger: &[Entry]) -> Result<(), TestCaseError> {
    let sum: i64 = ledger.iter().map(|e| e.points).sum();
    prop_assert_eq!(a.balance(), sum);
    prop_assert!(a.balance() >= 0);
    prop_assert_eq!(a.balance(), a.lots().iter().map(|l| l.remaining).sum::<i64>());
    prop_assert!(a.lots().iter().all(|l| l.remaining > 0));
    prop_assert!(a.lots().windows(2).all(|w| w[0].earned_at <= w[1].earned_at));
    let t = a.totals();
    prop_assert_eq!(t.earned - t.redeemed - t.expired - t.deducted, a.balance());
    Ok(())
}

/// Applies one operation at `now`, appending what the account recorded to `ledger`.
fn step(
    a: &mut Account,
    ledger: &mut Vec<Entry>,
    op: Op,
    now: &mut Timestamp,
    p: &Programme,
) -> Result<(), TestCaseError> {
    let reason = || EarnReason::Campaign { campaign: id("spring") };
    match op {
        Op::Earn(points) => ledger.push(a.earn(points, *now, reason()).unwrap()),
        Op::LateEarn { points, days_back } => {
            ledger.push(a.earn(points, *now - TimeDelta::days(days_back), reason()).unwrap());
        }
        Op::Purchase(e4) => {
            let expected = p.purchase_points(Money::from_e4(e4), a.tier_at(*now, p));
            match a.earn_purchase(id("order"), Money::from_e4(e4), *now, p) {
                Ok(e) => {
                    prop_assert_eq!(e.points, expected);
                    ledger.push(e);
                }
                Err(r) => prop_assert_eq!(r, Refusal::NotPositive { points: 0 }),
            }
        }
        Op::Redeem(wanted) | Op::AdjustDown(wanted) => {
            let (balance, before) = (a.balance(), a.clone());
            let outcome = match op {
                Op::Redeem(_) => a.redeem(wanted, *now, id("mug")),
                _ => a.adjust(-wanted, *now, "correction"),
            };
            match outcome {
                Ok(e) => {
                    prop_assert!(wanted <= balance, "{} taken from {}", wanted, balance);
                    prop_assert_eq!(e.points, -wanted);
                    ledger.push(e);
                }
                Err(r) => {
                    prop_assert_eq!(r, Refusal::Insufficient { balance, wanted });
                    prop_assert!(wanted > balance);
                    prop_assert_eq!(&*a, &before);
                }
            }
        }
        Op::Expire => {
            ledger.extend(a.expire_due(*now, p));
            if let Some(days) = p.expiry_days {
                let cutoff = *now - TimeDelta::days(i64::from(days));
                prop_assert!(a.lots().iter().all(|l| l.earned_at > cutoff));
            }
            prop_assert_eq!(a.expire_due(*now, p), None);
        }
        Op::Advance(hours) => *now += TimeDelta::hours(hours),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// balance == sum of the ledger == sum of the lots, never below zero; exactly the
    /// affordable redemptions succeed; and replaying what was appended gives the same account.
    #[test]
    fn the_balance_is_the_ledger_and_only_affordable_redemptions_succeed(
        p in programme(),
        ops in prop::collection::vec(op(), 0..150),
    ) {
        let mut now = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let (mut a, mut ledger) = (Account::default(), Vec::new());
        for op in ops {
            step(&mut a, &mut ledger, op, &mut now, &p)?;
            check(&a, &ledger)?;
        }
        prop_assert_eq!(Account::replay(&ledger).unwrap(), a);
    }
}

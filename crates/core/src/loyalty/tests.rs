use super::*;
use crate::money::Money;
use crate::value::{ExternalId, Timestamp};
use chrono::{TimeDelta, TimeZone, Utc};

/// Midnight UTC, `d` days after 1 January 2024.
fn day(d: i64) -> Timestamp {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + TimeDelta::days(d)
}

fn id(s: &str) -> ExternalId {
    ExternalId::parse(s).unwrap()
}

fn money(s: &str) -> Money {
    Money::parse(s).unwrap()
}

fn survey(d: i64) -> EarnReason {
    EarnReason::Survey { response: id(&format!("resp-{d}")) }
}

fn lots(a: &Account) -> Vec<(Timestamp, i64)> {
    a.lots().iter().map(|l| (l.earned_at, l.remaining)).collect()
}

/// Earns each (day, points) through the API, keeping the ledger beside it.
fn earned(earnings: &[(i64, i64)]) -> (Account, Vec<Entry>) {
    let mut a = Account::default();
    let ledger = earnings.iter().map(|&(d, p)| a.earn(p, day(d), survey(d)).unwrap()).collect();
    (a, ledger)
}

#[test]
fn purchase_points_are_rounded_down_after_the_multiplier() {
    let p = Programme::default();
    assert_eq!(p.purchase_points(money("19.99"), 0), 19);
    assert_eq!(p.purchase_points(money("19.99"), 1), 24, "19.99 x 1.25 = 24.9875");
    assert_eq!(p.purchase_points(money("19.99"), 2), 29, "19.99 x 1.5 = 29.985");
    assert_eq!(p.purchase_points(money("0.99"), 2), 1, "0.99 x 1.5 = 1.485");
    assert_eq!(p.purchase_points(money("0.99"), 0), 0);
    assert_eq!(p.purchase_points(money("-50"), 0), 0, "a refund earns nothing");
    let triple = Programme { points_per_unit: 3, ..Programme::default() };
    assert_eq!(triple.purchase_points(money("3.3333"), 0), 9, "9.9999 is not 10");
    assert_eq!(triple.purchase_points(money("3.3334"), 0), 10);
    assert_eq!(triple.purchase_points(money("10"), 7), 30, "an unknown tier multiplies by 1");
}

#[test]
fn check_names_the_field_and_the_reason() {
    assert_eq!(Programme::default().check(), Ok(()));
    let bad = |f: &dyn Fn(&mut Programme)| {
        let mut p = Programme::default();
        f(&mut p);
        p.check().unwrap_err().to_string()
    };
    type Edit<'a> = &'a dyn Fn(&mut Programme);
    let cases: [(Edit, &str); 12] = [
        (
            &|p| p.tiers[2].threshold = 500,
            "tiers[2].threshold: must be above the previous tier's 500",
        ),
        (&|p| p.tiers[1].threshold = -1, "tiers[1].threshold: must be above the previous tier's 0"),
        (&|p| p.tiers[0].threshold = 10, "tiers[0].threshold: the first tier starts at 0, not 10"),
        (&|p| p.tiers.clear(), "tiers: at least one tier is needed"),
        (&|p| p.name = "  ".into(), "name: is required but empty or missing"),
        (&|p| p.points_per_unit = -1, "points_per_unit: must not be negative, not -1"),
        (&|p| p.review_points = 2_000_000, "review_points: must be at most 1000000, not 2000000"),
        (
            &|p| p.expiry_days = Some(0),
            "expiry_days: must be between 1 and 36500 days, not 0 (leave it out for points that never expire)",
        ),
        (&|p| p.tier_window_days = 0, "tier_window_days: must be between 1 and 36500 days, not 0"),
        (
            &|p| p.tiers[1].multiplier_pct = 0,
            "tiers[1].multiplier_pct: must be between 1 and 1000 percent (100 = ×1), not 0",
        ),
        (
            &|p| p.tiers[2].name = " silver".into(),
            "tiers[2].name: 'silver' is already the name of tiers[1]",
        ),
        (
            &|p| p.tiers[1].benefits[1] = " ".into(),
            "tiers[1].benefits[1]: is required but empty or missing",
        ),
    ];
    for (f, message) in cases {
        assert_eq!(bad(f), message);
    }
    assert_eq!(Programme { expiry_days: None, ..Programme::default() }.check(), Ok(()));
}

#[test]
fn redemptions_consume_the_oldest_lots_first() {
    let (mut a, _) = earned(&[(0, 100), (10, 50), (20, 200)]);
    let e = a.redeem(120, day(30), id("voucher-10")).unwrap();
    assert_eq!(
        (e.points, e.at, e.kind),
        (-120, day(30), EntryKind::Redeem { reward: id("voucher-10") })
    );
    assert_eq!(lots(&a), [(day(10), 30), (day(20), 200)]);
    a.redeem(30, day(31), id("mug")).unwrap();
    assert_eq!(lots(&a), [(day(20), 200)]);
    assert_eq!(a.balance(), 200);
    assert_eq!(a.totals(), Totals { earned: 350, redeemed: 150, expired: 0, deducted: 0 });
}

#[test]
fn a_refused_redemption_says_why_and_changes_nothing() {
    let (mut a, _) = earned(&[(0, 100), (10, 130)]);
    let before = a.clone();
    let refusal = a.redeem(300, day(20), id("bike")).unwrap_err();
    assert_eq!(refusal, Refusal::Insufficient { balance: 230, wanted: 300 });
    assert_eq!(refusal.to_string(), "the balance is 230 points; 300 are needed");
    assert_eq!(refusal.code(), "insufficient_points");
    assert_eq!(a.redeem(0, day(20), id("bike")), Err(Refusal::NotPositive { points: 0 }));
    assert_eq!(a.redeem(-5, day(20), id("bike")), Err(Refusal::NotPositive { points: -5 }));
    assert_eq!(a, before);
    assert_eq!(a.redeem(230, day(20), id("bike")).unwrap().points, -230, "all of it is affordable");
    assert_eq!(a.balance(), 0);
    assert!(a.lots().is_empty());
}

#[test]
fn expiry_takes_what_is_left_of_a_partly_spent_lot() {
    let p = Programme::default(); // points expire after 365 days
    let (mut a, mut ledger) = earned(&[(0, 100), (100, 80)]);
    ledger.push(a.redeem(30, day(200), id("mug")).unwrap());
    assert_eq!(lots(&a), [(day(0), 70), (day(100), 80)]);
    assert_eq!(a.next_expiry(&p), Some((day(365), 70)));
    assert_eq!(a.expire_due(day(364), &p), None, "a day early");
    let e = a.expire_due(day(365), &p).unwrap();
    assert_eq!((e.points, e.at, &e.kind), (-70, day(365), &EntryKind::Expire));
    ledger.push(e);
    assert_eq!(lots(&a), [(day(100), 80)]);
    assert_eq!(a.expire_due(day(365), &p), None, "nothing is due twice");
    ledger.push(a.expire_due(day(500), &p).unwrap());
    assert_eq!(ledger.last().unwrap().points, -80);
    assert_eq!(a.balance(), 0);
    assert_eq!(a.totals(), Totals { earned: 180, redeemed: 30, expired: 150, deducted: 0 });
    assert_eq!(Account::replay(&ledger).unwrap(), a);
}

#[test]
fn points_never_expire_without_an_expiry() {
    let p = Programme { expiry_days: None, ..Programme::default() };
    let (mut a, _) = earned(&[(0, 100)]);
    assert_eq!(a.expire_due(day(10_000), &p), None);
    assert_eq!(a.next_expiry(&p), None);
    assert_eq!(a.balance(), 100);
}

#[test]
fn a_late_entry_takes_its_place_by_earn_date() {
    let p = Programme::default();
    let (mut a, _) = earned(&[(50, 100), (10, 40)]);
    assert_eq!(lots(&a), [(day(10), 40), (day(50), 100)]);
    a.redeem(60, day(60), id("mug")).unwrap();
    assert_eq!(lots(&a), [(day(50), 80)]);
    assert_eq!(a.expire_due(day(375), &p), None, "the late lot was spent first");
}

#[test]
fn tiers_rise_and_fall_as_the_window_slides() {
    let p = Programme::default(); // Bronze 0, Silver 500, Gold 2000 over 365 days
    let (mut a, _) = earned(&[(0, 300), (100, 300)]);
    assert_eq!(a.tier_at(day(99), &p), 0);
    assert_eq!(a.tier_at(day(100), &p), 1, "600 earned: Silver");
    assert_eq!(a.earned_within(day(364), &p), 600);
    assert_eq!(a.tier_at(day(365), &p), 0, "day 0 is 365 days old and out of the window");
    assert_eq!(TierChange::between(1, a.tier_at(day(365), &p)), TierChange::Downgrade);
    a.earn(1800, day(400), survey(400)).unwrap();
    assert_eq!(a.earned_within(day(400), &p), 2100);
    assert_eq!(a.tier_at(day(400), &p), 2);
    assert_eq!(TierChange::between(0, 2), TierChange::Upgrade);
    assert_eq!(a.tier_at(day(465), &p), 1, "the day-100 earning left: 1800 is Silver");
    assert_eq!(TierChange::between(1, 1), TierChange::Same);
}

#[test]
fn redeeming_does_not_lower_the_tier() {
    let p = Programme::default();
    let (mut a, _) = earned(&[(0, 600)]);
    a.redeem(600, day(1), id("bike")).unwrap();
    assert_eq!(a.tier_at(day(1), &p), 1, "tiers count points earned, not held");
}

#[test]
fn the_multiplier_is_that_of_the_tier_held_before_the_purchase() {
    let p = Programme::default();
    let mut a = Account::default();
    let buy = |a: &mut Account, order: &str, amount: &str, d: i64| {
        a.earn_purchase(id(order), money(amount), day(d), &p).map(|e| e.points)
    };
    assert_eq!(buy(&mut a, "A1", "499.99", 0), Ok(499));
    assert_eq!(buy(&mut a, "A2", "100", 1), Ok(100), "499 is still Bronze: x1");
    assert_eq!(buy(&mut a, "A3", "10", 2), Ok(12), "now Silver: 10 x 1.25 = 12.5");
    assert_eq!(buy(&mut a, "A4", "0.50", 3), Err(Refusal::NotPositive { points: 0 }));
    assert_eq!(a.balance(), 611);
}

#[test]
fn negative_adjustments_take_points_back_but_not_tier_progress() {
    let p = Programme::default();
    let (mut a, mut ledger) = earned(&[(0, 600)]);
    let e = a.adjust(-200, day(1), " duplicate order ").unwrap();
    let reason = EarnReason::Adjustment { note: "duplicate order".into() };
    assert_eq!((e.points, &e.kind), (-200, &EntryKind::Earn { reason }));
    ledger.push(e);
    assert_eq!((a.balance(), a.earned_within(day(1), &p), a.tier_at(day(1), &p)), (400, 600, 1));
    assert_eq!(a.totals().deducted, 200);
    assert_eq!(a.adjust(0, day(1), "x"), Err(Refusal::ZeroAdjustment));
    assert_eq!(a.adjust(50, day(1), "  "), Err(Refusal::NoNote));
    assert_eq!(
        a.adjust(-500, day(1), "x"),
        Err(Refusal::Insufficient { balance: 400, wanted: 500 })
    );
    ledger.push(a.adjust(25, day(2), "goodwill").unwrap());
    assert_eq!(a.earned_within(day(2), &p), 625, "a manual credit is earned like any other");
    assert_eq!(Account::replay(&ledger).unwrap(), a);
}

#[test]
fn earning_refuses_what_is_not_a_credit() {
    let mut a = Account::default();
    assert_eq!(a.earn(0, day(0), survey(0)), Err(Refusal::NotPositive { points: 0 }));
    assert_eq!(a.earn(-3, day(0), survey(0)), Err(Refusal::NotPositive { points: -3 }));
    let big = MAX_ENTRY_POINTS + 1;
    assert_eq!(a.earn(big, day(0), survey(0)), Err(Refusal::TooLarge { points: big }));
    let note = EarnReason::Adjustment { note: String::new() };
    assert_eq!(a.earn(5, day(0), note), Err(Refusal::NoNote));
    assert_eq!(a, Account::default());
}

#[test]
fn an_expiry_may_be_larger_than_one_entry_may_earn() {
    let p = Programme::default();
    let (mut a, mut ledger) = earned(&[(0, MAX_ENTRY_POINTS), (1, MAX_ENTRY_POINTS)]);
    ledger.push(a.expire_due(day(400), &p).unwrap());
    assert_eq!(ledger.last().unwrap().points, -2 * MAX_ENTRY_POINTS);
    assert_eq!(Account::replay(&ledger).unwrap(), a);
    let overflowing = [ledger[0].clone(), Entry { points: i64::MAX, ..ledger[0].clone() }];
    let e = Account::replay(&overflowing).unwrap_err();
    assert_eq!(e.index, 1, "{e}");
}

fn reward(active: bool) -> Reward {
    Reward { key: id("mug"), name: "Enamel mug".into(), cost: 250, active }
}

#[test]
fn only_an_active_reward_can_be_redeemed() {
    let (mut a, _) = earned(&[(0, 300)]);
    let refusal = a.redeem_reward(&reward(false), day(1)).unwrap_err();
    assert_eq!(refusal.to_string(), "the reward 'mug' is not active");
    assert_eq!(a.balance(), 300);
    let e = a.redeem_reward(&reward(true), day(1)).unwrap();
    assert_eq!((e.points, e.kind), (-250, EntryKind::Redeem { reward: id("mug") }));
    let refusal = a.redeem_reward(&reward(true), day(2)).unwrap_err();
    assert_eq!(refusal, Refusal::Insufficient { balance: 50, wanted: 250 });
}

#[test]
fn reward_check_names_the_field() {
    assert_eq!(reward(true).check(), Ok(()));
    let err = |r: Reward| r.check().unwrap_err().to_string();
    assert_eq!(
        err(Reward { cost: 0, ..reward(true) }),
        "cost: must be between 1 and 10000000 points, not 0"
    );
    assert_eq!(
        err(Reward { name: " ".into(), ..reward(true) }),
        "name: is required but empty or missing"
    );
    assert_eq!(
        err(Reward { key: id("mug 2"), ..reward(true) }),
        "key: 'mug 2' must be 1-64 letters, digits, '-', '_' or '.'"
    );
}

#[test]
fn replay_refuses_a_ledger_that_does_not_add_up() {
    let (_, mut ledger) = earned(&[(0, 10)]);
    let mut overdrawn = ledger.clone();
    overdrawn[0].points = 5;
    overdrawn.push(Entry { at: day(1), points: -6, kind: EntryKind::Expire, key: None });
    let e = Account::replay(&overdrawn).unwrap_err();
    assert_eq!(e.to_string(), "loyalty ledger entry 1: the balance is 5 points; 6 are needed");
    ledger[0].points = -10;
    let e = Account::replay(&ledger).unwrap_err();
    assert_eq!(
        e,
        LedgerError {
            index: 0,
            reason: "-10 points is the wrong sign for an entry of kind earn".into()
        }
    );
}

#[test]
fn entries_and_settings_round_trip_through_json() {
    let mut a = Account::default();
    let e = a.earn_purchase(id("A-17"), money("12.5"), day(0), &Programme::default()).unwrap();
    let e = e.with_key("order:A-17");
    let json = serde_json::to_value(&e).unwrap();
    let expected = serde_json::json!({
        "at": "2024-01-01T00:00:00Z", "points": 12, "key": "order:A-17",
        "kind": {"type": "earn", "reason": {"type": "purchase", "order": "A-17", "amount": "12.50"}}
    });
    assert_eq!(json, expected);
    assert_eq!(serde_json::from_value::<Entry>(json).unwrap(), e);
    let p = Programme::default();
    let back: Programme = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
    assert_eq!(back, p);
}

#[test]
fn figures_add_up_over_members() {
    let p = Programme::default();
    let (mut a, _) = earned(&[(0, 600)]);
    a.redeem(200, day(1), id("mug")).unwrap();
    let (mut b, _) = earned(&[(0, 2500)]);
    b.adjust(-100, day(2), "returned goods").unwrap();
    let (mut c, _) = earned(&[(0, 100)]);
    c.expire_due(day(400), &p).unwrap();
    let f = Figures::of([&a, &b, &c], day(10), &p);
    assert_eq!((f.members, f.liability), (3, 400 + 2400));
    assert_eq!((f.earned, f.redeemed, f.expired, f.deducted), (3200, 200, 100, 100));
    assert_eq!(f.earned - f.redeemed - f.expired - f.deducted, f.liability);
    let tiers: Vec<(&str, u64)> = f.tiers.iter().map(|t| (t.tier.as_str(), t.members)).collect();
    assert_eq!(tiers, [("Bronze", 1), ("Silver", 1), ("Gold", 1)]);
    assert_eq!(f.redemption_rate(), Some(0.0625));
    assert_eq!(Figures::empty(&p).redemption_rate(), None);
}

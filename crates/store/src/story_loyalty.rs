//! The loyalty story: nothing recorded before a programme exists; settings and the catalogue
//! read back; earning with an idempotency key (a retry appends nothing, another member may not
//! reuse it); a refused redemption appends nothing; 100 concurrent redemptions that together
//! exceed the balance, of which exactly the affordable ones succeed; purchases to credit since
//! the launch, in key order, and a batch of changes in one transaction; erasure.

use crate::story::{group, id, line_row, ts};
use crate::{Backend, Decide, IngestOptions, LoyaltyWrite, Recorded, StoreError};
use rapport_core::loyalty::{EarnReason, Programme, Refusal, Reward};
use rapport_core::*;

fn earn(points: i64, key: &str) -> Decide {
    let key = key.to_string();
    Box::new(move |mut account, _| {
        let reason = EarnReason::Survey { response: id(&key.replace(':', "-")) };
        Ok(vec![account.earn(points, ts("2026-03-01"), reason)?.with_key(key)])
    })
}

fn redeem(points: i64) -> Decide {
    Box::new(move |mut account, _| Ok(vec![account.redeem(points, ts("2026-03-02"), id("mug"))?]))
}

fn balance(r: &Recorded) -> i64 {
    match r {
        Recorded::New { balance, .. } | Recorded::Replayed { balance, .. } => *balance,
        Recorded::Refused(r) => panic!("refused: {r}"),
    }
}

pub async fn loyalty_ledger(s: &dyn Backend) {
    let o = IngestOptions::default();
    let people = ["l1", "l2"].iter().map(|c| Customer::bare(id(c))).collect();
    s.upsert_customers(people, &o).await.unwrap();
    let now = ts("2026-03-01");

    // No programme yet: nothing can be recorded.
    let err = s.record_loyalty(&id("l1"), None, earn(10, "x"), now).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound(ref w) if w.contains("programme")), "{err:?}");
    assert_eq!(s.loyalty_programme().await.unwrap(), None);
    let programme = Programme::default();
    s.save_loyalty_programme(&programme, now).await.unwrap();
    assert_eq!(s.loyalty_programme().await.unwrap(), Some(programme));

    let reward = |key: &str, cost, active| Reward { key: id(key), name: key.into(), cost, active };
    s.save_reward(&reward("mug", 300, true)).await.unwrap();
    s.save_reward(&reward("hat", 90, true)).await.unwrap();
    s.save_reward(&reward("hat", 100, false)).await.unwrap();
    assert_eq!(s.rewards().await.unwrap(), [reward("hat", 100, false), reward("mug", 300, true)]);

    // Earning with a key; the retry answers with the same entry and appends nothing.
    let l1 = id("l1");
    let first = s.record_loyalty(&l1, Some("survey:r1"), earn(250, "survey:r1"), now);
    let first = first.await.unwrap();
    let Recorded::New { entries, balance: 250 } = &first else { panic!("{first:?}") };
    let again = s.record_loyalty(&l1, Some("survey:r1"), earn(250, "survey:r1"), now);
    let again = again.await.unwrap();
    assert_eq!(again, Recorded::Replayed { entries: entries.clone(), balance: 250 });
    let err = s.record_loyalty(&id("l2"), Some("survey:r1"), earn(5, "survey:r1"), now).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "another member's key: {err:?}");
    let err = s.record_loyalty(&id("nobody"), None, earn(5, "k"), now).await;
    assert!(matches!(err, Err(StoreError::NotFound(_))), "{err:?}");

    // A redemption above the balance is refused and appends nothing.
    let refused = s.record_loyalty(&id("l1"), None, redeem(251), now).await.unwrap();
    assert_eq!(refused, Recorded::Refused(Refusal::Insufficient { balance: 250, wanted: 251 }));
    assert_eq!(s.loyalty_entries(&id("l1")).await.unwrap().len(), 1);

    // 100 redemptions of 10 at once against 250: exactly 25 succeed, the balance is 0, and the
    // ledger adds up to it.
    let all = (0..100).map(|_| s.record_loyalty(&l1, None, redeem(10), now));
    let outcomes = futures_util::future::join_all(all).await;
    let ok = outcomes.iter().filter(|r| matches!(r, Ok(Recorded::New { .. }))).count();
    let refused = outcomes
        .iter()
        .filter(|r| matches!(r, Ok(Recorded::Refused(Refusal::Insufficient { .. }))))
        .count();
    assert_eq!((ok, refused), (25, 75), "{:?}", outcomes.iter().find(|r| r.is_err()));
    let entries = s.loyalty_entries(&id("l1")).await.unwrap();
    assert_eq!(entries.len(), 26);
    assert_eq!(entries.iter().map(|e| e.entry.points).sum::<i64>(), 0);
    let last = s.record_loyalty(&id("l1"), None, earn(7, "survey:r2"), now).await.unwrap();
    assert_eq!(balance(&last), 7);

    // Purchases placed since the launch (2026-03-01) are to be credited, returns never.
    let mut rows = vec![
        line_row("lo-0", "l1", "2026-02-01", "sku", 1, "99"),
        line_row("lo-1", "l1", "2026-03-05", "sku", 1, "25.50"),
        line_row("lo-2", "l2", "2026-03-06", "sku", 2, "5"),
        line_row("lo-3", "l2", "2026-03-07", "sku", 1, "7"),
    ];
    rows[3].status = Some(OrderStatus::Return);
    s.ingest_orders(group(rows), &o).await.unwrap();
    let due = s.purchases_to_credit(10).await.unwrap();
    let seen: Vec<(&str, &str, String)> =
        due.iter().map(|p| (p.order.as_str(), p.customer.as_str(), p.amount.to_string())).collect();
    assert_eq!(seen, [("lo-1", "l1", "25.50".into()), ("lo-2", "l2", "10.00".into())]);
    assert!(due[0].key < due[1].key && due[1].at == ts("2026-03-06"));
    assert_eq!(s.purchases_to_credit(1).await.unwrap().len(), 1);
    s.mark_credited(due[0].key).await.unwrap();
    assert_eq!(s.purchases_to_credit(10).await.unwrap().len(), 1);
    s.mark_credited(due[1].key).await.unwrap();
    s.mark_credited(due[0].key).await.unwrap();
    assert!(s.purchases_to_credit(10).await.unwrap().is_empty(), "the mark never goes back");

    // A batch: each change its own outcome, one transaction.
    let write = |who: &str, points, key: &str| LoyaltyWrite {
        customer: id(who),
        key: Some(key.into()),
        decide: earn(points, key),
    };
    let writes = vec![write("l2", 3, "b:1"), write("nobody", 3, "b:2"), write("l2", 4, "b:3")];
    let out = s.record_loyalty_batch(writes, now).await.unwrap();
    assert!(matches!(out[0], Ok(Recorded::New { balance: 3, .. })), "{out:?}");
    assert!(matches!(out[1], Err(StoreError::NotFound(_))), "{out:?}");
    assert!(matches!(out[2], Ok(Recorded::New { balance: 7, .. })), "{out:?}");
    let again = s.record_loyalty_batch(vec![write("l2", 3, "b:1")], now).await.unwrap();
    assert!(matches!(again[0], Ok(Recorded::Replayed { balance: 7, .. })), "{again:?}");

    // Ledgers by member; erasure takes a member's ledger with them.
    s.record_loyalty(&id("l2"), None, earn(40, "survey:r3"), now).await.unwrap();
    let ledgers = s.loyalty_ledgers().await.unwrap();
    assert_eq!(ledgers.iter().map(|l| l.entries.len()).collect::<Vec<_>>(), [27, 3]);
    s.delete_customer(&id("l2")).await.unwrap();
    assert_eq!(s.loyalty_ledgers().await.unwrap().len(), 1);
    assert!(matches!(s.loyalty_entries(&id("l2")).await, Err(StoreError::NotFound(_))));
}

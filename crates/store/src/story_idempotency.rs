//! The idempotency-key story, run by every backend: claims, replay, mismatch, release, expiry,
//! and exactly one winner among concurrent claims.

use crate::story::ts;
use crate::{Claimed, IdempotencyClaim, IdempotencyStore, StoredResponse};
use chrono::Duration;
use rapport_core::Timestamp;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

fn claim(principal: &str, key: &str, fingerprint: &str, now: Timestamp) -> IdempotencyClaim {
    IdempotencyClaim {
        principal: principal.into(),
        key: key.into(),
        fingerprint: fingerprint.into(),
        now,
        expired_before: now - Duration::hours(24),
        abandoned_before: now - Duration::minutes(10),
    }
}

/// Polls every future until all are done, so their store calls overlap (no runtime needed).
pub(crate) async fn join_all<T>(
    mut futures: Vec<Pin<Box<dyn Future<Output = T> + Send + '_>>>,
) -> Vec<T> {
    let mut out: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none()
                && let Poll::Ready(v) = f.as_mut().poll(cx)
            {
                *slot = Some(v);
            }
        }
        if out.iter().all(Option::is_some) { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Claim, replay, mismatch, release and isolation between principals.
pub async fn idempotency_keys(s: &dyn IdempotencyStore) {
    let t0 = ts("2030-01-01 10:00");
    let first = claim("key:1", "k", "f1", t0);
    assert_eq!(s.claim_idempotency_key(&first).await.unwrap(), Claimed::Fresh);
    assert_eq!(s.claim_idempotency_key(&first).await.unwrap(), Claimed::InFlight);
    let other = claim("key:1", "k", "f2", t0);
    assert_eq!(s.claim_idempotency_key(&other).await.unwrap(), Claimed::Mismatch);
    let elsewhere = claim("user:1", "k", "f2", t0);
    assert_eq!(s.claim_idempotency_key(&elsewhere).await.unwrap(), Claimed::Fresh, "per caller");

    let done = StoredResponse {
        status: 201,
        content_type: Some("application/json".into()),
        body: b"{\"id\":\"c1\"}".to_vec(),
    };
    s.complete_idempotency_key("key:1", "k", &done).await.unwrap();
    assert_eq!(s.claim_idempotency_key(&first).await.unwrap(), Claimed::Done(done.clone()));
    assert_eq!(s.claim_idempotency_key(&other).await.unwrap(), Claimed::Mismatch);
    s.release_idempotency_key("key:1", "k").await.unwrap();
    assert_eq!(
        s.claim_idempotency_key(&first).await.unwrap(),
        Claimed::Done(done.clone()),
        "release leaves completed records alone"
    );

    let retry = claim("key:1", "k2", "f", t0);
    assert_eq!(s.claim_idempotency_key(&retry).await.unwrap(), Claimed::Fresh);
    s.release_idempotency_key("key:1", "k2").await.unwrap();
    assert_eq!(s.claim_idempotency_key(&retry).await.unwrap(), Claimed::Fresh, "released");
    let empty = StoredResponse { status: 204, content_type: None, body: Vec::new() };
    s.complete_idempotency_key("key:1", "k2", &empty).await.unwrap();
    assert_eq!(s.claim_idempotency_key(&retry).await.unwrap(), Claimed::Done(empty));
}

/// Abandoned pending records, expiry and purging.
pub async fn idempotency_keys_expire(s: &dyn IdempotencyStore) {
    let t0 = ts("2030-01-01 10:00");
    let pending = claim("key:1", "crashed", "f", t0);
    assert_eq!(s.claim_idempotency_key(&pending).await.unwrap(), Claimed::Fresh);
    let later = claim("key:1", "crashed", "f", t0 + Duration::minutes(11));
    assert_eq!(s.claim_idempotency_key(&later).await.unwrap(), Claimed::Fresh, "abandoned");

    let done = StoredResponse { status: 200, content_type: None, body: b"ok".to_vec() };
    let old = claim("key:1", "old", "f", t0);
    assert_eq!(s.claim_idempotency_key(&old).await.unwrap(), Claimed::Fresh);
    s.complete_idempotency_key("key:1", "old", &done).await.unwrap();
    let hour = claim("key:1", "old", "g", t0 + Duration::hours(23));
    assert_eq!(s.claim_idempotency_key(&hour).await.unwrap(), Claimed::Mismatch, "still live");
    let day = claim("key:1", "old", "g", t0 + Duration::hours(25));
    assert_eq!(s.claim_idempotency_key(&day).await.unwrap(), Claimed::Fresh, "expired");

    let kept = claim("key:1", "kept", "f", t0 + Duration::hours(30));
    assert_eq!(s.claim_idempotency_key(&kept).await.unwrap(), Claimed::Fresh);
    // Left: "crashed" (t0 + 11 min), "old" (t0 + 25 h), "kept" (t0 + 30 h).
    assert_eq!(s.purge_idempotency_keys(t0 + Duration::hours(26)).await.unwrap(), 2);
    assert_eq!(s.claim_idempotency_key(&kept).await.unwrap(), Claimed::InFlight, "not purged");
}

/// Of many concurrent claims of one key, exactly one runs; the rest see it in flight.
pub async fn idempotency_keys_concurrent_claims(s: &dyn IdempotencyStore) {
    let t0 = ts("2030-01-01 10:00");
    for round in 0..5 {
        let c = claim("key:7", &format!("race-{round}"), "f", t0);
        let claims = (0..8).map(|_| Box::pin(s.claim_idempotency_key(&c)) as Pin<Box<_>>);
        let outcomes = join_all(claims.collect()).await;
        let fresh = outcomes.iter().filter(|o| matches!(o, Ok(Claimed::Fresh))).count();
        let waiting = outcomes.iter().filter(|o| matches!(o, Ok(Claimed::InFlight))).count();
        assert_eq!((fresh, waiting), (1, 7), "round {round}: {outcomes:?}");
    }
}

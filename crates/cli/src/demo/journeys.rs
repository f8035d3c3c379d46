//! The demo's journey: the funnel events before the first purchase (site_visit,
//! pricing_viewed, trial_started) and an onboarding step soon after it, with drop-off that
//! depends on the customer's loyalty, then the default journey saved over them.
//!
//! The events come from their own generator seeded per customer, so adding them changes
//! nothing else the demo draws (orders, feedback, surveys stay as they were).

use super::{Loyalty, Profile, today};
use chrono::{Duration, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_analytics::journey::JourneySpec;
use rapport_core::{Event, ExternalId, Timestamp};
use rapport_store::Backend;
use serde_json::{Map, Value};

/// How likely a customer is to show each step before buying: (pricing or trial, onboarding).
fn odds(l: Loyalty) -> (f64, f64) {
    match l {
        Loyalty::Champion => (0.97, 0.95),
        Loyalty::Regular => (0.9, 0.8),
        Loyalty::Churner => (0.85, 0.55),
        Loyalty::OneTime => (0.75, 0.35),
        Loyalty::Dormant => (0.45, 0.0),
    }
}

/// The funnel events of one customer; `purchases` are their purchase days (days ago).
pub(super) fn funnel(p: &Profile, purchases: &[(ExternalId, i64)], out: &mut Vec<Event>) {
    let mut rng = ChaCha8Rng::seed_from_u64(0x6a6f_7572_6e65_7900 ^ p.num as u64);
    let mut n = 0;
    let mut push = |rng: &mut ChaCha8Rng, name: &str, days_ago: i64, props: Map<String, Value>| {
        n += 1;
        let id = ExternalId::parse(&format!("J{:06}-{n}", p.num)).expect("a valid id");
        let at = day_time(rng, days_ago);
        out.push(Event { id, customer: p.id.clone(), name: name.into(), at, properties: props });
    };
    // Everyone found us: one to three visits in the month before signing up.
    let first_visit = p.signup + rng.random_range(3..=30);
    for _ in 0..rng.random_range(1..=3) {
        let day = rng.random_range(p.signup + 1..=first_visit);
        let props = source(&mut rng);
        push(&mut rng, "site_visit", day, props);
    }
    let (consider, onboard) = odds(p.loyalty);
    if !rng.random_bool(consider) {
        return;
    }
    push(&mut rng, "pricing_viewed", p.signup + 1, Map::new());
    if rng.random_bool(0.6) {
        push(&mut rng, "trial_started", p.signup + 1, Map::new());
    }
    // Onboarding within two weeks of the first purchase, for those who get that far.
    let first_purchase = purchases.iter().map(|(_, d)| *d).max();
    if let Some(day) = first_purchase.filter(|_| rng.random_bool(onboard)) {
        let later = (day - rng.random_range(1..=14)).max(1);
        let mut m = Map::new();
        m.insert(
            "integration".into(),
            ["slack", "salesforce", "shopify"][rng.random_range(0..3)].into(),
        );
        push(&mut rng, "integration_connected", later, m);
    }
}

fn source(rng: &mut ChaCha8Rng) -> Map<String, Value> {
    let mut m = Map::new();
    let sources = ["search", "ads", "referral", "social", "newsletter"];
    m.insert("source".into(), sources[rng.random_range(0..sources.len())].into());
    m
}

/// A time `days` before today, during waking hours.
fn day_time(rng: &mut ChaCha8Rng, days: i64) -> Timestamp {
    today() - Duration::days(days) + Duration::seconds(rng.random_range(7 * 3600..22 * 3600))
}

/// Saves the default journey (awareness → ... → renewal/advocacy) over the demo's events.
pub(super) async fn save_default(store: &dyn Backend) -> anyhow::Result<()> {
    store.create_journey(&JourneySpec::default_journey(), Some("demo"), Utc::now()).await?;
    Ok(())
}

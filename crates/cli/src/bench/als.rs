//! `rapport bench als`: ALS training and recommendation requests at a realistic size, on a
//! seeded synthetic matrix (users of a few taste groups, item popularity following a power law
//! within each group), since no public purchase data has a million customers.

use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_analytics::recommend::{AlsParams, Csr, fit};
use serde::Serialize;
use std::time::Instant;

#[derive(Args)]
pub struct AlsBench {
    #[arg(long, default_value_t = 1_000_000)]
    users: usize,
    #[arg(long, default_value_t = 50_000)]
    items: usize,
    #[arg(long, default_value_t = 20_000_000)]
    interactions: usize,
    #[arg(long, default_value_t = 64)]
    factors: usize,
    #[arg(long, default_value_t = 15)]
    iterations: usize,
    /// Recommendation requests timed after the fit (one at a time, as a server answers them).
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[derive(Serialize)]
struct Timing {
    users: usize,
    items: usize,
    interactions: usize,
    factors: usize,
    iterations: usize,
    generate_seconds: f64,
    fit_seconds: f64,
    request_p50_ms: f64,
    request_p99_ms: f64,
    request_max_ms: f64,
}

/// Taste groups: each user mostly buys within one.
const GROUPS: usize = 20;

pub fn run(a: &AlsBench) -> anyhow::Result<()> {
    let started = Instant::now();
    let m = synthetic(a);
    let generate_seconds = started.elapsed().as_secs_f64();
    let p = AlsParams {
        factors: a.factors,
        iterations: a.iterations,
        seed: a.seed,
        ..AlsParams::default()
    };
    let started = Instant::now();
    let model = fit(&m, &p);
    let fit_seconds = started.elapsed().as_secs_f64();
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed + 1);
    let mut times: Vec<f64> = (0..a.requests)
        .map(|_| {
            let u = rng.random_range(0..m.rows);
            let t = Instant::now();
            let recs = model.recommend(u, 10, m.row(u).0);
            std::hint::black_box(recs);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        times
            .get(((times.len() as f64 * q) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let t = Timing {
        users: m.rows,
        items: m.cols,
        interactions: m.nnz(),
        factors: a.factors,
        iterations: a.iterations,
        generate_seconds,
        fit_seconds,
        request_p50_ms: at(0.5),
        request_p99_ms: at(0.99),
        request_max_ms: times.last().copied().unwrap_or(0.0),
    };
    println!("{}", serde_json::to_string(&t)?);
    Ok(())
}

/// `interactions` (user, item) draws: a user's group is `user % GROUPS`; four in five draws
/// come from the group's own slice of the catalogue, the rest from anywhere; within a slice,
/// popularity falls as a power law (index = len · r³).
fn synthetic(a: &AlsBench) -> Csr {
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let slice = (a.items / GROUPS).max(1);
    let triplets: Vec<(u32, u32, f32)> = (0..a.interactions)
        .map(|_| {
            let u = rng.random_range(0..a.users);
            let r: f64 = rng.random();
            let item = if rng.random_bool(0.8) {
                (u % GROUPS) * slice + (slice as f64 * r * r * r) as usize
            } else {
                (a.items as f64 * r * r * r) as usize
            };
            (u as u32, item.min(a.items - 1) as u32, 1.0)
        })
        .collect();
    Csr::from_triplets(a.users, a.items, &triplets)
}

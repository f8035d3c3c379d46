//! Times the segment filter language at scale: builds a seeded synthetic frame of N customers
//! (default 1,000,000) and runs typical filters (parse + compile + evaluate), printing ms.
//!
//! `cargo run --release -p rapport-analytics --example segment_bench [-- N [FILTER...]]`
//! (filters given after N replace the built-in ones).

use chrono::{Duration, TimeZone, Utc};
use rapport_analytics::segment::{CustomerFrame, CustomerRow, compile};
use rapport_core::filter::parse;
use rapport_core::{AttrValue, CustomerSummary, Gender, Money, Purpose};
use std::time::Instant;

const FILTERS: [&str; 6] = [
    r#"country in ("DE","AT") and clv_predicted > 500 and last_purchase_days < 90 and not consent("marketing")"#,
    r#"rfm_segment in ("champions", "loyal") and p_alive > 0.7"#,
    r#"did("login", within=30d) and not did("export", within=90d)"#,
    r#"events("login", within=30d) > 5 and health < 40 or nps_category = "detractor""#,
    r#"attr.tier = "gold" and attr.seats >= 3 and (age between 25 and 45 or age is null)"#,
    r#"email is not null and city in ("Berlin", "Wien", "Paris") and feedback_sentiment < -0.2"#,
];

/// splitmix64: a seeded generator, so every run builds the same frame.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 > 1.0 - p
    }
}

fn customer(i: u64, rng: &mut Rng) -> CustomerRow {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let ago = |d: u64| now - Duration::days(d as i64);
    let countries = ["DE", "AT", "FR", "GB", "US", "BR", "NL", "ES"];
    let cities = ["Berlin", "Wien", "Paris", "London", "Boston", "Recife", "Utrecht", "Madrid"];
    let orders = rng.below(12) as i64;
    let mut r = CustomerRow {
        id: format!("c{i}"),
        email: rng.chance(0.8).then(|| format!("c{i}@example.com")),
        country: rng.chance(0.95).then(|| countries[rng.below(8) as usize].to_string()),
        city: rng.chance(0.7).then(|| cities[rng.below(8) as usize].to_string()),
        gender: rng.chance(0.6).then(|| Gender::ALL[rng.below(4) as usize]),
        birth_year: rng.chance(0.5).then(|| 1940 + rng.below(70) as i16),
        signup_at: Some(ago(rng.below(2000))),
        summary: CustomerSummary {
            orders,
            purchase_orders: orders,
            purchase_value: Money::from_major(orders * rng.below(200) as i64),
            last_purchase_at: (orders > 0).then(|| ago(rng.below(720))),
            ..Default::default()
        },
        feedback_sentiment: rng.chance(0.3).then(|| rng.below(200) as f64 / 100.0 - 1.0),
        rfm: (orders > 0).then(|| [1, 1, 1].map(|_: u8| 1 + rng.below(5) as u8)),
        clv_predicted: (orders > 0).then(|| rng.below(2000) as f64),
        p_alive: (orders > 0).then(|| rng.below(1000) as f64 / 1000.0),
        health: Some(rng.below(100) as f64),
        nps_score: rng.chance(0.3).then(|| rng.below(11) as i16),
        ..Default::default()
    };
    if rng.chance(0.5) {
        let tier = ["gold", "silver", "bronze"][rng.below(3) as usize];
        r.attributes.insert("tier".into(), AttrValue::Text(tier.into()));
        r.attributes.insert("seats".into(), AttrValue::Int(rng.below(10) as i64));
    }
    for (k, p) in Purpose::ALL.iter().enumerate() {
        if rng.chance(0.3 + 0.1 * k as f64) {
            r.consents.push(*p);
        }
    }
    let logins = rng.below(20);
    r.events = (0..logins).map(|_| ("login".to_string(), ago(rng.below(180)))).collect();
    if rng.chance(0.2) {
        r.events.push(("export".into(), ago(rng.below(365))));
    }
    r
}

fn main() {
    let n: u64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let started = Instant::now();
    let mut rng = Rng(42);
    let mut frame = CustomerFrame::new();
    for i in 0..n {
        frame.push(&customer(i, &mut rng));
    }
    println!("built {n} customers in {:.1} s", started.elapsed().as_secs_f64());
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let schema = frame.schema();
    let given: Vec<String> = std::env::args().skip(2).collect();
    let filters: Vec<&str> = if given.is_empty() {
        FILTERS.to_vec()
    } else {
        given.iter().map(String::as_str).collect()
    };
    for src in filters {
        let mut times = Vec::new();
        let mut matched = 0;
        for _ in 0..7 {
            let t = Instant::now();
            let plan = compile(&parse(src).expect("a valid filter"), &schema);
            matched = plan.eval(&frame, now).count();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        println!("{:>8.1} ms median ({:.1} min) {matched:>8} match  {src}", times[3], times[0]);
    }
}

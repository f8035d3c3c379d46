//! `rapport journey bench`: generated funnel data at scale (about 50 events per customer, most
//! of them logins; purchase orders and rated NPS feedback for some), then the default journey
//! timed over it, end to end through the store as the page computes it.

use anyhow::Result;
use chrono::{Duration, TimeZone, Utc};
use clap::Args;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_analytics::journey::JourneySpec;
use rapport_core::record::{CustomerRef, FeedbackRow, OrderRow};
use rapport_core::{
    Currency, Customer, Event, ExternalId, Money, OrderLine, OrderStatus, Timestamp,
};
use rapport_store::{Backend, IngestOptions, OrderGroup};
use std::time::Instant;

#[derive(Args)]
pub struct BenchArgs {
    /// Events to generate into an empty database (about 50 per customer); a database with
    /// customers is timed as it is.
    #[arg(long, default_value_t = 10_000_000)]
    events: usize,
    /// Timed computations; the best is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

const PER_CUSTOMER: usize = 50;
const BATCH: usize = 2_000;
const COMPLAINTS: [&str; 4] = [
    "The setup was confusing and slow, I gave up",
    "Too expensive for what it does, disappointed",
    "Support never answered, terrible experience",
    "The integration keeps failing, very frustrating",
];

fn ext(s: String) -> ExternalId {
    ExternalId::parse(&s).expect("a valid id")
}

fn start() -> Timestamp {
    Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).single().expect("a valid date")
}

#[derive(Default)]
struct Batch {
    customers: Vec<Customer>,
    events: Vec<Event>,
    orders: Vec<OrderGroup>,
    feedback: Vec<FeedbackRow>,
}

/// One customer's funnel, days counted from 2023-01-01.
fn customer(rng: &mut ChaCha8Rng, i: usize, b: &mut Batch, eur: &Currency) {
    let id = ext(format!("B{i:08}"));
    b.customers.push(Customer::bare(id.clone()));
    let mut n = 0;
    let mut event = |rng: &mut ChaCha8Rng, name: &str, day: i64| {
        n += 1;
        let at = start() + Duration::days(day) + Duration::seconds(rng.random_range(0..86_400));
        let eid = ext(format!("B{i:08}-{n}"));
        let properties = Default::default();
        b.events.push(Event { id: eid, customer: id.clone(), name: name.into(), at, properties });
    };
    let d0 = rng.random_range(0..900);
    event(rng, "site_visit", d0);
    let considered = rng.random_bool(0.7);
    if considered {
        let d = d0 + rng.random_range(0..5);
        event(rng, "pricing_viewed", d);
        event(rng, "trial_started", d0 + 5);
    }
    let bought = considered && rng.random_bool(0.7);
    let mut last = d0 + 5;
    if bought {
        for k in 0..rng.random_range(1..=3) {
            last += rng.random_range(3..120);
            b.orders.push(order(&id, k, start() + Duration::days(last), eur));
        }
        let d = d0 + rng.random_range(8..40);
        event(rng, "integration_connected", d);
    }
    // Logins fill the customer up to their share of the events.
    let funnel = 1 + 2 * usize::from(considered) + usize::from(bought);
    for _ in funnel..PER_CUSTOMER {
        let name = if rng.random_bool(0.9) { "login" } else { "seat_added" };
        let d = d0 + rng.random_range(0..400);
        event(rng, name, d);
    }
    if rng.random_bool(0.1) {
        b.feedback.push(FeedbackRow {
            id: ext(format!("B{i:08}-f")),
            customer: CustomerRef::Id(id.clone()),
            source: "nps".into(),
            text: Some(COMPLAINTS[rng.random_range(0..COMPLAINTS.len())].into()),
            rating: Some(rng.random_range(0..=10)),
            created_at: start() + Duration::days(last + 10),
        });
    }
}

fn order(customer: &ExternalId, k: usize, at: Timestamp, eur: &Currency) -> OrderGroup {
    let id = ext(format!("{customer}-o{k}"));
    let price = Money::from_major(49);
    let line = OrderLine { sku: None, quantity: 1, unit_price: price, amount: price };
    let row = OrderRow {
        order: id.clone(),
        customer: Some(customer.clone()),
        placed_at: Some(at),
        currency: Some(eur.clone()),
        status: Some(OrderStatus::Purchase),
        line: Some(line),
    };
    OrderGroup { order: id, first_line_no: 1, rows: vec![row] }
}

async fn fill(db: &dyn Backend, customers: usize, seed: u64) -> Result<usize> {
    let eur = Currency::parse("EUR").expect("a valid currency");
    let o = IngestOptions { default_currency: eur.clone(), bulk: true, ..IngestOptions::default() };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut events = 0;
    for from in (0..customers).step_by(BATCH) {
        let mut b = Batch::default();
        for i in from..(from + BATCH).min(customers) {
            customer(&mut rng, i, &mut b, &eur);
        }
        events += b.events.len();
        db.upsert_customers(b.customers, &o).await?;
        db.ingest_orders(b.orders, &o).await?;
        for chunk in b.events.chunks(20_000) {
            db.ingest_events(chunk.to_vec(), &o).await?;
        }
        db.ingest_feedback(b.feedback, &o).await?;
        if from % (BATCH * 50) == 0 {
            eprintln!("{events} events written");
        }
    }
    db.refresh_statistics().await?;
    Ok(events)
}

pub async fn run(db: &dyn Backend, a: BenchArgs) -> Result<()> {
    // An empty database is filled first; a filled one is timed as it is, so one fill serves
    // several runs (and builds).
    let counts = db.counts().await?;
    let (customers, events) = if counts.customers == 0 {
        let customers = a.events.div_ceil(PER_CUSTOMER);
        let t = Instant::now();
        let events = fill(db, customers, a.seed).await?;
        let secs = t.elapsed().as_secs_f64();
        eprintln!("{customers} customers, {events} events written in {secs:.1} s");
        (customers, events)
    } else {
        (counts.customers as usize, counts.events as usize)
    };
    let spec = JourneySpec::default_journey();
    let mut best = f64::INFINITY;
    for run in 1..=a.runs.max(1) {
        let t = Instant::now();
        let map = rapport_reports::journeys::journey(db, &spec, None, Utc::now()).await?;
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        let reached: Vec<String> =
            map.stages.iter().map(|s| s.result.reached.to_string()).collect();
        eprintln!("run {run}: {secs:.2} s; reached {}", reached.join(" → "));
    }
    println!(
        "journey over {events} events, {customers} customers ({}): best {best:.2} s",
        db.backend()
    );
    Ok(())
}

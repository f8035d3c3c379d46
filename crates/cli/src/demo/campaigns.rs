//! The demo's campaigns: one finished (sent 45 days before the demo's "today", measured over
//! 30 days) whose treatment bought more than its holdout, and one draft to try sending.
//!
//! The demo's history is generated whole, so the sent campaign cannot have caused anything:
//! its effect is simulated. Each treated customer makes an extra purchase in the window with
//! probability [`EFFECT`], on top of what they bought anyway; the holdout gets nothing extra,
//! so the measured lift should land near it (within its interval, most of the time).

use super::today;
use anyhow::{Context, anyhow};
use chrono::Duration;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_core::campaign::{Arm, CampaignSpec};
use rapport_core::record::OrderRow;
use rapport_core::{Currency, ExternalId, Money, OrderLine, OrderStatus};
use rapport_reports::{all_summaries, loyalty};
use rapport_server::campaigns;
use rapport_store::{Backend, IngestOptions, Kind, OrderGroup, Record, export_all};
use std::collections::HashMap;

/// Who the finished campaign went to: repeat buyers (consent is checked at launch).
const AUDIENCE: &str = "orders >= 3";
/// The simulated extra purchase probability of a treated customer.
pub const EFFECT: f64 = 0.08;

const TEXT: &str = "Hello {{ first_name or \"there\" }},

It has been a while. As one of our regulars{% if tier %} ({{ tier }} member, {{ points }} points){% endif %}, here is 10% off your next order this month.
{% if recommendations %}
Picked for you:
{% for r in recommendations %}  - {{ r }}
{% endfor %}{% endif %}
See you soon!
";

const HTML: &str = "<p>Hello {{ first_name or \"there\" }},</p>
<p>It has been a while. As one of our regulars{% if tier %} ({{ tier }} member, {{ points }} points){% endif %}, here is <strong>10% off</strong> your next order this month.</p>
<p>See you soon!</p>";

fn spec(name: &str, segment: &str, goal: &str, seed: u64) -> CampaignSpec {
    CampaignSpec {
        name: name.into(),
        segment: segment.into(),
        channel: "email".into(),
        subject: "{{ first_name or \"Hello\" }}, 10% off for our regulars".into(),
        text: TEXT.into(),
        html: Some(HTML.into()),
        goal: goal.into(),
        goal_days: 30,
        holdout: 0.2,
        seed,
    }
}

/// Builds the campaigns; returns (treatment, holdout, extra purchases) of the finished one.
pub async fn build(store: &dyn Backend, seed: u64) -> anyhow::Result<(u64, u64, usize)> {
    let sent_at = today() - Duration::days(45);
    let s = spec("Autumn thank-you to regulars", AUDIENCE, "purchase", seed);
    let id = campaigns::create(store, &s, sent_at).await.map_err(|e| anyhow!("{e}"))?;
    let kf = crate::campaign::frame(store, AUDIENCE).await?;
    let launched =
        campaigns::launch(store, &kf, None, id, sent_at).await.map_err(|e| anyhow!("{e}"))?;
    while let Some(m) = store.claim_next(sent_at).await? {
        store.mark_sent(m.id, sent_at).await?;
    }
    let extra = simulate(store, id, seed).await.context("the campaign's purchases")?;
    // The simulated purchases earn points like any other.
    loyalty::credit_purchases(store, today()).await?;
    let draft = spec("Win back the slipping", "valuable-but-slipping", "revenue", seed + 1);
    campaigns::create(store, &draft, today()).await.map_err(|e| anyhow!("{e}"))?;
    Ok((launched.counts.treatment, launched.counts.holdout, extra))
}

/// The treatment's extra purchases in the window; returns how many.
async fn simulate(store: &dyn Backend, id: i64, seed: u64) -> anyhow::Result<usize> {
    let c = store.campaign(id).await?;
    let sent = c.sent_at.context("sent")?;
    let ids: HashMap<i64, ExternalId> =
        all_summaries(store).await?.into_iter().map(|s| (s.key, s.id)).collect();
    let products: Vec<(ExternalId, Money)> = export_all(store, Kind::Products)
        .await?
        .into_iter()
        .filter_map(|r| match r {
            Record::Product(p) => Some((p.sku.clone(), p.price?)),
            _ => None,
        })
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xCA4D);
    let eur = Currency::parse("EUR").map_err(anyhow::Error::msg)?;
    let mut groups = Vec::new();
    for r in store.campaign_outcomes(id).await? {
        if r.arm != Arm::Treatment || !rng.random_bool(EFFECT) {
            continue;
        }
        let Some(customer) = ids.get(&r.customer) else { continue };
        let (sku, price) = &products[rng.random_range(0..products.len())];
        let at = sent + Duration::minutes(rng.random_range(60..29 * 24 * 60));
        let order =
            ExternalId::parse(&format!("camp{id}-{customer}")).map_err(anyhow::Error::msg)?;
        let row = OrderRow {
            order: order.clone(),
            customer: Some(customer.clone()),
            placed_at: Some(at),
            currency: Some(eur.clone()),
            status: Some(OrderStatus::Purchase),
            line: Some(OrderLine {
                sku: Some(sku.clone()),
                quantity: 1,
                unit_price: *price,
                amount: *price,
            }),
        };
        groups.push(OrderGroup { order, first_line_no: 1, rows: vec![row] });
    }
    let n = groups.len();
    let o = IngestOptions { bulk: true, ..IngestOptions::default() };
    for chunk in groups.chunks(5_000) {
        store.ingest_orders(chunk.to_vec(), &o).await?;
    }
    Ok(n)
}

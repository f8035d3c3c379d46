//! `rapport demo`: a realistic synthetic company (customers, companies, catalogue, orders,
//! product usage, support contacts, feedback and consents), deterministic for a seed.
//!
//! No clock is read: every date is anchored to a fixed "today" of 2026-11-01 UTC. Everything is
//! written through the [`Store`] trait in batches, exactly as an import would write it.

mod campaigns;
mod data;
mod ideas;
mod journeys;
mod loyalty;
mod personas;
mod scorecard;
mod segments;
mod surveys;

use anyhow::{Context, bail};
use chrono::{Datelike, Duration, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rapport_core::record::{CustomerRef, FeedbackRow, OrderRow};
use rapport_core::{
    AttrValue, Channel, Company, Consent, Currency, Customer, Direction, Email, Event, ExternalId,
    Gender, Interaction, Money, OrderLine, OrderStatus, Phone, Product, Purpose, Timestamp,
};
use rapport_store::{Backend, IngestOptions, OrderGroup, RowOutcome, Store};
use serde_json::{Map, Value};

const BATCH: usize = 5_000;
const HISTORY_DAYS: i64 = 3 * 365;
const COMPANIES: usize = 60;

use data::*;

#[derive(Debug, Default)]
pub struct DemoStats {
    pub customers: usize,
    pub orders: usize,
    pub events: usize,
    pub feedback: usize,
    pub survey_responses: usize,
    pub ideas: ideas::IdeaStats,
    /// Saved segments.
    pub segments: usize,
    pub personas: usize,
    /// Purchases credited with points, the points, and voucher redemptions.
    pub loyalty: (u64, i64, usize),
    /// The finished campaign's treatment and holdout, and its simulated extra purchases.
    pub campaign: (u64, u64, usize),
    /// Scorecard goals on track, at risk and off track.
    pub scorecard: [usize; 3],
}

/// How a customer behaves: drives orders, usage, contacts and the tone of their feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Loyalty {
    Champion,
    Regular,
    OneTime,
    Churner,
    Dormant,
}

/// One customer's life: active from `signup` to `end`, both in days before "today".
struct Profile {
    num: usize,
    id: ExternalId,
    loyalty: Loyalty,
    signup: i64,
    end: i64,
    company: Option<usize>,
}

/// The rows generated for one slice of customers, written kind by kind.
#[derive(Default)]
struct Chunk {
    customers: Vec<Customer>,
    orders: Vec<OrderGroup>,
    events: Vec<Event>,
    interactions: Vec<Interaction>,
    feedback: Vec<FeedbackRow>,
    consents: Vec<Consent>,
}

struct Gen {
    rng: ChaCha8Rng,
    t: Tables,
    eur: Currency,
    companies: Vec<Company>,
    products: Vec<Product>,
    /// Running numbers for order, event, interaction, feedback and consent ids.
    seq: [u64; 5],
}

/// Builds the demo company into `store`: `customers` customers, deterministic for `seed`.
pub async fn build(store: &dyn Backend, customers: usize, seed: u64) -> anyhow::Result<DemoStats> {
    let mut g = Gen::new(seed);
    let o =
        IngestOptions { default_currency: g.eur.clone(), bulk: true, ..IngestOptions::default() };
    check(store.upsert_companies(g.companies.clone(), &o).await?).context("companies")?;
    check(store.upsert_products(g.products.clone(), &o).await?).context("products")?;
    let mut stats = DemoStats::default();
    for start in (0..customers).step_by(BATCH) {
        let chunk = g.chunk(start..(start + BATCH).min(customers));
        write_chunk(store, chunk, &o, &mut stats).await?;
    }
    store.refresh_statistics().await.context("planner statistics")?;
    stats.survey_responses = surveys::build(store, seed).await.context("surveys")?;
    stats.ideas = ideas::build(store).await.context("ideas")?;
    stats.segments = segments::build(store).await.context("segments")?;
    stats.personas = personas::build(store).await.context("personas")?;
    journeys::save_default(store).await.context("journey")?;
    let l = loyalty::build(store).await.context("loyalty")?;
    stats.loyalty = (l.credited.orders, l.credited.points, l.redeemed);
    stats.campaign = campaigns::build(store, seed).await.context("campaigns")?;
    stats.scorecard = scorecard::build(store).await.context("scorecard")?;
    Ok(stats)
}

async fn write_chunk(
    store: &dyn Store,
    c: Chunk,
    o: &IngestOptions,
    s: &mut DemoStats,
) -> anyhow::Result<()> {
    (s.customers, s.orders) = (s.customers + c.customers.len(), s.orders + c.orders.len());
    (s.events, s.feedback) = (s.events + c.events.len(), s.feedback + c.feedback.len());
    for b in batches(c.customers, |_| 1) {
        check(store.upsert_customers(b, o).await?).context("customers")?;
    }
    for b in batches(c.orders, |g| g.rows.len()) {
        check(store.ingest_orders(b, o).await?).context("orders")?;
    }
    for b in batches(c.events, |_| 1) {
        check(store.ingest_events(b, o).await?).context("events")?;
    }
    for b in batches(c.interactions, |_| 1) {
        check(store.ingest_interactions(b, o).await?).context("interactions")?;
    }
    for b in batches(c.feedback, |_| 1) {
        check(store.ingest_feedback(b, o).await?).context("feedback")?;
    }
    for b in batches(c.consents, |_| 1) {
        check(store.ingest_consents(b, o).await?).context("consents")?;
    }
    Ok(())
}

fn check(outcomes: Vec<RowOutcome>) -> anyhow::Result<()> {
    for o in outcomes {
        if let RowOutcome::Rejected(e) = o {
            bail!("demo row rejected: {e}");
        }
    }
    Ok(())
}

/// Splits items into batches of about `BATCH` rows, `rows` counting each item's rows.
fn batches<T>(items: Vec<T>, rows: impl Fn(&T) -> usize) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = Vec::new();
    let mut n = BATCH;
    for item in items {
        if n >= BATCH {
            out.push(Vec::new());
            n = 0;
        }
        n += rows(&item);
        out.last_mut().expect("a batch").push(item);
    }
    out
}

fn today() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("valid date")
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn one_of(rng: &mut ChaCha8Rng, xs: &[&str]) -> Value {
    Value::String(pick(rng, xs).to_string())
}

/// An index drawn with the given relative weights.
fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let mut x = rng.random_range(0..weights.iter().sum::<u32>());
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn ext(id: String) -> ExternalId {
    ExternalId::parse(&id).expect("valid id")
}

fn line(sku: &ExternalId, unit_price: Money, quantity: i64) -> OrderLine {
    let amount = unit_price.times(quantity).expect("small amount");
    OrderLine { sku: Some(sku.clone()), quantity, unit_price, amount }
}

impl Gen {
    fn new(seed: u64) -> Gen {
        let mut g = Gen {
            rng: ChaCha8Rng::seed_from_u64(seed),
            t: Tables::new(),
            eur: Currency::parse("EUR").expect("valid currency"),
            companies: Vec::new(),
            products: Vec::new(),
            seq: [0; 5],
        };
        g.companies = (0..COMPANIES).map(|i| g.company(i)).collect();
        g.products = g.catalogue();
        g
    }

    /// The next id of a kind: `O0000001`, `E0000001`...
    fn next(&mut self, kind: usize, prefix: &str) -> ExternalId {
        self.seq[kind] += 1;
        ext(format!("{prefix}{:07}", self.seq[kind]))
    }

    fn company(&mut self, i: usize) -> Company {
        let r = &mut self.rng;
        let industry = *pick(r, INDUSTRIES);
        let plans = [("starter", 49, 299), ("growth", 300, 1_500), ("enterprise", 2_000, 12_000)];
        let (plan, lo, hi) = plans[weighted(r, &[50, 35, 15])];
        let size = SIZES[weighted(r, &[20, 35, 25, 12, 8])];
        let suffix = CO_SUFFIX[(7 * (i / 12) + 3 * (i % 12)) % 10]; // unique with the prefix
        Company {
            id: ext(format!("CO{:03}", i + 1)),
            name: Some(format!("{}{suffix} {industry}", CO_PREFIX[i % 12])),
            industry: Some(industry.into()),
            size: Some(size.into()),
            plan: Some(plan.into()),
            mrr: Some(Money::from_major(r.random_range(lo..=hi))),
        }
    }

    /// Two variants of every noun: 5 categories x 8 nouns x 2 = 80 products, priced at .99.
    fn catalogue(&mut self) -> Vec<Product> {
        let mut out = Vec::new();
        for f in CATALOGUE.lines().map(|l| l.split('|').collect::<Vec<_>>()) {
            let (lo, hi): (i64, i64) = (f[2].parse().expect("price"), f[3].parse().expect("price"));
            for (i, noun) in list(f[4]).into_iter().enumerate() {
                for v in [i, i + 3] {
                    let euros = self.rng.random_range(lo..=hi);
                    out.push(Product {
                        sku: ext(format!("{}-{:03}", f[1], out.len() + 1)),
                        name: Some(format!("{} {noun}", VARIANTS[v % VARIANTS.len()])),
                        category: Some(f[0].into()),
                        price: Some(Money::from_e4(euros * 10_000 - 100)),
                    });
                }
            }
        }
        out
    }

    /// A timestamp `days` before today, during waking hours.
    fn at(&mut self, days: i64) -> Timestamp {
        let secs = self.rng.random_range(7 * 3600..22 * 3600);
        today() - Duration::days(days) + Duration::seconds(secs)
    }

    fn active_day(&mut self, p: &Profile) -> i64 {
        self.rng.random_range(p.end..=p.signup)
    }

    fn chunk(&mut self, range: std::ops::Range<usize>) -> Chunk {
        let mut c = Chunk::default();
        for num in range {
            let p = self.profile(num + 1);
            let customer = self.customer(&p);
            c.customers.push(customer);
            let purchases = self.orders(&p, &mut c.orders);
            self.events(&p, &mut c.events);
            journeys::funnel(&p, &purchases, &mut c.events);
            self.interactions(&p, &mut c.interactions);
            self.feedback(&p, &purchases, &mut c.feedback);
            self.consents(&p, &mut c.consents);
        }
        c
    }

    fn profile(&mut self, num: usize) -> Profile {
        use Loyalty::*;
        let r = &mut self.rng;
        let signup = r.random_range(1..=HISTORY_DAYS);
        let loyalty =
            [Champion, Regular, OneTime, Churner, Dormant][weighted(r, &[5, 25, 45, 15, 10])];
        let end = match loyalty {
            Churner => (signup - r.random_range(60..=400)).max(1),
            _ => 1,
        };
        let company = r.random_bool(0.4).then(|| r.random_range(0..COMPANIES));
        Profile { num, id: ext(format!("C{num:06}")), loyalty, signup, end, company }
    }

    fn customer(&mut self, p: &Profile) -> Customer {
        let (r, t) = (&mut self.rng, &self.t);
        let (first, last) = (*pick(r, &t.first), *pick(r, &t.last));
        let country = &t.countries[weighted(r, &t.country_weights)];
        let company = p.company.map(|i| &self.companies[i]);
        let domain = match company.and_then(|co| co.name.as_deref()) {
            Some(name) => format!("{}.example", name.to_lowercase().replace(' ', "")),
            None => pick(r, &["example.com", "example.org", "example.net"]).to_string(),
        };
        let ascii = last.to_lowercase().replace('ü', "ue").replace(['í', 'ó'], "i");
        let mut c = Customer::bare(p.id.clone());
        c.name = Some(format!("{first} {last}"));
        c.email = Email::parse(&format!("{}.{ascii}{}@{domain}", first.to_lowercase(), p.num)).ok();
        let local = r.random_range(100_000_000..1_000_000_000);
        c.phone = Phone::parse(&format!("{} {local}", country[2])).ok();
        (c.country, c.city) =
            (Some(country[0].into()), Some(pick(r, &list(country[3])).to_string()));
        c.birth_year = Some(r.random_range(1950..=2006));
        let genders = [Gender::Female, Gender::Male, Gender::Other, Gender::Undisclosed];
        c.gender = Some(genders[weighted(r, &[48, 46, 2, 4])]);
        c.company = company.map(|co| co.id.clone());
        let plan = company.and_then(|co| co.plan.clone()).unwrap_or_else(|| "free".into());
        let seats = if company.is_some() { r.random_range(1..=50) } else { 1 };
        c.attributes.insert("plan".into(), AttrValue::Text(plan));
        c.attributes.insert("newsletter".into(), AttrValue::Bool(r.random_bool(0.45)));
        c.attributes.insert("seats".into(), AttrValue::Int(seats));
        c.signup_at = Some(self.at(p.signup));
        c
    }

    fn order_count(&mut self, p: &Profile) -> usize {
        let years = (p.signup - p.end) as f64 / 365.0;
        let rate = match p.loyalty {
            Loyalty::Champion => self.rng.random_range(12.0..24.0),
            Loyalty::Regular => self.rng.random_range(2.0..5.0),
            Loyalty::Churner => self.rng.random_range(3.0..8.0),
            Loyalty::OneTime => return 1,
            Loyalty::Dormant => return 0,
        };
        ((rate * years).round() as usize).max(1)
    }

    /// A day in the active window, with more shopping in November and December.
    fn season_day(&mut self, p: &Profile) -> i64 {
        loop {
            let d = self.active_day(p);
            if (today() - Duration::days(d)).month() >= 11 || self.rng.random_bool(0.5) {
                return d;
            }
        }
    }

    /// Orders in time order; returns the purchases (id, day) that reviews may refer to.
    fn orders(&mut self, p: &Profile, out: &mut Vec<OrderGroup>) -> Vec<(ExternalId, i64)> {
        let n = self.order_count(p);
        let mut days: Vec<i64> = (0..n).map(|_| self.season_day(p)).collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        let mut purchases = Vec::new();
        for d in days {
            let cancelled = self.rng.random_bool(0.02);
            let status = if cancelled { OrderStatus::Cancelled } else { OrderStatus::Purchase };
            let g = self.order(p, d, status);
            let returned = !cancelled && d > 5 && self.rng.random_bool(0.03);
            let ret = returned.then(|| self.return_of(p, &g, d));
            if !cancelled {
                purchases.push((g.order.clone(), d));
            }
            out.extend([Some(g), ret].into_iter().flatten());
        }
        purchases
    }

    fn order(&mut self, p: &Profile, days: i64, status: OrderStatus) -> OrderGroup {
        let id = self.next(0, "O");
        let at = self.at(days);
        let lines = weighted(&mut self.rng, &[50, 30, 14, 6]) + 1;
        let rows = (0..lines)
            .map(|_| {
                // Popularity is skewed: a few products sell far more than the rest.
                let u: f64 = self.rng.random();
                let rank = (u * u * self.products.len() as f64) as usize;
                let product = &self.products[(rank * 37) % self.products.len()];
                let qty = weighted(&mut self.rng, &[75, 18, 7]) as i64 + 1;
                let l = line(&product.sku, product.price.expect("priced"), qty);
                self.row(&id, p, at, status, l)
            })
            .collect();
        OrderGroup { order: id, first_line_no: 1, rows }
    }

    /// A return a few days after `of`: its first line back, with a negative quantity.
    fn return_of(&mut self, p: &Profile, of: &OrderGroup, days: i64) -> OrderGroup {
        let id = self.next(0, "R");
        let back = self.rng.random_range(2..=5);
        let at = self.at(days - back);
        let l = of.rows[0].line.as_ref().expect("a line");
        let l = line(l.sku.as_ref().expect("sku"), l.unit_price, -l.quantity);
        let rows = vec![self.row(&id, p, at, OrderStatus::Return, l)];
        OrderGroup { order: id, first_line_no: 1, rows }
    }

    fn row(
        &self,
        id: &ExternalId,
        p: &Profile,
        at: Timestamp,
        s: OrderStatus,
        l: OrderLine,
    ) -> OrderRow {
        OrderRow {
            order: id.clone(),
            customer: Some(p.id.clone()),
            placed_at: Some(at),
            currency: Some(self.eur.clone()),
            status: Some(s),
            line: Some(l),
        }
    }

    /// Product usage: about ten events per customer, far more for champions.
    fn events(&mut self, p: &Profile, out: &mut Vec<Event>) {
        let base = match p.loyalty {
            Loyalty::Champion => 40,
            Loyalty::Regular => 14,
            Loyalty::Churner => 10,
            Loyalty::OneTime => 4,
            Loyalty::Dormant => 2,
        };
        for _ in 0..self.rng.random_range(base / 2..=base * 3 / 2) {
            let id = self.next(1, "E");
            let day = self.active_day(p);
            let (name, properties) = self.event_body();
            let (customer, at) = (p.id.clone(), self.at(day));
            out.push(Event { id, customer, name: name.into(), at, properties });
        }
    }

    fn event_body(&mut self) -> (&'static str, Map<String, Value>) {
        let r = &mut self.rng;
        let (name, key, value) = match weighted(r, &[40, 12, 25, 8, 7, 8]) {
            0 => ("login", "device", one_of(r, &["web", "ios", "android"])),
            1 => ("report_exported", "format", one_of(r, &["csv", "pdf", "xlsx"])),
            2 => ("dashboard_viewed", "dashboard", one_of(r, &["sales", "retention", "support"])),
            3 => ("seat_added", "seats", r.random_range(1..=5).into()),
            4 => (
                "integration_connected",
                "integration",
                one_of(r, &["slack", "salesforce", "shopify"]),
            ),
            _ => ("mobile_app_opened", "platform", one_of(r, &["ios", "android"])),
        };
        let mut m = Map::new();
        m.insert(key.into(), value);
        if name == "dashboard_viewed" {
            m.insert("seconds".into(), r.random_range(5..=600).into());
        }
        (name, m)
    }

    /// Support tickets, chats, calls and e-mails; churners mostly complain.
    fn interactions(&mut self, p: &Profile, out: &mut Vec<Interaction>) {
        let (most, neg) = match p.loyalty {
            Loyalty::Champion => (3, 0.3),
            Loyalty::Regular => (2, 0.45),
            Loyalty::Churner => (3, 0.8),
            Loyalty::OneTime | Loyalty::Dormant => (1, 0.5),
        };
        for _ in 0..self.rng.random_range(0..=most) {
            let id = self.next(2, "I");
            let (r, t) = (&mut self.rng, &self.t);
            let theme = pick(r, &t.themes);
            let said = if r.random_bool(neg) { pick(r, &theme.neg) } else { pick(r, &theme.pos) };
            let channels = [Channel::Support, Channel::Chat, Channel::Call, Channel::Email];
            let channel = channels[weighted(r, &[40, 30, 15, 15])];
            let (direction, subject) = match channel {
                Channel::Call | Channel::Email if r.random_bool(0.3) => {
                    (Direction::Outbound, format!("Follow-up: {}", theme.ask))
                }
                _ => (Direction::Inbound, theme.ask.to_string()),
            };
            let body = Some(format!("{said} {}", pick(r, CLOSERS)).trim_end().to_string());
            let day = self.active_day(p);
            let (customer, at, subject) = (p.id.clone(), self.at(day), Some(subject));
            out.push(Interaction { id, customer, channel, direction, subject, body, at });
        }
    }

    /// About 0.6 items per customer, whose tone follows the customer's loyalty.
    fn feedback(
        &mut self,
        p: &Profile,
        purchases: &[(ExternalId, i64)],
        out: &mut Vec<FeedbackRow>,
    ) {
        let (expected, positive): (f64, f64) = match p.loyalty {
            Loyalty::Champion => (1.5, 0.85),
            Loyalty::Regular => (0.8, 0.65),
            Loyalty::OneTime => (0.5, 0.45),
            Loyalty::Churner => (0.8, 0.2),
            Loyalty::Dormant => (0.2, 0.4),
        };
        let n = expected as usize + usize::from(self.rng.random_bool(expected.fract()));
        for _ in 0..n {
            let pos = self.rng.random_bool(positive);
            let item = self.feedback_item(p, purchases, pos);
            out.push(item);
        }
    }

    fn feedback_item(
        &mut self,
        p: &Profile,
        purchases: &[(ExternalId, i64)],
        pos: bool,
    ) -> FeedbackRow {
        let id = self.next(3, "F");
        let (r, t) = (&mut self.rng, &self.t);
        // `nps`: the 0-10 survey question; `csat`: the 1-5 rating after a support contact;
        // `ces`: "how easy was it to get your issue resolved?", 1-7, after one too.
        let source =
            ["review", "nps", "csat", "ces", "app_store"][weighted(r, &[36, 30, 12, 8, 14])];
        let theme = match source {
            "app_store" => &t.themes[4 + r.random_range(0..4)],
            "csat" | "ces" if r.random_bool(0.6) => &t.themes[3],
            _ => pick(r, &t.themes),
        };
        let (said, tail) = match pos {
            true => (pick(r, &theme.pos), pick(r, POS_TAIL)),
            false => (pick(r, &theme.neg), pick(r, NEG_TAIL)),
        };
        // Positive NPS answers are promoters or passives (7-8), negative ones detractors.
        let rating = match (source, pos) {
            ("nps", true) => r.random_range(7..=10),
            ("nps", false) => r.random_range(0..=6),
            ("ces", true) => r.random_range(5..=7),
            ("ces", false) => r.random_range(1..=4),
            (_, true) => r.random_range(4..=5),
            (_, false) => r.random_range(1..=3),
        };
        let rating_only = source == "nps" && r.random_bool(0.2);
        let text = (!rating_only).then(|| format!("{said} {tail}").trim_end().to_string());
        let (customer, day) = match purchases.is_empty() || source != "review" || r.random_bool(0.5)
        {
            true => (CustomerRef::Id(p.id.clone()), self.active_day(p)),
            false => {
                let (order, d) = pick(r, purchases).clone();
                (CustomerRef::Order(order), (d - r.random_range(1..=10)).max(1))
            }
        };
        let (source, rating, created_at) = (source.into(), Some(rating), self.at(day));
        FeedbackRow { id, customer, source, text, rating, created_at }
    }

    /// Most customers grant some purposes at signup; a few revoke one later.
    fn consents(&mut self, p: &Profile, out: &mut Vec<Consent>) {
        for &purpose in Purpose::ALL {
            if !self.rng.random_bool(0.6) {
                continue;
            }
            let granted_day = (p.signup - self.rng.random_range(0..3)).max(1);
            out.push(self.consent(p, purpose, true, granted_day));
            if granted_day > 1 && self.rng.random_bool(0.15) {
                let revoked_day = self.rng.random_range(1..granted_day);
                out.push(self.consent(p, purpose, false, revoked_day));
            }
        }
    }

    fn consent(&mut self, p: &Profile, purpose: Purpose, granted: bool, day: i64) -> Consent {
        let id = self.next(4, "K");
        let source = Some(if granted { "signup_form" } else { "preference_center" }.into());
        let (customer, at) = (p.id.clone(), self.at(day));
        Consent { id, customer, purpose, granted, source, at }
    }
}

#[cfg(test)]
mod tests;

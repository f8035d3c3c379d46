//! Counts over a group of customers (the members, or everyone): the same numbers for both,
//! so that every share can be set against the population's.

use super::Facts;
use super::profile::SentimentMix;

/// Age bands by their lower bound; the last is open.
pub(crate) const AGE_BANDS: [(i32, &str); 6] =
    [(0, "under 25"), (25, "25–34"), (35, "35–44"), (45, "45–54"), (55, "55–64"), (65, "65+")];

/// Sentiment at or below this is negative, at or above its opposite positive (VADER's bands).
pub(crate) const BAND: f64 = 0.05;

#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub customers: usize,
    pub revenue: f64,
    /// Customers with at least one purchase order.
    pub buyers: usize,
    pub orders: Vec<f64>,
    /// Mean order value of each buyer.
    pub baskets: Vec<f64>,
    pub ages: Vec<usize>,
    /// Customers with a known birth year.
    pub aged: usize,
    pub genders: Vec<usize>,
    pub gendered: usize,
    pub countries: Vec<usize>,
    pub located: usize,
    pub sizes: Vec<usize>,
    pub sized: usize,
    /// Purchase value per category.
    pub spend: Vec<f64>,
    /// Customers with at least one interaction of each channel.
    pub channel_users: Vec<usize>,
    pub channel_volume: Vec<usize>,
    /// Customers with at least one event of each name.
    pub event_users: Vec<usize>,
    /// Indices into `Facts::feedback` of the group's items.
    pub feedback: Vec<usize>,
    /// Per theme: (items, negative items, positive items).
    pub themes: Vec<(usize, usize, usize)>,
    pub negative: usize,
    pub positive: usize,
    /// Distinct requesters per idea.
    pub ideas: Vec<usize>,
}

impl Tally {
    pub fn of(facts: &Facts, member: impl Fn(usize) -> bool, year: i32) -> Tally {
        let l = &facts.labels;
        let mut t = Tally {
            ages: vec![0; AGE_BANDS.len()],
            genders: vec![0; l.genders.len()],
            countries: vec![0; l.countries.len()],
            sizes: vec![0; l.sizes.len()],
            spend: vec![0.0; l.categories.len()],
            channel_users: vec![0; l.channels.len()],
            channel_volume: vec![0; l.channels.len()],
            event_users: vec![0; l.events.len()],
            themes: vec![(0, 0, 0); l.themes.len()],
            ideas: vec![0; l.ideas.len()],
            ..Tally::default()
        };
        for (_, c) in facts.customers.iter().enumerate().filter(|(i, _)| member(*i)) {
            t.customer(c, year);
        }
        for (k, f) in facts.feedback.iter().enumerate() {
            if member(f.customer as usize) {
                t.item(k, f.sentiment, f.theme);
            }
        }
        let mut asked: Vec<(u32, u32)> =
            facts.requests.iter().copied().filter(|(c, _)| member(*c as usize)).collect();
        asked.sort_unstable();
        asked.dedup();
        for (_, idea) in asked {
            t.ideas[idea as usize] += 1;
        }
        t
    }

    fn customer(&mut self, c: &super::CustomerFacts, year: i32) {
        self.customers += 1;
        self.revenue += c.revenue;
        self.orders.push(f64::from(c.orders));
        if c.orders > 0 {
            self.buyers += 1;
            self.baskets.push(c.revenue / f64::from(c.orders));
        }
        if let Some(b) = c.birth_year {
            let age = year - i32::from(b);
            let band = AGE_BANDS.iter().rposition(|(from, _)| age >= *from).unwrap_or(0);
            self.ages[band] += 1;
            self.aged += 1;
        }
        count(&mut self.genders, &mut self.gendered, c.gender);
        count(&mut self.countries, &mut self.located, c.country);
        count(&mut self.sizes, &mut self.sized, c.company_size);
        for &(cat, amount) in &c.categories {
            self.spend[cat as usize] += amount;
        }
        for &(ch, n) in &c.channels {
            self.channel_users[ch as usize] += 1;
            self.channel_volume[ch as usize] += n as usize;
        }
        for &(e, _) in &c.events {
            self.event_users[e as usize] += 1;
        }
    }

    fn item(&mut self, k: usize, sentiment: f64, theme: Option<u32>) {
        self.feedback.push(k);
        let (neg, pos) = (sentiment <= -BAND, sentiment >= BAND);
        self.negative += usize::from(neg);
        self.positive += usize::from(pos);
        if let Some(th) = theme {
            let e = &mut self.themes[th as usize];
            e.0 += 1;
            e.1 += usize::from(neg);
            e.2 += usize::from(pos);
        }
    }

    pub fn sentiment_mix(&self) -> SentimentMix {
        let n = self.feedback.len();
        let share = |k: usize| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        SentimentMix {
            items: n,
            positive: share(self.positive),
            negative: share(self.negative),
            neutral: share(n - self.positive - self.negative),
        }
    }
}

fn count(counts: &mut [usize], known: &mut usize, v: Option<u32>) {
    if let Some(i) = v {
        counts[i as usize] += 1;
        *known += 1;
    }
}

/// The median of `xs` (0 for none); sorts in place.
pub(crate) fn median(xs: &mut [f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mid = xs.len() / 2;
    let (_, m, _) = xs.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if xs.len() % 2 == 1 {
        return m;
    }
    let below = xs[..mid].iter().copied().fold(f64::MIN, f64::max);
    (below + m) / 2.0
}

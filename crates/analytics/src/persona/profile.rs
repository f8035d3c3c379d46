//! The persona's output types, and the sections computed from counts alone: demographics,
//! behaviours, distinctive traits and the suggested name.

use super::tally::{AGE_BANDS, Tally, median};
use super::{Facts, MIN_TRAIT_SHARE, TOP, ratio};
use serde::{Deserialize, Serialize};

/// Everything a persona page shows, as generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonaProfile {
    pub size: usize,
    pub population: usize,
    pub share_customers: f64,
    /// Purchase value of the members.
    pub revenue: f64,
    pub share_revenue: f64,
    pub demographics: Demographics,
    pub behaviours: Behaviours,
    pub goals: Vec<Statement>,
    pub pain_points: Vec<PainPoint>,
    pub sentiment: SentimentMix,
    pub empathy: EmpathyMap,
    /// The most distinctive traits, highest lift first.
    pub traits: Vec<Share>,
    pub suggested_name: String,
}

/// One value of a dimension in the group, against the population.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// What kind of trait ("country", "age", "category"...).
    pub dimension: String,
    pub label: String,
    /// Members with it (for spend: the members' purchase value in it).
    pub count: f64,
    /// Share of the members (of those with the dimension known; of spend for categories).
    pub share: f64,
    pub population_share: f64,
    /// `share / population_share`: above 1 means over-represented.
    pub lift: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Demographics {
    pub age_bands: Vec<Share>,
    pub genders: Vec<Share>,
    pub countries: Vec<Share>,
    pub company_sizes: Vec<Share>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Behaviours {
    /// Median purchase orders per member, and the population's.
    pub median_orders: f64,
    pub population_median_orders: f64,
    /// Median of the buyers' mean order value, and the population's.
    pub median_basket: f64,
    pub population_median_basket: f64,
    /// Share of members with a purchase, and the population's.
    pub buyers: f64,
    pub population_buyers: f64,
    /// Categories by share of the members' spend.
    pub categories: Vec<Share>,
    /// Channels by share of members who used them.
    pub channels: Vec<Share>,
    /// Product features (events) by share of members who used them.
    pub features: Vec<Share>,
}

/// The tone of the members' feedback with text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SentimentMix {
    pub items: usize,
    pub positive: f64,
    pub neutral: f64,
    pub negative: f64,
}

/// A negative feedback theme of the members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PainPoint {
    pub theme: String,
    /// The members' negative items about it.
    pub negative: usize,
    /// Its share of the members' negative items, and of the population's.
    pub share: f64,
    pub lift: f64,
    /// Real texts of members' negative items about it, most negative first.
    pub quotes: Vec<String>,
}

/// A sentence and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub text: String,
    pub evidence: String,
    /// A member's words that illustrate it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmpathyMap {
    /// Members' own words.
    pub says: Vec<Statement>,
    pub thinks: Vec<Statement>,
    pub does: Vec<Statement>,
    pub feels: Vec<Statement>,
}

pub(crate) fn demographics(facts: &Facts, mine: &Tally, pop: &Tally) -> Demographics {
    let l = &facts.labels;
    let bands: Vec<String> = AGE_BANDS.iter().map(|(_, b)| (*b).to_string()).collect();
    let mut age_bands = shares(
        "age",
        &bands,
        &as_f64(&mine.ages),
        mine.aged as f64,
        &as_f64(&pop.ages),
        pop.aged as f64,
    );
    // Age bands read in their natural order, not by size.
    age_bands.sort_by_key(|s| bands.iter().position(|b| *b == s.label));
    Demographics {
        age_bands,
        genders: shares(
            "gender",
            &l.genders,
            &as_f64(&mine.genders),
            mine.gendered as f64,
            &as_f64(&pop.genders),
            pop.gendered as f64,
        ),
        countries: top(shares(
            "country",
            &l.countries,
            &as_f64(&mine.countries),
            mine.located as f64,
            &as_f64(&pop.countries),
            pop.located as f64,
        )),
        company_sizes: top(shares(
            "company size",
            &l.sizes,
            &as_f64(&mine.sizes),
            mine.sized as f64,
            &as_f64(&pop.sizes),
            pop.sized as f64,
        )),
    }
}

pub(crate) fn behaviours(facts: &Facts, mine: &Tally, pop: &Tally) -> Behaviours {
    let l = &facts.labels;
    let (m, p) = (mine.customers as f64, pop.customers as f64);
    let spend = (mine.spend.iter().sum::<f64>(), pop.spend.iter().sum::<f64>());
    Behaviours {
        median_orders: median(&mut mine.orders.clone()),
        population_median_orders: median(&mut pop.orders.clone()),
        median_basket: median(&mut mine.baskets.clone()),
        population_median_basket: median(&mut pop.baskets.clone()),
        buyers: ratio(mine.buyers as f64, m),
        population_buyers: ratio(pop.buyers as f64, p),
        categories: top(shares(
            "category",
            &l.categories,
            &mine.spend,
            spend.0,
            &pop.spend,
            spend.1,
        )),
        channels: top(shares(
            "channel",
            &l.channels,
            &as_f64(&mine.channel_users),
            m,
            &as_f64(&pop.channel_users),
            p,
        )),
        features: top(shares(
            "feature",
            &l.events,
            &as_f64(&mine.event_users),
            m,
            &as_f64(&pop.event_users),
            p,
        )),
    }
}

/// Each label's share in the group and in the population, largest share first (ties by
/// label, so the order is deterministic); labels the group lacks are left out.
pub(crate) fn shares(
    dimension: &str,
    labels: &[String],
    mine: &[f64],
    mine_total: f64,
    pop: &[f64],
    pop_total: f64,
) -> Vec<Share> {
    let mut out: Vec<Share> = labels
        .iter()
        .zip(mine.iter().zip(pop))
        .filter(|(_, (m, _))| **m > 0.0)
        .map(|(label, (&m, &p))| {
            let (share, population_share) = (ratio(m, mine_total), ratio(p, pop_total));
            Share {
                dimension: dimension.to_string(),
                label: label.clone(),
                count: m,
                share,
                population_share,
                lift: ratio(share, population_share),
            }
        })
        .collect();
    out.sort_by(|a, b| b.share.total_cmp(&a.share).then_with(|| a.label.cmp(&b.label)));
    out
}

fn top(mut v: Vec<Share>) -> Vec<Share> {
    v.truncate(TOP);
    v
}

fn as_f64(xs: &[usize]) -> Vec<f64> {
    xs.iter().map(|&x| x as f64).collect()
}

/// The members' most over-represented traits (at least [`MIN_TRAIT_SHARE`] of them, lift
/// above 1), highest lift first.
pub(crate) fn traits(d: &Demographics, b: &Behaviours) -> Vec<Share> {
    let all = [
        &d.age_bands,
        &d.genders,
        &d.countries,
        &d.company_sizes,
        &b.categories,
        &b.features,
        &b.channels,
    ];
    let mut out: Vec<Share> = all
        .into_iter()
        .flatten()
        .filter(|s| s.share >= MIN_TRAIT_SHARE && s.lift > 1.0)
        .cloned()
        .collect();
    out.sort_by(|a, b| b.lift.total_cmp(&a.lift).then_with(|| a.label.cmp(&b.label)));
    out.truncate(TOP);
    out
}

/// A name from how the members buy and feel against everyone ("Loyal", "Frustrated"...),
/// their most distinctive category and their most distinctive demographic trait.
pub(crate) fn suggested_name(mine: &Tally, pop: &Tally, traits: &[Share]) -> String {
    let mut name = vec![adjective(mine, pop).to_string()];
    let category = traits.iter().find(|t| t.dimension == "category" && t.lift >= 1.05);
    name.push(match category {
        Some(c) => format!("{} buyers", c.label),
        None => "customers".to_string(),
    });
    let demo = ["age", "country", "company size"];
    if let Some(t) = traits.iter().find(|t| demo.contains(&t.dimension.as_str()) && t.lift >= 1.2) {
        name.push(match t.dimension.as_str() {
            "age" => format!("aged {}", t.label),
            "country" => format!("in {}", t.label),
            _ => format!("at companies of {} staff", t.label),
        });
    }
    name.join(" ")
}

fn adjective(mine: &Tally, pop: &Tally) -> &'static str {
    let neg = (
        ratio(mine.negative as f64, mine.feedback.len() as f64),
        ratio(pop.negative as f64, pop.feedback.len() as f64),
    );
    let orders = (median(&mut mine.orders.clone()), median(&mut pop.orders.clone()).max(1.0));
    let buyers = ratio(mine.buyers as f64, mine.customers as f64);
    if buyers < 0.5 {
        "Dormant"
    } else if neg.0 >= 0.4 && neg.0 >= 1.3 * neg.1 {
        "Frustrated"
    } else if orders.0 >= 2.0 * orders.1 {
        "Loyal"
    } else if orders.0 <= 1.0 {
        "One-time"
    } else {
        "Steady"
    }
}

//! What the persona pages show, formatted from a stored persona: numbers become text here, so
//! the templates only lay them out (and escape them).

use rapport_analytics::persona::{Avatar, PersonaProfile, Share, Statement};
use rapport_store::PersonaRecord;

/// One value of a dimension: its share, the population's, the lift and a bar's width.
pub struct ShareRow {
    pub label: String,
    pub share: String,
    pub population: String,
    pub lift: String,
    /// Width of the bar in percent.
    pub bar: u32,
    /// Over-represented enough to highlight.
    pub high: bool,
}

pub struct Dimension {
    pub title: &'static str,
    pub rows: Vec<ShareRow>,
}

pub struct Said {
    pub text: String,
    pub evidence: String,
    pub quote: Option<String>,
}

pub struct Quadrant {
    pub title: &'static str,
    pub key: &'static str,
    pub items: Vec<Said>,
}

pub struct Pain {
    pub theme: String,
    pub figures: String,
    pub quotes: Vec<String>,
}

/// A persona as the list's card and the compare page's column show it.
pub struct Card {
    pub id: i64,
    pub href: String,
    pub name: String,
    pub avatar: String,
    pub size: String,
    pub share_customers: String,
    pub share_revenue: String,
    pub top_trait: String,
    pub generated: bool,
}

pub fn pct(x: f64) -> String {
    if x > 0.0 && x < 0.01 { "<1%".into() } else { format!("{:.0}%", x * 100.0) }
}

pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn trait_text(t: &Share) -> String {
    format!("{}: {} ({}× everyone)", t.dimension, t.label, lift(t.lift))
}

fn lift(x: f64) -> String {
    format!("{x:.1}")
}

pub fn avatar(p: &PersonaRecord) -> String {
    Avatar::of(&p.id.to_string(), &p.name).svg(56)
}

pub fn card(p: &PersonaRecord) -> Card {
    let profile = p.profile.as_ref();
    Card {
        id: p.id,
        href: format!("/personas/{}", p.id),
        name: p.name.clone(),
        avatar: avatar(p),
        size: profile.map_or("–".into(), |p| thousands(p.size)),
        share_customers: profile.map_or("–".into(), |p| pct(p.share_customers)),
        share_revenue: profile.map_or("–".into(), |p| pct(p.share_revenue)),
        top_trait: profile.and_then(|p| p.traits.first()).map_or("–".into(), trait_text),
        generated: profile.is_some(),
    }
}

fn rows(shares: &[Share]) -> Vec<ShareRow> {
    let top = shares.iter().map(|s| s.share).fold(0.0, f64::max);
    shares
        .iter()
        .map(|s| ShareRow {
            label: s.label.clone(),
            share: pct(s.share),
            population: pct(s.population_share),
            lift: lift(s.lift),
            bar: if top > 0.0 { (100.0 * s.share / top).round() as u32 } else { 0 },
            high: s.lift >= 1.2,
        })
        .collect()
}

pub fn demographics(p: &PersonaProfile) -> Vec<Dimension> {
    let d = &p.demographics;
    vec![
        Dimension { title: "Age", rows: rows(&d.age_bands) },
        Dimension { title: "Gender", rows: rows(&d.genders) },
        Dimension { title: "Countries", rows: rows(&d.countries) },
        Dimension { title: "Company size", rows: rows(&d.company_sizes) },
    ]
}

pub fn behaviours(p: &PersonaProfile) -> Vec<Dimension> {
    let b = &p.behaviours;
    vec![
        Dimension { title: "Favourite categories (share of spend)", rows: rows(&b.categories) },
        Dimension { title: "Channels (share who used them)", rows: rows(&b.channels) },
        Dimension { title: "Feature usage (share who used them)", rows: rows(&b.features) },
    ]
}

/// (label, members' value, everyone's value).
pub fn figures(p: &PersonaProfile) -> Vec<(&'static str, String, String)> {
    let b = &p.behaviours;
    vec![
        ("Median purchase orders", num(b.median_orders), num(b.population_median_orders)),
        (
            "Median order value",
            format!("{:.2}", b.median_basket),
            format!("{:.2}", b.population_median_basket),
        ),
        ("Have bought", pct(b.buyers), pct(b.population_buyers)),
    ]
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

fn said(s: &[Statement]) -> Vec<Said> {
    s.iter()
        .map(|s| Said {
            text: s.text.clone(),
            evidence: s.evidence.clone(),
            quote: s.quote.clone(),
        })
        .collect()
}

pub fn goals(p: &PersonaProfile) -> Vec<Said> {
    said(&p.goals)
}

pub fn empathy(p: &PersonaProfile) -> Vec<Quadrant> {
    let e = &p.empathy;
    vec![
        Quadrant { title: "Says", key: "says", items: said(&e.says) },
        Quadrant { title: "Thinks", key: "thinks", items: said(&e.thinks) },
        Quadrant { title: "Does", key: "does", items: said(&e.does) },
        Quadrant { title: "Feels", key: "feels", items: said(&e.feels) },
    ]
}

pub fn pains(p: &PersonaProfile) -> Vec<Pain> {
    p.pain_points
        .iter()
        .map(|pp| Pain {
            theme: pp.theme.clone(),
            figures: format!(
                "{} negative items, {} of their complaints ({}× everyone's share)",
                pp.negative,
                pct(pp.share),
                lift(pp.lift)
            ),
            quotes: pp.quotes.clone(),
        })
        .collect()
}

/// Where a profile keeps one dimension's shares.
type Shares = fn(&PersonaProfile) -> &[Share];

/// The compare page's rows: a label and one cell per persona.
pub fn compare_rows(all: &[PersonaRecord]) -> Vec<(&'static str, Vec<String>)> {
    type Cell = fn(&PersonaProfile) -> String;
    let first =
        |v: &[Share]| v.first().map_or("–".into(), |s| format!("{} ({})", s.label, pct(s.share)));
    let cells: Vec<(&'static str, Cell)> = vec![
        ("Members", |p| thousands(p.size)),
        ("Share of customers", |p| pct(p.share_customers)),
        ("Share of revenue", |p| pct(p.share_revenue)),
        ("Median purchase orders", |p| num(p.behaviours.median_orders)),
        ("Median order value", |p| format!("{:.2}", p.behaviours.median_basket)),
        ("Have bought", |p| pct(p.behaviours.buyers)),
        ("Positive / negative feedback", |p| {
            format!("{} / {}", pct(p.sentiment.positive), pct(p.sentiment.negative))
        }),
        ("Most distinctive", |p| p.traits.first().map_or("–".into(), trait_text)),
        ("Top pain point", |p| {
            p.pain_points
                .first()
                .map_or("–".into(), |pp| format!("{} ({} items)", pp.theme, pp.negative))
        }),
        ("Feels", |p| p.empathy.feels.first().map_or("–".into(), |s| s.text.clone())),
        ("Says", |p| p.empathy.says.first().map_or("–".into(), |s| format!("“{}”", s.text))),
    ];
    let mut out: Vec<(&'static str, Vec<String>)> = cells
        .into_iter()
        .map(|(label, f)| {
            (label, all.iter().map(|r| r.profile.as_ref().map_or("–".into(), f)).collect())
        })
        .collect();
    let dims: [(&'static str, Shares); 4] = [
        ("Largest age band", |p| &p.demographics.age_bands),
        ("Top country", |p| &p.demographics.countries),
        ("Top category", |p| &p.behaviours.categories),
        ("Top feature", |p| &p.behaviours.features),
    ];
    for (label, f) in dims {
        let cells = all
            .iter()
            .map(|r| {
                r.profile.as_ref().map_or("–".into(), |p| {
                    let v = f(p);
                    if label == "Largest age band" {
                        v.iter()
                            .max_by(|a, b| a.share.total_cmp(&b.share))
                            .map_or("–".into(), |s| format!("{} ({})", s.label, pct(s.share)))
                    } else {
                        first(v)
                    }
                })
            })
            .collect();
        out.push((label, cells));
    }
    out
}

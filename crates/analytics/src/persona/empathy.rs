//! The sections read from feedback and behaviour: pain points, goals and the empathy map.
//! Quotes are always members' own texts; every statement names the counts it rests on.

use super::profile::{Behaviours, EmpathyMap, PainPoint, Share, Statement};
use super::tally::{BAND, Tally};
use super::{Facts, ratio};

/// Example quotes per pain point.
const QUOTES: usize = 3;
/// Quotes in "says".
const SAYS: usize = 4;
/// Themes the "thinks" quadrant speaks about.
const THINKS: usize = 3;

/// The members' negative themes, most negative items first, each with real quotes.
pub(crate) fn pain_points(facts: &Facts, mine: &Tally, pop: &Tally) -> Vec<PainPoint> {
    let mut out: Vec<PainPoint> = mine
        .themes
        .iter()
        .enumerate()
        .filter(|(_, (_, neg, _))| *neg > 0)
        .map(|(th, &(_, neg, _))| {
            let share = ratio(neg as f64, mine.negative as f64);
            let population = ratio(pop.themes[th].1 as f64, pop.negative as f64);
            PainPoint {
                theme: facts.labels.themes[th].clone(),
                negative: neg,
                share,
                lift: ratio(share, population),
                quotes: quotes(facts, mine, |s, t| t == Some(th as u32) && s <= -BAND, QUOTES),
            }
        })
        .collect();
    out.sort_by(|a, b| b.negative.cmp(&a.negative).then_with(|| a.theme.cmp(&b.theme)));
    out.truncate(super::TOP);
    out
}

/// Distinct texts of the group's items that `keep(sentiment, theme)` selects, the strongest
/// feeling first (most negative when they are negative, most positive otherwise).
fn quotes(
    facts: &Facts,
    mine: &Tally,
    keep: impl Fn(f64, Option<u32>) -> bool,
    n: usize,
) -> Vec<String> {
    let mut items: Vec<&super::FeedbackFact> = mine
        .feedback
        .iter()
        .map(|&k| &facts.feedback[k])
        .filter(|f| keep(f.sentiment, f.theme))
        .collect();
    items.sort_by(|a, b| {
        b.sentiment.abs().total_cmp(&a.sentiment.abs()).then_with(|| a.text.cmp(&b.text))
    });
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut seen: Vec<String> = Vec::with_capacity(n);
    for f in items {
        if out.len() == n {
            break;
        }
        // Texts that open with the same sentence say the same thing: quote one of them.
        let key = first_sentence(&f.text);
        if !seen.contains(&key) {
            seen.push(key);
            out.push(f.text.clone());
        }
    }
    out
}

/// The first sentence, lower-cased, trimmed of its punctuation.
fn first_sentence(text: &str) -> String {
    let end = text.find(['.', '!', '?']).unwrap_or(text.len());
    text[..end].trim().to_lowercase()
}

/// What the members buy and use most, and the ideas they asked for.
pub(crate) fn goals(facts: &Facts, mine: &Tally, b: &Behaviours) -> Vec<Statement> {
    let mut out = Vec::new();
    if let Some(c) = b.categories.first() {
        out.push(stmt(format!("Buy {} most", c.label), versus(c, "of their spend")));
    }
    // What they use more than everyone does, before what everyone uses.
    let mut features: Vec<&Share> = b.features.iter().collect();
    features.sort_by_key(|f| f.lift < 1.0);
    for f in features.into_iter().take(2) {
        out.push(stmt(format!("Use {}", humanise(&f.label)), versus(f, "of them use it")));
    }
    let mut ideas: Vec<(usize, &String)> =
        mine.ideas.iter().copied().zip(&facts.labels.ideas).filter(|(n, _)| *n > 0).collect();
    ideas.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    for (n, title) in ideas.into_iter().take(3) {
        out.push(stmt(format!("Asked for “{title}”"), format!("{n} of them requested it")));
    }
    out
}

/// The four quadrants.
pub(crate) fn map(
    facts: &Facts,
    mine: &Tally,
    pop: &Tally,
    b: &Behaviours,
    pains: &[PainPoint],
) -> EmpathyMap {
    EmpathyMap {
        says: says(facts, mine),
        thinks: thinks(facts, mine),
        does: does(b),
        feels: feels(facts, mine, pop, pains),
    }
}

/// The themes the members write about most, by items (ties by label).
fn top_themes(facts: &Facts, mine: &Tally, n: usize) -> Vec<usize> {
    let mut th: Vec<usize> = (0..mine.themes.len()).filter(|&t| mine.themes[t].0 > 0).collect();
    th.sort_by(|&a, &b| {
        mine.themes[b]
            .0
            .cmp(&mine.themes[a].0)
            .then_with(|| facts.labels.themes[a].cmp(&facts.labels.themes[b]))
    });
    th.truncate(n);
    th
}

/// The strongest-felt item of each theme they write about most.
fn says(facts: &Facts, mine: &Tally) -> Vec<Statement> {
    let mut out: Vec<Statement> = Vec::new();
    for th in top_themes(facts, mine, SAYS) {
        let q = quotes(facts, mine, |_, t| t == Some(th as u32), SAYS);
        if let Some(text) = q.into_iter().find(|t| out.iter().all(|s| s.text != *t)) {
            let label = &facts.labels.themes[th];
            out.push(stmt(text, format!("a member's feedback about {label}")));
        }
    }
    out
}

/// Their verdict on each theme they write about most: letting them down or working.
fn thinks(facts: &Facts, mine: &Tally) -> Vec<Statement> {
    top_themes(facts, mine, THINKS)
        .into_iter()
        .map(|th| {
            let (n, neg, pos) = mine.themes[th];
            let label = &facts.labels.themes[th];
            let (text, evidence) = if neg > pos {
                (
                    format!("“{label}” is letting them down"),
                    format!("{neg} of their {n} items about {label} are negative"),
                )
            } else if pos > neg {
                (
                    format!("“{label}” works for them"),
                    format!("{pos} of their {n} items about {label} are positive"),
                )
            } else {
                // As many items each way (often none either way): a concern, not a verdict.
                (
                    format!("“{label}” is on their mind"),
                    format!("{n} of their items are about {label}: {pos} positive, {neg} negative"),
                )
            };
            let want = |s: f64| {
                if neg > pos {
                    s <= -BAND
                } else if pos > neg {
                    s >= BAND
                } else {
                    true
                }
            };
            let quote = quotes(facts, mine, |s, t| t == Some(th as u32) && want(s), 1).pop();
            Statement { text, evidence, quote }
        })
        .collect()
}

/// How they buy, get in touch and use the product, in numbers.
fn does(b: &Behaviours) -> Vec<Statement> {
    let mut out = vec![
        stmt(
            format!(
                "Places {} purchase order{} (median)",
                num(b.median_orders),
                plural(b.median_orders)
            ),
            format!(
                "everyone: {}; {:.0}% of them have bought",
                num(b.population_median_orders),
                b.buyers * 100.0
            ),
        ),
        stmt(
            format!("Spends {:.0} per order (median)", b.median_basket),
            format!("everyone: {:.0}", b.population_median_basket),
        ),
    ];
    if let Some(c) = b.channels.first() {
        out.push(stmt(format!("Gets in touch by {}", c.label), versus(c, "of them used it")));
    }
    let distinctive =
        b.features.iter().filter(|f| f.lift > 1.0).max_by(|a, b| a.lift.total_cmp(&b.lift));
    if let Some(f) = distinctive {
        out.push(stmt(
            format!("Uses {} more than most", humanise(&f.label)),
            versus(f, "of them use it"),
        ));
    }
    out
}

/// Their mood from the sentiment of their feedback, with what pleases and hurts them most.
fn feels(facts: &Facts, mine: &Tally, pop: &Tally, pains: &[PainPoint]) -> Vec<Statement> {
    let (m, p) = (mine.sentiment_mix(), pop.sentiment_mix());
    if m.items == 0 {
        return Vec::new();
    }
    let mood = if m.negative >= 0.5 {
        "Frustrated"
    } else if m.positive >= 0.6 {
        "Satisfied"
    } else {
        "Mixed: pleased and annoyed in turn"
    };
    let evidence = format!(
        "{:.0}% of their {} items are positive and {:.0}% negative (everyone: {:.0}% and {:.0}%)",
        m.positive * 100.0,
        m.items,
        m.negative * 100.0,
        p.positive * 100.0,
        p.negative * 100.0
    );
    let sign = if m.negative >= 0.5 { -1.0 } else { 1.0 };
    let quote = quotes(facts, mine, |s, _| s * sign >= BAND, 1).pop();
    let mut out = vec![Statement { text: mood.to_string(), evidence, quote }];
    if let Some(th) = happiest(mine) {
        let label = &facts.labels.themes[th];
        let (n, _, pos) = mine.themes[th];
        let quote = quotes(facts, mine, |s, t| t == Some(th as u32) && s >= BAND, 1).pop();
        let evidence = format!("{pos} of their {n} items about {label} are positive");
        out.push(Statement { text: format!("Delighted by {label}"), evidence, quote });
    }
    if let Some(pp) = pains.first() {
        let evidence =
            format!("{} negative items, {:.0}% of their complaints", pp.negative, pp.share * 100.0);
        let quote = pp.quotes.first().cloned();
        out.push(Statement { text: format!("Upset about {}", pp.theme), evidence, quote });
    }
    out
}

/// The theme with the most positive items, if any.
fn happiest(mine: &Tally) -> Option<usize> {
    (0..mine.themes.len())
        .filter(|&t| mine.themes[t].2 > 0)
        .max_by(|&a, &b| mine.themes[a].2.cmp(&mine.themes[b].2).then_with(|| b.cmp(&a)))
}

fn stmt(text: String, evidence: String) -> Statement {
    Statement { text, evidence, quote: None }
}

/// "42% of their spend (everyone: 30%)".
fn versus(s: &Share, what: &str) -> String {
    format!("{:.0}% {what}; everyone: {:.0}%", s.share * 100.0, s.population_share * 100.0)
}

/// A whole number without decimals, others with one.
fn num(x: f64) -> String {
    if x.fract() == 0.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

/// `report_exported` → `report exported`: event names as words.
fn humanise(s: &str) -> String {
    s.replace('_', " ")
}

fn plural(x: f64) -> &'static str {
    if x == 1.0 { "" } else { "s" }
}

//! The recurring themes of the stored feedback: discovered over every item with text (or one
//! source's), each with its size, share, mean sentiment, weekly counts and example quotes.
//!
//! Computed on demand from the texts; theme ids come from the themes' top phrases, so the same
//! topic keeps its id from one run to the next.

use crate::{ReportError, ReportResult};
use chrono::NaiveDate;
use rapport_analytics::sentiment;
use rapport_analytics::themes::{self, ThemeParams};
use rapport_core::{ExternalId, Feedback, Timestamp};
use rapport_store::{Kind, Record, Store};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct Params {
    /// Only feedback of this source (`review`, `nps`...).
    pub source: Option<String>,
    /// Only feedback created at or after this time.
    pub since: Option<Timestamp>,
    /// Themes listed, largest first.
    pub top: usize,
    /// Weeks of counts per theme, ending with the latest item's week.
    pub weeks: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { source: None, since: None, top: 10, weeks: 12 }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Items with text that were read.
    pub items: usize,
    /// Items that belong to a theme.
    pub assigned: usize,
    /// The Monday of each week of `weekly` counts.
    pub weeks: Vec<NaiveDate>,
    pub themes: Vec<ThemeRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThemeRow {
    /// Stable across runs while the topic's top phrases stay.
    pub id: String,
    pub label: String,
    pub phrases: Vec<String>,
    pub items: usize,
    /// Of all items with text.
    pub share: f64,
    /// Mean VADER compound of its items (−1..1).
    pub sentiment: f64,
    /// Share of its items scoring −0.05 or below.
    pub negative: f64,
    pub weekly: Vec<u32>,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    pub id: ExternalId,
    pub customer: ExternalId,
    pub text: String,
    pub sentiment: f64,
}

/// Every feedback item with text that the params select, in insertion order.
async fn texts(store: &dyn Store, p: &Params) -> ReportResult<Vec<Feedback>> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.export(Kind::Feedback, after, 10_000).await?;
        out.extend(page.items.into_iter().filter_map(|r| match r {
            Record::Feedback(f)
                if f.text.as_deref().is_some_and(|t| !t.trim().is_empty())
                    && p.source.as_ref().is_none_or(|s| *s == f.source)
                    && p.since.is_none_or(|t| f.created_at >= t) =>
            {
                Some(f)
            }
            _ => None,
        }));
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
}

pub async fn report(store: &dyn Store, p: &Params) -> ReportResult<Report> {
    let items = texts(store, p).await?;
    if items.is_empty() {
        return Err(ReportError::NoData("feedback texts"));
    }
    let params = ThemeParams::default()
        .check()
        .map_err(|e| ReportError::Invalid { field: "themes", reason: e.to_string() })?;
    let text: Vec<&str> = items.iter().map(|f| f.text.as_deref().unwrap_or("")).collect();
    let analyzer = sentiment::analyzer();
    let scores: Vec<f64> = text.iter().map(|t| analyzer.score(t)).collect();
    let found = themes::discover(&text, &params, &[]);
    let micros = |f: &Feedback| f.created_at.timestamp_micros();
    let trend = themes::weekly_trend(
        found.assignments.iter().zip(&items).map(|(a, f)| (a.map(|a| a.theme), micros(f))),
    );
    let keep = trend.weeks.len().saturating_sub(p.weeks);
    let n = items.len() as f64;
    let mut rows: Vec<ThemeRow> = found
        .model
        .themes()
        .iter()
        .map(|t| {
            let members: Vec<usize> = found
                .assignments
                .iter()
                .enumerate()
                .filter(|(_, a)| a.is_some_and(|a| a.theme == t.id))
                .map(|(i, _)| i)
                .collect();
            let m = members.len().max(1) as f64;
            let weekly = trend
                .themes
                .iter()
                .find(|w| w.theme == t.id)
                .map_or_else(Vec::new, |w| w.counts[keep..].to_vec());
            ThemeRow {
                id: t.id.to_string(),
                label: t.label.clone(),
                phrases: t.phrases.iter().map(|p| p.text.clone()).collect(),
                items: members.len(),
                share: members.len() as f64 / n,
                sentiment: members.iter().map(|&i| scores[i]).sum::<f64>() / m,
                negative: members.iter().filter(|&&i| scores[i] <= -0.05).count() as f64 / m,
                weekly,
                examples: t
                    .examples
                    .iter()
                    .take(3)
                    .map(|&i| Example {
                        id: items[i].id.clone(),
                        customer: items[i].customer.clone(),
                        text: text[i].to_string(),
                        sentiment: scores[i],
                    })
                    .collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.items.cmp(&a.items).then_with(|| a.id.cmp(&b.id)));
    rows.truncate(p.top);
    Ok(Report {
        items: items.len(),
        assigned: found.assignments.iter().flatten().count(),
        weeks: trend.weeks[keep..].to_vec(),
        themes: rows,
    })
}

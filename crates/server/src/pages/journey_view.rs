//! The journey map's geometry and figures as the template draws them: numbers for the SVG,
//! formatted strings for the labels (which the template escapes).

use super::journeys::{COL, count, percent, share};
use super::urlencode;
use rapport_reports::journeys::{JourneyReport, StageReport};

/// The funnel's band: bars are scaled to the population and centred on `MID`.
const FUNNEL_TOP: f64 = 70.0;
const FUNNEL_H: f64 = 190.0;
const MID: f64 = FUNNEL_TOP + FUNNEL_H / 2.0;
const BAR_W: f64 = 110.0;
/// The emotion curve: −100..100 around the neutral line.
const EMOTION_MID: f64 = 358.0;
const EMOTION_HALF: f64 = 52.0;
/// A bar shorter than this carries its count above it, not inside.
const LABEL_INSIDE: f64 = 24.0;

pub struct PainView {
    pub theme: String,
    pub complaints: u64,
    /// Width of its meter, in percent of the stage's most frequent theme.
    pub bar: u32,
}

pub struct QuoteView {
    pub text: String,
    pub who: String,
    pub href: String,
    pub theme: String,
    pub date: String,
}

/// The band from the previous bar into this one, and the drop-off written over it.
pub struct Gap {
    pub points: String,
    pub x: f64,
    pub dropped: String,
    pub share: String,
}

pub struct StageView {
    pub name: String,
    /// The previous stage's name ("median time after ...").
    pub previous: String,
    pub conditions: String,
    pub cx: f64,
    pub bar_x: f64,
    pub bar_y: f64,
    pub bar_w: f64,
    pub bar_h: f64,
    pub label_y: f64,
    pub label_inside: bool,
    pub reached: String,
    /// "72% of customers" at the first stage, "72% of previous" after.
    pub conversion: String,
    pub gap: Option<Gap>,
    pub dropped: String,
    pub none_dropped: bool,
    pub drop_share: String,
    pub median: String,
    pub stayed: String,
    pub nps: String,
    pub csat: String,
    pub ces: String,
    pub sentiment: String,
    pub nps_point: Option<(f64, f64)>,
    pub sentiment_point: Option<(f64, f64)>,
    pub complaints: u64,
    pub pains: Vec<PainView>,
    pub quotes: Vec<QuoteView>,
}

pub struct Drawn {
    pub stages: Vec<StageView>,
    pub nps: String,
    pub sentiment: String,
    pub baseline: f64,
    /// (stage, share, count) of the largest drop-off share.
    pub worst: Option<(String, String, String)>,
}

fn emotion_y(v: f64) -> f64 {
    EMOTION_MID - v.clamp(-100.0, 100.0) / 100.0 * EMOTION_HALF
}

fn bar(reached: u64, population: u64, i: usize) -> (f64, f64, f64) {
    let h = match share(reached, population) {
        Some(s) if reached > 0 => (FUNNEL_H * s).max(2.0),
        _ => 0.0,
    };
    (i as f64 * COL + (COL - BAR_W) / 2.0, MID - h / 2.0, h)
}

pub fn stage_views(m: &JourneyReport) -> Drawn {
    let mut stages: Vec<StageView> = Vec::with_capacity(m.stages.len());
    for (i, s) in m.stages.iter().enumerate() {
        let (x, y, h) = bar(s.result.reached, m.population, i);
        let gap = stages.last().map(|prev| Gap {
            points: format!(
                "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
                prev.bar_x + BAR_W,
                prev.bar_y,
                x,
                y,
                x,
                y + h,
                prev.bar_x + BAR_W,
                prev.bar_y + prev.bar_h
            ),
            x: i as f64 * COL,
            dropped: format!("−{}", count(s.result.dropped)),
            share: format!("{} drop", percent(s.result.drop_share)),
        });
        let mut v = view(s, i, (x, y, h), gap);
        v.previous = stages.last().map(|p| p.name.clone()).unwrap_or_default();
        stages.push(v);
    }
    let line = |pick: fn(&StageView) -> Option<(f64, f64)>| {
        let pts: Vec<String> =
            stages.iter().filter_map(pick).map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        pts.join(" ")
    };
    let (nps, sentiment) = (line(|s| s.nps_point), line(|s| s.sentiment_point));
    Drawn { worst: worst(m), stages, nps, sentiment, baseline: EMOTION_MID }
}

fn view(s: &StageReport, i: usize, (x, y, h): (f64, f64, f64), gap: Option<Gap>) -> StageView {
    let r = &s.result;
    let cx = i as f64 * COL + COL / 2.0;
    let sat = &r.satisfaction;
    let top = r.pain_points.first().map_or(1, |p| p.complaints.max(1));
    let of = if i == 0 { "of customers" } else { "of previous" };
    StageView {
        name: r.name.clone(),
        previous: String::new(),
        conditions: s.conditions.clone(),
        cx,
        bar_x: x,
        bar_y: y,
        bar_w: BAR_W,
        bar_h: h,
        label_inside: h >= LABEL_INSIDE,
        label_y: if h >= LABEL_INSIDE { MID + 5.0 } else { y - 6.0 },
        reached: count(r.reached),
        conversion: format!("{} {of}", percent(r.conversion)),
        gap,
        dropped: count(r.dropped),
        none_dropped: r.dropped == 0,
        drop_share: percent(r.drop_share),
        median: r.median_days.map_or_else(|| "–".into(), |d| format!("{d:.1} days")),
        stayed: count(r.stayed),
        nps: sat
            .nps
            .as_ref()
            .map_or_else(|| "–".into(), |e| format!("{:+.0} · n {}", e.score, e.responses)),
        csat: sat
            .csat
            .as_ref()
            .map_or_else(|| "–".into(), |e| format!("{:.0}% · n {}", e.score, e.responses)),
        ces: sat
            .ces
            .as_ref()
            .map_or_else(|| "–".into(), |e| format!("{:.1} · n {}", e.score, e.responses)),
        sentiment: sat
            .sentiment
            .map_or_else(|| "–".into(), |v| format!("{v:+.2} · n {}", sat.sentiment_customers)),
        nps_point: sat.nps.as_ref().map(|e| (cx, emotion_y(e.score))),
        sentiment_point: sat.sentiment.map(|v| (cx, emotion_y(100.0 * v))),
        complaints: r.complaints,
        pains: r
            .pain_points
            .iter()
            .map(|p| PainView {
                theme: p.theme.clone(),
                complaints: p.complaints,
                bar: (100 * p.complaints / top) as u32,
            })
            .collect(),
        quotes: s
            .quotes
            .iter()
            .map(|q| QuoteView {
                text: q.text.clone(),
                who: q.name.clone().unwrap_or_else(|| q.customer.as_str().to_string()),
                href: format!("/customers/{}", urlencode(q.customer.as_str())),
                theme: q.theme.clone().unwrap_or_default(),
                date: q.at.format("%Y-%m-%d").to_string(),
            })
            .collect(),
    }
}

/// The stage with the largest share of drop-off (of those with anyone to lose).
fn worst(m: &JourneyReport) -> Option<(String, String, String)> {
    m.stages
        .iter()
        .filter(|s| s.result.dropped > 0)
        .max_by(|a, b| {
            let share = |s: &StageReport| s.result.drop_share.unwrap_or(0.0);
            share(a).total_cmp(&share(b))
        })
        .map(|s| (s.result.name.clone(), percent(s.result.drop_share), count(s.result.dropped)))
}

/// The small funnel of the list: one bar per stage, 18 units wide, scaled to 40 high.
pub fn mini_funnel(m: &JourneyReport) -> Vec<(f64, f64, f64, f64)> {
    m.stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let h = share(s.result.reached, m.population).map_or(0.0, |v| 40.0 * v);
            (i as f64 * 22.0, 40.0 - h, 18.0, h)
        })
        .collect()
}

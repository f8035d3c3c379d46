//! Server-rendered SVG charts: no script, no CDN. Every chart is an `img` with a title and a
//! description, its axes are labelled, and every mark carries a `<title>` with its exact value
//! (shown on hover and read by screen readers); pages put the same numbers in a table beside it.
//! Text is escaped here because templates insert these strings unescaped.

use std::fmt::Write;

const W: f64 = 640.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 12.0;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Opens an accessible SVG: `id` makes the title and description referable.
fn open(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {W} {height}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(title),
        escape(desc)
    );
}

/// One period of a trend: its label and, when anyone answered, (score, low, high) and a note
/// for the hover text.
pub struct TrendPoint {
    pub label: String,
    pub value: Option<(f64, f64, f64)>,
    pub note: String,
}

/// A score line with its 95% confidence band, on a fixed score range (NPS −100..100...).
pub fn trend(
    id: &str,
    title: &str,
    y_label: &str,
    (lo, hi): (f64, f64),
    points: &[TrendPoint],
) -> String {
    let height = 220.0;
    let bottom = height - 40.0;
    let mut out = String::new();
    let desc = format!("{y_label} per period with its 95% confidence interval as a shaded band");
    open(&mut out, id, height, title, &desc);
    let y = |v: f64| bottom - (v.clamp(lo, hi) - lo) / (hi - lo) * (bottom - TOP);
    let n = points.len().max(1);
    let step = (W - LEFT - RIGHT) / n as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    // Whole steps where the range allows it (CES 1..7 in six), else quarters.
    let span = hi - lo;
    let ticks = if span.fract() == 0.0 && span <= 10.0 { span as usize } else { 4 };
    y_axis(&mut out, lo, hi, ticks, &y, y_label, bottom);
    // The band and the line, one piece per run of periods with answers.
    let runs = runs(points);
    for run in &runs {
        let mut band = String::new();
        for &i in run {
            let (_, _, h) = points[i].value.expect("a run holds answered periods");
            let _ = write!(band, "{:.1},{:.1} ", x(i), y(h));
        }
        for &i in run.iter().rev() {
            let (_, l, _) = points[i].value.expect("a run holds answered periods");
            let _ = write!(band, "{:.1},{:.1} ", x(i), y(l));
        }
        let _ = write!(out, r#"<polygon class="band" points="{}"/>"#, band.trim_end());
        let line: Vec<String> = run
            .iter()
            .map(|&i| format!("{:.1},{:.1}", x(i), y(points[i].value.expect("answered").0)))
            .collect();
        let _ = write!(out, r#"<polyline class="line" points="{}"/>"#, line.join(" "));
    }
    for (i, p) in points.iter().enumerate() {
        if let Some((v, l, h)) = p.value {
            let _ = write!(
                out,
                r#"<circle class="dot" cx="{:.1}" cy="{:.1}" r="3.5"><title>{}: {v:.1} (95% CI {l:.1} to {h:.1}; {})</title></circle>"#,
                x(i),
                y(v),
                escape(&p.label),
                escape(&p.note)
            );
        }
    }
    x_labels(&mut out, points.iter().map(|p| p.label.as_str()), &x, bottom);
    out.push_str("</svg>");
    out
}

/// Indices of consecutive answered periods.
fn runs(points: &[TrendPoint]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut current = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if p.value.is_some() {
            current.push(i);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn y_axis(
    out: &mut String,
    lo: f64,
    hi: f64,
    ticks: usize,
    y: &dyn Fn(f64) -> f64,
    label: &str,
    bottom: f64,
) {
    for k in 0..=ticks {
        let v = lo + (hi - lo) * k as f64 / ticks as f64;
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            W - RIGHT,
            y(v),
            y(v),
            LEFT - 6.0,
            y(v) + 4.0,
            tick(v)
        );
    }
    let mid = (TOP + bottom) / 2.0;
    let _ = write!(
        out,
        r#"<text class="axis" transform="translate(14 {mid:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        escape(label)
    );
}

fn tick(v: f64) -> String {
    if v.abs() >= 1000.0 {
        let k = v / 1000.0;
        if k.fract().abs() < 1e-9 { format!("{k:.0}k") } else { format!("{k:.1}k") }
    } else if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Category labels under the plot, thinned to at most ten.
fn x_labels<'a>(
    out: &mut String,
    labels: impl Iterator<Item = &'a str>,
    x: &dyn Fn(usize) -> f64,
    bottom: f64,
) {
    let labels: Vec<&str> = labels.collect();
    let every = labels.len().div_ceil(10).max(1);
    for (i, l) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x(i),
            bottom + 16.0,
            escape(l)
        );
    }
}

/// A bar: its label, its length and the text shown at its end and on hover.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// Horizontal bars, one row per category, longest = full width.
pub fn bars(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    let row = 24.0;
    let label_w = 150.0;
    let height = TOP * 2.0 + row * bars.len().max(1) as f64;
    let mut out = String::new();
    open(&mut out, id, height, title, desc);
    let max = bars.iter().map(|b| b.value).fold(0.0f64, f64::max).max(f64::MIN_POSITIVE);
    let span = W - label_w - 110.0;
    for (i, b) in bars.iter().enumerate() {
        let top = TOP + row * i as f64;
        let w = (b.value / max * span).max(if b.value > 0.0 { 1.0 } else { 0.0 });
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" x="{label_w}" y="{:.1}" width="{w:.1}" height="{:.1}"><title>{}: {}</title></rect><text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
            label_w - 8.0,
            top + 16.0,
            escape(&b.label),
            top + 4.0,
            row - 8.0,
            escape(&b.label),
            escape(&b.text),
            label_w + w + 6.0,
            top + 16.0,
            escape(&b.text)
        );
    }
    out.push_str("</svg>");
    out
}

/// Vertical bars over ordered categories (a histogram), with a labelled count axis.
pub fn columns(
    id: &str,
    title: &str,
    desc: &str,
    x_label: &str,
    y_label: &str,
    bars: &[Bar],
) -> String {
    let height = 220.0;
    let bottom = height - 44.0;
    let mut out = String::new();
    open(&mut out, id, height, title, desc);
    let max = bars.iter().map(|b| b.value).fold(0.0f64, f64::max).max(1.0);
    let top_tick = nice_ceiling(max);
    let y = |v: f64| bottom - v / top_tick * (bottom - TOP);
    // Round steps: 2·10ⁿ in quarters, 1·10ⁿ and 5·10ⁿ in fifths.
    let leading = top_tick / 10f64.powf(top_tick.log10().floor());
    let ticks = if (leading - 2.0).abs() < 1e-9 { 4 } else { 5 };
    y_axis(&mut out, 0.0, top_tick, ticks, &y, y_label, bottom);
    let n = bars.len().max(1);
    let step = (W - LEFT - RIGHT) / n as f64;
    let x = |i: usize| LEFT + step * (i as f64 + 0.5);
    for (i, b) in bars.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect class="bar" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {}</title></rect>"#,
            x(i) - step * 0.4,
            y(b.value),
            step * 0.8,
            bottom - y(b.value),
            escape(&b.label),
            escape(&b.text)
        );
    }
    x_labels(&mut out, bars.iter().map(|b| b.label.as_str()), &x, bottom);
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + (W - LEFT - RIGHT) / 2.0,
        height - 6.0,
        escape(x_label)
    );
    out.push_str("</svg>");
    out
}

/// The smallest 1, 2 or 5 × 10ⁿ at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    let mut decade = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * decade >= v {
                return m * decade;
            }
        }
        decade *= 10.0;
    }
}

/// One row of a heatmap: its label and a share (0..1) per column; `None` is not yet observable.
pub struct HeatRow {
    pub label: String,
    pub note: String,
    pub cells: Vec<Option<f64>>,
}

/// A cohort triangle: darker is a larger share. Column 0 (everyone, by definition) is drawn
/// but the colour scale spans the later columns, where the differences are.
pub fn heatmap(
    id: &str,
    title: &str,
    desc: &str,
    col_label: &dyn Fn(usize) -> String,
    rows: &[HeatRow],
) -> String {
    let cols = rows.iter().map(|r| r.cells.len()).max().unwrap_or(0).max(1);
    let label_w = 120.0;
    let cell_w = (W - label_w - RIGHT) / cols as f64;
    let cell_h = 18.0;
    let height = TOP + 20.0 + cell_h * rows.len().max(1) as f64 + 24.0;
    let mut out = String::new();
    open(&mut out, id, height, title, desc);
    let max = rows
        .iter()
        .flat_map(|r| r.cells.iter().skip(1).flatten())
        .fold(0.0f64, |a, b| a.max(*b))
        .max(0.01);
    let every = cols.div_ceil(12).max(1);
    for c in (0..cols).filter(|c| c % every == 0) {
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            label_w + cell_w * (c as f64 + 0.5),
            TOP + 12.0,
            escape(&col_label(c))
        );
    }
    for (r, row) in rows.iter().enumerate() {
        let top = TOP + 20.0 + cell_h * r as f64;
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            label_w - 8.0,
            top + 13.0,
            escape(&row.label)
        );
        for (c, cell) in row.cells.iter().enumerate() {
            let Some(share) = cell else { continue };
            let strength = if c == 0 { 1.0 } else { (share / max).min(1.0) };
            let light = 96.0 - 62.0 * strength;
            let _ = write!(
                out,
                r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="hsl(212 65% {light:.0}%)"><title>{}, {}: {:.1}% ({})</title></rect>"#,
                label_w + cell_w * c as f64,
                (cell_w - 1.0).max(0.5),
                cell_h - 1.0,
                escape(&row.label),
                escape(&col_label(c)),
                100.0 * share,
                escape(&row.note)
            );
        }
    }
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">months since first purchase</text>"#,
        label_w + (W - label_w - RIGHT) / 2.0,
        height - 6.0
    );
    out.push_str("</svg>");
    out
}

/// A sparkline: a small line over the values, scaled to their own range, with the first and
/// last values in its title. Empty for fewer than two values.
pub fn sparkline(label: &str, values: &[f64]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let (w, h) = (120.0, 24.0);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let step = w / (values.len() - 1) as f64;
    let mut points = String::new();
    for (i, v) in values.iter().enumerate() {
        let y = if hi > lo { h - 2.0 - (v - lo) / span * (h - 4.0) } else { h / 2.0 };
        let _ = write!(points, "{:.1},{:.1} ", step * i as f64, y);
    }
    format!(
        r#"<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="{}"><title>{}</title><polyline points="{}"/></svg>"#,
        escape(label),
        escape(label),
        points.trim_end()
    )
}

/// An estimate with its interval, one row of a [`intervals`] chart.
pub struct Interval {
    pub label: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Shown at the row's end and on hover.
    pub text: String,
}

/// Estimates with their 95% intervals on one shared axis through zero (a forest plot): a row
/// whose bar does not cross the zero line differs from no effect at that confidence.
pub fn intervals(id: &str, title: &str, desc: &str, rows: &[Interval]) -> String {
    let (row, label_w, text_w) = (26.0, 150.0, 170.0);
    let height = TOP * 2.0 + row * rows.len().max(1) as f64 + 18.0;
    let mut out = String::new();
    open(&mut out, id, height, title, desc);
    let finite = |v: f64| if v.is_finite() { v } else { 0.0 };
    let lo = rows.iter().map(|r| finite(r.low)).fold(0.0f64, f64::min);
    let hi = rows.iter().map(|r| finite(r.high)).fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let span = W - label_w - text_w;
    let x = |v: f64| label_w + (finite(v) - lo) / (hi - lo) * span;
    let bottom = TOP + row * rows.len().max(1) as f64;
    let _ = write!(
        out,
        r#"<line class="grid" x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{bottom:.1}"/><text class="tick" x="{0:.1}" y="{1:.1}" text-anchor="middle">0 (no effect)</text>"#,
        x(0.0),
        bottom + 14.0
    );
    for (i, r) in rows.iter().enumerate() {
        let mid = TOP + row * i as f64 + row / 2.0;
        let _ = write!(
            out,
            r#"<text class="label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="band" x="{:.1}" y="{:.1}" width="{:.1}" height="8"><title>{}: {}</title></rect><circle class="dot" cx="{:.1}" cy="{mid:.1}" r="4"><title>{}: {}</title></circle><text class="value" x="{:.1}" y="{:.1}">{}</text>"#,
            label_w - 8.0,
            mid + 4.0,
            escape(&r.label),
            x(r.low),
            mid - 4.0,
            (x(r.high) - x(r.low)).max(1.0),
            escape(&r.label),
            escape(&r.text),
            x(r.estimate),
            escape(&r.label),
            escape(&r.text),
            W - text_w + 8.0,
            mid + 4.0,
            escape(&r.text)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_text_and_title_every_mark() {
        let points = vec![
            TrendPoint {
                label: "<Jan>".into(),
                value: Some((10.0, 0.0, 20.0)),
                note: "5 responses".into(),
            },
            TrendPoint { label: "Feb".into(), value: None, note: String::new() },
            TrendPoint {
                label: "Mar".into(),
                value: Some((30.0, 20.0, 40.0)),
                note: "7 responses".into(),
            },
        ];
        let svg = trend("nps", "NPS & trend", "NPS", (-100.0, 100.0), &points);
        assert!(svg.contains("<title id=\"nps-t\">NPS &amp; trend</title>"));
        assert!(svg.contains("&lt;Jan&gt;: 10.0 (95% CI 0.0 to 20.0; 5 responses)"));
        assert!(!svg.contains("<Jan>"));
        // The gap in February splits the line and band in two.
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<polygon").count(), 2);
        let b = bars("b", "t", "d", &[Bar { label: "x\"y".into(), value: 2.0, text: "2".into() }]);
        assert!(b.contains("x&quot;y: 2"));
        assert_eq!(nice_ceiling(7.0), 10.0);
        let cols = columns(
            "c",
            "t",
            "d",
            "x",
            "y",
            &[Bar { label: "a".into(), value: 4200.0, text: "4200".into() }],
        );
        for tick in [">0<", ">1k<", ">2k<", ">3k<", ">4k<", ">5k<"] {
            assert!(cols.contains(tick), "{tick} in {cols}");
        }
        assert_eq!(nice_ceiling(120.0), 200.0);
    }
}

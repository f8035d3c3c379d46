//! A goal's sparkline: its series as a small SVG line with the target as a dashed line, a dot
//! per measured period carrying its value in a `<title>`, and a title and description that say
//! the whole story for a screen reader. Presentation is by class (the CSP forbids inline
//! styles); text is escaped here because the template inserts the SVG unescaped.

use super::charts::escape;
use rapport_analytics::scorecard::{Point, Unit};
use std::fmt::Write;

const W: f64 = 140.0;
const H: f64 = 32.0;
/// Room for the dots at the edges.
const PAD: f64 = 3.0;

/// The sparkline of goal `id` ("NPS", its points, the target); an empty string without any
/// measured value.
pub fn sparkline(id: i64, label: &str, points: &[Point], target: f64, unit: Unit) -> String {
    let known: Vec<f64> = points.iter().filter_map(|p| p.value).collect();
    if known.is_empty() {
        return String::new();
    }
    let lo = known.iter().copied().fold(target, f64::min);
    let hi = known.iter().copied().fold(target, f64::max);
    let y = |v: f64| {
        if hi > lo { H - PAD - (v - lo) / (hi - lo) * (H - 2.0 * PAD) } else { H / 2.0 }
    };
    let step = if points.len() > 1 { (W - 2.0 * PAD) / (points.len() - 1) as f64 } else { 0.0 };
    let x = |i: usize| if points.len() > 1 { PAD + step * i as f64 } else { W / 2.0 };
    let mut out = String::new();
    let (first, last) =
        (points.first().map_or("", |p| &p.label), points.last().map_or("", |p| &p.label));
    let desc = format!(
        "{label} from {first} to {last}: {}. Target {}.",
        points
            .iter()
            .map(|p| format!(
                "{} {}",
                p.label,
                p.value.map_or("no data".into(), |v| unit.format(v))
            ))
            .collect::<Vec<_>>()
            .join(", "),
        unit.format(target)
    );
    let _ = write!(
        out,
        r#"<svg class="goal-spark" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="goal-{id}-t goal-{id}-d" xmlns="http://www.w3.org/2000/svg"><title id="goal-{id}-t">{}</title><desc id="goal-{id}-d">{}</desc>"#,
        escape(&format!("{label}, last {} periods", points.len())),
        escape(&desc)
    );
    let _ =
        write!(out, r#"<line class="target" x1="0" x2="{W}" y1="{0:.1}" y2="{0:.1}"/>"#, y(target));
    for run in runs(points) {
        let coords: Vec<String> = run
            .iter()
            .map(|&i| format!("{:.1},{:.1}", x(i), y(points[i].value.unwrap_or(0.0))))
            .collect();
        let _ = write!(out, r#"<polyline points="{}"/>"#, coords.join(" "));
    }
    for (i, p) in points.iter().enumerate() {
        let Some(v) = p.value else { continue };
        let class = if i + 1 == points.len() { "dot last" } else { "dot" };
        let _ = write!(
            out,
            r#"<circle class="{class}" cx="{:.1}" cy="{:.1}" r="2"><title>{}</title></circle>"#,
            x(i),
            y(v),
            escape(&format!("{}: {}", p.label, unit.format(v)))
        );
    }
    out.push_str("</svg>");
    out
}

/// Runs of consecutive measured points: a period without data breaks the line.
fn runs(points: &[Point]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for (i, p) in points.iter().enumerate() {
        match p.value {
            Some(_) => out.last_mut().expect("a run").push(i),
            None if out.last().is_some_and(|r| !r.is_empty()) => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|r| r.len() > 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn point(label: &str, value: Option<f64>) -> Point {
        Point { start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), label: label.into(), value }
    }

    #[test]
    fn a_sparkline_is_titled_escaped_and_broken_at_gaps() {
        let points = [
            point("<m1>", Some(10.0)),
            point("m2", Some(20.0)),
            point("m3", None),
            point("m4", Some(30.0)),
            point("m5", Some(25.0)),
        ];
        let svg = sparkline(7, "NPS & co", &points, 40.0, Unit::NpsPoints);
        assert!(
            svg.contains(r#"<title id="goal-7-t">NPS &amp; co, last 5 periods</title>"#),
            "{svg}"
        );
        assert!(svg.contains("&lt;m1&gt; 10.0, m2 20.0, m3 no data"), "{svg}");
        assert!(svg.contains("Target 40.0."), "{svg}");
        assert!(!svg.contains("<m1>") && !svg.contains("style="), "{svg}");
        assert_eq!(svg.matches("<polyline").count(), 2, "the gap splits the line");
        assert_eq!(svg.matches("<circle").count(), 4, "a dot per measured period");
        assert_eq!(svg.matches("dot last").count(), 1);
        // The target is the top of the range: its line is at the top edge.
        assert!(svg.contains(r#"y1="3.0""#), "{svg}");
        assert_eq!(sparkline(1, "x", &[point("a", None)], 1.0, Unit::Count), "");
    }
}

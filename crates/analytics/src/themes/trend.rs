//! Texts per theme per ISO week, for trend charts.

use super::ThemeId;
use chrono::{DateTime, Datelike, Days, NaiveDate};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

/// Counts per week from the first text's ISO week to the last one's, every week listed
/// (weeks without texts count zero, so a chart's x axis is the index).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeeklyTrend {
    /// The Monday of each week.
    pub weeks: Vec<NaiveDate>,
    /// One row per theme, most texts first (ties by id).
    pub themes: Vec<ThemeTrend>,
    /// Texts of no theme, per week.
    pub unassigned: Vec<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ThemeTrend {
    pub theme: ThemeId,
    pub counts: Vec<u32>,
}

/// The Monday of a date's ISO week.
fn monday(d: NaiveDate) -> NaiveDate {
    d - Days::new(u64::from(d.weekday().num_days_from_monday()))
}

/// Counts `items` (each text's theme, or none, and its time in microseconds since the Unix
/// epoch, UTC) per theme and ISO week. Times outside chrono's range are skipped.
pub fn weekly_trend(items: impl IntoIterator<Item = (Option<ThemeId>, i64)>) -> WeeklyTrend {
    let dated: Vec<(Option<ThemeId>, NaiveDate)> = items
        .into_iter()
        .filter_map(|(t, micros)| {
            Some((t, monday(DateTime::from_timestamp_micros(micros)?.date_naive())))
        })
        .collect();
    let (Some(first), Some(last)) =
        (dated.iter().map(|d| d.1).min(), dated.iter().map(|d| d.1).max())
    else {
        return WeeklyTrend { weeks: Vec::new(), themes: Vec::new(), unassigned: Vec::new() };
    };
    let len = ((last - first).num_days() / 7 + 1) as usize;
    let weeks: Vec<NaiveDate> = (0..len as u64).map(|w| first + Days::new(7 * w)).collect();
    let mut rows: FxHashMap<ThemeId, Vec<u32>> = FxHashMap::default();
    let mut unassigned = vec![0; len];
    for (t, monday) in dated {
        let w = ((monday - first).num_days() / 7) as usize;
        match t {
            Some(t) => rows.entry(t).or_insert_with(|| vec![0; len])[w] += 1,
            None => unassigned[w] += 1,
        }
    }
    let mut themes: Vec<ThemeTrend> =
        rows.into_iter().map(|(theme, counts)| ThemeTrend { theme, counts }).collect();
    themes.sort_by_key(|t| {
        (std::cmp::Reverse(t.counts.iter().map(|&c| u64::from(c)).sum::<u64>()), t.theme)
    });
    WeeklyTrend { weeks, themes, unassigned }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(y: i32, m: u32, d: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    #[test]
    fn counts_per_iso_week_with_empty_weeks_listed() {
        let (a, b) = (ThemeId(1), ThemeId(2));
        // 2018-12-31 is the Monday of ISO week 2019-W01; 2019-01-06 is its Sunday.
        let items = [
            (Some(a), micros(2018, 12, 31)),
            (Some(a), micros(2019, 1, 6)),
            (Some(b), micros(2019, 1, 7)),
            (None, micros(2019, 1, 21)),
            (Some(b), micros(2019, 1, 22)),
            (Some(b), micros(2019, 1, 23)),
        ];
        let t = weekly_trend(items);
        let monday = |d| NaiveDate::from_ymd_opt(2019, 1, d).unwrap();
        assert_eq!(
            t.weeks,
            [NaiveDate::from_ymd_opt(2018, 12, 31).unwrap(), monday(7), monday(14), monday(21)]
        );
        assert_eq!(t.weeks[0].iso_week().week(), 1);
        assert_eq!(
            t.themes,
            [
                ThemeTrend { theme: b, counts: vec![0, 1, 0, 2] },
                ThemeTrend { theme: a, counts: vec![2, 0, 0, 0] },
            ]
        );
        assert_eq!(t.unassigned, [0, 0, 0, 1]);
        assert_eq!(weekly_trend([]).weeks, []);
    }
}

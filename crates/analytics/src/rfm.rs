//! RFM (PRODUCT.md, "Metric definitions"): recency, frequency and monetary value per customer
//! from the per-customer summaries, quintile scores 1–5, and named segments.
//!
//! - Recency: days from the as-of date (default: the day after the last purchase in the data)
//!   to the customer's last purchase. Frequency: distinct purchase orders. Monetary: the sum of
//!   purchase line amounts. Returns and cancellations are not in frequency or monetary.
//! - Scores: a customer's score is 1 + ⌊5 × (share of buyers with a worse value)⌋, so equal
//!   values always get equal scores (when 60% of buyers bought once, they all score 1 on
//!   frequency) and the best fifth scores 5. For recency fewer days is better.
//! - Segments are named from R and F, the grid commonly used in CRM practice (M follows F too
//!   closely to change the name, and is kept as a score):
//!
//! | segment | R | F |
//! |---|---|---|
//! | champions | 5 | 4–5 |
//! | loyal | 3–4 | 4–5 |
//! | potential loyalists | 4–5 | 2–3 |
//! | new | 5 | 1 |
//! | promising | 4 | 1 |
//! | need attention | 3 | 3 |
//! | about to sleep | 3 | 1–2 |
//! | at risk | 1–2 | 3–4 |
//! | cannot lose them | 1–2 | 5 |
//! | lost | 1 | 1 |
//! | hibernating | 1–2 | 1–2 (but not lost) |

use chrono::{Duration, NaiveDate};
use rapport_core::{CustomerSummary, Money};
use serde::Serialize;
use std::borrow::Borrow;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    Champions,
    Loyal,
    PotentialLoyalists,
    New,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CannotLoseThem,
    Hibernating,
    Lost,
}

impl Segment {
    pub const ALL: [Segment; 11] = [
        Segment::Champions,
        Segment::Loyal,
        Segment::PotentialLoyalists,
        Segment::New,
        Segment::Promising,
        Segment::NeedAttention,
        Segment::AboutToSleep,
        Segment::AtRisk,
        Segment::CannotLoseThem,
        Segment::Hibernating,
        Segment::Lost,
    ];

    /// The segment of an R and F score (each 1–5), per the table in the module docs.
    pub fn of(r: u8, f: u8) -> Segment {
        match (r, f) {
            (5, 4..) => Segment::Champions,
            (3..=4, 4..) => Segment::Loyal,
            (4..=5, 2..=3) => Segment::PotentialLoyalists,
            (5, _) => Segment::New,
            (4, _) => Segment::Promising,
            (3, 3) => Segment::NeedAttention,
            (3, _) => Segment::AboutToSleep,
            (..=2, 5..) => Segment::CannotLoseThem,
            (..=2, 3..=4) => Segment::AtRisk,
            (1, 1) => Segment::Lost,
            _ => Segment::Hibernating,
        }
    }

    /// A segment by its name, written as in [`Segment::as_str`] or with spaces or hyphens.
    pub fn parse(name: &str) -> Result<Segment, String> {
        let wanted = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Segment::ALL.into_iter().find(|s| s.as_str() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Segment::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown RFM segment '{name}'; the segments are {}", names.join(", "))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Champions => "champions",
            Segment::Loyal => "loyal",
            Segment::PotentialLoyalists => "potential_loyalists",
            Segment::New => "new",
            Segment::Promising => "promising",
            Segment::NeedAttention => "need_attention",
            Segment::AboutToSleep => "about_to_sleep",
            Segment::AtRisk => "at_risk",
            Segment::CannotLoseThem => "cannot_lose_them",
            Segment::Hibernating => "hibernating",
            Segment::Lost => "lost",
        }
    }
}

/// One buyer's RFM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rfm {
    pub recency_days: i64,
    pub frequency: i64,
    /// As a decimal string ("1234.50"), exact, like amounts everywhere in Rapport's output.
    #[serde(serialize_with = "decimal")]
    pub monetary: Money,
    #[serde(rename = "r_score")]
    pub r: u8,
    #[serde(rename = "f_score")]
    pub f: u8,
    #[serde(rename = "m_score")]
    pub m: u8,
    pub segment: Segment,
}

/// Serialises an amount as its exact decimal string.
pub fn decimal<S: serde::Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&m.to_string())
}

/// The default as-of date: the day after the last purchase in the data.
pub fn default_as_of<'a>(
    summaries: impl IntoIterator<Item = &'a CustomerSummary>,
) -> Option<NaiveDate> {
    let last = summaries.into_iter().filter_map(|s| s.last_purchase_at).max()?;
    Some(last.date_naive() + Duration::days(1))
}

/// RFM for every summary, in order: `None` for customers who never purchased.
pub fn rfm<S: Borrow<CustomerSummary>>(summaries: &[S], as_of: NaiveDate) -> Vec<Option<Rfm>> {
    let recency =
        |s: &CustomerSummary| s.last_purchase_at.map(|t| (as_of - t.date_naive()).num_days());
    let buyers: Vec<(i64, i64, i64)> = summaries
        .iter()
        .map(Borrow::borrow)
        .filter(|s| s.purchase_orders > 0)
        .filter_map(|s| Some((recency(s)?, s.purchase_orders, s.purchase_value.e4())))
        .collect();
    // Fewer days is better: score recency on the negated value.
    let r = Quintiles::new(buyers.iter().map(|b| -b.0).collect());
    let f = Quintiles::new(buyers.iter().map(|b| b.1).collect());
    let m = Quintiles::new(buyers.iter().map(|b| b.2).collect());
    summaries
        .iter()
        .map(|s| {
            let s: &CustomerSummary = s.borrow();
            let days = recency(s).filter(|_| s.purchase_orders > 0)?;
            let (rs, fs) = (r.score(-days), f.score(s.purchase_orders));
            Some(Rfm {
                recency_days: days,
                frequency: s.purchase_orders,
                monetary: s.purchase_value,
                r: rs,
                f: fs,
                m: m.score(s.purchase_value.e4()),
                segment: Segment::of(rs, fs),
            })
        })
        .collect()
}

/// Scores values 1–5 by the share of values strictly below them.
struct Quintiles {
    sorted: Vec<i64>,
}

impl Quintiles {
    fn new(mut values: Vec<i64>) -> Quintiles {
        values.sort_unstable();
        Quintiles { sorted: values }
    }

    fn score(&self, v: i64) -> u8 {
        let below = self.sorted.partition_point(|x| *x < v);
        let n = self.sorted.len().max(1);
        (1 + (5 * below) / n).min(5) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn buyer(days_ago: i64, orders: i64, value: &str) -> CustomerSummary {
        let at = chrono::Utc.with_ymd_and_hms(2024, 12, 31, 10, 0, 0).unwrap()
            - Duration::days(days_ago);
        CustomerSummary {
            purchase_orders: orders,
            purchase_value: Money::parse(value).unwrap(),
            last_purchase_at: Some(at),
            ..Default::default()
        }
    }

    #[test]
    fn every_score_pair_has_exactly_one_segment_and_all_eleven_occur() {
        let mut seen = std::collections::BTreeSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                seen.insert(Segment::of(r, f));
            }
        }
        assert_eq!(seen.len(), 11);
        assert_eq!(Segment::of(5, 5), Segment::Champions);
        assert_eq!(Segment::of(1, 1), Segment::Lost);
        assert_eq!(Segment::of(2, 1), Segment::Hibernating);
        assert_eq!(Segment::of(1, 5), Segment::CannotLoseThem);
        for s in Segment::ALL {
            assert_eq!(Segment::parse(s.as_str()), Ok(s));
        }
        assert_eq!(Segment::parse("Cannot lose-them"), Ok(Segment::CannotLoseThem));
        assert!(Segment::parse("vip").unwrap_err().contains("champions, loyal"));
    }

    #[test]
    fn scores_are_quintiles_with_ties_scored_alike() {
        // Ten buyers: recency 0..9 days, frequency 1 for six of them, value 10..100.
        let summaries: Vec<_> = (0..10)
            .map(|i| buyer(i, if i < 6 { 1 } else { i }, &format!("{}", 10 * (i + 1))))
            .chain(std::iter::once(CustomerSummary::default()))
            .collect();
        let as_of = default_as_of(&summaries).unwrap();
        assert_eq!(as_of, NaiveDate::from_ymd_opt(2025, 1, 1).unwrap());
        let out = rfm(&summaries, as_of);
        assert_eq!(out[10], None, "never purchased");
        let scores: Vec<_> =
            out[..10].iter().map(|x| x.as_ref().unwrap()).map(|x| (x.r, x.f, x.m)).collect();
        // Recency: 1 day for the latest (best, R 5) down to 10 days (R 1), two per quintile.
        assert_eq!(scores.iter().map(|s| s.0).collect::<Vec<_>>(), [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
        // Frequency: the six single-order buyers tie at 1; then 6, 7, 8, 9 orders.
        assert_eq!(scores.iter().map(|s| s.1).collect::<Vec<_>>(), [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]);
        assert_eq!(scores.iter().map(|s| s.2).collect::<Vec<_>>(), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        let first = out[0].as_ref().unwrap();
        assert_eq!((first.recency_days, first.segment), (1, Segment::New));
        assert_eq!(out[9].as_ref().unwrap().segment, Segment::CannotLoseThem);
    }
}

//! Saved segments: a named filter (the filter language of `rapport_core::filter`) whose members
//! are materialised, with a history of its size.
//!
//! Members are kept in `segment_members` under the name `segment:<slug>`, beside the RFM
//! segments (`rfm:champions`), so every list that filters by a materialised segment (the
//! feedback inbox) takes saved segments too. Each refresh records the size and how many
//! customers entered and left since the previous one, in the refresh's transaction.

use crate::{Page, StoreResult};
use async_trait::async_trait;
use rapport_core::Timestamp;
use serde::{Deserialize, Serialize};

/// The materialised name of a saved segment's members.
pub fn members_name(slug: &str) -> String {
    format!("segment:{slug}")
}

/// What a team member writes: a name, the filter, and what the segment is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub name: String,
    /// The filter, as written (checked by the caller before it is stored).
    pub expression: String,
    #[serde(default)]
    pub description: String,
}

/// A saved segment with its latest refresh.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SavedSegment {
    /// URL-safe, from the name at creation; it stays when the name changes.
    pub slug: String,
    #[serde(flatten)]
    pub spec: SegmentSpec,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: Option<String>,
    /// When the members were last materialised (none before the first refresh).
    pub refreshed_at: Option<Timestamp>,
    /// Members at the last refresh.
    pub size: Option<i64>,
}

/// One refresh: the size, and the customers who entered and left since the previous one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SizePoint {
    pub at: Timestamp,
    pub size: i64,
    pub entered: i64,
    pub left: i64,
}

/// The slug of a name: lower-case ASCII letters and digits, runs of anything else as one `-`;
/// `None` when nothing is left.
pub fn slugify(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase).map(rapport_analytics::text::fold) {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').chars().take(60).collect::<String>();
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// Stores a new segment under `slug`; `Conflict` when the slug is taken.
    async fn create_segment(
        &self,
        slug: &str,
        spec: &SegmentSpec,
        by: Option<&str>,
        at: Timestamp,
    ) -> StoreResult<SavedSegment>;

    /// Every saved segment, by name.
    async fn saved_segments(&self) -> StoreResult<Vec<SavedSegment>>;

    /// `NotFound` when absent.
    async fn saved_segment(&self, slug: &str) -> StoreResult<SavedSegment>;

    /// Replaces the name, filter and description; members stay until the next refresh.
    /// `NotFound` when absent.
    async fn update_segment(
        &self,
        slug: &str,
        spec: &SegmentSpec,
        at: Timestamp,
    ) -> StoreResult<SavedSegment>;

    /// Removes the segment, its members and its history; `NotFound` when absent.
    async fn delete_segment(&self, slug: &str) -> StoreResult<()>;

    /// Replaces the members (customer keys, in any order, duplicates ignored) and records the
    /// refresh, in one transaction. `NotFound` when the segment is absent.
    async fn refresh_segment(
        &self,
        slug: &str,
        members: Vec<i64>,
        at: Timestamp,
    ) -> StoreResult<SizePoint>;

    /// The segment's refreshes, oldest first.
    async fn segment_history(&self, slug: &str) -> StoreResult<Vec<SizePoint>>;

    /// Member keys in ascending order, `limit` after `after`.
    async fn segment_member_keys(
        &self,
        slug: &str,
        after: Option<i64>,
        limit: usize,
    ) -> StoreResult<Page<i64>>;
}

/// Of two ascending lists without duplicates: the keys only in `new` (entered) and only in
/// `old` (left), each ascending. One merge pass, for a refresh of a million members.
pub fn diff_sorted(old: &[i64], new: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut entered, mut left) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() && j < new.len() {
        match old[i].cmp(&new[j]) {
            std::cmp::Ordering::Less => {
                left.push(old[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                entered.push(new[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    left.extend_from_slice(&old[i..]);
    entered.extend_from_slice(&new[j..]);
    (entered, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_safe_and_fold_accents() {
        assert_eq!(
            slugify("High-value  Germans (DE/AT)").as_deref(),
            Some("high-value-germans-de-at")
        );
        assert_eq!(slugify("Clientes não ativos").as_deref(), Some("clientes-nao-ativos"));
        assert_eq!(slugify(" -- "), None);
    }

    #[test]
    fn the_diff_finds_who_entered_and_who_left() {
        let (entered, left) = diff_sorted(&[1, 2, 4, 7], &[2, 3, 4, 8, 9]);
        assert_eq!(entered, [3, 8, 9]);
        assert_eq!(left, [1, 7]);
        assert_eq!(diff_sorted(&[], &[5]), (vec![5], vec![]));
    }
}

//! The feedback inbox: every feedback item with its triage status, its theme (kept per item by
//! the analysis job), near-duplicates merged into one item without losing either, and the list
//! with its filters.
//!
//! The inbox is ordered newest first by an *inbox key*: the item's creation minute in the high
//! bits and its internal id in the low 34. Both backends index that key, and SQLite's
//! full-text index uses it as its row id, so a search returns its newest matches first by
//! walking the index, without collecting and sorting every match (a common word is in half of
//! a million items). Items of the same minute come latest stored first.

use crate::{ListPage, StoreError, StoreResult};
use async_trait::async_trait;
use rapport_analytics::themes::Theme;
use rapport_core::{ExternalId, Timestamp};
use serde::{Deserialize, Serialize};

/// Bits of the inbox key that hold the item's internal id.
pub const INBOX_KEY_ID_BITS: u32 = 34;

/// Where an item is in triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Triage {
    /// Not looked at yet (every item starts here).
    #[default]
    New,
    /// Read; nothing to do yet.
    Reviewed,
    /// Evidence for an idea.
    Linked,
    /// Dealt with.
    Closed,
}

impl Triage {
    pub const ALL: [Triage; 4] = [Triage::New, Triage::Reviewed, Triage::Linked, Triage::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            Triage::New => "new",
            Triage::Reviewed => "reviewed",
            Triage::Linked => "linked",
            Triage::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Result<Triage, String> {
        Triage::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("'{s}' is not one of: new, reviewed, linked, closed"))
    }
}

/// VADER's conventional bands of the compound score: at most −0.05 is negative, at least
/// 0.05 positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentBand {
    Negative,
    Neutral,
    Positive,
}

impl SentimentBand {
    pub const ALL: [SentimentBand; 3] =
        [SentimentBand::Negative, SentimentBand::Neutral, SentimentBand::Positive];

    pub fn as_str(self) -> &'static str {
        match self {
            SentimentBand::Negative => "negative",
            SentimentBand::Neutral => "neutral",
            SentimentBand::Positive => "positive",
        }
    }

    pub fn parse(s: &str) -> Result<SentimentBand, String> {
        SentimentBand::ALL
            .into_iter()
            .find(|b| b.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("'{s}' is not one of: negative, neutral, positive"))
    }

    /// The band's bounds on the stored score (× 10⁴): (lowest, highest), inclusive.
    pub fn bounds_e4(self) -> (i64, i64) {
        match self {
            SentimentBand::Negative => (-10_000, -500),
            SentimentBand::Neutral => (-499, 499),
            SentimentBand::Positive => (500, 10_000),
        }
    }

    /// The band of a compound score.
    pub fn of(score: f64) -> SentimentBand {
        if score <= -0.05 {
            SentimentBand::Negative
        } else if score >= 0.05 {
            SentimentBand::Positive
        } else {
            SentimentBand::Neutral
        }
    }
}

/// Filters and page position of the inbox. Every filter narrows; none set lists everything
/// but merged duplicates.
#[derive(Debug, Clone, Default)]
pub struct InboxQuery {
    /// Words that must all occur (see [`search_words`](crate::search_words)).
    pub words: Vec<String>,
    /// Feedback sources (channels): any of them.
    pub sources: Vec<String>,
    pub status: Option<Triage>,
    pub sentiment: Option<SentimentBand>,
    /// A theme id (16 hex digits).
    pub theme: Option<String>,
    /// A materialised segment's name (`rfm:champions`).
    pub segment: Option<String>,
    pub customer: Option<ExternalId>,
    pub from: Option<Timestamp>,
    /// Exclusive.
    pub to: Option<Timestamp>,
    /// Also list items merged into another.
    pub include_merged: bool,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    pub limit: usize,
}

impl InboxQuery {
    /// The inbox key the page starts below, from the opaque cursor.
    pub fn after_key(&self) -> StoreResult<Option<i64>> {
        self.after
            .as_deref()
            .map(|c| {
                c.strip_prefix('k').and_then(|k| k.parse::<i64>().ok()).ok_or_else(|| {
                    StoreError::Invalid(format!("cursor '{c}' is not one of this list's"))
                })
            })
            .transpose()
    }

    /// The page of at most `limit` items from rows fetched with `limit + 1`.
    pub fn page(&self, mut rows: Vec<InboxItem>) -> ListPage<InboxItem> {
        let next = (rows.len() > self.limit).then(|| {
            rows.truncate(self.limit);
            format!("k{}", rows.last().map_or(0, |r| r.key))
        });
        ListPage { items: rows, next }
    }
}

/// One item of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboxItem {
    /// Its inbox key (creation minute and internal id), the list's order.
    #[serde(skip)]
    pub key: i64,
    pub id: ExternalId,
    pub customer: ExternalId,
    pub customer_name: Option<String>,
    pub source: String,
    pub text: Option<String>,
    pub rating: Option<i32>,
    pub created_at: Timestamp,
    /// VADER compound, −1..1.
    pub sentiment: Option<f64>,
    pub status: Triage,
    pub theme: Option<String>,
    pub theme_label: Option<String>,
    /// The item this one was merged into.
    pub duplicate_of: Option<ExternalId>,
    /// How many items were merged into this one.
    pub merged: i64,
}

/// One item with the items merged into it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InboxDetail {
    pub item: InboxItem,
    pub merged: Vec<InboxItem>,
}

/// A feedback item's text, as the analysis job reads them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackText {
    /// The internal id, the order of the reads.
    pub key: i64,
    pub id: ExternalId,
    pub text: String,
    pub created_at: Timestamp,
    pub theme: Option<String>,
}

/// The stored themes of one analysis run, largest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredThemes {
    pub themes: Vec<Theme>,
    pub computed_at: Option<Timestamp>,
    /// Items up to this internal id have been given their theme (or none).
    pub through: i64,
}

/// Per-theme figures over the stored assignments.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThemeVolume {
    pub theme: String,
    pub items: i64,
    /// Items with a score.
    pub scored: i64,
    pub sentiment_sum: f64,
    pub negative: i64,
    /// (Monday of the week as days since 1970-01-01, items that week), oldest first.
    pub weeks: Vec<(i64, i64)>,
}

#[async_trait]
pub trait InboxStore: Send + Sync {
    /// A page of the inbox, newest first.
    async fn inbox(&self, q: &InboxQuery) -> StoreResult<ListPage<InboxItem>>;

    /// One item with what was merged into it.
    async fn inbox_item(&self, id: &ExternalId) -> StoreResult<InboxDetail>;

    /// Items by internal id (the near-duplicate index's answers), in the order given; ids not
    /// stored (erased since) are left out.
    async fn inbox_items(&self, keys: &[i64]) -> StoreResult<Vec<InboxItem>>;

    /// Sets the triage status of items; returns how many changed. Unknown ids are an error
    /// naming the first, and nothing changes.
    async fn set_triage(&self, ids: &[ExternalId], status: Triage) -> StoreResult<usize>;

    /// Merges items into `into` (which must not itself be merged into another; merging into
    /// a merged item merges into its primary). Every item stays stored; merged items leave the
    /// inbox list and show on their primary. Items merged into one of `ids` move with it.
    async fn merge_feedback(&self, ids: &[ExternalId], into: &ExternalId) -> StoreResult<usize>;

    /// Takes an item out of the one it was merged into.
    async fn unmerge_feedback(&self, id: &ExternalId) -> StoreResult<()>;

    /// Feedback items with text and an internal id above `after`, in id order.
    async fn feedback_texts(&self, after: i64, limit: usize) -> StoreResult<Vec<FeedbackText>>;

    /// The themes of the last analysis run.
    async fn stored_themes(&self) -> StoreResult<StoredThemes>;

    /// Stores an analysis run: with `themes`, they replace the stored ones (a full run);
    /// `assignments` set items' themes (`None`: no theme), and `through` records how far the
    /// items have been assigned. One transaction.
    async fn save_themes(
        &self,
        themes: Option<Vec<Theme>>,
        assignments: Vec<(i64, Option<String>)>,
        through: i64,
        at: Timestamp,
    ) -> StoreResult<()>;

    /// Per-theme volume, sentiment and weekly counts of items created at or after `since`
    /// (merged duplicates left out).
    async fn theme_volumes(&self, since: Timestamp) -> StoreResult<Vec<ThemeVolume>>;

    /// Replaces a materialised segment's members (customer internal ids).
    async fn set_segment_members(&self, segment: &str, customers: Vec<i64>) -> StoreResult<()>;

    /// The materialised segments with their sizes, by name.
    async fn segments(&self) -> StoreResult<Vec<(String, i64)>>;
}

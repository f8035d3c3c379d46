//! `/api/v1/inbox` and `/api/v1/themes`: the feedback inbox with its filters, one item with
//! its customer and similar items, triage, merging near-duplicates, and the stored themes.

use crate::AppState;
use crate::auth::{Auth, Writer};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery};
use axum::Json;
use axum::extract::{Path, State};
use rapport_analytics::rfm::Segment;
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::value::parse_timestamp;
use rapport_reports::analysis::RunSummary;
use rapport_store::{Backend, InboxItem, InboxQuery, SentimentBand, Triage, search_words};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Items at least this alike (estimated Jaccard of their word pairs) are listed as similar.
pub const SIMILAR_AT: f32 = 0.5;

/// The inbox's filters, as the API and the inbox page take them. Empty values count as
/// absent (a submitted form sends every field).
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// Words that must all occur in the text (letters and digits; case and accents kept).
    pub q: Option<String>,
    /// Sources (channels), comma-separated: `email,review`.
    pub source: Option<String>,
    /// `new`, `reviewed`, `linked` or `closed`.
    pub status: Option<String>,
    /// `negative` (compound ≤ −0.05), `neutral` or `positive` (≥ 0.05).
    pub sentiment: Option<String>,
    /// A theme id (16 hex digits, from `/api/v1/themes`).
    pub theme: Option<String>,
    /// An RFM segment (`champions`, `at_risk`...) of the item's customer.
    pub segment: Option<String>,
    /// A customer's external id.
    pub customer: Option<String>,
    /// Created at or after (a date or time).
    pub from: Option<String>,
    /// Created before.
    pub to: Option<String>,
    /// Also list items merged into another (`true`).
    pub merged: Option<String>,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// 1 to 500 (default 50).
    pub limit: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl InboxParams {
    /// The store query, or 400 naming the first parameter that does not parse.
    pub fn query(&self) -> ApiResult<InboxQuery> {
        let bad = |name: &'static str| move |reason: String| ApiError::parameter(name, reason);
        let mut q = InboxQuery { limit: 50, ..Default::default() };
        if let Some(v) = given(&self.q) {
            q.words = search_words(v).map_err(bad("q"))?;
        }
        if let Some(v) = given(&self.source) {
            q.sources = v
                .split(',')
                .map(|s| s.trim().to_ascii_lowercase())
                .filter(|s| !s.is_empty())
                .collect();
        }
        q.status = given(&self.status).map(Triage::parse).transpose().map_err(bad("status"))?;
        q.sentiment = given(&self.sentiment)
            .map(SentimentBand::parse)
            .transpose()
            .map_err(bad("sentiment"))?;
        if let Some(v) = given(&self.theme) {
            let ok = v.len() == 16 && v.chars().all(|c| c.is_ascii_hexdigit());
            if !ok {
                return Err(ApiError::parameter(
                    "theme",
                    format!("'{v}' is not a theme id (16 hex digits)"),
                ));
            }
            q.theme = Some(v.to_ascii_lowercase());
        }
        if let Some(v) = given(&self.segment) {
            let name = v.strip_prefix("rfm:").unwrap_or(v);
            q.segment =
                Some(format!("rfm:{}", Segment::parse(name).map_err(bad("segment"))?.as_str()));
        }
        q.customer =
            given(&self.customer).map(ExternalId::parse).transpose().map_err(bad("customer"))?;
        q.from =
            given(&self.from).map(|v| parse_timestamp(v, None)).transpose().map_err(bad("from"))?;
        q.to = given(&self.to).map(|v| parse_timestamp(v, None)).transpose().map_err(bad("to"))?;
        q.include_merged = match given(&self.merged) {
            None | Some("false") => false,
            Some("true") => true,
            Some(v) => {
                return Err(ApiError::parameter("merged", format!("'{v}' is not true or false")));
            }
        };
        q.after = given(&self.after).map(str::to_string);
        if let Some(v) = given(&self.limit) {
            let n: usize = v.parse().map_err(|_| {
                ApiError::parameter("limit", format!("'{v}' is not a whole number"))
            })?;
            q.limit = super::customers::limit(Some(n), 50)?;
        }
        Ok(q)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    /// Newest first (to the minute; then latest stored first).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<InboxItem>,
    /// Pass as `after` for the next page; absent on the last.
    pub next: Option<String>,
}

/// The inbox: feedback items from every channel, newest first, filtered.
#[utoipa::path(get, path = "/api/v1/inbox", tag = "inbox", params(InboxParams),
    responses((status = 200, body = InboxPage), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<InboxParams>,
) -> ApiResult<Json<InboxPage>> {
    who.require(Permission::Read)?;
    let page = s.db.inbox(&p.query()?).await?;
    Ok(Json(InboxPage { items: page.items, next: page.next }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarItem {
    /// Estimated Jaccard similarity of the two texts' word pairs (0..1).
    pub similarity: f32,
    #[schema(value_type = Object)]
    pub item: InboxItem,
}

/// One item with its customer, what was merged into it, and items like it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    #[schema(value_type = Object)]
    pub item: InboxItem,
    #[schema(value_type = Object)]
    pub customer: rapport_store::CustomerView,
    #[schema(value_type = Vec<Object>)]
    pub merged: Vec<InboxItem>,
    /// Near-duplicates, most alike first; absent while the index is being rebuilt.
    pub similar: Option<Vec<SimilarItem>>,
    /// The newest other items of its theme.
    #[schema(value_type = Vec<Object>)]
    pub same_theme: Vec<InboxItem>,
}

/// What the item page and `GET /api/v1/inbox/{id}` show.
pub async fn item_out(s: &AppState, id: &ExternalId) -> ApiResult<ItemOut> {
    let detail = s.db.inbox_item(id).await?;
    let customer = s.db.customer(&detail.item.customer).await?;
    let similar = match detail.item.text.as_deref() {
        Some(text) => similar(s, text, &detail.item).await?,
        None => Some(Vec::new()),
    };
    let same_theme = match &detail.item.theme {
        Some(t) => {
            let q = InboxQuery { theme: Some(t.clone()), limit: 6, ..Default::default() };
            let mut items = s.db.inbox(&q).await?.items;
            items.retain(|i| i.id != detail.item.id);
            items.truncate(5);
            items
        }
        None => Vec::new(),
    };
    Ok(ItemOut { item: detail.item, customer, merged: detail.merged, similar, same_theme })
}

async fn similar(s: &AppState, text: &str, of: &InboxItem) -> ApiResult<Option<Vec<SimilarItem>>> {
    let Some(found) = s.analysis.similar(text, SIMILAR_AT) else { return Ok(None) };
    let found: Vec<(i64, f32)> =
        found.into_iter().filter(|f| f.0 != of.key & ID_MASK).take(10).collect();
    let keys: Vec<i64> = found.iter().map(|f| f.0).collect();
    let items = s.db.inbox_items(&keys).await?;
    Ok(Some(
        items
            .into_iter()
            .filter(|i| i.duplicate_of.as_ref() != Some(&of.id))
            .filter_map(|item| {
                let sim = found.iter().find(|f| f.0 == item.key & ID_MASK)?.1;
                Some(SimilarItem { similarity: sim, item })
            })
            .collect(),
    ))
}

const ID_MASK: i64 = (1 << rapport_store::INBOX_KEY_ID_BITS) - 1;

fn item_id(id: &str) -> ApiResult<ExternalId> {
    ExternalId::parse(id).map_err(|r| ApiError::parameter("id", r))
}

/// One item with its customer, the items merged into it, near-duplicates and its theme's
/// newest items.
#[utoipa::path(get, path = "/api/v1/inbox/{id}", tag = "inbox",
    params(("id" = String, Path, description = "Feedback id")),
    responses((status = 200, body = ItemOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<ItemOut>> {
    who.require(Permission::Read)?;
    Ok(Json(item_out(&s, &item_id(&id)?).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageIn {
    /// Feedback ids.
    pub ids: Vec<String>,
    /// `new`, `reviewed`, `linked` or `closed`.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    /// Items that changed (an item already so is not counted).
    pub changed: usize,
}

fn ids(field: &str, ids: &[String]) -> ApiResult<Vec<ExternalId>> {
    if ids.is_empty() {
        return Err(ApiError::invalid(field, "needs at least one feedback id"));
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            ExternalId::parse(id).map_err(|r| ApiError::invalid(format!("{field}[{i}]"), r))
        })
        .collect()
}

/// Set the triage status of items. Unknown ids are 404 and change nothing.
#[utoipa::path(post, path = "/api/v1/inbox/status", tag = "inbox", request_body = TriageIn,
    responses((status = 200, body = Changed), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn triage(
    State(s): State<AppState>,
    _: Writer,
    ApiJson(b): ApiJson<TriageIn>,
) -> ApiResult<Json<Changed>> {
    let status = Triage::parse(&b.status).map_err(|r| ApiError::invalid("status", r))?;
    let changed = s.db.set_triage(&ids("ids", &b.ids)?, status).await?;
    Ok(Json(Changed { changed }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MergeIn {
    /// The items to merge (near-duplicates of `into`).
    pub ids: Vec<String>,
    /// The item they merge into (if it was itself merged, its primary).
    pub into: String,
}

/// Merge near-duplicates into one item. Every item is kept: merged ones leave the inbox list
/// and show on their primary, and can be taken out again.
#[utoipa::path(post, path = "/api/v1/inbox/merge", tag = "inbox", request_body = MergeIn,
    responses((status = 200, body = Changed), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn merge(
    State(s): State<AppState>,
    _: Writer,
    ApiJson(b): ApiJson<MergeIn>,
) -> ApiResult<Json<Changed>> {
    let into = ExternalId::parse(&b.into).map_err(|r| ApiError::invalid("into", r))?;
    let changed = s.db.merge_feedback(&ids("ids", &b.ids)?, &into).await?;
    Ok(Json(Changed { changed }))
}

/// Take an item out of the one it was merged into.
#[utoipa::path(post, path = "/api/v1/inbox/{id}/unmerge", tag = "inbox",
    params(("id" = String, Path, description = "Feedback id")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn unmerge(
    State(s): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    who.require(Permission::Write)?;
    s.db.unmerge_feedback(&item_id(&id)?).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A stored theme with its figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThemeOut {
    /// 16 hex digits, stable across runs while the topic's top phrases stay.
    pub id: String,
    pub label: String,
    pub phrases: Vec<String>,
    /// Items of the theme (merged duplicates left out) created in the window.
    pub items: i64,
    /// Of all themed items in the window.
    pub share: f64,
    /// Mean VADER compound of its items.
    pub sentiment: Option<f64>,
    /// Share of its items scoring −0.05 or below.
    pub negative: f64,
    /// Items per week, oldest first, ending with the current week.
    pub weekly: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThemesOut {
    /// When the themes were last discovered.
    #[schema(value_type = Option<String>)]
    pub computed_at: Option<rapport_core::Timestamp>,
    /// The Monday of each week of `weekly`.
    pub weeks: Vec<chrono::NaiveDate>,
    pub themes: Vec<ThemeOut>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ThemesParams {
    /// Weeks of history (1 to 104, default 12).
    pub weeks: Option<usize>,
}

/// The stored themes with volume, sentiment and weekly counts over the last weeks.
pub async fn themes_out(
    db: &dyn Backend,
    weeks: usize,
    today: chrono::NaiveDate,
) -> ApiResult<ThemesOut> {
    use chrono::Datelike;
    let monday = today - chrono::Days::new(u64::from(today.weekday().num_days_from_monday()));
    let first = monday - chrono::Days::new(7 * (weeks as u64 - 1));
    let since = first.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    let stored = db.stored_themes().await?;
    let volumes = db.theme_volumes(since).await?;
    // The store's weeks are Mondays as days since 1970-01-01.
    let first_day = (first - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days();
    let total: i64 = volumes.iter().map(|v| v.items).sum();
    let mut themes: Vec<ThemeOut> = stored
        .themes
        .iter()
        .map(|t| {
            let id = t.id.to_string();
            let v = volumes.iter().find(|v| v.theme == id);
            let mut weekly = vec![0; weeks];
            for &(day, n) in v.map_or(&[][..], |v| &v.weeks) {
                let w = (day - first_day) / 7;
                if let Some(slot) = usize::try_from(w).ok().and_then(|w| weekly.get_mut(w)) {
                    *slot += n;
                }
            }
            let items = v.map_or(0, |v| v.items);
            ThemeOut {
                label: t.label.clone(),
                phrases: t.phrases.iter().map(|p| p.text.clone()).collect(),
                items,
                share: if total > 0 { items as f64 / total as f64 } else { 0.0 },
                sentiment: v.filter(|v| v.scored > 0).map(|v| v.sentiment_sum / v.scored as f64),
                negative: v
                    .filter(|v| v.scored > 0)
                    .map_or(0.0, |v| v.negative as f64 / v.scored as f64),
                weekly,
                id,
            }
        })
        .collect();
    themes.sort_by(|a, b| b.items.cmp(&a.items).then_with(|| a.id.cmp(&b.id)));
    let weeks = (0..weeks).map(|i| first + chrono::Days::new(7 * i as u64)).collect();
    Ok(ThemesOut { computed_at: stored.computed_at, weeks, themes })
}

/// The themes found in the feedback, largest first, with their volume, sentiment and weekly
/// trend (merged duplicates left out).
#[utoipa::path(get, path = "/api/v1/themes", tag = "inbox", params(ThemesParams),
    responses((status = 200, body = ThemesOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn themes(
    State(s): State<AppState>,
    Auth(who): Auth,
    ApiQuery(p): ApiQuery<ThemesParams>,
) -> ApiResult<Json<ThemesOut>> {
    who.require(Permission::Read)?;
    let weeks = p.weeks.unwrap_or(12);
    if !(1..=104).contains(&weeks) {
        return Err(ApiError::parameter("weeks", format!("{weeks} is not between 1 and 104")));
    }
    Ok(Json(themes_out(s.db.as_ref(), weeks, chrono::Utc::now().date_naive()).await?))
}

/// What the analysis run did.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    #[schema(value_type = Object)]
    #[serde(flatten)]
    pub run: RunSummary,
}

/// Discover the themes again over every item now (the server also assigns new items every
/// half minute, and rediscovers when the feedback has grown by a tenth), rebuild the
/// near-duplicate index and the RFM segments.
#[utoipa::path(post, path = "/api/v1/themes/refresh", tag = "inbox",
    responses((status = 200, body = RunOut), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn refresh(State(s): State<AppState>, Auth(who): Auth) -> ApiResult<Json<RunOut>> {
    who.require(Permission::Write)?;
    Ok(Json(RunOut { run: s.analysis.full(s.db.as_ref()).await? }))
}

//! The feedback inbox in the UI: the list with its filters, search and bulk triage, each
//! item's page (customer, merged items, near-duplicates to merge, its theme's other items),
//! and a form for feedback taken by hand.

use super::{Layout, Viewer, page_error, render, urlencode};
use crate::AppState;
use crate::api::inbox::{InboxParams, ItemOut, item_out};
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use rapport_analytics::rfm::Segment;
use rapport_core::ExternalId;
use rapport_core::access::Permission;
use rapport_core::record::{CustomerRef, FeedbackRow};
use rapport_store::{InboxItem, IngestOptions, RowOutcome, SentimentBand, Triage};

/// One row of the list, as the templates show it.
pub struct ItemView {
    pub id: String,
    pub href: String,
    pub at: String,
    pub customer: String,
    pub customer_href: String,
    pub source: String,
    pub text: String,
    pub sentiment: String,
    pub band: &'static str,
    pub theme: Option<(String, String)>,
    pub status: &'static str,
    pub merged: i64,
    pub rating: String,
}

impl ItemView {
    pub fn of(i: &InboxItem) -> ItemView {
        ItemView {
            id: i.id.to_string(),
            href: format!("/feedback/{}", urlencode(i.id.as_str())),
            at: i.created_at.format("%Y-%m-%d %H:%M").to_string(),
            customer: i.customer_name.clone().unwrap_or_else(|| i.customer.to_string()),
            customer_href: format!("/customers/{}", urlencode(i.customer.as_str())),
            source: i.source.clone(),
            text: i.text.clone().unwrap_or_default(),
            sentiment: i.sentiment.map_or("–".into(), |s| format!("{s:+.2}")),
            band: i.sentiment.map_or("", |s| SentimentBand::of(s).as_str()),
            theme: i.theme.clone().map(|t| (i.theme_label.clone().unwrap_or_else(|| t.clone()), t)),
            status: i.status.as_str(),
            merged: i.merged,
            rating: i.rating.map_or(String::new(), |r| r.to_string()),
        }
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn choices(all: impl IntoIterator<Item = (String, String)>, current: Option<&str>) -> Vec<Choice> {
    all.into_iter()
        .map(|(value, label)| Choice { selected: current == Some(value.as_str()), value, label })
        .collect()
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    p: InboxParams,
    items: Vec<ItemView>,
    next: Option<String>,
    error: Option<String>,
    statuses: Vec<Choice>,
    bands: Vec<Choice>,
    themes: Vec<Choice>,
    segments: Vec<Choice>,
    can_write: bool,
    /// The current filters as a query string, for the next page's link and the return to the
    /// list after a triage.
    query: String,
}

fn v(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

pub async fn inbox(
    State(s): State<AppState>,
    viewer: Viewer,
    axum::extract::Query(p): axum::extract::Query<InboxParams>,
) -> Response {
    let (items, next, error) = match p.query() {
        Ok(q) => match s.db.inbox(&q).await {
            Ok(page) => (page.items, page.next, None),
            Err(e) => return page_error(e.into()),
        },
        Err(e) => (Vec::new(), None, Some(e.to_string())),
    };
    let themes = match s.db.stored_themes().await {
        Ok(t) => t.themes,
        Err(e) => return page_error(e.into()),
    };
    let query = serde_urlencoded_query(&InboxParams { after: None, ..p.clone() });
    let page = InboxPage {
        layout: viewer.layout("Feedback"),
        statuses: choices(
            Triage::ALL.map(|t| (t.as_str().into(), t.as_str().into())),
            v(&p.status),
        ),
        bands: choices(
            SentimentBand::ALL.map(|b| (b.as_str().into(), b.as_str().into())),
            v(&p.sentiment),
        ),
        themes: choices(themes.iter().map(|t| (t.id.to_string(), t.label.clone())), v(&p.theme)),
        segments: choices(
            Segment::ALL.map(|g| (g.as_str().into(), g.as_str().replace('_', " "))),
            v(&p.segment).map(|s| s.trim_start_matches("rfm:")),
        ),
        items: items.iter().map(ItemView::of).collect(),
        next,
        error,
        can_write: viewer.0.allows(Permission::Write),
        query,
        p,
    };
    render(&page)
}

/// The filters that are set, as a query string (`q=late&status=new`).
fn serde_urlencoded_query(p: &InboxParams) -> String {
    let pairs = [
        ("q", &p.q),
        ("source", &p.source),
        ("status", &p.status),
        ("sentiment", &p.sentiment),
        ("theme", &p.theme),
        ("segment", &p.segment),
        ("customer", &p.customer),
        ("from", &p.from),
        ("to", &p.to),
        ("merged", &p.merged),
        ("limit", &p.limit),
    ];
    pairs
        .iter()
        .filter_map(|(k, val)| v(val).map(|val| format!("{k}={}", urlencode(val))))
        .collect::<Vec<_>>()
        .join("&")
}

#[derive(Template)]
#[template(path = "feedback_item.html")]
struct ItemPage {
    layout: Layout,
    item: ItemView,
    out: ItemOut,
    duplicate_of: Option<(String, String)>,
    merged: Vec<ItemView>,
    similar: Option<Vec<(String, ItemView)>>,
    same_theme: Vec<ItemView>,
    statuses: Vec<&'static str>,
    can_write: bool,
    revenue: String,
}

pub async fn item(State(s): State<AppState>, viewer: Viewer, Path(id): Path<String>) -> Response {
    let id = match ExternalId::parse(&id) {
        Ok(id) => id,
        Err(r) => return page_error(ApiError::parameter("id", r)),
    };
    let out = match item_out(&s, &id).await {
        Ok(o) => o,
        Err(e) => return page_error(e),
    };
    let page = ItemPage {
        layout: viewer.layout("Feedback"),
        item: ItemView::of(&out.item),
        duplicate_of: out
            .item
            .duplicate_of
            .as_ref()
            .map(|d| (d.to_string(), format!("/feedback/{}", urlencode(d.as_str())))),
        merged: out.merged.iter().map(ItemView::of).collect(),
        similar: out.similar.as_ref().map(|s| {
            s.iter()
                .map(|x| (format!("{:.0}%", x.similarity * 100.0), ItemView::of(&x.item)))
                .collect()
        }),
        same_theme: out.same_theme.iter().map(ItemView::of).collect(),
        statuses: Triage::ALL.map(Triage::as_str).to_vec(),
        can_write: viewer.0.allows(Permission::Write),
        revenue: out.customer.summary.purchase_value.to_string(),
        out,
    };
    render(&page)
}

/// Reads a submitted form's pairs; `ids` may repeat (the list's checkboxes).
struct Submitted {
    csrf: String,
    ids: Vec<String>,
    fields: Vec<(String, String)>,
}

impl Submitted {
    fn of(pairs: Vec<(String, String)>) -> Submitted {
        let mut s = Submitted { csrf: String::new(), ids: Vec::new(), fields: Vec::new() };
        for (k, val) in pairs {
            match k.as_str() {
                "csrf" => s.csrf = val,
                "ids" => s.ids.push(val),
                _ => s.fields.push((k, val)),
            }
        }
        s
    }

    fn get(&self, name: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn check(&self, viewer: &Viewer) -> Result<(), ApiError> {
        viewer.check_csrf(&self.csrf).and_then(|_| viewer.require(Permission::Write))
    }

    fn ids(&self) -> Result<Vec<ExternalId>, ApiError> {
        if self.ids.is_empty() {
            return Err(ApiError::invalid("ids", "tick at least one item"));
        }
        self.ids
            .iter()
            .map(|i| ExternalId::parse(i).map_err(|r| ApiError::invalid("ids", r)))
            .collect()
    }

    /// Where to go back to: the page the form was on (a local path only).
    fn back(&self, default: &str) -> String {
        let to = self.get("back");
        if to.starts_with('/') && !to.starts_with("//") {
            to.to_string()
        } else {
            default.to_string()
        }
    }
}

/// Sets the status of the ticked items (the list) or of one item (its page).
pub async fn triage(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = Submitted::of(pairs);
    let done = async {
        f.check(&viewer)?;
        let status = Triage::parse(f.get("status")).map_err(|r| ApiError::invalid("status", r))?;
        s.db.set_triage(&f.ids()?, status).await.map_err(ApiError::from)
    };
    match done.await {
        Ok(n) => {
            tracing::info!(by = %viewer.0.label(), items = n, "feedback triaged");
            Redirect::to(&f.back("/feedback")).into_response()
        }
        Err(e) => page_error(e),
    }
}

/// Merges the ticked items (`ids`) into `into`.
pub async fn merge(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = Submitted::of(pairs);
    let done = async {
        f.check(&viewer)?;
        let into = ExternalId::parse(f.get("into")).map_err(|r| ApiError::invalid("into", r))?;
        s.db.merge_feedback(&f.ids()?, &into).await.map_err(ApiError::from)
    };
    match done.await {
        Ok(_) => Redirect::to(&f.back("/feedback")).into_response(),
        Err(e) => page_error(e),
    }
}

pub async fn unmerge(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = Submitted::of(pairs);
    let done = async {
        f.check(&viewer)?;
        let id = ExternalId::parse(&id).map_err(|r| ApiError::parameter("id", r))?;
        s.db.unmerge_feedback(&id).await.map_err(ApiError::from)
    };
    match done.await {
        Ok(()) => Redirect::to(&f.back("/feedback")).into_response(),
        Err(e) => page_error(e),
    }
}

/// Feedback taken by hand (a call, a meeting): the customer by id or e-mail, the channel, the
/// words. Stored as any other item, so it is scored, searched and themed alike.
pub async fn create(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let f = Submitted::of(pairs);
    let done = async {
        f.check(&viewer)?;
        let who = f.get("customer").trim();
        let customer = if who.contains('@') {
            let found = s.db.customer_by_email(&who.to_ascii_lowercase()).await?;
            found.ok_or_else(|| {
                ApiError::invalid("customer", format!("no customer has the e-mail '{who}'"))
            })?
        } else {
            ExternalId::parse(who).map_err(|r| ApiError::invalid("customer", r))?
        };
        let customer = CustomerRef::Id(customer);
        let text = f.get("text").trim();
        if text.is_empty() {
            return Err(ApiError::invalid("text", "write what the customer said"));
        }
        let source = rapport_core::value::parse_text(f.get("source"), 40)
            .map_err(|r| ApiError::invalid("source", r))?
            .to_ascii_lowercase();
        let now = chrono::Utc::now();
        let id =
            ExternalId::parse(&format!("manual-{}", now.timestamp_micros())).expect("a valid id");
        let row = FeedbackRow {
            id: id.clone(),
            customer,
            source,
            text: Some(text.into()),
            rating: None,
            created_at: now,
        };
        let o = IngestOptions { create_only: true, ..Default::default() };
        let outcomes = s.db.ingest_feedback(vec![row], &o).await?;
        match outcomes.first() {
            Some(RowOutcome::Inserted) => Ok(id),
            Some(RowOutcome::Rejected(why)) => Err(ApiError::invalid("customer", why.to_string())),
            _ => Err(ApiError::Conflict("the item was not stored; try again".into())),
        }
    };
    match done.await {
        Ok(id) => Redirect::to(&format!("/feedback/{}", urlencode(id.as_str()))).into_response(),
        Err(e) => page_error(e),
    }
}

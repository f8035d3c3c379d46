//! The customers list and the customer 360 page.

use super::{Layout, Viewer, page_error, render, urlencode};
use crate::AppState;
use crate::api::customers::{ListParams, path_id};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use rapport_core::access::Permission;
use rapport_core::{Customer, CustomerSummary, Timestamp};
use rapport_reports::loyalty::{self, Member};
use rapport_reports::recommend::{self, Basis, Recommendations};
use rapport_store::{CustomerView, TimelineCursor, TimelineItem};
use serde::Deserialize;

/// Query parameters of the list page: the API's, all optional and tolerant of empty inputs
/// (an empty form field means "no filter").
#[derive(Debug, Default, Deserialize)]
pub struct ListForm {
    q: Option<String>,
    country: Option<String>,
    company: Option<String>,
    signup_from: Option<String>,
    signup_to: Option<String>,
    sort: Option<String>,
    after: Option<String>,
}

pub struct Row {
    pub id: String,
    pub href: String,
    pub name: String,
    pub email: String,
    pub country: String,
    pub company: String,
    pub signup: String,
    pub orders: i64,
    pub spend: String,
    pub last_purchase: String,
}

fn day(t: Option<Timestamp>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn row(c: &Customer, s: &CustomerSummary) -> Row {
    Row {
        id: c.id.to_string(),
        href: format!("/customers/{}", urlencode(c.id.as_str())),
        name: c.name.clone().unwrap_or_default(),
        email: c.email.as_ref().map(|e| e.as_str().to_string()).unwrap_or_default(),
        country: c.country.clone().unwrap_or_default(),
        company: c.company.as_ref().map(|c| c.to_string()).unwrap_or_default(),
        signup: day(c.signup_at),
        orders: s.purchase_orders,
        spend: s.purchase_value.to_string(),
        last_purchase: day(s.last_purchase_at),
    }
}

/// A sortable column header: its link toggles direction when already sorted by it.
pub struct SortLink {
    pub label: &'static str,
    pub href: String,
    pub marker: &'static str,
}

#[derive(Template)]
#[template(path = "customers.html")]
struct ListPage {
    layout: Layout,
    form: ListForm,
    rows: Vec<Row>,
    sorts: Vec<SortLink>,
    next_href: Option<String>,
    error: Option<String>,
}

impl ListForm {
    fn params(&self) -> ListParams {
        ListParams {
            q: self.q.clone(),
            country: self.country.clone(),
            company: self.company.clone(),
            signup_from: self.signup_from.clone(),
            signup_to: self.signup_to.clone(),
            sort: self.sort.clone().filter(|s| !s.is_empty()),
            after: self.after.clone(),
            limit: Some(50),
        }
    }

    /// This list's URL with `sort` and `after` replaced.
    fn href(&self, sort: Option<&str>, after: Option<&str>) -> String {
        let mut parts = Vec::new();
        let mut add = |k: &str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", urlencode(v)));
            }
        };
        add("q", self.q.as_deref());
        add("country", self.country.as_deref());
        add("company", self.company.as_deref());
        add("signup_from", self.signup_from.as_deref());
        add("signup_to", self.signup_to.as_deref());
        add("sort", sort);
        add("after", after);
        format!("/customers?{}", parts.join("&"))
    }

    fn sort_links(&self) -> Vec<SortLink> {
        let current = self.sort.as_deref().unwrap_or("id");
        [
            ("Name", "name"),
            ("Signed up", "signup_at"),
            ("Last purchase", "last_purchase_at"),
            ("Spend", "purchase_value"),
        ]
        .into_iter()
        .map(|(label, key)| {
            let (next, marker) = if current == key {
                (format!("-{key}"), " ▲")
            } else if current == format!("-{key}") {
                (key.to_string(), " ▼")
            } else {
                (key.to_string(), "")
            };
            SortLink { label, href: self.href(Some(&next), None), marker }
        })
        .collect()
    }
}

pub async fn list(
    State(s): State<AppState>,
    viewer: Viewer,
    Query(form): Query<ListForm>,
) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let (rows, next_href, error) = match form.params().query() {
        Err(e) => (Vec::new(), None, Some(e.to_string())),
        Ok(q) => match s.db.customers(&q).await {
            Err(e) => return page_error(e.into()),
            Ok(page) => {
                let rows = page.items.iter().map(|i| row(&i.customer, &i.summary)).collect();
                let next = page.next.map(|n| form.href(form.sort.as_deref(), Some(&n)));
                (rows, next, None)
            }
        },
    };
    let sorts = form.sort_links();
    render(&ListPage { layout: viewer.layout("Customers"), form, rows, sorts, next_href, error })
}

/// A timeline entry as the page shows it.
pub struct Entry {
    pub kind: &'static str,
    pub when: String,
    pub title: String,
    pub detail: String,
}

fn entry(t: &TimelineItem) -> Entry {
    let (title, detail) = match t {
        TimelineItem::Order(o) => (
            format!("{} {}", o.order.status, o.order.id),
            format!("{} {} · {} line(s)", o.total, o.order.currency.as_str(), o.lines),
        ),
        TimelineItem::Event(e) => {
            (e.name.clone(), serde_json::Value::Object(e.properties.clone()).to_string())
        }
        TimelineItem::Interaction(i) => (
            format!(
                "{} ({})",
                i.subject.clone().unwrap_or_else(|| i.channel.to_string()),
                i.direction
            ),
            i.body.clone().unwrap_or_default(),
        ),
        TimelineItem::Feedback(f) => (
            match f.rating {
                Some(r) => format!("Feedback via {} · rated {r}", f.source),
                None => format!("Feedback via {}", f.source),
            },
            f.text.clone().unwrap_or_default(),
        ),
        TimelineItem::Consent(c) => (
            format!("{} consent {}", c.purpose, if c.granted { "granted" } else { "revoked" }),
            c.source.clone().unwrap_or_default(),
        ),
    };
    Entry { kind: t.kind(), when: t.at().format("%Y-%m-%d %H:%M").to_string(), title, detail }
}

#[derive(Template)]
#[template(path = "customer.html")]
struct ShowPage {
    layout: Layout,
    view: CustomerView,
    row: Row,
    figures: Vec<(&'static str, String)>,
    consents: Vec<(String, bool, String)>,
    timeline: Vec<Entry>,
    older_href: Option<String>,
    recs: Recommendations,
    /// Their loyalty membership, when there is a programme and they have earned.
    loyalty: Option<Member>,
}

#[derive(Debug, Deserialize)]
pub struct ShowParams {
    after: Option<String>,
}

const TIMELINE_PAGE: usize = 50;

pub async fn show(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(p): Query<ShowParams>,
) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let id = match path_id(&id) {
        Ok(id) => id,
        Err(e) => return page_error(e),
    };
    let after = p.after.as_deref().and_then(|a| TimelineCursor::parse(a).ok());
    let (view, items) = match tokio::try_join!(
        s.db.customer(&id),
        s.db.timeline(&id, after.as_ref(), TIMELINE_PAGE)
    ) {
        Ok(both) => both,
        Err(e) => return page_error(e.into()),
    };
    let sm = &view.summary;
    let figures = vec![
        ("Orders", sm.purchase_orders.to_string()),
        ("Total spend", sm.purchase_value.to_string()),
        ("Mean order", sm.mean_purchase_value().to_string()),
        ("First purchase", day(sm.first_purchase_at)),
        ("Last purchase", day(sm.last_purchase_at)),
        ("Returns", sm.returns.to_string()),
        ("Feedback", sm.feedback.to_string()),
        ("Interactions", sm.interactions.to_string()),
        ("Events", sm.events.to_string()),
    ];
    let consents = view
        .consents
        .iter()
        .map(|c| (c.purpose.to_string(), c.granted, c.at.format("%Y-%m-%d").to_string()))
        .collect();
    let older_href = items.last().filter(|_| items.len() == TIMELINE_PAGE).map(|last| {
        format!(
            "/customers/{}?after={}",
            urlencode(id.as_str()),
            urlencode(&TimelineCursor::of(last).encode())
        )
    });
    let row = row(&view.customer, &view.summary);
    let timeline = items.iter().map(entry).collect();
    let recs = match s.models.current(s.db.as_ref()).await {
        Ok(cat) => recommend::for_customer(s.db.as_ref(), cat.as_deref(), &id, 5).await,
        Err(e) => Err(e),
    };
    let recs = match recs {
        Ok(r) => r,
        Err(e) => return page_error(e.into()),
    };
    let loyalty = match loyalty::member(s.db.as_ref(), &id, chrono::Utc::now()).await {
        Ok(m) => m,
        Err(e) => return page_error(e.into()),
    };
    render(&ShowPage {
        layout: viewer.layout("Customers"),
        view,
        row,
        figures,
        consents,
        timeline,
        older_href,
        recs,
        loyalty,
    })
}

//! The Loyalty page: the programme's settings and tiers, its figures (members, points liability,
//! redemption rate, members per tier) and the rewards catalogue.

use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use rapport_core::access::Permission;
use rapport_reports::ReportError;
use rapport_reports::loyalty::{self, Overview};
use rapport_store::StoreError;

#[derive(Template)]
#[template(path = "loyalty.html")]
struct LoyaltyPage {
    layout: Layout,
    overview: Option<Overview>,
    /// (tier, members, share of members in percent) for the bars.
    tiers: Vec<(String, u64, f64)>,
    rate: String,
}

pub async fn show(viewer: Viewer, State(s): State<AppState>) -> Response {
    if let Err(e) = viewer.require(Permission::Read) {
        return page_error(e);
    }
    let overview = match loyalty::overview(s.db.as_ref(), Utc::now()).await {
        Ok(o) => Some(o),
        Err(ReportError::Store(StoreError::NotFound(_))) => None,
        Err(e) => return page_error(e.into()),
    };
    let tiers = overview.as_ref().map_or_else(Vec::new, |o| {
        let members = o.figures.members.max(1) as f64;
        let tiers = o.figures.tiers.iter();
        tiers.map(|t| (t.tier.clone(), t.members, t.members as f64 * 100.0 / members)).collect()
    });
    let rate = overview
        .as_ref()
        .and_then(|o| o.redemption_rate)
        .map_or("–".into(), |r| format!("{:.1}%", r * 100.0));
    render(&LoyaltyPage { layout: viewer.layout("Loyalty"), overview, tiers, rate })
}

//! The web UI: server-rendered pages (askama templates, escaped by default), a stylesheet and
//! no JavaScript framework. Pages redirect to the sign-in page when nobody is signed in.

mod charts;
mod customers;
mod dashboard;
mod feedback;
mod ideas;
mod journey_view;
mod journeys;

pub use dashboard::warm as warm_dashboard;
mod campaigns;
mod login;
mod loyalty;
mod persona_view;
mod personas;
pub mod respond;
mod scorecard;
mod scorecard_view;
mod segments;
mod settings;
mod surveys;
mod themes;

use crate::AppState;
use crate::auth::{Principal, authenticate};
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use rapport_core::access::Permission;
use subtle::ConstantTimeEq;

/// Every page route. The router is built from this table, and the access test walks it.
pub fn table() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let mut t: Vec<(&'static str, MethodRouter<AppState>)> = vec![
        ("/", get(|_: Viewer| async { Redirect::to("/dashboard") })),
        ("/dashboard", get(dashboard::show)),
        ("/login", get(login::form).post(login::submit)),
        ("/logout", post(login::logout)),
        ("/customers", get(customers::list)),
        ("/customers/{id}", get(customers::show)),
        ("/feedback", get(feedback::inbox)),
        ("/feedback/new", post(feedback::create)),
        ("/feedback/triage", post(feedback::triage)),
        ("/feedback/merge", post(feedback::merge)),
        ("/feedback/themes", get(themes::show)),
        ("/feedback/themes/refresh", post(themes::refresh)),
        ("/feedback/{id}", get(feedback::item)),
        ("/feedback/{id}/unmerge", post(feedback::unmerge)),
        ("/surveys", get(surveys::list).post(surveys::create)),
        ("/surveys/{id}", get(surveys::show)),
        ("/surveys/{id}/send", post(surveys::send)),
        ("/ideas", get(ideas::board).post(ideas::create)),
        ("/ideas/segments", get(ideas::segments)),
        ("/ideas/{id}", get(ideas::show)),
        ("/ideas/{id}/status", post(ideas::set_status)),
        ("/ideas/{id}/feedback", post(ideas::link)),
        ("/ideas/{id}/requesters", post(ideas::add_requester)),
        ("/ideas/{id}/feedback/remove", post(ideas::unlink)),
        ("/ideas/{id}/requesters/remove", post(ideas::remove_requester)),
        ("/segments", get(segments::list).post(segments::create)),
        ("/segments/{slug}", get(segments::show).post(segments::update)),
        ("/segments/{slug}/refresh", post(segments::refresh)),
        ("/segments/{slug}/delete", post(segments::delete)),
        ("/docs/filter-language", get(segments::guide)),
        ("/personas", get(personas::list).post(personas::create)),
        ("/personas/compare", get(personas::compare)),
        ("/personas/{id}", get(personas::show)),
        ("/personas/{id}/edit", post(personas::edit)),
        ("/personas/{id}/regenerate", post(personas::regenerate)),
        ("/personas/{id}/delete", post(personas::delete)),
        ("/journeys", get(journeys::list)),
        ("/loyalty", get(loyalty::show)),
        ("/scorecard", get(scorecard::show).post(scorecard::create)),
        ("/scorecard/goals/{id}/delete", post(scorecard::delete)),
        ("/campaigns", get(campaigns::list).post(campaigns::create)),
        ("/campaigns/{id}", get(campaigns::show)),
        ("/campaigns/{id}/send", post(campaigns::send)),
        ("/campaigns/{id}/delete", post(campaigns::delete)),
        ("/journeys/{id}", get(journeys::show)),
        ("/settings", get(|_: Viewer| async { Redirect::to("/settings/users") })),
        ("/settings/users", get(settings::users).post(settings::add_user)),
        ("/settings/users/remove", post(settings::remove_user)),
        ("/settings/api-keys", get(settings::keys).post(settings::create_key)),
        ("/settings/api-keys/{id}/revoke", post(settings::revoke_key)),
        ("/static/app.css", get(stylesheet)),
        ("/static/segments.js", get(segments::script)),
    ];
    for area in AREAS.iter().filter(|a| a.coming) {
        t.push((area.href, get(coming_soon)));
    }
    t
}

/// Pages anyone may fetch: signing in needs them.
pub const PUBLIC: &[&str] = &["/login", "/static/app.css", "/static/segments.js"];

pub fn routes() -> Router<AppState> {
    table().into_iter().fold(Router::new(), |r, (path, handler)| r.route(path, handler))
}

/// The product's areas, in navigation order. `coming` areas are built by later milestones;
/// their pages say so rather than pretend.
pub struct Area {
    pub name: &'static str,
    pub href: &'static str,
    pub coming: bool,
}

pub const AREAS: &[Area] = &[
    Area { name: "Dashboard", href: "/dashboard", coming: false },
    Area { name: "Customers", href: "/customers", coming: false },
    Area { name: "Surveys", href: "/surveys", coming: false },
    Area { name: "Feedback", href: "/feedback", coming: false },
    Area { name: "Ideas", href: "/ideas", coming: false },
    Area { name: "Segments", href: "/segments", coming: false },
    Area { name: "Personas", href: "/personas", coming: false },
    Area { name: "Journeys", href: "/journeys", coming: false },
    Area { name: "Campaigns", href: "/campaigns", coming: false },
    Area { name: "Loyalty", href: "/loyalty", coming: false },
    Area { name: "Scorecard", href: "/scorecard", coming: false },
    Area { name: "Settings", href: "/settings/users", coming: false },
];

/// What every page's layout needs: who is signed in, the CSRF token for forms, the active area.
pub struct Layout {
    pub user_name: String,
    pub user_login: String,
    pub role: String,
    pub csrf: String,
    pub active: &'static str,
    pub areas: &'static [Area],
}

/// A signed-in person. Pages redirect to `/login?next=...` without one; API keys do not sign
/// in to pages.
pub struct Viewer(pub Principal);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match authenticate(state, parts).await {
            Ok(Some(p @ Principal::User { .. })) => Ok(Viewer(p)),
            Ok(_) | Err(ApiError::Unauthenticated) => {
                let next = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let to = format!("/login?next={}", urlencode(next));
                Err(Redirect::to(&to).into_response())
            }
            Err(e) => Err(page_error(e)),
        }
    }
}

impl Viewer {
    pub fn layout(&self, active: &'static str) -> Layout {
        let (name, login, role) = match &self.0 {
            Principal::User { user, .. } => {
                (user.name.clone(), user.login.as_str().to_string(), user.role.to_string())
            }
            Principal::Key(k) => (k.name.clone(), k.prefix.clone(), k.scope.to_string()),
        };
        Layout {
            user_name: name,
            user_login: login,
            role,
            csrf: self.0.csrf().to_string(),
            active,
            areas: AREAS,
        }
    }

    /// Checks a submitted form's CSRF token against the session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), ApiError> {
        if bool::from(sent.as_bytes().ct_eq(self.0.csrf().as_bytes())) && !sent.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "the form expired or came from another site; reload the page and try again".into(),
            ))
        }
    }

    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        self.0.require(p)
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    detail: String,
}

/// An error as an HTML page with the right status.
pub fn page_error(e: ApiError) -> Response {
    if let ApiError::Internal(cause) = &e {
        tracing::error!(error = %cause, "internal error on a page");
    }
    let status = e.status();
    let page = ErrorPage {
        status: status.as_u16(),
        title: status.canonical_reason().unwrap_or("Error").to_string(),
        detail: if matches!(e, ApiError::Internal(_)) {
            "Something went wrong on our side; it has been logged.".into()
        } else {
            e.to_string()
        },
    };
    (status, render(&page)).into_response()
}

/// Renders a template; a rendering failure is a bug, reported as a 500.
pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "coming_soon.html")]
struct ComingSoon {
    layout: Layout,
    area: &'static str,
}

async fn coming_soon(viewer: Viewer, uri: axum::http::Uri) -> Response {
    let area = AREAS.iter().find(|a| a.href == uri.path()).map_or("This area", |a| a.name);
    render(&ComingSoon { layout: viewer.layout(area), area })
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
        .into_response()
}

/// The HTML 404 for anything that is not a route (the API answers problem+json instead).
pub async fn not_found_page() -> Response {
    page_error(ApiError::NotFound("page".into()))
}

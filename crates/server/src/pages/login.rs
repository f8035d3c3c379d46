//! Sign-in and sign-out. The sign-in form is protected against login CSRF with a double-submit
//! token (a cookie plus a hidden field), since there is no session yet to hold a token.

use super::{Viewer, page_error, render};
use crate::AppState;
use crate::auth::{
    SESSION_COOKIE, cookie, decoy_hash, digest, random_token, session_token, verify_password,
};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rapport_core::access::Login;
use serde::Deserialize;
use std::net::SocketAddr;
use std::time::Instant;
use subtle::ConstantTimeEq;

const LOGIN_CSRF_COOKIE: &str = "rapport_login_csrf";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only same-site paths: `//evil.example` or `https://...` would make the form an open redirect.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => {
            n.to_string()
        }
        _ => "/customers".to_string(),
    }
}

fn secure(state: &AppState, headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    if state.settings.secure_cookies || https { "; Secure" } else { "" }
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    next: String,
    login: String,
    error: Option<String>,
) -> Response {
    let csrf = random_token();
    let cookie = format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict{}",
        secure(state, headers)
    );
    let status = if error.is_some() {
        axum::http::StatusCode::UNAUTHORIZED
    } else {
        axum::http::StatusCode::OK
    };
    let page = render(&LoginPage { csrf, next, login, error });
    (status, [(header::SET_COOKIE, cookie)], page).into_response()
}

pub async fn form(
    State(s): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NextParam>,
) -> Response {
    login_page(&s, &headers, safe_next(q.next.as_deref()), String::new(), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    login: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn submit(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(f.next.as_deref());
    let fail =
        |why: &str| login_page(&s, &headers, next.clone(), f.login.clone(), Some(why.to_string()));
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(f.csrf.as_bytes())) {
        return fail("The sign-in form expired. Please try again.");
    }
    let account = format!("acct:{}", f.login.trim().to_lowercase());
    let keys = [account.clone(), format!("ip:{}", peer.ip())];
    if let Err(wait) = s.limiter.check(&keys, Instant::now()) {
        let mut res =
            fail(&format!("Too many failed attempts. Try again in {} minutes.", wait.div_ceil(60)));
        *res.status_mut() = axum::http::StatusCode::TOO_MANY_REQUESTS;
        res.headers_mut().insert(header::RETRY_AFTER, wait.into());
        return res;
    }
    let found = match Login::parse(&f.login) {
        Ok(login) => s.db.user_credentials(&login).await,
        Err(_) => Ok(None),
    };
    let found = match found {
        Ok(found) => found,
        Err(e) => return super::page_error(e.into()),
    };
    // Verify against a decoy when the login is unknown: both paths cost one argon2 run.
    let hash = found.as_ref().map_or(decoy_hash(), |(_, h)| h.as_str()).to_string();
    let password = f.password.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some((user, _)) = found.filter(|_| ok) else {
        s.limiter.fail(&keys, Instant::now());
        tracing::info!(login = %f.login, ip = %peer.ip(), "failed sign-in");
        return fail("That e-mail and password do not match an account.");
    };
    s.limiter.succeed(&account);
    let token = random_token();
    let expires =
        Utc::now() + chrono::Duration::from_std(s.settings.session_ttl).unwrap_or_default();
    if let Err(e) = s.db.create_session(&digest(&token), user.id, &random_token(), expires).await {
        return super::page_error(e.into());
    }
    tracing::info!(login = %user.login.as_str(), "signed in");
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
        s.settings.session_ttl.as_secs(),
        secure(&s, &headers)
    );
    let clear = format!("{LOGIN_CSRF_COOKIE}=; Path=/login; Max-Age=0");
    let mut res = Redirect::to(&next).into_response();
    res.headers_mut().append(header::SET_COOKIE, cookie.parse().expect("valid cookie"));
    res.headers_mut().append(header::SET_COOKIE, clear.parse().expect("valid cookie"));
    res
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(s): State<AppState>,
    viewer: Viewer,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf) {
        return page_error(e);
    }
    if let Some(token) = session_token(&headers) {
        let deleted = s.db.delete_session(&digest(token)).await;
        s.credentials.forget_all();
        if let Err(e) = deleted {
            return super::page_error(e.into());
        }
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    ([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

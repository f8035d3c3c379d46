//! Settings: users (admins only change them) and API keys (shown once at creation).

use super::{Layout, Viewer, page_error, render};
use crate::AppState;
use crate::auth::{create_api_key, new_user};
use crate::error::ApiError;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use rapport_core::access::{ApiKey, Login, Permission, User};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "settings_users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<User>,
    can_manage: bool,
    error: Option<String>,
}

async fn users_page(s: &AppState, viewer: &Viewer, error: Option<String>) -> Response {
    match s.db.users().await {
        Ok(users) => {
            let can_manage = viewer.0.allows(Permission::Manage);
            let status = if error.is_some() {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            } else {
                axum::http::StatusCode::OK
            };
            (
                status,
                render(&UsersPage { layout: viewer.layout("Settings"), users, can_manage, error }),
            )
                .into_response()
        }
        Err(e) => page_error(e.into()),
    }
}

pub async fn users(State(s): State<AppState>, viewer: Viewer) -> Response {
    users_page(&s, &viewer, None).await
}

#[derive(Debug, Deserialize)]
pub struct AddUser {
    csrf: String,
    login: String,
    name: String,
    role: String,
    password: String,
}

pub async fn add_user(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<AddUser>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Manage)) {
        return page_error(e);
    }
    let created = match new_user(&f.login, &f.name, &f.role, &f.password) {
        Ok(u) => s.db.create_user(u).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(u) => {
            tracing::info!(by = %viewer.0.label(), login = %u.login.as_str(), role = %u.role, "user added");
            Redirect::to("/settings/users").into_response()
        }
        Err(e @ (ApiError::Invalid { .. } | ApiError::Conflict(_))) => {
            users_page(&s, &viewer, Some(e.to_string())).await
        }
        Err(e) => page_error(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct RemoveUser {
    csrf: String,
    login: String,
}

pub async fn remove_user(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<RemoveUser>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Manage)) {
        return page_error(e);
    }
    let Ok(login) = Login::parse(&f.login) else {
        return page_error(ApiError::invalid("login", "not a login"));
    };
    if viewer.0.user().is_some_and(|u| u.login == login) {
        return users_page(&s, &viewer, Some("You cannot remove yourself.".into())).await;
    }
    let removed = s.db.remove_user(&login).await;
    s.credentials.forget_all();
    match removed {
        Ok(()) => Redirect::to("/settings/users").into_response(),
        Err(e) => page_error(e.into()),
    }
}

#[derive(Template)]
#[template(path = "settings_keys.html")]
struct KeysPage {
    layout: Layout,
    keys: Vec<ApiKey>,
    can_manage: bool,
    created: Option<(String, String)>,
    error: Option<String>,
}

async fn keys_page(
    s: &AppState,
    viewer: &Viewer,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    match s.db.api_keys().await {
        Ok(keys) => {
            let can_manage = viewer.0.allows(Permission::Manage);
            render(&KeysPage {
                layout: viewer.layout("Settings"),
                keys,
                can_manage,
                created,
                error,
            })
        }
        Err(e) => page_error(e.into()),
    }
}

pub async fn keys(State(s): State<AppState>, viewer: Viewer) -> Response {
    keys_page(&s, &viewer, None, None).await
}

#[derive(Debug, Deserialize)]
pub struct CreateKey {
    csrf: String,
    name: String,
    scope: String,
}

pub async fn create_key(
    State(s): State<AppState>,
    viewer: Viewer,
    Form(f): Form<CreateKey>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Manage)) {
        return page_error(e);
    }
    match create_api_key(s.db.as_ref(), &f.name, &f.scope).await {
        Ok((record, key)) => {
            tracing::info!(by = %viewer.0.label(), key = %record.prefix, scope = %record.scope, "API key created");
            keys_page(&s, &viewer, Some((record.name, key)), None).await
        }
        Err(e @ ApiError::Invalid { .. }) => {
            keys_page(&s, &viewer, None, Some(e.to_string())).await
        }
        Err(e) => page_error(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfOnly {
    pub csrf: String,
}

pub async fn revoke_key(
    State(s): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(f): Form<CsrfOnly>,
) -> Response {
    if let Err(e) = viewer.check_csrf(&f.csrf).and_then(|_| viewer.require(Permission::Manage)) {
        return page_error(e);
    }
    let revoked = s.db.revoke_api_key(id, Utc::now()).await;
    s.credentials.forget_all();
    match revoked {
        Ok(()) => Redirect::to("/settings/api-keys").into_response(),
        Err(e) => page_error(e.into()),
    }
}

//! Who is calling: a signed-in user (session cookie) or an API key (`Authorization: Bearer`),
//! and the secrets behind both. Passwords are argon2id; keys and session tokens are 256-bit
//! random values stored only as SHA-256 digests (they are high-entropy, so a fast hash is
//! enough and keeps per-request authentication cheap).

use crate::AppState;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use rand::RngCore;
use rapport_core::access::{ApiKey, Login, NewApiKey, NewUser, Permission, Role, Scope, User};
use rapport_store::AccessStore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub const SESSION_COOKIE: &str = "rapport_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
const KEY_PREFIX: &str = "rpk";

/// A fresh random token, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn digest(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ApiError::Internal(e.to_string().into()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(e.to_string().into()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// A PHC hash of a password nobody has, verified against when the login is unknown so that
/// unknown and known logins take the same time.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_token()).unwrap_or_default())
}

/// A new API key: the whole key (shown once) and its public prefix.
pub fn new_api_key() -> (String, String) {
    let mut p = [0u8; 6];
    rand::rng().fill_bytes(&mut p);
    let prefix: String = p.iter().map(|b| format!("{b:02x}")).collect();
    (format!("{KEY_PREFIX}_{prefix}_{}", random_token()), prefix)
}

/// The prefix part of a presented key, if it has the right shape.
fn key_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(KEY_PREFIX)?.strip_prefix('_')?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == 12 && !secret.is_empty()).then_some(prefix)
}

/// Shortest password accepted; length is what makes a password strong.
pub const MIN_PASSWORD: usize = 10;

pub fn new_user(login: &str, name: &str, role: &str, password: &str) -> Result<NewUser, ApiError> {
    let login = Login::parse(login).map_err(|r| ApiError::invalid("login", r))?;
    let role = Role::parse(role).map_err(|r| ApiError::invalid("role", r))?;
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD} characters"),
        ));
    }
    let name =
        if name.trim().is_empty() { login.as_str().to_string() } else { name.trim().to_string() };
    Ok(NewUser { login, name, role, password_hash: hash_password(password)? })
}

/// Creates a key; returns it with its record. The key is never stored or shown again.
pub async fn create_api_key(
    db: &dyn AccessStore,
    name: &str,
    scope: &str,
) -> Result<(ApiKey, String), ApiError> {
    let scope = Scope::parse(scope).map_err(|r| ApiError::invalid("scope", r))?;
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::invalid("name", "give the key a name of 1 to 100 characters"));
    }
    let (key, prefix) = new_api_key();
    let record = db
        .create_api_key(NewApiKey { name: name.to_string(), scope, prefix, digest: digest(&key) })
        .await?;
    Ok((record, key))
}

/// How the caller proved who they are.
#[derive(Debug, Clone)]
pub enum Principal {
    User { user: User, csrf: String, token_digest: String },
    Key(ApiKey),
}

impl Principal {
    pub fn allows(&self, p: Permission) -> bool {
        match self {
            Principal::User { user, .. } => user.role.allows(p),
            Principal::Key(k) => k.scope.allows(p),
        }
    }

    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.allows(p) {
            return Ok(());
        }
        let what = match p {
            Permission::Read => "read data",
            Permission::Write => "change data",
            Permission::Manage => "manage users and API keys",
        };
        let who = match self {
            Principal::User { user, .. } => format!("the {} role", user.role),
            Principal::Key(k) => format!("an API key with {} scope", k.scope),
        };
        Err(ApiError::Forbidden(format!("{who} may not {what}")))
    }

    pub fn user(&self) -> Option<&User> {
        match self {
            Principal::User { user, .. } => Some(user),
            Principal::Key(_) => None,
        }
    }

    pub fn csrf(&self) -> &str {
        match self {
            Principal::User { csrf, .. } => csrf,
            Principal::Key(_) => "",
        }
    }

    /// Who this is, for records kept per caller (idempotency keys): `user:<id>` or `key:<id>`.
    pub fn identity(&self) -> String {
        match self {
            Principal::User { user, .. } => format!("user:{}", user.id),
            Principal::Key(k) => format!("key:{}", k.id),
        }
    }

    /// A label for the audit trail and logs.
    pub fn label(&self) -> String {
        match self {
            Principal::User { user, .. } => format!("user:{}", user.login.as_str()),
            Principal::Key(k) => format!("key:{}", k.prefix),
        }
    }
}

/// The value of the request cookie `name`, if present and non-empty.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, SESSION_COOKIE)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Resolves the caller, or `None` when the request carries no valid credentials.
pub async fn authenticate(state: &AppState, parts: &Parts) -> Result<Option<Principal>, ApiError> {
    if let Some(key) = bearer(&parts.headers) {
        return authenticate_key(state, key).await.map(Some);
    }
    let Some(token) = session_token(&parts.headers) else { return Ok(None) };
    let token_digest = digest(token);
    let now = Utc::now();
    let session = match state.credentials.session(&token_digest) {
        Some(s) if s.expires_at > now => s,
        _ => {
            let Some(s) = state.db.session(&token_digest, now).await? else { return Ok(None) };
            state.credentials.remember_session(token_digest.clone(), s.clone());
            s
        }
    };
    // Cookie-authenticated writes must echo the session's CSRF token (forms check theirs).
    let unsafe_method = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method && parts.uri.path().starts_with("/api/") {
        let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !bool::from(sent.as_bytes().ct_eq(session.csrf.as_bytes())) {
            return Err(ApiError::Forbidden(format!(
                "cookie-authenticated API writes need the `{CSRF_HEADER}` header"
            )));
        }
    }
    Ok(Some(Principal::User { user: session.user, csrf: session.csrf, token_digest }))
}

async fn authenticate_key(state: &AppState, key: &str) -> Result<Principal, ApiError> {
    let bad = || ApiError::Unauthenticated;
    let presented = digest(key);
    let api_key = match state.credentials.key(&presented) {
        Some(k) => k,
        None => {
            let prefix = key_prefix(key).ok_or_else(bad)?;
            let (api_key, stored) = state.db.api_key_by_prefix(prefix).await?.ok_or_else(bad)?;
            if !bool::from(presented.as_bytes().ct_eq(stored.as_bytes()))
                || api_key.revoked_at.is_some()
            {
                return Err(bad());
            }
            state.credentials.remember_key(presented, api_key.clone());
            api_key
        }
    };
    state.key_uses.record(state, &api_key).await;
    Ok(Principal::Key(api_key))
}

/// The authenticated caller; rejects with 401 problem+json when there is none.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(Auth(p.clone()));
        }
        authenticate(state, parts).await?.map(Auth).ok_or(ApiError::Unauthenticated)
    }
}

/// An authenticated caller allowed to write. Handlers that take a body use it instead of
/// [`Auth`] so a read-only caller gets 403 before the body is parsed, not a 422 about a body
/// it was never allowed to send.
#[derive(Debug, Clone)]
pub struct Writer(pub Principal);

impl FromRequestParts<AppState> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Auth(who) =
            <Auth as FromRequestParts<AppState>>::from_request_parts(parts, state).await?;
        who.require(Permission::Write)?;
        Ok(Writer(who))
    }
}

impl OptionalFromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        Ok(authenticate(state, parts).await?.map(Auth))
    }
}

/// Writes "last used" for API keys at most once a minute per key: a write per request would
/// turn every read into a database write.
#[derive(Debug, Default)]
pub struct KeyUses {
    last: std::sync::Mutex<std::collections::HashMap<i64, i64>>,
}

impl KeyUses {
    async fn record(&self, state: &AppState, key: &ApiKey) {
        let now = Utc::now();
        let minute = now.timestamp() / 60;
        let stale = {
            let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
            last.insert(key.id, minute) != Some(minute)
        };
        if stale && let Err(e) = state.db.touch_api_key(key.id, now).await {
            tracing::warn!(error = %e, key = key.id, "could not record API key use");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_have_a_findable_prefix() {
        let (key, prefix) = new_api_key();
        assert_eq!(key_prefix(&key), Some(prefix.as_str()));
        assert_eq!(key_prefix("rpk_short_x"), None);
        assert_eq!(key_prefix("Bearer nonsense"), None);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }
}

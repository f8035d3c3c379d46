//! Users, sessions, API keys and webhook sources.

use crate::db_err;
use crate::read::conv;
use rapport_core::Timestamp;
use rapport_core::access::{
    ApiKey, HookKind, Login, NewApiKey, NewUser, NewWebhookSource, Role, Scope, Session,
    SourceName, User, WebhookSource,
};
use rapport_core::value::{from_micros, to_micros};
use rapport_store::{StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, Row};

const USER_COLUMNS: &str = "u.id, u.login, u.name, u.role, u.created_at";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        login: Login::parse(&r.get::<_, String>(1)?).map_err(conv)?,
        name: r.get(2)?,
        role: Role::parse(&r.get::<_, String>(3)?).map_err(conv)?,
        created_at: from_micros(r.get(4)?),
    })
}

pub(crate) fn create_user(c: &Connection, u: &NewUser, now: Timestamp) -> StoreResult<User> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO users (login, name, role, password_hash, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (login) DO NOTHING",
        )
        .map_err(db_err)?
        .execute((u.login.as_str(), &u.name, u.role.as_str(), &u.password_hash, to_micros(now)))
        .map_err(db_err)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!("a user '{}' already exists", u.login.as_str())));
    }
    Ok(User {
        id: c.last_insert_rowid(),
        login: u.login.clone(),
        name: u.name.clone(),
        role: u.role,
        created_at: from_micros(to_micros(now)),
    })
}

pub(crate) fn users(c: &Connection) -> StoreResult<Vec<User>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.login");
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map([], user_from_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn user_credentials(
    c: &Connection,
    login: &Login,
) -> StoreResult<Option<(User, String)>> {
    let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.login = ?1");
    c.prepare_cached(&sql)
        .map_err(db_err)?
        .query_row([login.as_str()], |r| Ok((user_from_row(r)?, r.get(5)?)))
        .optional()
        .map_err(db_err)
}

pub(crate) fn remove_user(c: &Connection, login: &Login) -> StoreResult<()> {
    // Sessions go with the user (ON DELETE CASCADE).
    let n = c
        .prepare_cached("DELETE FROM users WHERE login = ?1")
        .map_err(db_err)?
        .execute([login.as_str()])
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("user '{}'", login.as_str())));
    }
    Ok(())
}

pub(crate) fn create_session(
    c: &Connection,
    digest: &str,
    user_id: i64,
    csrf: &str,
    expires_at: Timestamp,
) -> StoreResult<()> {
    c.prepare_cached(
        "INSERT INTO sessions (token_digest, user_id, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )
    .map_err(db_err)?
    .execute((digest, user_id, csrf, to_micros(expires_at)))
    .map_err(db_err)?;
    // Expired sessions are dead weight; sweeping them on sign-in keeps the table small.
    c.prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")
        .map_err(db_err)?
        .execute([to_micros(chrono::Utc::now())])
        .map_err(db_err)?;
    Ok(())
}

pub(crate) fn session(
    c: &Connection,
    digest: &str,
    now: Timestamp,
) -> StoreResult<Option<Session>> {
    let sql = format!(
        "SELECT {USER_COLUMNS}, s.csrf, s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id
          WHERE s.token_digest = ?1 AND s.expires_at > ?2"
    );
    c.prepare_cached(&sql)
        .map_err(db_err)?
        .query_row((digest, to_micros(now)), |r| {
            Ok(Session {
                user: user_from_row(r)?,
                csrf: r.get(5)?,
                expires_at: from_micros(r.get(6)?),
            })
        })
        .optional()
        .map_err(db_err)
}

pub(crate) fn delete_session(c: &Connection, digest: &str) -> StoreResult<()> {
    c.prepare_cached("DELETE FROM sessions WHERE token_digest = ?1")
        .map_err(db_err)?
        .execute([digest])
        .map_err(db_err)?;
    Ok(())
}

const KEY_COLUMNS: &str = "id, name, scope, prefix, created_at, last_used_at, revoked_at";

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        scope: Scope::parse(&r.get::<_, String>(2)?).map_err(conv)?,
        prefix: r.get(3)?,
        created_at: from_micros(r.get(4)?),
        last_used_at: r.get::<_, Option<i64>>(5)?.map(from_micros),
        revoked_at: r.get::<_, Option<i64>>(6)?.map(from_micros),
    })
}

pub(crate) fn create_api_key(c: &Connection, k: &NewApiKey, now: Timestamp) -> StoreResult<ApiKey> {
    c.prepare_cached(
        "INSERT INTO api_keys (name, scope, prefix, digest, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .map_err(db_err)?
    .execute((&k.name, k.scope.as_str(), &k.prefix, &k.digest, to_micros(now)))
    .map_err(db_err)?;
    Ok(ApiKey {
        id: c.last_insert_rowid(),
        name: k.name.clone(),
        scope: k.scope,
        prefix: k.prefix.clone(),
        created_at: from_micros(to_micros(now)),
        last_used_at: None,
        revoked_at: None,
    })
}

pub(crate) fn api_keys(c: &Connection) -> StoreResult<Vec<ApiKey>> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id");
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map([], key_from_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn api_key_by_prefix(
    c: &Connection,
    prefix: &str,
) -> StoreResult<Option<(ApiKey, String)>> {
    let sql = format!("SELECT {KEY_COLUMNS}, digest FROM api_keys WHERE prefix = ?1");
    c.prepare_cached(&sql)
        .map_err(db_err)?
        .query_row([prefix], |r| Ok((key_from_row(r)?, r.get(7)?)))
        .optional()
        .map_err(db_err)
}

pub(crate) fn touch_api_key(c: &Connection, id: i64, at: Timestamp) -> StoreResult<()> {
    c.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")
        .map_err(db_err)?
        .execute((id, to_micros(at)))
        .map_err(db_err)?;
    Ok(())
}

pub(crate) fn revoke_api_key(c: &Connection, id: i64, at: Timestamp) -> StoreResult<()> {
    let n = c
        .prepare_cached("UPDATE api_keys SET revoked_at = IFNULL(revoked_at, ?2) WHERE id = ?1")
        .map_err(db_err)?
        .execute((id, to_micros(at)))
        .map_err(db_err)?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("API key {id}")));
    }
    Ok(())
}

const SOURCE_COLUMNS: &str = "id, kind, name, created_at, revoked_at, notify_url";

fn source_from_row(r: &Row<'_>) -> rusqlite::Result<WebhookSource> {
    Ok(WebhookSource {
        id: r.get(0)?,
        kind: HookKind::parse(&r.get::<_, String>(1)?).map_err(conv)?,
        name: SourceName::parse(&r.get::<_, String>(2)?).map_err(conv)?,
        created_at: from_micros(r.get(3)?),
        revoked_at: r.get::<_, Option<i64>>(4)?.map(from_micros),
        notify_url: r.get(5)?,
    })
}

pub(crate) fn create_webhook_source(
    c: &Connection,
    s: &NewWebhookSource,
    now: Timestamp,
) -> StoreResult<WebhookSource> {
    // DO NOTHING: a live source of that name is an answer (Conflict), not a failed statement.
    let inserted = c
        .prepare_cached(
            "INSERT INTO webhook_sources (kind, name, secret, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )
        .map_err(db_err)?
        .execute((s.kind.as_str(), s.name.as_str(), &s.secret, to_micros(now)))
        .map_err(db_err)?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "a {} source '{}' exists; revoke it first",
            s.kind,
            s.name.as_str()
        )));
    }
    Ok(WebhookSource {
        id: c.last_insert_rowid(),
        kind: s.kind,
        name: s.name.clone(),
        created_at: from_micros(to_micros(now)),
        revoked_at: None,
        notify_url: None,
    })
}

pub(crate) fn webhook_sources(c: &Connection) -> StoreResult<Vec<WebhookSource>> {
    let sql = format!("SELECT {SOURCE_COLUMNS} FROM webhook_sources ORDER BY kind, name, id");
    let mut stmt = c.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map([], source_from_row).map_err(db_err)?;
    rows.collect::<Result<_, _>>().map_err(db_err)
}

pub(crate) fn webhook_secret(
    c: &Connection,
    kind: HookKind,
    name: &SourceName,
) -> StoreResult<Option<String>> {
    c.prepare_cached(
        "SELECT secret FROM webhook_sources WHERE kind = ?1 AND name = ?2 AND revoked_at IS NULL",
    )
    .map_err(db_err)?
    .query_row((kind.as_str(), name.as_str()), |r| r.get(0))
    .optional()
    .map_err(db_err)
}

pub(crate) fn set_webhook_notify_url(
    c: &Connection,
    kind: HookKind,
    name: &SourceName,
    url: Option<&str>,
) -> StoreResult<()> {
    let n = c
        .prepare_cached(
            "UPDATE webhook_sources SET notify_url = ?3
              WHERE kind = ?1 AND name = ?2 AND revoked_at IS NULL",
        )
        .map_err(db_err)?
        .execute((kind.as_str(), name.as_str(), url))
        .map_err(db_err)?;
    match n {
        0 => Err(StoreError::NotFound(format!("live {kind} source '{}'", name.as_str()))),
        _ => Ok(()),
    }
}

pub(crate) fn revoke_webhook_source(
    c: &Connection,
    kind: HookKind,
    name: &SourceName,
    at: Timestamp,
) -> StoreResult<()> {
    let n = c
        .prepare_cached(
            "UPDATE webhook_sources SET revoked_at = ?3
              WHERE kind = ?1 AND name = ?2 AND revoked_at IS NULL",
        )
        .map_err(db_err)?
        .execute((kind.as_str(), name.as_str(), to_micros(at)))
        .map_err(db_err)?;
    let known = n > 0
        || c.prepare_cached("SELECT 1 FROM webhook_sources WHERE kind = ?1 AND name = ?2")
            .map_err(db_err)?
            .exists((kind.as_str(), name.as_str()))
            .map_err(db_err)?;
    if !known {
        return Err(StoreError::NotFound(format!("{kind} source '{}'", name.as_str())));
    }
    Ok(())
}

//! Users, sessions, API keys and webhook sources: the [`AccessStore`] of [`PgStore`].
//!
//! Every call is one statement on the pool, atomic on its own. None takes the writer lock of
//! the import batches: these rows never touch customer data or summaries, and a sign-in or an
//! API request must not wait for an import batch to commit.

use crate::read::parse;
use crate::{PgStore, db_err, get};
use async_trait::async_trait;
use chrono::Utc;
use rapport_core::Timestamp;
use rapport_core::access::{
    ApiKey, HookKind, Login, NewApiKey, NewUser, NewWebhookSource, Role, Scope, Session,
    SourceName, User, WebhookSource,
};
use rapport_store::{AccessStore, StoreError, StoreResult};
use sqlx::AssertSqlSafe;
use sqlx::postgres::PgRow;

const USER_COLUMNS: &str = "u.id, u.login, u.name, u.role, u.created_at";

fn user_from_row(r: &PgRow) -> StoreResult<User> {
    Ok(User {
        id: get(r, 0)?,
        login: parse(r, 1, Login::parse, "login")?,
        name: get(r, 2)?,
        role: parse(r, 3, Role::parse, "role")?,
        created_at: get(r, 4)?,
    })
}

const KEY_COLUMNS: &str = "id, name, scope, prefix, created_at, last_used_at, revoked_at";

fn key_from_row(r: &PgRow) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: get(r, 0)?,
        name: get(r, 1)?,
        scope: parse(r, 2, Scope::parse, "scope")?,
        prefix: get(r, 3)?,
        created_at: get(r, 4)?,
        last_used_at: get(r, 5)?,
        revoked_at: get(r, 6)?,
    })
}

const SOURCE_COLUMNS: &str = "id, kind, name, created_at, revoked_at, notify_url";

fn source_from_row(r: &PgRow) -> StoreResult<WebhookSource> {
    Ok(WebhookSource {
        id: get(r, 0)?,
        kind: parse(r, 1, HookKind::parse, "webhook kind")?,
        name: parse(r, 2, SourceName::parse, "webhook source name")?,
        created_at: get(r, 3)?,
        revoked_at: get(r, 4)?,
        notify_url: get(r, 5)?,
    })
}

/// PostgreSQL text cannot hold NUL. A lookup by such a value finds nothing (no stored value has
/// one); a write with one is invalid input rather than a storage failure.
fn has_nul(values: &[&str]) -> bool {
    values.iter().any(|v| v.contains('\0'))
}

fn nul_rejected(what: &str) -> StoreError {
    StoreError::Invalid(format!("{what} contains a NUL character"))
}

#[async_trait]
impl AccessStore for PgStore {
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        if has_nul(&[u.login.as_str(), &u.name, &u.password_hash]) {
            return Err(nul_rejected("user"));
        }
        // ON CONFLICT DO NOTHING: a taken login is an answer (Conflict), not a failed statement.
        let row = sqlx::query(
            "INSERT INTO users (login, name, role, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (login) DO NOTHING
             RETURNING id, created_at",
        )
        .bind(u.login.as_str())
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(&u.password_hash)
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = row else {
            return Err(StoreError::Conflict(format!(
                "a user '{}' already exists",
                u.login.as_str()
            )));
        };
        Ok(User {
            id: get(&r, 0)?,
            login: u.login,
            name: u.name,
            role: u.role,
            created_at: get(&r, 1)?,
        })
    }

    async fn users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.login");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(user_from_row).collect()
    }

    async fn user_credentials(&self, login: &Login) -> StoreResult<Option<(User, String)>> {
        if has_nul(&[login.as_str()]) {
            return Ok(None);
        }
        let sql = format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.login = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(login.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| Ok((user_from_row(&r)?, get(&r, 5)?))).transpose()
    }

    async fn remove_user(&self, login: &Login) -> StoreResult<()> {
        let not_found = || StoreError::NotFound(format!("user '{}'", login.as_str()));
        if has_nul(&[login.as_str()]) {
            return Err(not_found());
        }
        // Sessions go with the user (ON DELETE CASCADE).
        let done = sqlx::query("DELETE FROM users WHERE login = $1")
            .bind(login.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(not_found());
        }
        Ok(())
    }

    async fn create_session(
        &self,
        token_digest: &str,
        user_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        if has_nul(&[token_digest, csrf]) {
            return Err(nul_rejected("session"));
        }
        // Expired sessions are dead weight; sweeping them on sign-in keeps the table small.
        sqlx::query(
            "WITH swept AS (DELETE FROM sessions WHERE expires_at < $5)
             INSERT INTO sessions (token_digest, user_id, csrf, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_digest)
        .bind(user_id)
        .bind(csrf)
        .bind(expires_at)
        .bind(Utc::now())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn session(&self, token_digest: &str, now: Timestamp) -> StoreResult<Option<Session>> {
        if has_nul(&[token_digest]) {
            return Ok(None);
        }
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.csrf, s.expires_at
               FROM sessions s JOIN users u ON u.id = s.user_id
              WHERE s.token_digest = $1 AND s.expires_at > $2"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(token_digest)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| {
            Ok(Session { user: user_from_row(&r)?, csrf: get(&r, 5)?, expires_at: get(&r, 6)? })
        })
        .transpose()
    }

    async fn delete_session(&self, token_digest: &str) -> StoreResult<()> {
        if has_nul(&[token_digest]) {
            return Ok(());
        }
        sqlx::query("DELETE FROM sessions WHERE token_digest = $1")
            .bind(token_digest)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_api_key(&self, k: NewApiKey) -> StoreResult<ApiKey> {
        if has_nul(&[&k.name, &k.prefix, &k.digest]) {
            return Err(nul_rejected("API key"));
        }
        let r = sqlx::query(
            "INSERT INTO api_keys (name, scope, prefix, digest, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at",
        )
        .bind(&k.name)
        .bind(k.scope.as_str())
        .bind(&k.prefix)
        .bind(&k.digest)
        .bind(Utc::now())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ApiKey {
            id: get(&r, 0)?,
            name: k.name,
            scope: k.scope,
            prefix: k.prefix,
            created_at: get(&r, 1)?,
            last_used_at: None,
            revoked_at: None,
        })
    }

    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(key_from_row).collect()
    }

    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<(ApiKey, String)>> {
        if has_nul(&[prefix]) {
            return Ok(None);
        }
        let sql = format!("SELECT {KEY_COLUMNS}, digest FROM api_keys WHERE prefix = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(prefix)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.map(|r| Ok((key_from_row(&r)?, get(&r, 7)?))).transpose()
    }

    async fn touch_api_key(&self, id: i64, at: Timestamp) -> StoreResult<()> {
        sqlx::query("UPDATE api_keys SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(at)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn revoke_api_key(&self, id: i64, at: Timestamp) -> StoreResult<()> {
        // COALESCE: the first revocation stands.
        let done =
            sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
                .bind(id)
                .bind(at)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("API key {id}")));
        }
        Ok(())
    }

    async fn create_webhook_source(&self, s: NewWebhookSource) -> StoreResult<WebhookSource> {
        if has_nul(&[&s.secret]) {
            return Err(nul_rejected("webhook secret"));
        }
        // DO NOTHING: a live source of that name is an answer (Conflict), not a failed statement.
        let row = sqlx::query(
            "INSERT INTO webhook_sources (kind, name, secret, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING RETURNING id, created_at",
        )
        .bind(s.kind.as_str())
        .bind(s.name.as_str())
        .bind(&s.secret)
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(r) = row else {
            return Err(StoreError::Conflict(format!(
                "a {} source '{}' exists; revoke it first",
                s.kind,
                s.name.as_str()
            )));
        };
        Ok(WebhookSource {
            id: get(&r, 0)?,
            kind: s.kind,
            name: s.name,
            created_at: get(&r, 1)?,
            revoked_at: None,
            notify_url: None,
        })
    }

    async fn webhook_sources(&self) -> StoreResult<Vec<WebhookSource>> {
        let sql = format!("SELECT {SOURCE_COLUMNS} FROM webhook_sources ORDER BY kind, name, id");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(db_err)?;
        rows.iter().map(source_from_row).collect()
    }

    async fn webhook_secret(
        &self,
        kind: HookKind,
        name: &SourceName,
    ) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT secret FROM webhook_sources
              WHERE kind = $1 AND name = $2 AND revoked_at IS NULL",
        )
        .bind(kind.as_str())
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(|r| get(&r, 0)).transpose()
    }

    async fn set_webhook_notify_url(
        &self,
        kind: HookKind,
        name: &SourceName,
        url: Option<&str>,
    ) -> StoreResult<()> {
        let n = sqlx::query(
            "UPDATE webhook_sources SET notify_url = $3
              WHERE kind = $1 AND name = $2 AND revoked_at IS NULL",
        )
        .bind(kind.as_str())
        .bind(name.as_str())
        .bind(url)
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        match n {
            0 => Err(StoreError::NotFound(format!("live {kind} source '{}'", name.as_str()))),
            _ => Ok(()),
        }
    }

    async fn revoke_webhook_source(
        &self,
        kind: HookKind,
        name: &SourceName,
        at: Timestamp,
    ) -> StoreResult<()> {
        // Revokes the live source if there is one; `known` says whether any ever existed.
        let r = sqlx::query(
            "WITH revoked AS (
                 UPDATE webhook_sources SET revoked_at = $3
                  WHERE kind = $1 AND name = $2 AND revoked_at IS NULL RETURNING 1)
             SELECT EXISTS (SELECT 1 FROM revoked)
                 OR EXISTS (SELECT 1 FROM webhook_sources WHERE kind = $1 AND name = $2)",
        )
        .bind(kind.as_str())
        .bind(name.as_str())
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        if !get::<bool>(&r, 0)? {
            return Err(StoreError::NotFound(format!("{kind} source '{}'", name.as_str())));
        }
        Ok(())
    }
}

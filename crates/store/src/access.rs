//! Storage for access control: users, browser sessions, API keys and webhook sources.
//!
//! Kept apart from [`crate::Store`] because it is a different concern with a different life:
//! customer data is imported in bulk, access rows are touched one at a time by the server.
//! Webhook sources belong here: like API keys they are credentials, created and revoked by an
//! admin, and looked up on every call they authenticate.

use crate::StoreResult;
use async_trait::async_trait;
use rapport_core::Timestamp;
use rapport_core::access::{
    ApiKey, HookKind, Login, NewApiKey, NewUser, NewWebhookSource, Session, SourceName, User,
    WebhookSource,
};

#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Fails with `Conflict` when the login is taken.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    /// The user and their password hash, for sign-in.
    async fn user_credentials(&self, login: &Login) -> StoreResult<Option<(User, String)>>;
    /// Removes the user and ends their sessions; `NotFound` when there is no such user.
    async fn remove_user(&self, login: &Login) -> StoreResult<()>;

    /// Stores a session under the digest of its token (the token itself only lives in the cookie).
    async fn create_session(
        &self,
        token_digest: &str,
        user_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> StoreResult<()>;
    /// The live session with this token digest; expired sessions are not returned.
    async fn session(&self, token_digest: &str, now: Timestamp) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, token_digest: &str) -> StoreResult<()>;

    async fn create_api_key(&self, key: NewApiKey) -> StoreResult<ApiKey>;
    /// Every key, revoked ones included (they stay listed for the audit trail).
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// The key with this prefix and its digest, for authentication; revoked keys included so
    /// the caller can say why a key fails.
    async fn api_key_by_prefix(&self, prefix: &str) -> StoreResult<Option<(ApiKey, String)>>;
    /// Records a use; cheap enough to call on every request.
    async fn touch_api_key(&self, id: i64, at: Timestamp) -> StoreResult<()>;
    /// `NotFound` when there is no such key; revoking twice is not an error.
    async fn revoke_api_key(&self, id: i64, at: Timestamp) -> StoreResult<()>;

    /// Fails with `Conflict` when a live (unrevoked) source of that kind and name exists.
    async fn create_webhook_source(&self, source: NewWebhookSource) -> StoreResult<WebhookSource>;
    /// Every source, revoked ones included, by kind then name.
    async fn webhook_sources(&self) -> StoreResult<Vec<WebhookSource>>;
    /// The secret of the live source of that kind and name; `None` when there is none.
    async fn webhook_secret(
        &self,
        kind: HookKind,
        name: &SourceName,
    ) -> StoreResult<Option<String>>;
    /// Revokes the live source; `NotFound` when no source of that kind and name ever existed,
    /// revoking twice is not an error.
    /// Sets (or with `None` clears) the notify URL of the live source; `NotFound` when there
    /// is no live source of that kind and name.
    async fn set_webhook_notify_url(
        &self,
        kind: HookKind,
        name: &SourceName,
        url: Option<&str>,
    ) -> StoreResult<()>;
    async fn revoke_webhook_source(
        &self,
        kind: HookKind,
        name: &SourceName,
        at: Timestamp,
    ) -> StoreResult<()>;
}

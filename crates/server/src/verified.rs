//! Recently verified credentials. Checking an API key or a session cookie is a database read,
//! and a busy client would pay it on every request. A verified credential is remembered for
//! [`TTL`]: what this server changes (revoking a key, removing a user, signing out) clears the
//! memory at once; a change made by another process (`rapport apikey revoke`, `rapport user
//! remove`) takes effect within [`TTL`].

use rapport_core::access::{ApiKey, Session};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a verified credential is trusted without asking the database again.
pub const TTL: Duration = Duration::from_secs(5);
/// More distinct credentials than this in one TTL and the memory starts over (it only saves
/// reads, so forgetting is always safe).
const MAX_ENTRIES: usize = 10_000;

/// Verified API keys and sessions, each under the SHA-256 digest of the secret presented.
#[derive(Default)]
pub struct Credentials {
    keys: Memory<ApiKey>,
    sessions: Memory<Session>,
}

impl Credentials {
    pub fn key(&self, digest: &str) -> Option<ApiKey> {
        self.keys.get(digest)
    }

    pub fn remember_key(&self, digest: String, key: ApiKey) {
        self.keys.put(digest, key);
    }

    pub fn session(&self, digest: &str) -> Option<Session> {
        self.sessions.get(digest)
    }

    pub fn remember_session(&self, digest: String, session: Session) {
        self.sessions.put(digest, session);
    }

    /// After any change to users, keys or sessions: everything is checked afresh.
    pub fn forget_all(&self) {
        self.keys.clear();
        self.sessions.clear();
    }
}

struct Memory<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
}

impl<V> Default for Memory<V> {
    fn default() -> Self {
        Memory { entries: Mutex::new(HashMap::new()) }
    }
}

impl<V: Clone> Memory<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, V)>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, digest: &str) -> Option<V> {
        let entries = self.lock();
        let (at, v) = entries.get(digest)?;
        (at.elapsed() < TTL).then(|| v.clone())
    }

    fn put(&self, digest: String, v: V) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(digest, (Instant::now(), v));
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_values_are_forgotten_on_request() {
        let m = Memory::<u32>::default();
        assert_eq!(m.get("a"), None);
        m.put("a".into(), 1);
        assert_eq!(m.get("a"), Some(1));
        m.clear();
        assert_eq!(m.get("a"), None);
    }

    #[test]
    fn old_entries_are_not_trusted() {
        let m = Memory::<u32>::default();
        let old = Instant::now().checked_sub(TTL + Duration::from_millis(1));
        let Some(old) = old else { return }; // a clock too young to go back: nothing to test
        m.lock().insert("a".into(), (old, 1));
        assert_eq!(m.get("a"), None);
    }
}

//! Sign-in throttling: failed attempts are counted per account and per client address over a
//! sliding window, so neither guessing one account's password from many addresses nor many
//! accounts' passwords from one address gets far. Kept in memory: a restart forgets, which is
//! acceptable for a throttle (it is not an audit log).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct LoginLimiter {
    window: Duration,
    max_failures: usize,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> LoginLimiter {
        LoginLimiter { window, max_failures, failures: Mutex::new(HashMap::new()) }
    }

    /// `Err(seconds to wait)` when any of `keys` has used up its failures in the window.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = Duration::ZERO;
        for k in keys {
            let Some(times) = map.get_mut(k) else { continue };
            times.retain(|t| now.duration_since(*t) < self.window);
            if times.len() >= self.max_failures {
                wait = wait.max(self.window - now.duration_since(times[0]));
            }
        }
        if wait.is_zero() { Ok(()) } else { Err(wait.as_secs().max(1)) }
    }

    pub fn fail(&self, keys: &[String], now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of distinct keys: drop entries whose window has passed.
        if map.len() > 100_000 {
            map.retain(|_, v| v.last().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        for k in keys {
            map.entry(k.clone()).or_default().push(now);
        }
    }

    /// A successful sign-in clears the account's failures (not the address's).
    pub fn succeed(&self, account_key: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(account_key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_until_the_window_passes() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let keys = ["acct:a".to_string(), "ip:1".to_string()];
        for i in 0..3 {
            assert!(l.check(&keys, t0).is_ok(), "attempt {i}");
            l.fail(&keys, t0);
        }
        assert_eq!(l.check(&keys, t0 + Duration::from_secs(10)), Err(50));
        assert!(l.check(&["ip:1".into()], t0).is_err(), "the address is blocked too");
        assert!(l.check(&keys, t0 + Duration::from_secs(61)).is_ok());
        l.succeed("acct:a");
        assert!(l.check(&["acct:a".into()], t0).is_ok());
    }
}

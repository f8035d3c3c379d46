//! Picks the backend from the `--db` value: a postgres:// URL or a SQLite file path.

use anyhow::{Context, Result};
use rapport_store::Backend;
use std::sync::Arc;

pub async fn open(db: &str) -> Result<Arc<dyn Backend>> {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") {
        let store = rapport_store_postgres::PgStore::connect(db)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", redact(db)))?;
        Ok(Arc::new(store))
    } else {
        let path = db.strip_prefix("sqlite://").unwrap_or(db);
        let store = rapport_store_sqlite::SqliteStore::open(path)
            .with_context(|| format!("opening SQLite database {path}"))?;
        Ok(Arc::new(store))
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(super::redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}

//! The schema: numbered SQL migrations applied in order, each once, in one transaction, and
//! recorded in `schema_migrations`.

use crate::db_err;
use rapport_store::StoreResult;
use rusqlite::Connection;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "init", include_str!("../migrations/0001_init.sql")),
    (2, "access_and_views", include_str!("../migrations/0002_access_and_views.sql")),
    (
        3,
        "idempotency_and_webhooks",
        include_str!("../migrations/0003_idempotency_and_webhooks.sql"),
    ),
    (4, "record_lists", include_str!("../migrations/0004_record_lists.sql")),
    (5, "feedback_sentiment", include_str!("../migrations/0005_feedback_sentiment.sql")),
    (6, "feedback_search", include_str!("../migrations/0006_feedback_search.sql")),
    (7, "surveys", include_str!("../migrations/0007_surveys.sql")),
    (8, "feedback_inbox", include_str!("../migrations/0008_feedback_inbox.sql")),
    (9, "ideas", include_str!("../migrations/0009_ideas.sql")),
    (10, "outbox", include_str!("../migrations/0010_outbox.sql")),
    (11, "idea_evidence", include_str!("../migrations/0011_idea_evidence.sql")),
    (12, "saved_segments", include_str!("../migrations/0012_saved_segments.sql")),
    (13, "personas", include_str!("../migrations/0013_personas.sql")),
    (14, "journeys", include_str!("../migrations/0014_journeys.sql")),
    (15, "recommendations", include_str!("../migrations/0015_recommendations.sql")),
    (16, "loyalty", include_str!("../migrations/0016_loyalty.sql")),
    (17, "campaigns", include_str!("../migrations/0017_campaigns.sql")),
    (18, "scorecard", include_str!("../migrations/0018_scorecard.sql")),
];

/// Applies the migrations not yet applied.
pub(crate) fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .map_err(db_err)?;
    let tx = conn.transaction().map_err(db_err)?;
    let current: i64 = tx
        .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
        .map_err(db_err)?;
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tracing::info!(version, name, "applying SQLite migration");
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, datetime('now'))",
            (version, name),
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)
}

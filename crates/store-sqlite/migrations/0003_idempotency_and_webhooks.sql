-- Rapport schema v3 (SQLite): idempotency keys for API writes, signing secrets for inbound
-- webhooks, and finding customers by e-mail address (webhooks name people that way).

-- One row per (principal, key). The primary key is what makes two concurrent requests with the
-- same key unable to both run: the first inserts the pending row, the second finds it.
CREATE TABLE idempotency_keys (
    -- Who sent the key: `key:<API key id>` or `user:<user id>`. Keys are per caller.
    principal    TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    -- SHA-256 (hex) of method, path and body: the same key with another request is refused.
    fingerprint  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    -- NULL while the first request runs; then the response replayed to retries.
    status       INTEGER,
    content_type TEXT,
    body         BLOB,
    PRIMARY KEY (principal, idem_key)
) WITHOUT ROWID;
-- Expired records are purged by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Systems allowed to call `/hooks/{kind}/{name}`. The secret is stored as is, unlike API keys
-- (SHA-256 digests): verifying an HMAC needs the secret itself.
CREATE TABLE webhook_sources (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('feedback', 'tickets')),
    name       TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
-- One live source per kind and name; revoked ones stay listed, and the name can be reused.
CREATE UNIQUE INDEX webhook_sources_live ON webhook_sources (kind, name) WHERE revoked_at IS NULL;

-- Case-insensitive lookup by e-mail address (the query must use the same expression).
CREATE INDEX customers_email ON customers (lower(email));

-- Rapport schema v3 (PostgreSQL): idempotency keys for API writes, signing secrets for inbound
-- webhooks, and finding customers by e-mail address. The same tables and semantics as SQLite's
-- migration 3.

-- One row per (principal, key). The primary key is what makes two concurrent requests with the
-- same key unable to both run: the first inserts the pending row, the second's INSERT ... ON
-- CONFLICT DO NOTHING waits for it and then finds it.
CREATE TABLE idempotency_keys (
    -- Who sent the key: `key:<API key id>` or `user:<user id>`. Keys are per caller.
    principal    TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    -- SHA-256 (hex) of method, path and body: the same key with another request is refused.
    fingerprint  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    -- NULL while the first request runs; then the response replayed to retries.
    status       SMALLINT,
    content_type TEXT,
    body         BYTEA,
    PRIMARY KEY (principal, idem_key)
);
-- Expired records are purged by age.
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Systems allowed to call `/hooks/{kind}/{name}`. The secret is stored as is, unlike API keys
-- (SHA-256 digests): verifying an HMAC needs the secret itself.
CREATE TABLE webhook_sources (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('feedback', 'tickets')),
    -- COLLATE "C": listed byte by byte, as on SQLite.
    name       TEXT COLLATE "C" NOT NULL,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
-- One live source per kind and name; revoked ones stay listed, and the name can be reused.
CREATE UNIQUE INDEX webhook_sources_live ON webhook_sources (kind, name) WHERE revoked_at IS NULL;

-- Case-insensitive lookup by e-mail address (the query must use the same expression).
CREATE INDEX customers_email ON customers (lower(email));

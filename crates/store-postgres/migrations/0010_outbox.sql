-- Rapport schema v10 (PostgreSQL): the outbox and webhook sources' notify URLs (as in
-- SQLite's v10, where the decisions are commented). Workers claim with
-- `FOR UPDATE SKIP LOCKED`, so several can work one queue.
CREATE TABLE outbox (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    customer_id     BIGINT NOT NULL REFERENCES customers(id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient       TEXT NOT NULL,
    source          TEXT,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    html            TEXT,
    topic           TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_at      TIMESTAMPTZ,
    sent_at         TIMESTAMPTZ,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX outbox_sending ON outbox (claimed_at) WHERE status = 'sending';
CREATE INDEX outbox_topic ON outbox (topic, status);
CREATE INDEX outbox_customer ON outbox (customer_id);

ALTER TABLE webhook_sources ADD COLUMN notify_url TEXT;

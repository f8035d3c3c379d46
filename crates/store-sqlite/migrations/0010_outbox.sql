-- Rapport schema v10 (SQLite): the outbox of messages to customers, and where a webhook source
-- takes notifications.

-- One row per message. `dedupe_key` is unique, so queueing the same notification twice
-- (`idea:12:customer:345`) queues it once. A worker claims a due `queued` row by setting it to
-- `sending` and counting the attempt, committed before the transport runs; a row still
-- `sending` after the worker's send timeout was left by a dead worker and becomes `unknown`,
-- which is never resent automatically: an e-mail cannot be recalled, so "maybe sent" must not
-- become "sent twice".
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    dedupe_key      TEXT NOT NULL UNIQUE,
    customer_id     INTEGER NOT NULL REFERENCES customers(id),
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    -- An e-mail address or a webhook URL.
    recipient       TEXT NOT NULL,
    -- For webhooks: the (feedback) source whose secret signs the delivery.
    source          TEXT,
    subject         TEXT NOT NULL,
    -- The plain-text e-mail body, or the webhook's JSON payload.
    body            TEXT NOT NULL,
    html            TEXT,
    topic           TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_at      INTEGER,
    sent_at         INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
-- The worker's question: the oldest due queued message. Partial, so sent rows cost nothing.
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX outbox_sending ON outbox (claimed_at) WHERE status = 'sending';
CREATE INDEX outbox_topic ON outbox (topic, status);
CREATE INDEX outbox_customer ON outbox (customer_id);

ALTER TABLE webhook_sources ADD COLUMN notify_url TEXT;

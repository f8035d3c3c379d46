-- Rapport schema v16 (PostgreSQL, as SQLite's v16): the loyalty programme.
-- One programme per company: its settings are the domain's `Programme` as JSON text, read whole.
-- Purchases placed from `launched_at` earn points; those up to order key `credited_through`
-- have been credited (orders get increasing keys, so crediting goes forward in key order).
CREATE TABLE loyalty_programme (
    id               SMALLINT PRIMARY KEY CHECK (id = 1),
    settings         TEXT NOT NULL,
    launched_at      TIMESTAMPTZ NOT NULL,
    credited_through BIGINT NOT NULL DEFAULT 0,
    updated_at       TIMESTAMPTZ NOT NULL
);
-- Rewards are deactivated, never deleted: redemptions name them by key.
CREATE TABLE loyalty_rewards (
    key    TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    cost   BIGINT NOT NULL CHECK (cost > 0),
    active BOOLEAN NOT NULL
);
-- The append-only ledger: never updated; the balance is the sum of a member's points. `kind`
-- is the domain's `EntryKind` as JSON text. An idempotency key is unique across the programme.
CREATE TABLE loyalty_entries (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    at          TIMESTAMPTZ NOT NULL,
    points      BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT UNIQUE,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (customer_id, id);
-- One row per member: the balance kept beside the ledger, and the row a change locks
-- (`SELECT ... FOR UPDATE`) so a member's changes are serialised.
CREATE TABLE loyalty_accounts (
    customer_id BIGINT PRIMARY KEY REFERENCES customers(id),
    balance     BIGINT NOT NULL CHECK (balance >= 0)
);

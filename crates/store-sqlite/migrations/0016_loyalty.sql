-- Rapport schema v16 (SQLite): the loyalty programme.
-- One programme per company: its settings are the domain's `Programme` as JSON, read whole.
-- Purchases placed from `launched_at` earn points; those up to order key `credited_through`
-- have been credited (orders get increasing keys, so crediting goes forward in key order).
CREATE TABLE loyalty_programme (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    settings         TEXT NOT NULL,
    launched_at      INTEGER NOT NULL,
    credited_through INTEGER NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL
);
-- Rewards are deactivated, never deleted: redemptions name them by key.
CREATE TABLE loyalty_rewards (
    key    TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    cost   INTEGER NOT NULL CHECK (cost > 0),
    active INTEGER NOT NULL
) WITHOUT ROWID;
-- The append-only ledger: never updated; the balance is the sum of a member's points. `kind`
-- is the domain's `EntryKind` as JSON (the reason and its reference). An idempotency key is
-- unique across the programme, so a retried request appends nothing.
CREATE TABLE loyalty_entries (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    at          INTEGER NOT NULL,
    points      INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    key         TEXT UNIQUE,
    recorded_at INTEGER NOT NULL
);
CREATE INDEX loyalty_entries_customer ON loyalty_entries (customer_id, id);
-- One row per member, the balance kept beside the ledger in the same transaction (the
-- programme's liability without summing every entry); in PostgreSQL also the lock that
-- serialises a member's changes.
CREATE TABLE loyalty_accounts (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    balance     INTEGER NOT NULL CHECK (balance >= 0)
);

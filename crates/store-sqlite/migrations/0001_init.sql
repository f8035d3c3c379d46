-- Rapport schema v1 (SQLite).
-- Times are INTEGER microseconds since the Unix epoch, UTC. Money is INTEGER ten-thousandths
-- (column suffix _e4): exact, never binary float. External ids are the source systems' ids and
-- are what imports upsert by; integer ids are internal and never leave the store.

CREATE TABLE companies (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name        TEXT,
    industry    TEXT,
    size        TEXT,
    plan        TEXT,
    mrr_e4      INTEGER
);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name        TEXT,
    email       TEXT,
    phone       TEXT,
    country     TEXT,
    city        TEXT,
    birth_year  INTEGER,
    gender      TEXT,
    signup_at   INTEGER,
    company_id  INTEGER REFERENCES companies(id),
    -- Typed custom attributes as a JSON object (types inferred once at import).
    attributes  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX customers_company ON customers(company_id);

CREATE TABLE products (
    id       INTEGER PRIMARY KEY,
    sku      TEXT NOT NULL UNIQUE,
    name     TEXT,
    category TEXT,
    price_e4 INTEGER
);

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    placed_at   INTEGER NOT NULL,
    -- UTC day number of placed_at: same-day purchases are one purchase occasion (BG/NBD).
    day         INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('purchase', 'return', 'cancelled')),
    -- Sum of the lines' amounts, kept with the lines so summaries never re-read lines.
    total_e4    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX orders_customer ON orders(customer_id, status, day);

-- Lines are keyed by their position within the order in the source, which is what makes
-- re-importing a file map every line onto itself. WITHOUT ROWID: one b-tree, not two.
CREATE TABLE order_lines (
    order_id      INTEGER NOT NULL REFERENCES orders(id),
    line_no       INTEGER NOT NULL,
    sku           TEXT,
    quantity      INTEGER NOT NULL,
    unit_price_e4 INTEGER NOT NULL,
    amount_e4     INTEGER NOT NULL,
    PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    name        TEXT NOT NULL,
    at          INTEGER NOT NULL,
    properties  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_customer ON events(customer_id, at);

CREATE TABLE interactions (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    channel     TEXT NOT NULL,
    direction   TEXT NOT NULL,
    subject     TEXT,
    body        TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX interactions_customer ON interactions(customer_id, at);

CREATE TABLE feedback (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    source      TEXT NOT NULL,
    text        TEXT,
    rating      INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX feedback_customer ON feedback(customer_id, created_at);

-- Consents are a log; the latest record per (customer, purpose) is in force.
CREATE TABLE consents (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    purpose     TEXT NOT NULL,
    granted     INTEGER NOT NULL,
    source      TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX consents_customer ON consents(customer_id, purpose, at);

-- Per-customer sufficient statistics, updated in the same transaction as the rows they
-- summarise. One row per customer, created with the customer.
CREATE TABLE customer_summaries (
    customer_id         INTEGER PRIMARY KEY REFERENCES customers(id),
    orders              INTEGER NOT NULL DEFAULT 0,
    purchase_orders     INTEGER NOT NULL DEFAULT 0,
    purchase_occasions  INTEGER NOT NULL DEFAULT 0,
    purchase_value_e4   INTEGER NOT NULL DEFAULT 0,
    first_day_value_e4  INTEGER NOT NULL DEFAULT 0,
    first_purchase_at   INTEGER,
    last_purchase_at    INTEGER,
    returns             INTEGER NOT NULL DEFAULT 0,
    return_value_e4     INTEGER NOT NULL DEFAULT 0,
    events              INTEGER NOT NULL DEFAULT 0,
    last_event_at       INTEGER,
    feedback            INTEGER NOT NULL DEFAULT 0,
    last_feedback_at    INTEGER,
    interactions        INTEGER NOT NULL DEFAULT 0,
    last_interaction_at INTEGER
);

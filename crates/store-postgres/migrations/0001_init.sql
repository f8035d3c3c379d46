-- Rapport schema v1 (PostgreSQL). The same tables, columns and indexes as the SQLite schema, in
-- PostgreSQL's own types:
--
-- * Internal ids are BIGINT identity columns. They give insertion order (exports page by them)
--   and never leave the store; external ids are the source systems' ids and are what imports
--   upsert by.
-- * Times are TIMESTAMPTZ: microsecond resolution, which is exactly the precision of the domain's
--   timestamps, so nothing is rounded.
-- * Money is BIGINT ten-thousandths (column suffix _e4): exact, never binary float. SUM() over
--   BIGINT is NUMERIC in PostgreSQL; queries cast sums back to BIGINT.
-- * Attributes and event properties are JSON, not JSONB, on purpose: JSON keeps the exact text
--   the store wrote, so an export returns exactly what was imported. JSONB would rewrite numbers
--   (1e16 comes back as 10000000000000000, which reads back as an integer, not a float) and
--   rejects the \u0000 escape. Both can be queried with the JSON operators; a segment that
--   needs an index can add an expression index on a JSONB cast later.
-- * Vocabulary columns (status, channel...) are TEXT holding the domain's stored names.

CREATE TABLE companies (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name        TEXT,
    industry    TEXT,
    size        TEXT,
    plan        TEXT,
    mrr_e4      BIGINT
);

CREATE TABLE customers (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    name        TEXT,
    email       TEXT,
    phone       TEXT,
    country     TEXT,
    city        TEXT,
    birth_year  SMALLINT,
    gender      TEXT,
    signup_at   TIMESTAMPTZ,
    company_id  BIGINT REFERENCES companies(id),
    -- Typed custom attributes as a JSON object (types inferred once at import).
    attributes  JSON NOT NULL DEFAULT '{}'
);
CREATE INDEX customers_company ON customers(company_id);

CREATE TABLE products (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sku      TEXT NOT NULL UNIQUE,
    name     TEXT,
    category TEXT,
    price_e4 BIGINT
);

CREATE TABLE orders (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    placed_at   TIMESTAMPTZ NOT NULL,
    -- UTC day number of placed_at (days since 1970-01-01): same-day purchases are one purchase
    -- occasion (BG/NBD). Computed by the store from placed_at, as in SQLite.
    day         BIGINT NOT NULL,
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('purchase', 'return', 'cancelled')),
    -- Sum of the lines' amounts, kept with the lines so summaries never re-read lines.
    total_e4    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX orders_customer ON orders(customer_id, status, day);

-- Lines are keyed by their position within the order in the source, which is what makes
-- re-importing a file map every line onto itself. The primary key's index serves both the
-- per-line upsert and reading an order's lines in order (PostgreSQL has no WITHOUT ROWID).
CREATE TABLE order_lines (
    order_id      BIGINT NOT NULL REFERENCES orders(id),
    line_no       BIGINT NOT NULL,
    sku           TEXT,
    quantity      BIGINT NOT NULL,
    unit_price_e4 BIGINT NOT NULL,
    amount_e4     BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    name        TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    properties  JSON NOT NULL DEFAULT '{}'
);
CREATE INDEX events_customer ON events(customer_id, at);

CREATE TABLE interactions (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    channel     TEXT NOT NULL,
    direction   TEXT NOT NULL,
    subject     TEXT,
    body        TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX interactions_customer ON interactions(customer_id, at);

CREATE TABLE feedback (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    source      TEXT NOT NULL,
    text        TEXT,
    rating      SMALLINT,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX feedback_customer ON feedback(customer_id, created_at);

-- Consents are a log; the latest record per (customer, purpose) is in force.
CREATE TABLE consents (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    purpose     TEXT NOT NULL,
    granted     BOOLEAN NOT NULL,
    source      TEXT,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX consents_customer ON consents(customer_id, purpose, at);

-- Per-customer sufficient statistics, updated in the same transaction as the rows they
-- summarise. One row per customer, created with the customer. Every ingest batch rewrites the
-- rows of the customers it touched and no indexed column ever changes, so free space on each
-- page (fillfactor 80) lets those updates be HOT: no index maintenance, less bloat.
CREATE TABLE customer_summaries (
    customer_id         BIGINT PRIMARY KEY REFERENCES customers(id),
    orders              BIGINT NOT NULL DEFAULT 0,
    purchase_orders     BIGINT NOT NULL DEFAULT 0,
    purchase_occasions  BIGINT NOT NULL DEFAULT 0,
    purchase_value_e4   BIGINT NOT NULL DEFAULT 0,
    first_day_value_e4  BIGINT NOT NULL DEFAULT 0,
    first_purchase_at   TIMESTAMPTZ,
    last_purchase_at    TIMESTAMPTZ,
    returns             BIGINT NOT NULL DEFAULT 0,
    return_value_e4     BIGINT NOT NULL DEFAULT 0,
    events              BIGINT NOT NULL DEFAULT 0,
    last_event_at       TIMESTAMPTZ,
    feedback            BIGINT NOT NULL DEFAULT 0,
    last_feedback_at    TIMESTAMPTZ,
    interactions        BIGINT NOT NULL DEFAULT 0,
    last_interaction_at TIMESTAMPTZ
) WITH (fillfactor = 80);

-- Rapport schema v14 (PostgreSQL): journey maps. A journey's stages are a JSON array of stage
-- definitions (rapport_analytics::journey::StageDef): they are read with the journey, never
-- queried alone. Names are unique, so the CLI and the pages can tell journeys apart.
CREATE TABLE journeys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    stages      TEXT NOT NULL,
    segment     TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT
);

-- The computation reads every event of a name in (customer, time) order, and every purchase
-- order's time in the same order: from these indexes alone, without a sort of ten million
-- rows (events_name_at is in time order, orders_customer has the day, not the time).
CREATE INDEX events_name_customer ON events(name, customer_id, at);
CREATE INDEX orders_purchase_times ON orders(customer_id, placed_at) WHERE status = 'purchase';

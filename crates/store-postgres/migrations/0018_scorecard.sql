-- Rapport schema v18 (PostgreSQL, as SQLite's v18): the balanced scorecard's goals.
-- A goal is the domain's checked `Goal` as columns (not JSON): the metric and the numbers are
-- what lists sort and a person editing the database reads. Names are the domain's
-- (`repeat_rate`, `quarter`, `lower`); a row read back is checked again. The at-risk margin
-- is stored as an absolute amount in the target's unit, so changing the default margin rule
-- later does not move the status of goals already set.
CREATE TABLE scorecard_goals (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    metric         TEXT NOT NULL,
    target         DOUBLE PRECISION NOT NULL,
    period         TEXT NOT NULL CHECK (period IN ('month', 'quarter')),
    owner          TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('higher', 'lower')),
    at_risk_margin DOUBLE PRECISION NOT NULL CHECK (at_risk_margin >= 0),
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    created_by     TEXT
);

-- Rapport schema v18 (SQLite): the balanced scorecard's goals.
-- A goal is the domain's checked `Goal` as columns (not JSON): the metric and the numbers are
-- what lists sort and a person editing the database reads. Names are the domain's
-- (`repeat_rate`, `quarter`, `lower`); a row read back is checked again. The at-risk margin
-- is stored as an absolute amount in the target's unit, so changing the default margin rule
-- later does not move the status of goals already set.
CREATE TABLE scorecard_goals (
    id             INTEGER PRIMARY KEY,
    metric         TEXT NOT NULL,
    target         REAL NOT NULL,
    period         TEXT NOT NULL CHECK (period IN ('month', 'quarter')),
    owner          TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('higher', 'lower')),
    at_risk_margin REAL NOT NULL CHECK (at_risk_margin >= 0),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    created_by     TEXT
);

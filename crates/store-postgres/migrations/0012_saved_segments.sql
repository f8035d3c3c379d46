-- Rapport schema v12 (PostgreSQL): saved segments and their size history. Members are rows of
-- `segment_members` under `segment:<slug>`, beside the RFM segments.
CREATE TABLE saved_segments (
    slug         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    expression   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    created_by   TEXT,
    refreshed_at TIMESTAMPTZ,
    size         BIGINT
);

-- One row per refresh: team data, not customer data (no customer ids), so erasure leaves it.
CREATE TABLE segment_sizes (
    slug    TEXT NOT NULL REFERENCES saved_segments(slug) ON DELETE CASCADE,
    at      TIMESTAMPTZ NOT NULL,
    size    BIGINT NOT NULL,
    entered BIGINT NOT NULL,
    "left"  BIGINT NOT NULL,
    PRIMARY KEY (slug, at)
);

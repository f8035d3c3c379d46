-- Rapport schema v12 (SQLite): saved segments and their size history. Members are rows of
-- `segment_members` under `segment:<slug>`, beside the RFM segments.
CREATE TABLE saved_segments (
    slug         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    expression   TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    created_by   TEXT,
    refreshed_at INTEGER,
    size         INTEGER
) WITHOUT ROWID;

-- One row per refresh: team data, not customer data (no customer ids), so erasure leaves it.
CREATE TABLE segment_sizes (
    slug    TEXT NOT NULL REFERENCES saved_segments(slug) ON DELETE CASCADE,
    at      INTEGER NOT NULL,
    size    INTEGER NOT NULL,
    entered INTEGER NOT NULL,
    "left"  INTEGER NOT NULL,
    PRIMARY KEY (slug, at)
) WITHOUT ROWID;

-- Rapport schema v13 (SQLite): personas.
-- The edited name (`name`, NULL until a team member names it) and the generated one are kept
-- apart, so regeneration can replace the suggestion without touching what a person chose.
-- The profile is the analytics `PersonaProfile` as JSON: read whole, never queried by field.
-- The source is text (`kind`, `expression`) so new kinds of source need no schema change.
CREATE TABLE personas (
    id             INTEGER PRIMARY KEY,
    name           TEXT,
    generated_name TEXT,
    notes          TEXT NOT NULL DEFAULT '',
    source_kind    TEXT NOT NULL,
    source         TEXT NOT NULL,
    profile        TEXT,
    generated_at   INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- Rapport schema v13 (PostgreSQL, as SQLite's v13): personas.
-- The edited name (`name`, NULL until a team member names it) and the generated one are kept
-- apart, so regeneration can replace the suggestion without touching what a person chose.
-- The profile is the analytics `PersonaProfile` as JSON text: read whole, never queried by
-- field. The source is text (`kind`, `expression`) so new kinds of source need no schema change.
CREATE TABLE personas (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT,
    generated_name TEXT,
    notes          TEXT NOT NULL DEFAULT '',
    source_kind    TEXT NOT NULL,
    source         TEXT NOT NULL,
    profile        TEXT,
    generated_at   TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);

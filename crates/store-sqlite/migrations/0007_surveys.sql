-- Rapport schema v7 (SQLite): surveys, their tokens and responses.
-- A survey's definition is the JSON of `rapport_core::survey::Survey`; `version` grows with
-- every edit so that servers can cache what they render from it.
CREATE TABLE surveys (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    definition  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    embed_token TEXT NOT NULL,
    -- Signs the customer ids that embedding sites vouch for (HMAC-SHA256).
    embed_secret TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Tokens by the hex SHA-256 of the token: one invitation per customer and survey, and one
-- embed token per survey (no customer, no expiry, never answered).
CREATE TABLE survey_tokens (
    digest      TEXT PRIMARY KEY,
    survey_id   INTEGER NOT NULL REFERENCES surveys(id),
    customer_id INTEGER REFERENCES customers(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    response_id INTEGER
) WITHOUT ROWID;
CREATE UNIQUE INDEX survey_tokens_invited ON survey_tokens(survey_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX survey_tokens_customer ON survey_tokens(customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE survey_responses (
    id             INTEGER PRIMARY KEY,
    survey_id      INTEGER NOT NULL REFERENCES surveys(id),
    customer_id    INTEGER REFERENCES customers(id),
    score          INTEGER,
    answers        TEXT NOT NULL,
    follow_up_open INTEGER NOT NULL DEFAULT 0,
    via            TEXT NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX survey_responses_survey ON survey_responses(survey_id, at);
CREATE INDEX survey_responses_customer ON survey_responses(customer_id) WHERE customer_id IS NOT NULL;

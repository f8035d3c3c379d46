-- Rapport schema v7 (PostgreSQL): surveys, their tokens and responses (as in SQLite's v7).
CREATE TABLE surveys (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    definition  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    embed_token TEXT NOT NULL,
    -- Signs the customer ids that embedding sites vouch for (HMAC-SHA256).
    embed_secret TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE survey_tokens (
    digest      TEXT PRIMARY KEY,
    survey_id   BIGINT NOT NULL REFERENCES surveys(id),
    customer_id BIGINT REFERENCES customers(id),
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ,
    response_id BIGINT
);
CREATE UNIQUE INDEX survey_tokens_invited ON survey_tokens(survey_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX survey_tokens_customer ON survey_tokens(customer_id) WHERE customer_id IS NOT NULL;

CREATE TABLE survey_responses (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id      BIGINT NOT NULL REFERENCES surveys(id),
    customer_id    BIGINT REFERENCES customers(id),
    score          SMALLINT,
    answers        TEXT NOT NULL,
    follow_up_open BOOLEAN NOT NULL DEFAULT false,
    via            TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX survey_responses_survey ON survey_responses(survey_id, at);
CREATE INDEX survey_responses_customer ON survey_responses(customer_id) WHERE customer_id IS NOT NULL;

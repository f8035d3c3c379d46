-- Rapport schema v2 (PostgreSQL): access control for the server, and what the customers list
-- needs to stay fast at a million customers (search index, sort indexes). The same tables and
-- semantics as SQLite's migration 2; times are TIMESTAMPTZ as everywhere in migration 1.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Lower-cased e-mail address. COLLATE "C": logins compare and list byte by byte, as on
    -- SQLite, whatever the database's locale.
    login         TEXT COLLATE "C" NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    -- argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

-- A session is found by the SHA-256 of its cookie token: a stolen database does not yield
-- usable cookies.
CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
-- Sign-in sweeps expired sessions.
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- API keys: the prefix is public (it names the key in lists and finds it on use), the digest is
-- the SHA-256 of the whole key. Revoked keys stay for the record.
CREATE TABLE api_keys (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    prefix       TEXT NOT NULL UNIQUE,
    digest       TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);

-- Word-prefix search over name, e-mail and external id, case- and accent-insensitive ("eve"
-- finds "Ève Müller", as SQLite's FTS5 with remove_diacritics does).
--
-- Accents are folded here, in SQL, rather than with the `unaccent` extension: CREATE EXTENSION
-- needs rights a plain database owner may not have, and unaccent() is not IMMUTABLE, so it
-- could not feed a generated column anyway. Canonical decomposition (NFD) followed by removing
-- the combining diacritical marks (U+0300-U+036F) folds every accented letter that Unicode
-- decomposes (é, ü, ñ; not ł or ø, which have no decomposition), as SQLite's tokenizer does.
-- normalize() needs PostgreSQL 13 and a UTF8 database. The list query applies the same
-- function to its words, so both sides fold alike; Rust only ever passes it letters and digits.
CREATE FUNCTION search_fold(t TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(regexp_replace(normalize(t, NFD), '[\u0300-\u036f]', '', 'g')) $$;

-- The searchable words, kept by PostgreSQL itself (a generated column), so every write path
-- keeps it current and this migration fills it for existing customers. Punctuation becomes a
-- space first: PostgreSQL's text parser would otherwise keep "bob@jones.org" as one e-mail
-- token, and "jones" would not find it; SQLite's tokenizer splits on every non-alphanumeric
-- character, and so do the query's words. 'simple': no stemming, no stop words.
ALTER TABLE customers ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
    to_tsvector('simple', search_fold(regexp_replace(
        COALESCE(name, '') || ' ' || COALESCE(email, '') || ' ' || external_id,
        '[[:punct:]]', ' ', 'g')))
) STORED;
-- GIN answers prefix queries (to_tsquery('simple', 'ann:* & smi:*')) from the index.
CREATE INDEX customers_search ON customers USING gin (search);

-- Sort keys of the customers list. NULLs sort first through COALESCE so that keyset pagination
-- compares plain values; every expression here must match the list query's exactly (see
-- src/view.rs). Names sort by bytes (COLLATE "C"), which is SQLite's order too, and which the
-- keyset comparison uses as well, so pages never skip or repeat under any database locale.
CREATE INDEX customers_sort_name ON customers ((COALESCE(name, '') COLLATE "C"), id);
CREATE INDEX customers_sort_signup
    ON customers ((COALESCE(signup_at, '-infinity'::timestamptz)), id);
CREATE INDEX customers_country ON customers (country);
-- These two index summary columns that order batches rewrite, so those updates are no longer
-- HOT (migration 1's fillfactor note); activity counters stay unindexed and keep HOT updates.
CREATE INDEX summaries_sort_last_purchase
    ON customer_summaries ((COALESCE(last_purchase_at, '-infinity'::timestamptz)), customer_id);
CREATE INDEX summaries_sort_value ON customer_summaries (purchase_value_e4, customer_id);

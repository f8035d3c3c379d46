-- Rapport schema v2 (SQLite): access control for the server, and what the customers list needs
-- to stay fast at a million customers (search index, sort indexes).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- Lower-cased e-mail address.
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    -- argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- A session is found by the SHA-256 of its cookie token: a stolen database does not yield
-- usable cookies.
CREATE TABLE sessions (
    token_digest TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf         TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- API keys: the prefix is public (it names the key in lists and finds it on use), the digest is
-- the SHA-256 of the whole key. Revoked keys stay for the record.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    prefix       TEXT NOT NULL UNIQUE,
    digest       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- Word-prefix search over name, e-mail and external id, kept in step with `customers` by
-- triggers (external content: the text is stored once, in `customers`).
CREATE VIRTUAL TABLE customer_search USING fts5(
    name, email, external_id,
    content = 'customers', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
INSERT INTO customer_search (customer_search) VALUES ('rebuild');
CREATE TRIGGER customers_search_ai AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (rowid, name, email, external_id)
    VALUES (new.id, new.name, new.email, new.external_id);
END;
CREATE TRIGGER customers_search_ad AFTER DELETE ON customers BEGIN
    INSERT INTO customer_search (customer_search, rowid, name, email, external_id)
    VALUES ('delete', old.id, old.name, old.email, old.external_id);
END;
CREATE TRIGGER customers_search_au AFTER UPDATE OF name, email, external_id ON customers BEGIN
    INSERT INTO customer_search (customer_search, rowid, name, email, external_id)
    VALUES ('delete', old.id, old.name, old.email, old.external_id);
    INSERT INTO customer_search (rowid, name, email, external_id)
    VALUES (new.id, new.name, new.email, new.external_id);
END;

-- Sort keys of the customers list. NULLs sort first through IFNULL so that keyset pagination
-- compares plain values; the expressions here must match the ones in the list query.
CREATE INDEX customers_sort_name ON customers (IFNULL(name, ''), id);
CREATE INDEX customers_sort_signup ON customers (IFNULL(signup_at, -9223372036854775808), id);
CREATE INDEX customers_country ON customers (country);
CREATE INDEX summaries_sort_last_purchase
    ON customer_summaries (IFNULL(last_purchase_at, -9223372036854775808), customer_id);
CREATE INDEX summaries_sort_value ON customer_summaries (purchase_value_e4, customer_id);

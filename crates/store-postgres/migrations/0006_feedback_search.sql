-- Rapport schema v6 (PostgreSQL): full-text search of feedback text. The `simple`
-- configuration lowercases words and neither stems nor drops any, whatever the language (as
-- SQLite's FTS5 index does), so a search means the same on both backends.
ALTER TABLE feedback ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(text, ''))) STORED;
CREATE INDEX feedback_search ON feedback USING gin (search);

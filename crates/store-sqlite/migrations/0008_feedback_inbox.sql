-- Rapport schema v8 (SQLite): the feedback inbox. Each item gets a triage status, the theme the
-- analysis job gave it, and the item it was merged into as a near-duplicate (kept, not
-- deleted). The inbox's order is the inbox key: creation minute above 34 bits of internal id.
ALTER TABLE feedback ADD COLUMN status TEXT NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'reviewed', 'linked', 'closed'));
ALTER TABLE feedback ADD COLUMN theme TEXT;
ALTER TABLE feedback ADD COLUMN duplicate_of INTEGER;
CREATE INDEX feedback_inbox ON feedback (((created_at / 60000000) << 34) + id);
CREATE INDEX feedback_theme ON feedback (theme, ((created_at / 60000000) << 34) + id)
    WHERE theme IS NOT NULL;
CREATE INDEX feedback_merged ON feedback (duplicate_of) WHERE duplicate_of IS NOT NULL;
-- An erased or deleted item's duplicates become items of their own again.
CREATE TRIGGER feedback_unmerge AFTER DELETE ON feedback BEGIN
    UPDATE feedback SET duplicate_of = NULL WHERE duplicate_of = old.id;
END;

-- The full-text index is keyed by the inbox key rather than the id, so FTS5 hands out a
-- search's matches newest first from the index itself (a common word is in half the items;
-- collecting and sorting them cost 200 ms at a million). Contentless: the text is stored once.
DROP TRIGGER feedback_fts_insert;
DROP TRIGGER feedback_fts_delete;
DROP TRIGGER feedback_fts_update;
DROP TABLE feedback_fts;
CREATE VIRTUAL TABLE feedback_fts USING fts5(
    text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO feedback_fts (rowid, text)
    SELECT ((created_at / 60000000) << 34) + id, text FROM feedback WHERE text IS NOT NULL;
CREATE TRIGGER feedback_fts_insert AFTER INSERT ON feedback WHEN new.text IS NOT NULL BEGIN
    INSERT INTO feedback_fts (rowid, text) VALUES (((new.created_at / 60000000) << 34) + new.id, new.text);
END;
CREATE TRIGGER feedback_fts_delete AFTER DELETE ON feedback WHEN old.text IS NOT NULL BEGIN
    DELETE FROM feedback_fts WHERE rowid = ((old.created_at / 60000000) << 34) + old.id;
END;
CREATE TRIGGER feedback_fts_update AFTER UPDATE OF text, created_at ON feedback BEGIN
    DELETE FROM feedback_fts WHERE rowid = ((old.created_at / 60000000) << 34) + old.id;
    INSERT INTO feedback_fts (rowid, text)
        SELECT ((new.created_at / 60000000) << 34) + new.id, new.text WHERE new.text IS NOT NULL;
END;

-- The themes of the last analysis run (the analytics `Theme`, as JSON), largest first, and
-- how far items have been assigned.
CREATE TABLE themes (
    id         TEXT PRIMARY KEY,
    position   INTEGER NOT NULL,
    label      TEXT NOT NULL,
    definition TEXT NOT NULL
);
CREATE TABLE analysis_state (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);

-- Materialised segment membership (`rfm:champions`), refreshed by the analysis job.
CREATE TABLE segment_members (
    segment     TEXT NOT NULL,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    PRIMARY KEY (segment, customer_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_customer ON segment_members (customer_id);

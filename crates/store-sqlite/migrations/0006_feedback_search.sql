-- Rapport schema v6 (SQLite): full-text search of feedback text. An FTS5 index over the
-- feedback table's own text (external content: the text is stored once), kept in step by
-- triggers. Words are runs of letters and digits, lowercased, accents kept: as PostgreSQL's
-- `simple` configuration splits them, so a search means the same on both backends.
CREATE VIRTUAL TABLE feedback_fts USING fts5(
    text, content = 'feedback', content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 0'
);
INSERT INTO feedback_fts (feedback_fts) VALUES ('rebuild');
CREATE TRIGGER feedback_fts_insert AFTER INSERT ON feedback BEGIN
    INSERT INTO feedback_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER feedback_fts_delete AFTER DELETE ON feedback BEGIN
    INSERT INTO feedback_fts (feedback_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER feedback_fts_update AFTER UPDATE OF text ON feedback BEGIN
    INSERT INTO feedback_fts (feedback_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO feedback_fts (rowid, text) VALUES (new.id, new.text);
END;

-- Rapport schema v5 (PostgreSQL): each feedback item's sentiment (analytics::sentiment, VADER's compound
-- on -1..1, four decimals) as an integer x 10^4, computed from the text when the item is
-- written. Items without text have none. Items stored before this version are scored when the
-- store opens, a batch at a time; the partial index finds them without a scan.
ALTER TABLE feedback ADD COLUMN sentiment_e4 INTEGER;
CREATE INDEX feedback_unscored ON feedback (id)
    WHERE sentiment_e4 IS NULL AND text IS NOT NULL AND text <> '';

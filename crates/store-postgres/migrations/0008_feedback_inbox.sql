-- Rapport schema v8 (PostgreSQL): the feedback inbox. Each item gets a triage status, the theme
-- the analysis job gave it, and the item it was merged into as a near-duplicate (kept, not
-- deleted). The inbox's order is the inbox key: creation minute above 34 bits of internal id,
-- kept in a column by a trigger (the epoch of a timestamptz is not an immutable expression,
-- so it cannot be indexed as one).
ALTER TABLE feedback ADD COLUMN status TEXT NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'reviewed', 'linked', 'closed'));
ALTER TABLE feedback ADD COLUMN theme TEXT;
ALTER TABLE feedback ADD COLUMN duplicate_of BIGINT REFERENCES feedback(id) ON DELETE SET NULL;
ALTER TABLE feedback ADD COLUMN inbox_key BIGINT;
UPDATE feedback SET inbox_key = (floor(extract(epoch FROM created_at) / 60)::bigint << 34) + id;
ALTER TABLE feedback ALTER COLUMN inbox_key SET NOT NULL;
CREATE FUNCTION feedback_inbox_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.inbox_key := (floor(extract(epoch FROM NEW.created_at) / 60)::bigint << 34) + NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER feedback_inbox_key BEFORE INSERT OR UPDATE OF created_at ON feedback
    FOR EACH ROW EXECUTE FUNCTION feedback_inbox_key();
CREATE INDEX feedback_inbox ON feedback (inbox_key);
CREATE INDEX feedback_theme ON feedback (theme, inbox_key) WHERE theme IS NOT NULL;
CREATE INDEX feedback_merged ON feedback (duplicate_of) WHERE duplicate_of IS NOT NULL;

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
    value BIGINT NOT NULL
);

-- Materialised segment membership (`rfm:champions`), refreshed by the analysis job.
CREATE TABLE segment_members (
    segment     TEXT NOT NULL,
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    PRIMARY KEY (segment, customer_id)
);
CREATE INDEX segment_members_customer ON segment_members (customer_id);

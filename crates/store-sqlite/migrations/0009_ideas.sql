-- Rapport schema v9 (SQLite): feature ideas, their evidence, requesters and status history.
-- Related event names are a JSON array on the idea: they are read with it, never queried alone.
CREATE TABLE ideas (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new',
    reach       INTEGER,
    impact      REAL,
    confidence  INTEGER,
    effort      REAL,
    events      TEXT NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    created_by  TEXT
);
CREATE INDEX ideas_status ON ideas(status);

-- Evidence. A linked item's customer is a requester through this link (read, not copied), so
-- an item moved to another customer, deleted or erased takes its request with it.
CREATE TABLE idea_feedback (
    idea_id     INTEGER NOT NULL REFERENCES ideas(id),
    feedback_id INTEGER NOT NULL REFERENCES feedback(id),
    linked_at   INTEGER NOT NULL,
    linked_by   TEXT,
    PRIMARY KEY (idea_id, feedback_id)
) WITHOUT ROWID;
CREATE INDEX idea_feedback_item ON idea_feedback(feedback_id);

-- Customers added by a team member, on their behalf.
CREATE TABLE idea_requesters (
    idea_id     INTEGER NOT NULL REFERENCES ideas(id),
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    note        TEXT,
    added_by    TEXT,
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (idea_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX idea_requesters_customer ON idea_requesters(customer_id);

-- Who moved an idea, from what to what. Team members, not customers: erasure leaves it.
CREATE TABLE idea_status_changes (
    id          INTEGER PRIMARY KEY,
    idea_id     INTEGER NOT NULL REFERENCES ideas(id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    changed_by  TEXT
);
CREATE INDEX idea_status_changes_idea ON idea_status_changes(idea_id, id);

-- The usage of an idea's related events is a count of distinct customers per event name in
-- a window: with this index it reads a short range of the index alone, where `events_at`
-- would read every event of the window. It costs event ingest one more index entry per row.
CREATE INDEX events_name_at ON events(name, at, customer_id);

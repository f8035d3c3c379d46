-- Rapport schema v9 (PostgreSQL, as SQLite's v9): feature ideas, their evidence, requesters and status history.
-- Related event names are a JSON array on the idea: they are read with it, never queried alone.
CREATE TABLE ideas (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'new',
    reach       BIGINT,
    impact      DOUBLE PRECISION,
    confidence  BIGINT,
    effort      DOUBLE PRECISION,
    events      TEXT NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    created_by  TEXT
);
CREATE INDEX ideas_status ON ideas(status);

-- Evidence. A linked item's customer is a requester through this link (read, not copied), so
-- an item moved to another customer, deleted or erased takes its request with it.
CREATE TABLE idea_feedback (
    idea_id     BIGINT NOT NULL REFERENCES ideas(id),
    feedback_id BIGINT NOT NULL REFERENCES feedback(id),
    linked_at   TIMESTAMPTZ NOT NULL,
    linked_by   TEXT,
    PRIMARY KEY (idea_id, feedback_id)
);
CREATE INDEX idea_feedback_item ON idea_feedback(feedback_id);

-- Customers added by a team member, on their behalf.
CREATE TABLE idea_requesters (
    idea_id     BIGINT NOT NULL REFERENCES ideas(id),
    customer_id BIGINT NOT NULL REFERENCES customers(id),
    note        TEXT,
    added_by    TEXT,
    added_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (idea_id, customer_id)
);
CREATE INDEX idea_requesters_customer ON idea_requesters(customer_id);

-- Who moved an idea, from what to what. Team members, not customers: erasure leaves it.
CREATE TABLE idea_status_changes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idea_id     BIGINT NOT NULL REFERENCES ideas(id),
    from_status TEXT NOT NULL,
    to_status   TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    changed_by  TEXT
);
CREATE INDEX idea_status_changes_idea ON idea_status_changes(idea_id, id);

-- The usage of an idea's related events is a count of distinct customers per event name in
-- a window: with this index it reads a short range of the index alone, where `events_at`
-- would read every event of the window. It costs event ingest one more index entry per row.
CREATE INDEX events_name_at ON events(name, at, customer_id);

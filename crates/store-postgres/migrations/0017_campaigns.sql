-- Rapport schema v17 (PostgreSQL, as SQLite's v17): customer-marketing campaigns.
-- A campaign's definition is the domain's `Campaign` as JSON text, read whole; `sent_at` is
-- NULL while it is a draft and is set once, in the transaction that records its audience (the
-- UPDATE's row lock makes a concurrent second launch find it sent). `counts` is how the segment
-- divided at launch (JSON text).
CREATE TABLE campaigns (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    spec       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    sent_at    TIMESTAMPTZ,
    counts     TEXT
);
-- Every consenting member of the audience with the group they were drawn into, the holdout
-- too. The segment is the member's RFM segment at launch; `clv_before_e4` their predicted
-- lifetime value then.
CREATE TABLE campaign_recipients (
    campaign_id   BIGINT NOT NULL REFERENCES campaigns(id),
    customer_id   BIGINT NOT NULL REFERENCES customers(id),
    arm           TEXT NOT NULL CHECK (arm IN ('treatment', 'holdout')),
    segment       TEXT,
    clv_before_e4 BIGINT,
    PRIMARY KEY (campaign_id, customer_id)
);
-- Erasure finds a customer's rows by this.
CREATE INDEX campaign_recipients_customer ON campaign_recipients (customer_id);

-- Rapport schema v17 (SQLite): customer-marketing campaigns.
-- A campaign's definition is the domain's `Campaign` as JSON, read whole; `sent_at` is NULL
-- while it is a draft and is set once, in the transaction that records its audience, so a
-- campaign launches at most once. `counts` is how the segment divided at launch (JSON).
CREATE TABLE campaigns (
    id         INTEGER PRIMARY KEY,
    spec       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    counts     TEXT
);
-- Every consenting member of the audience with the group they were drawn into: the holdout is
-- recorded too, since the results compare the two. The segment is the member's RFM segment at
-- launch (results per segment); `clv_before_e4` their predicted lifetime value then.
CREATE TABLE campaign_recipients (
    campaign_id   INTEGER NOT NULL REFERENCES campaigns(id),
    customer_id   INTEGER NOT NULL REFERENCES customers(id),
    arm           TEXT NOT NULL CHECK (arm IN ('treatment', 'holdout')),
    segment       TEXT,
    clv_before_e4 INTEGER,
    PRIMARY KEY (campaign_id, customer_id)
) WITHOUT ROWID;
-- Erasure finds a customer's rows by this.
CREATE INDEX campaign_recipients_customer ON campaign_recipients (customer_id);

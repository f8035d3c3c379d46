-- Rapport schema v4 (SQLite): what the REST API's record lists (/api/v1/orders, /events...)
-- need. They sort by time and filter on a time range across all customers; without these
-- indexes every page of such a list scans and sorts the whole table (0.2 s a page at a million
-- events, and growing with the table), with them a page is a short index range. Each costs
-- about a tenth more per inserted row (measured on a million synthetic events). Lists of one
-- customer use the (customer_id, time) indexes of migration 1. The rowid (the internal id)
-- ends every SQLite index, so (time) alone orders ties by id, as the (time, id) keyset needs.
CREATE INDEX orders_placed ON orders (placed_at);
CREATE INDEX events_at ON events (at);
CREATE INDEX interactions_at ON interactions (at);
CREATE INDEX feedback_created ON feedback (created_at);
CREATE INDEX consents_at ON consents (at);

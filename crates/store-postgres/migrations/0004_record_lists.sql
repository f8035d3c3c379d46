-- Rapport schema v4 (PostgreSQL): what the REST API's record lists (/api/v1/orders, /events...)
-- need. They sort by time and filter on a time range across all customers; without these
-- indexes every page of such a list scans and sorts the whole table, with them a page is a
-- short index range. The id is in each index because the lists' keyset is (time, id): it
-- orders ties and lets `(time, id) < ($1, $2)` be an index condition. Lists of one customer use
-- the (customer_id, time) indexes of migration 1. The same indexes as SQLite's migration 4.
CREATE INDEX orders_placed ON orders (placed_at, id);
CREATE INDEX events_at ON events (at, id);
CREATE INDEX interactions_at ON interactions (at, id);
CREATE INDEX feedback_created ON feedback (created_at, id);
CREATE INDEX consents_at ON consents (at, id);

-- Rapport schema v15 (SQLite): the recommendation model, replaced whole by each training.
-- One row describes it; factors are little-endian f32 BLOBs per customer and per product.
CREATE TABLE recommendation_model (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    info TEXT NOT NULL
);
-- Erasure deletes a customer's row (it is derived from their purchases).
CREATE TABLE customer_factors (
    customer_id INTEGER PRIMARY KEY REFERENCES customers(id),
    factors     BLOB NOT NULL
);
-- Products are named by SKU, as order lines name them (a line may name an unknown product).
CREATE TABLE product_factors (
    sku     TEXT PRIMARY KEY,
    factors BLOB NOT NULL
) WITHOUT ROWID;

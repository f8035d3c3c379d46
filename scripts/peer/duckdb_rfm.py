"""The DuckDB side of `scripts/bench-rfm.sh`: RFM per customer from Online Retail loaded into a
table, with the definitions of PRODUCT.md (the same SQL as the Online Retail RFM test in
crates/cli/tests/real_data.rs): purchase invoices have a customer and no C (cancellation) in the id (replicas prefix ids with "k-"); recency in
days from the day after the last purchase; scores 1 + floor(5 x share of buyers with a worse
value); the R/F segment grid. Loading is not timed; the query is (best of RUNS), materialised
into a table so no time goes to Python objects.

Run in a venv with `pip install duckdb`: python scripts/peer/duckdb_rfm.py FILE.csv [RUNS]
"""
import json
import sys
import time

import duckdb

path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
con = duckdb.connect()
t0 = time.time()
con.execute(f"""CREATE TABLE t AS SELECT * FROM read_csv('{path}', header = true,
    columns = {{'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Description': 'VARCHAR',
               'Quantity': 'BIGINT', 'InvoiceDate': 'TIMESTAMP', 'UnitPrice': 'DECIMAL(18,4)',
               'CustomerID': 'VARCHAR', 'Country': 'VARCHAR'}})""")
load = time.time() - t0
query = """
CREATE OR REPLACE TABLE rfm AS
WITH p AS (SELECT CustomerID AS customer, InvoiceNo AS invoice, CAST(InvoiceDate AS DATE) AS day,
                  Quantity * UnitPrice AS amount
             FROM t WHERE CustomerID IS NOT NULL AND InvoiceNo NOT LIKE '%C%'),
as_of AS (SELECT MAX(day) + 1 AS d FROM p),
buyers AS (SELECT customer, (SELECT d FROM as_of) - MAX(day) AS recency,
                  COUNT(DISTINCT invoice) AS frequency, SUM(amount) AS monetary
             FROM p GROUP BY customer),
n AS (SELECT COUNT(*) AS n FROM buyers),
scored AS (SELECT *,
    LEAST(5, 1 + 5 * (RANK() OVER (ORDER BY recency DESC) - 1) // (SELECT n FROM n)) AS r,
    LEAST(5, 1 + 5 * (RANK() OVER (ORDER BY frequency) - 1) // (SELECT n FROM n)) AS f,
    LEAST(5, 1 + 5 * (RANK() OVER (ORDER BY monetary) - 1) // (SELECT n FROM n)) AS m
  FROM buyers)
SELECT customer, recency, frequency, monetary, r, f, m,
  CASE WHEN r = 5 AND f >= 4 THEN 'champions' WHEN r IN (3, 4) AND f >= 4 THEN 'loyal'
       WHEN r >= 4 AND f IN (2, 3) THEN 'potential_loyalists' WHEN r = 5 THEN 'new'
       WHEN r = 4 THEN 'promising' WHEN r = 3 AND f = 3 THEN 'need_attention'
       WHEN r = 3 THEN 'about_to_sleep' WHEN r <= 2 AND f = 5 THEN 'cannot_lose_them'
       WHEN r <= 2 AND f IN (3, 4) THEN 'at_risk' WHEN r = 1 AND f = 1 THEN 'lost'
       ELSE 'hibernating' END AS segment
FROM scored"""
best = float("inf")
for _ in range(runs):
    t0 = time.time()
    con.execute(query)
    best = min(best, time.time() - t0)
rows = con.execute("SELECT COUNT(*) FROM rfm").fetchone()[0]
print(json.dumps({"buyers": rows, "seconds": best, "load_seconds": load,
                  "threads": con.execute("SELECT current_setting('threads')").fetchone()[0]}))

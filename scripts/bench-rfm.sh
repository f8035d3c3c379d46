#!/usr/bin/env bash
# RFM per customer, side by side: `rapport report rfm --format csv` (from the per-customer
# summaries) against DuckDB computing the same RFM from the order lines loaded into a table
# (scripts/peer/duckdb_rfm.py), on UCI Online Retail replicated 1x, 10x and 100x, in one run.
# Usage: scripts/bench-rfm.sh [REPLICAS...]   (default 1 10 100; needs ../shared/data and a
# venv with duckdb: DUCKDB_PYTHON, default /tmp/duck-venv/bin/python). With BENCH_DIR set,
# replicated CSVs and imported databases of earlier runs are reused.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
py="${DUCKDB_PYTHON:-/tmp/duck-venv/bin/python}"
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work="${BENCH_DIR:-$(mktemp -d)}"
for n in "${@:-1 10 100}"; do
  for replicas in $n; do
    csv="$work/retail_x$replicas.csv"
    db="$work/retail_x$replicas.db"
    [ -s "$csv" ] || scripts/retail-replicas.sh "$replicas" "$csv"
    [ -s "$db" ] || "$bin" --db "$db" import orders "$csv" --currency GBP --map order=InvoiceNo \
      --map sku=StockCode --map quantity=Quantity --map placed_at=InvoiceDate \
      --map unit_price=UnitPrice --map customer=CustomerID --rejects "$work/rejects.csv" > /dev/null 2>&1
    best=999999
    for _ in 1 2 3; do
      t0=$(date +%s.%N)
      "$bin" --db "$db" report rfm --format csv > "$work/rfm.csv"
      t=$(echo "$(date +%s.%N) - $t0" | bc -l)
      best=$(echo "if ($t < $best) $t else $best" | bc -l)
    done
    theirs=$("$py" scripts/peer/duckdb_rfm.py "$csv" 3)
    duck=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds'])" "$theirs")
    printf 'Online Retail x%s: %s lines, %s buyers\n' "$replicas" "$(($(wc -l < "$csv") - 1))" "$(($(wc -l < "$work/rfm.csv") - 1))"
    printf '  rapport report rfm: %.3f s (whole process, best of 3)\n' "$best"
    printf '  duckdb query:       %.3f s  %s\n' "$duck" "$theirs"
    printf '  ratio duckdb / rapport: %.2f\n' "$(echo "$duck / $best" | bc -l)"
  done
done

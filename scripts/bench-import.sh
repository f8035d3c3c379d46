#!/usr/bin/env bash
# Import throughput, side by side: `rapport import orders` (with per-customer summaries kept)
# against the sqlite3 CLI's `.import` of the same CSV into a bare table, in one run.
# Usage: scripts/bench-import.sh [REPLICAS]   (UCI Online Retail x REPLICAS; default 10)
# Needs: ../shared/data, the sqlite3 CLI (apt-get install sqlite3) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
replicas="${1:-10}"
work="${BENCH_DIR:-$(mktemp -d)}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"

# Replica k gets its own invoice and customer ids, so it is new data, not a re-import.
csv="$work/retail_x$replicas.csv"
# With BENCH_DIR set, a CSV built by an earlier run is reused (building x100 takes minutes).
[ -s "$csv" ] || scripts/retail-replicas.sh "$replicas" "$csv"
lines=$(($(wc -l < "$csv") - 1))
echo "input: $lines rows ($(du -h "$csv" | cut -f1)), Online Retail x $replicas"

rm -f "$work"/rapport.db* "$work"/bare.db*
t0=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$work/rss" "$bin" --db "$work/rapport.db" import orders "$csv" --currency GBP \
  --map order=InvoiceNo --map sku=StockCode --map quantity=Quantity --map placed_at=InvoiceDate \
  --map unit_price=UnitPrice --map customer=CustomerID --rejects "$work/rejects.csv" --format json > "$work/report.json"
t1=$(date +%s.%N)
sqlite3 "$work/bare.db" "PRAGMA journal_mode=WAL;" "CREATE TABLE t (InvoiceNo TEXT, StockCode TEXT, Description TEXT, Quantity INTEGER, InvoiceDate TEXT, UnitPrice REAL, CustomerID INTEGER, Country TEXT);" > /dev/null
sqlite3 "$work/bare.db" ".mode csv" ".import --skip 1 $csv t"
t2=$(date +%s.%N)

rapport_s=$(echo "$t1 - $t0" | bc -l)
sqlite_s=$(echo "$t2 - $t1" | bc -l)
printf 'rapport import:  %8.2f s  %9.0f rows/s  peak RSS %s MB  %s\n' "$rapport_s" "$(echo "$lines / $rapport_s" | bc -l)" "$(( $(cat "$work/rss") / 1024 ))" "$(cat "$work/report.json")"
printf 'sqlite3 .import: %8.2f s  %9.0f rows/s\n' "$sqlite_s" "$(echo "$lines / $sqlite_s" | bc -l)"
printf 'ratio rapport / sqlite3: %.2f\n' "$(echo "$rapport_s / $sqlite_s" | bc -l)"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

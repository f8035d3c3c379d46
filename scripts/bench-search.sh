#!/usr/bin/env bash
# Full-text search of feedback through the API: serves DB, then times one request per query word
# (the first page of 50) with curl, after one warm-up pass: the feedback list in insertion order
# (`/api/v1/feedback?q=WORD&sort=id`) and newest first (`sort=-created_at`), and the inbox
# (`/api/v1/inbox?q=WORD`, newest first by the inbox key), and prints p50/p95/max overall and
# per third of the word list (common, middling, rare words).
# Usage: scripts/bench-search.sh DB WORDS   (scripts/gen-feedback-data.py makes both)
set -euo pipefail
cd "$(dirname "$0")/.."
db="$1"; words="$2"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work=$(mktemp -d)
key=$("$bin" --db "$db" apikey create --name "search bench $$" --scope read --format json |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
port=$((20000 + RANDOM % 20000))
# The analysis job would discover themes over the million items meanwhile: off, so the
# timings are of search alone.
"$bin" --db "$db" serve --addr "127.0.0.1:$port" --analysis-every 0 > "$work/log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null; rm -rf "$work"' EXIT
until curl -sf "http://127.0.0.1:$port/healthz" > /dev/null; do sleep 0.2; done
run() {
  local path="$1"
  while read -r w; do
    curl -s -o "$work/page" -w "%{http_code} %{time_total} $w\n" -H "Authorization: Bearer $key" \
      "http://127.0.0.1:$port/api/v1/$path&limit=50&q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$w")"
  done < "$words"
}
for path in "feedback?sort=id" "feedback?sort=-created_at" "inbox?merged=false"; do
run "$path" > /dev/null
run "$path" > "$work/times"
echo "$path"
python3 - "$work/times" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
assert all(r[0] == "200" for r in rows), [r for r in rows if r[0] != "200"][:3]
def show(name, part):
    t = sorted(float(r[1]) * 1000 for r in part)
    p = lambda q: t[min(len(t) - 1, int(q * len(t)))]
    print(f"{name:9s} {len(t):4d} queries: p50 {p(0.5):6.1f} ms, p95 {p(0.95):6.1f} ms, max {t[-1]:6.1f} ms")
third = len(rows) // 3
show("all", rows)
show("common", rows[:third]); show("middling", rows[third:2 * third]); show("rare", rows[2 * third:])
PY
done

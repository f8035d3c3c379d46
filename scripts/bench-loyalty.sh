#!/usr/bin/env bash
# Loyalty earn/redeem throughput and latency over HTTP with wrk, against a demo company of N
# customers (default 100,000): the default programme and a 10-point reward are set up through
# the API, then three earns to one redemption for random members, each with its own ledger key.
# A redemption a member cannot afford is a 422 (counted by wrk as non-2xx; it is still a
# request the server decided). Usage: scripts/bench-loyalty.sh [CUSTOMERS]; BENCH_DIR keeps the
# database; DURATION (s), CONNECTIONS and RAPPORT_BIN as in bench-http.sh.
# Needs: wrk (apt-get install wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
work="${BENCH_DIR:-$(mktemp -d)}"
dur="${DURATION:-20}"
conns="${CONNECTIONS:-32}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
bin="${RAPPORT_BIN:-$CARGO_TARGET_DIR/release/rapport}"
[ -n "${RAPPORT_BIN:-}" ] || cargo build --release -q -p rapport-cli
db="$work/rapport.db"
[ -s "$db" ] || "$bin" --db "$db" demo --customers "$n" --no-serve > "$work/demo.log"

key=$("$bin" --db "$db" apikey create --name "bench $(date +%s)" --scope write --format json |
  sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
"$bin" --db "$db" serve --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" > /dev/null && break; sleep 0.2; done

api() { curl -sf -X "$1" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  "$base/api/v1$2" ${3:+-d "$3"} > /dev/null; }
api PUT /loyalty '{"name":"Bench","points_per_unit":1,"survey_points":20,"review_points":50,
  "referral_points":200,"expiry_days":365,"tier_window_days":365,
  "tiers":[{"name":"Bronze","threshold":0,"multiplier_pct":100},
           {"name":"Silver","threshold":500,"multiplier_pct":125}]}'
api PUT /loyalty/rewards/sticker '{"name":"Sticker","cost":10}'

echo "== POST earn (3) / redeem (1), $conns connections, ${dur}s"
wrk --latency -t2 -c"$conns" -d"${dur}s" -s scripts/wrk/loyalty.lua "$base" -- "$n" "$key" |
  grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx|Socket errors" || true
curl -sf -H "Authorization: Bearer $key" "$base/api/v1/loyalty" |
  sed -n 's/.*"members":\([0-9]*\).*"liability":\([0-9-]*\).*/members \1, liability \2/p'; echo
echo "server peak RSS: $(awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$pid/status")"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

#!/usr/bin/env bash
# Saved segments and the preview count on a stored company: times `rapport segment refresh`
# (every saved segment on one read of the customers), then serves the database and times the
# preview endpoint the Segments page calls while a filter is typed: the first call (which
# reads the customers into memory) and 20 calls per filter after it.
# Usage: scripts/bench-segments.sh DB   (e.g. a demo company: rapport demo --no-serve
# --customers 1000000 --db DB; RAPPORT=path/to/rapport to time another build)
set -euo pipefail
cd "$(dirname "$0")/.."
db="$1"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
if [ -z "${RAPPORT:-}" ]; then
  cargo build --release -q -p rapport-cli
  RAPPORT="$CARGO_TARGET_DIR/release/rapport"
fi
bin="$RAPPORT"
work=$(mktemp -d)

echo "== refresh of every saved segment"
/usr/bin/time -f "  wall %e s, peak RSS %M KB" "$bin" --db "$db" segment refresh 2>&1 | sed 's/^/  /'

key=$("$bin" --db "$db" apikey create --name bench-segments --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
port=$((20000 + RANDOM % 20000))
RAPPORT_LOG=warn "$bin" --db "$db" serve --addr "127.0.0.1:$port" --analysis-every 0 > "$work/log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null; rm -rf "$work"' EXIT
base="http://127.0.0.1:$port"
until curl -s -o /dev/null "$base/healthz"; do sleep 0.2; done

ask() { # filter -> "http_code seconds"
  curl -s -G -H "Authorization: Bearer $key" -o "$work/out.json" -w '%{http_code} %{time_total}\n' \
    --data-urlencode "expression=$1" --data-urlencode "limit=5" "$base/api/v1/segments/preview"
}
echo "== preview (GET /api/v1/segments/preview)"
for filter in \
  'country in ("Germany","Austria") and clv_predicted > 150' \
  'rfm_segment in ("at_risk","cannot_lose_them") and consent("marketing")' \
  'last_purchase_days < 120 and feedback_sentiment < -0.2' \
  'events("dashboard_viewed", within=90d) >= 3' \
  'revenue > 500 and (health < 40 or p_alive < 0.5)'; do
  first=$(ask "$filter")
  count=$(python3 -c 'import json; d=json.load(open("'"$work/out.json"'")); print(d["count"], "of", d["customers"], "eval", round(d["eval_ms"], 1), "ms")')
  for i in $(seq 20); do ask "$filter"; done | sort -k2 -n |
    awk -v f="$filter" -v first="$first" -v count="$count" '{ t[NR] = $2 } END {
      split(first, a, " ");
      printf "  %s\n    %s; first call %.0f ms (HTTP %s), then 20 calls: median %.1f ms, max %.1f ms\n",
        f, count, 1000 * a[2], a[1], 1000 * t[10], 1000 * t[20] }'
done
echo "  server peak RSS: $(grep VmHWM /proc/$server/status | awk '{print $2, $3}')"

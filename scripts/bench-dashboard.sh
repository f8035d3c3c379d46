#!/usr/bin/env bash
# Dashboard render time: serves DB, waits until the dashboard's reports are computed (the
# server does that at start), signs in and times 20 page loads with curl.
# Usage: scripts/bench-dashboard.sh DB LOGIN PASSWORD   (create the user first with
# `rapport --db DB user add --login LOGIN --role viewer`)
set -euo pipefail
cd "$(dirname "$0")/.."
db="$1"; login="$2"; password="$3"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
start=$(date +%s.%N)
RAPPORT_LOG=info "$bin" --db "$db" serve --addr "127.0.0.1:$port" > "$work/log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null; rm -rf "$work"' EXIT
until grep -q "dashboard reports computed" "$work/log"; do sleep 0.2; done
printf 'reports computed %.1f s after start: %s\n' "$(echo "$(date +%s.%N) - $start" | bc -l)" "$(grep -o 'seconds=[0-9.]*' "$work/log")"
base="http://127.0.0.1:$port"
jar="$work/cookies"
csrf=$(curl -s -c "$jar" "$base/login" | grep -o 'name="csrf" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "login=$login" --data-urlencode "password=$password" \
  --data-urlencode "csrf=$csrf" --data-urlencode "next=/dashboard" "$base/login"
for i in $(seq 20); do
  curl -s -b "$jar" -o "$work/page.html" -w '%{http_code} %{time_total}\n' "$base/dashboard"
done | sort -k2 -n | awk '{ t[NR] = $2; code = $1 } END { printf "dashboard: HTTP %s, 20 loads: min %.1f ms, median %.1f ms, max %.1f ms\n", code, 1000 * t[1], 1000 * t[10], 1000 * t[20] }'
echo "page: $(wc -c < "$work/page.html") bytes, $(grep -o '<svg' "$work/page.html" | wc -l) charts"

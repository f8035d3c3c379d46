#!/usr/bin/env bash
# HTTP latency and throughput on loopback with wrk, against a demo company of N customers
# (default 1,000,000), as the server issue's performance section asks.
# Usage: scripts/bench-http.sh [CUSTOMERS]   BENCH_DIR=/path keeps the database between runs
# (building the 1M-customer demo takes a long while); DURATION (s) and CONNECTIONS tune wrk;
# RAPPORT_BIN skips the build.
# Needs: wrk (apt-get install wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000000}"
work="${BENCH_DIR:-$(mktemp -d)}"
dur="${DURATION:-20}"
conns="${CONNECTIONS:-32}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
# RAPPORT_BIN=path uses an already built binary instead of building one.
bin="${RAPPORT_BIN:-$CARGO_TARGET_DIR/release/rapport}"
[ -n "${RAPPORT_BIN:-}" ] || cargo build --release -q -p rapport-cli
db="$work/rapport.db"
[ -s "$db" ] || "$bin" --db "$db" demo --customers "$n" --no-serve > "$work/demo.log"

key=$("$bin" --db "$db" apikey create --name "bench $(date +%s)" --scope write --format json |
  sed -n 's/.*"key": *"\([^"]*\)".*/\1/p')
login="bench-$(date +%s)@rapport.example"
password="bench-password-$RANDOM$RANDOM"
echo "$password" | "$bin" --db "$db" user add --login "$login" --role viewer > /dev/null

port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
"$bin" --db "$db" serve --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" > /dev/null && break; sleep 0.2; done

# A browser session for the 360 page: the sign-in form's CSRF token, then the form.
jar="$work/cookies.txt"
csrf=$(curl -s -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
curl -s -b "$jar" -c "$jar" -o /dev/null --data-urlencode "login=$login" \
  --data-urlencode "password=$password" --data-urlencode "csrf=$csrf" "$base/login"
session="rapport_session=$(awk '$6 == "rapport_session" { print $7 }' "$jar")"

run() {
  local name="$1"; shift
  echo "== $name"
  wrk --latency -t2 -c"$conns" -d"${dur}s" "$@" |
    grep -E "Requests/sec|Latency |50%|99%|Non-2xx|Socket errors" || true
}
lua=scripts/wrk
run "GET /api/v1/customers/{id}" -s "$lua/get.lua" "$base" -- '/api/v1/customers/C%06d' "$n" "$key"
run "GET /api/v1/customers/{id}/timeline" -s "$lua/get.lua" "$base" -- '/api/v1/customers/C%06d/timeline' "$n" "$key"
run "GET /customers/{id} (360 page)" -s "$lua/get.lua" "$base" -- '/customers/C%06d' "$n" "$session"
run "GET /api/v1/customers?q= (search, default order)" -s "$lua/search.lua" "$base" -- "$key"
run "GET /api/v1/customers?q=&sort= (search, every sort order)" -s "$lua/search.lua" "$base" -- "$key" all
conns=4 run "GET /api/v1/customers?q=&sort= (search, every sort order, 4 connections)" \
  -s "$lua/search.lua" "$base" -- "$key" all
run "POST /api/v1/feedback" -s "$lua/feedback.lua" "$base" -- "$n" "$key"
echo "server peak RSS: $(awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$pid/status")"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

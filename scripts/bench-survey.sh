#!/usr/bin/env bash
# The public survey page under load (wrk on loopback): GET /s/{token} flat out and paced at
# about 2,000 requests/s, then answers (POST, one per token,
# for 5 s: tokens run out after that and the rest are 409s). The server issue's goal is a
# survey page p99 <= 20 ms under 2,000 requests/s.
# Usage: scripts/bench-survey.sh [CUSTOMERS]  (default 100,000; the demo's consenting customers
# get a link each). BENCH_DIR keeps the database; DURATION (s); RAPPORT_BIN skips the build.
# Needs: wrk (apt-get install wrk), curl.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-100000}"
work="${BENCH_DIR:-$(mktemp -d)}"
dur="${DURATION:-15}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
bin="${RAPPORT_BIN:-$CARGO_TARGET_DIR/release/rapport}"
[ -n "${RAPPORT_BIN:-}" ] || cargo build --release -q -p rapport-cli
db="$work/rapport.db"
[ -s "$db" ] || "$bin" --db "$db" demo --customers "$n" --no-serve > "$work/demo.log" 2>&1

port=$((20000 + RANDOM % 20000))
base="http://127.0.0.1:$port"
survey="bench-$(date +%s)"
cat > "$work/survey.toml" <<TOML
id = "$survey"
name = "Benchmark NPS"
kind = "nps"
[[questions]]
id = "why"
prompt = "What should we do better?"
type = "text"
when = "0-6"
TOML
"$bin" --db "$db" survey create "$work/survey.toml" 2> /dev/null
"$bin" --db "$db" survey send "$survey" --all --base-url "$base" -o "$work/links.csv"
echo "links: $(($(wc -l < "$work/links.csv") - 1))"

"$bin" --db "$db" serve --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2> /dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "$base/healthz" > /dev/null && break; sleep 0.2; done

run() {
  local name="$1"; shift
  echo "== $name"
  wrk --latency -t2 -d"${RUN_SECONDS:-$dur}s" "$@" | grep -E "Requests/sec|Latency |50%|90%|99%|Non-2xx|Socket errors" || true
}
lua=scripts/wrk/survey.lua
run "GET /s/{token}, 16 connections flat out" -c16 -s "$lua" "$base" -- "$work/links.csv" get 0
# 20 connections, each waiting 10 ms between requests: about 2,000 requests/s offered.
run "GET /s/{token}, paced to about 2,000 requests/s" -c20 -s "$lua" "$base" -- "$work/links.csv" get 10
RUN_SECONDS=5 run "POST /s/{token} (an answer per token; 409 once a token is used)" -c8 -s "$lua" "$base" -- "$work/links.csv" post 0
echo "server peak RSS: $(awk '/VmHWM/ { print $2 / 1024 " MB" }' "/proc/$pid/status")"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$work"

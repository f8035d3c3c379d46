#!/usr/bin/env bash
# BG/NBD fit, side by side: `rapport bench bgnbd` against the Python lifetimes library on the
# same summary files, in one run: CDNOW (the paper's 2,357 customers) and 1,000,000 customers
# resampled from it with replacement (seeded). Prints both times and the ratio.
# Usage: scripts/bench-bgnbd.sh   (needs ../shared/data and a venv with lifetimes: set
# LIFETIMES_PYTHON, default /tmp/lt-venv/bin/python; see scripts/peer/lifetimes_fit.py)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
py="${LIFETIMES_PYTHON:-/tmp/lt-venv/bin/python}"
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work="${BENCH_DIR:-$(mktemp -d)}"
cdnow=../shared/data/cdnow/cdnow_customers_summary.csv
big="$work/cdnow_resampled_1m.csv"
[ -s "$big" ] || python3 - "$cdnow" "$big" <<'PY'
import random, sys
rows = open(sys.argv[1]).read().splitlines()
header, body = rows[0], rows[1:]
rng = random.Random(2005)
with open(sys.argv[2], "w") as f:
    f.write("ID,frequency,recency,T\n")
    for i in range(1_000_000):
        _, x, tx, t = rng.choice(body).split(",")
        f.write(f"{i},{x},{tx},{t}\n")
PY
for file in "$cdnow" "$big"; do
  ours=$("$bin" bench bgnbd "$file" --runs 3)
  theirs=$("$py" scripts/peer/lifetimes_fit.py "$file" 1)
  echo "$(basename "$file")"
  echo "  rapport:   $ours"
  echo "  lifetimes: $theirs"
  python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print('  ratio lifetimes / rapport: %.0fx' % (b['seconds'] / a['seconds']))" "$ours" "$theirs"
done

#!/usr/bin/env bash
# Sentiment, side by side: `rapport sentiment` against Python vaderSentiment 3.3.2 on the four
# VADER ground-truth files, in one run. For each file: Pearson r of each tool's score against
# the human mean rating, both times, and the ratio. rapport's time is the whole process (read,
# lexicon, scoring, output; best of 3); Python's is its scoring loop alone (best of 3).
# Usage: scripts/bench-sentiment.sh   (needs ../shared/data and a venv with vaderSentiment:
# set VADER_PYTHON, default /tmp/vader-venv/bin/python; `pip install vaderSentiment==3.3.2`)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
py="${VADER_PYTHON:-/tmp/vader-venv/bin/python}"
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '%-40s %8s %9s %9s %10s %10s %7s\n' file rows "r python" "r rapport" "python s" "rapport s" ratio
for file in ../shared/data/vader_groundtruth/*_GroundTruth.txt; do
  name=$(basename "$file")
  theirs=$("$py" scripts/peer/vader_score.py "$file" "$work/python.txt")
  best=999
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$bin" sentiment "$file" --delimiter tab --no-header --column 3 > "$work/rapport.csv"
    t=$(echo "$(date +%s.%N) - $start" | bc -l)
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  python3 - "$file" "$work/python.txt" "$work/rapport.csv" "$theirs" "$best" "$name" <<'PY'
import json, math, sys
human = [float(l.split("\t", 2)[1]) for l in open(sys.argv[1], encoding="utf-8")]
py = [float(l) for l in open(sys.argv[2])]
ours = [float(l) for l in open(sys.argv[3]).read().split()[1:]]
assert len(human) == len(py) == len(ours), (len(human), len(py), len(ours))
def r(x, y):
    n = len(x); mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return sxy / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))
theirs, best = json.loads(sys.argv[4]), float(sys.argv[5])
same = sum(abs(a - round(b, 4)) < 1e-9 for a, b in zip(py, ours))
print(f"{sys.argv[6]:40s} {len(human):8d} {r(py, human):9.4f} {r(ours, human):9.4f} "
      f"{theirs['seconds']:10.3f} {best:10.3f} {theirs['seconds'] / best:6.1f}x  (equal to 4 places: {same})")
PY
done

#!/usr/bin/env bash
# Sentiment, side by side: `rapport sentiment` against Python vaderSentiment 3.3.2 on the four
# VADER ground-truth files, in one run. For each file: Pearson r of each tool's score against
# the human mean rating, both times, and the ratios. Python's time is its scoring loop alone
# (best of 3); rapport's is given twice: the scoring loop alone on one thread (`rapport bench
# sentiment`, best of 3) and the whole `rapport sentiment` process (read, lexicon, scoring on
# every core, output; best of 3).
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
printf '%-38s %6s %9s %9s %9s %10s %7s %10s %7s\n' file rows "r python" "r rapport" "python s" "scoring s" ratio "process s" ratio
for file in ../shared/data/vader_groundtruth/*_GroundTruth.txt; do
  name=$(basename "$file")
  theirs=$("$py" scripts/peer/vader_score.py "$file" "$work/python.txt")
  loop=$("$bin" bench sentiment "$file")
  best=999
  for _ in 1 2 3; do
    start=$(date +%s.%N)
    "$bin" sentiment "$file" --delimiter tab --no-header --column 3 > "$work/rapport.csv"
    t=$(echo "$(date +%s.%N) - $start" | bc -l)
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  python3 - "$file" "$work/python.txt" "$work/rapport.csv" "$theirs" "$best" "$name" "$loop" <<'PY'
import json, math, sys
human = [float(l.split("\t", 2)[1]) for l in open(sys.argv[1], encoding="utf-8")]
py = [float(l) for l in open(sys.argv[2])]
ours = [float(l) for l in open(sys.argv[3]).read().split()[1:]]
assert len(human) == len(py) == len(ours), (len(human), len(py), len(ours))
def r(x, y):
    n = len(x); mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    return sxy / math.sqrt(sum((a - mx) ** 2 for a in x) * sum((b - my) ** 2 for b in y))
theirs, best, loop = json.loads(sys.argv[4]), float(sys.argv[5]), json.loads(sys.argv[7])
same = sum(a == b for a, b in zip(py, ours))
t = theirs["seconds"]
print(f"{sys.argv[6]:38s} {len(human):6d} {r(py, human):9.6f} {r(ours, human):9.6f} {t:9.3f} "
      f"{loop['seconds']:10.4f} {t / loop['seconds']:6.1f}x {best:10.3f} {t / best:6.1f}x"
      f"  ({same} of {len(human)} scores equal)")
PY
done

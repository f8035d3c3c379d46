#!/usr/bin/env bash
# Recommendations side by side on MovieLens 100k (u.data as purchases): `rapport recommend
# evaluate` (per-user 80/20 split, seed 0, ALS 64 factors, 15 iterations) writes its split,
# and the `implicit` library's ALS (same factors, iterations, regularization, seed) is fitted
# and scored on that same split with the same metric definitions (scripts/peer/implicit_als.py).
# Usage: scripts/bench-recommend.sh   (needs ../shared/data; a venv with implicit is made under
# $CARGO_TARGET_DIR/implicit-venv on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
data="${DATA:-../shared/data}/movielens_100k/u.data"
venv="$CARGO_TARGET_DIR/implicit-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q implicit scipy numpy
fi
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# implicit's own advice: its threads, not OpenBLAS's.
export OPENBLAS_NUM_THREADS=1
ours=$("$bin" recommend evaluate "$data" --delimiter tab --no-header --map user=1 --map item=2 \
  --factors 64 --iterations 15 --seed 0 --split-out "$work" --format json 2>/dev/null)
theirs=$("$venv/bin/python" scripts/peer/implicit_als.py "$work" --factors 64 --iterations 15 --seed 0 2>/dev/null)
python3 - "$ours" "$theirs" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"users with held-out items: rapport {a['users']}, implicit {b['users']}")
for m in ["precision_at_10", "recall_at_10", "ndcg_at_10"]:
    print(f"{m:16} rapport {a[m]:.4f}  implicit {b[m]:.4f}  popularity {a['popularity'][m]:.4f}"
          f"  ratio rapport/implicit {a[m] / b[m]:.3f}")
print(f"fit time         rapport {a['fit_seconds']:.3f} s  implicit {b['fit_seconds']:.3f} s"
      f"  ratio implicit/rapport {b['fit_seconds'] / a['fit_seconds']:.2f}x")
PY

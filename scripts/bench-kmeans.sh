#!/usr/bin/env bash
# k-means side by side: `rapport bench kmeans` against scikit-learn's KMeans (lloyd, one
# thread) on the same CSV files, in one run.
#  (a) UCI Online Retail imported into a temporary SQLite file; `rapport report clusters
#      --features rfm --features-out` writes the standardised log RFM matrix it clusters, and
#      both sides fit that file with k = 5 and 10 seeded restarts (quality: inertia ratio).
#  (b) A seeded synthetic 1,000,000 × 8 matrix (six Gaussian clusters of unequal sizes and
#      spreads), one fit per k = 2..10 with 3 restarts each (speed: ours on this machine's
#      cores, scikit-learn on one thread).
#  (c) k chosen automatically on (a)'s matrix by silhouette and by the gap statistic (ours only).
# Usage: scripts/bench-kmeans.sh   (needs ../shared/data; BENCH_DIR keeps files between runs;
# a venv with scikit-learn is made under $CARGO_TARGET_DIR/kmeans-venv on first use)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/target}"
data="${DATA:-../shared/data}"
venv="$CARGO_TARGET_DIR/kmeans-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q scikit-learn threadpoolctl
fi
py="$venv/bin/python"
peer=scripts/peer/sklearn_kmeans.py
cargo build --release -q -p rapport-cli
bin="$CARGO_TARGET_DIR/release/rapport"
work="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$work"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

compare() { # ours theirs
  python3 - "$1" "$2" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"  inertia  rapport {a['inertia']:.6f}  scikit-learn {b['inertia']:.6f}"
      f"  ratio rapport/sklearn {a['inertia'] / b['inertia']:.6f}")
print(f"  fit time rapport {a['seconds']:.3f} s  scikit-learn {b['seconds']:.3f} s"
      f"  ratio sklearn/rapport {b['seconds'] / a['seconds']:.2f}x")
PY
}

echo "== (a) Online Retail, standardised log RFM, k = 5, 10 restarts, seed 0"
db="$work/retail.db"
if [ ! -s "$db" ]; then
  "$bin" --db "$db" import orders "$data/online_retail/online_retail.csv.gz" --currency GBP \
    --map order=InvoiceNo --map sku=StockCode --map quantity=Quantity \
    --map placed_at=InvoiceDate --map unit_price=UnitPrice --map customer=CustomerID \
    --rejects "$work/retail-rejects.csv" --format json >/dev/null
fi
"$bin" --db "$db" report clusters --features rfm --k 5 --restarts 10 --seed 0 --format json \
  --features-out "$work/retail_rfm.csv" >"$work/retail_clusters.json"
echo "  report: $(head -c 400 "$work/retail_clusters.json")..."
ours=$("$bin" bench kmeans "$work/retail_rfm.csv" --k 5 --restarts 10 --seed 0)
theirs=$("$py" "$peer" "$work/retail_rfm.csv" --k 5 --restarts 10 --seed 0)
echo "  rapport:      $ours"
echo "  scikit-learn: $theirs"
compare "$ours" "$theirs"

echo "== (b) synthetic 1,000,000 x 8, k = 2..10, 3 restarts each, seed 0"
big="$work/synth_1m_8.csv"
[ -s "$big" ] || "$py" - "$big" <<'PY'
import sys
import numpy as np
rng = np.random.default_rng(2024)
n, d, c = 1_000_000, 8, 6
centres = rng.normal(0, 3, size=(c, d))
labels = rng.choice(c, size=n, p=[0.3, 0.25, 0.15, 0.12, 0.1, 0.08])
spread = rng.uniform(0.6, 1.6, size=(c, d))
x = centres[labels] + rng.normal(size=(n, d)) * spread[labels]
np.savetxt(sys.argv[1], x, delimiter=",", fmt="%.6f",
           header=",".join(f"f{i}" for i in range(d)), comments="")
PY
echo "  load average before: $(cut -d' ' -f1-3 /proc/loadavg), cores: $(getconf _NPROCESSORS_ONLN)"
ours=$(/usr/bin/time -f "%U %S" -o "$work/ours.cpu" "$bin" bench kmeans "$big" --k-min 2 --k-max 10 --restarts 3 --seed 0)
theirs=$(/usr/bin/time -f "%U %S" -o "$work/theirs.cpu" "$py" "$peer" "$big" --k-min 2 --k-max 10 --restarts 3 --seed 0)
python3 - "$ours" "$theirs" "$(cat "$work/ours.cpu")" "$(cat "$work/theirs.cpu")" <<'PY'
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("   k   inertia rapport   inertia sklearn   ratio     iters r/s   time r/s (s)")
for x, y in zip(a["fits"], b["fits"]):
    print(f"  {x['k']:2d}  {x['inertia']:16.2f}  {y['inertia']:16.2f}  {x['inertia'] / y['inertia']:.6f}"
          f"  {x['iterations']:3d}/{y['iterations']:3d}  {x['seconds']:6.2f} / {y['seconds']:6.2f}")
print(f"  all k: rapport {a['seconds']:.2f} s, scikit-learn (1 thread) {b['seconds']:.2f} s,"
      f" ratio sklearn/rapport {b['seconds'] / a['seconds']:.2f}x")
print(f"  whole process CPU (user sys, incl. reading the CSV): rapport {sys.argv[3]}, scikit-learn {sys.argv[4]}")
PY
echo "  load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== (c) choosing k on Online Retail's standardised log RFM: silhouette and the gap statistic"
echo "   (k = 2..10, 10 restarts, seed 0, both on the same 10,000-row sample; the gap with 10"
echo "   uniform reference sets; no peer: scikit-learn has no gap statistic)"
for criterion in silhouette gap; do
  "$bin" bench kmeans "$work/retail_rfm.csv" --auto --criterion "$criterion" --restarts 10 --seed 0 |
    python3 -c 'import json, sys; a = json.load(sys.stdin); print(f"  {a[\"rule\"]}  ({a[\"seconds\"]:.2f} s)")'
done

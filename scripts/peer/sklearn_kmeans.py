"""The scikit-learn side of `scripts/bench-kmeans.sh`: KMeans on a CSV of numeric features
(a header row), fitted as given, timed like `rapport bench kmeans` (the fit alone), on one
thread (threadpoolctl limits OpenMP and BLAS; the script also sets OMP_NUM_THREADS=1).

python scripts/peer/sklearn_kmeans.py FILE --k 5 --restarts 10 --seed 0
python scripts/peer/sklearn_kmeans.py FILE --k-min 2 --k-max 10 --restarts 3 --seed 0
"""
import argparse
import json
import time

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--k", type=int)
ap.add_argument("--k-min", type=int, default=2)
ap.add_argument("--k-max", type=int, default=10)
ap.add_argument("--restarts", type=int, default=10)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()

t0 = time.time()
x = np.loadtxt(a.file, delimiter=",", skiprows=1, ndmin=2)
read = time.time() - t0
ks = [a.k] if a.k else list(range(a.k_min, a.k_max + 1))
fits = []
total = time.time()
with threadpool_limits(limits=a.threads):
    for k in ks:
        t0 = time.time()
        m = KMeans(n_clusters=k, n_init=a.restarts, random_state=a.seed, algorithm="lloyd").fit(x)
        sizes = sorted(np.bincount(m.labels_, minlength=k).tolist(), reverse=True)
        fits.append({"k": k, "inertia": float(m.inertia_), "iterations": int(m.n_iter_),
                     "sizes": sizes, "seconds": time.time() - t0})
out = {"rows": x.shape[0], "features": x.shape[1], "restarts": a.restarts, "seed": a.seed,
       "threads": a.threads, "sklearn": sklearn.__version__, "read_seconds": read,
       "seconds": time.time() - total}
if a.k:
    out.update(fits[0])
else:
    out["fits"] = fits
print(json.dumps(out))

"""The lifetimes side of `scripts/bench-bgnbd.sh`: BG/NBD fitted to a summary CSV
(id,frequency,recency,T), timed like `rapport bench bgnbd` (the fit alone, best of RUNS).

Run in a venv: pip install "lifetimes==0.11.3" "autograd>=1.7" "setuptools<81" "pandas<3"
then: python scripts/peer/lifetimes_fit.py FILE [RUNS]
"""
import json
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter

path = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
s = pd.read_csv(path)
best, f = float("inf"), None
for _ in range(runs):
    t0 = time.time()
    f = BetaGeoFitter(penalizer_coef=0.0).fit(s["frequency"], s["recency"], s["T"])
    best = min(best, time.time() - t0)
print(json.dumps({"customers": len(s), "seconds": best, "params": f.params_.to_dict()}))

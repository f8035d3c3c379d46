"""The lifetimes side of BENCHMARKS.md's lifetime-value comparison on CDNOW.

Run in a venv: pip install "lifetimes==0.11.3" "autograd>=1.7" "setuptools<81" "pandas<3"
then: python scripts/peer/lifetimes_cdnow.py [path/to/CDNOW_master.txt]
Prints the fitted BG/NBD parameters, predicted and actual holdout repeat purchase days, and
the time of the summary and of the fit (compare with `rapport report clv --calibration-end
1997-09-30 --holdout-end 1998-06-30 --horizon 39` on the imported master file).
"""
import sys
import time

import pandas as pd
from lifetimes import BetaGeoFitter
from lifetimes.utils import calibration_and_holdout_data

path = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/cdnow/CDNOW_master.txt"
t0 = time.time()
tx = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str})
tx["date"] = pd.to_datetime(tx["date"].astype(str), format="%Y%m%d")
# Distinct purchase days, times in weeks: the same histories rapport builds.
s = calibration_and_holdout_data(tx, "customer_id", "date", calibration_period_end="1997-09-30",
                                 observation_period_end="1998-06-30", freq="D", freq_multiplier=7,
                                 monetary_value_col="dollar_value")
t1 = time.time()
f = BetaGeoFitter(penalizer_coef=0.0).fit(s["frequency_cal"], s["recency_cal"], s["T_cal"])
t2 = time.time()
print(f.params_.to_dict())
pred = f.conditional_expected_number_of_purchases_up_to_time(39, s["frequency_cal"], s["recency_cal"], s["T_cal"])
print("predicted", float(pred.sum()), "actual", float(s["frequency_holdout"].sum()), "customers", len(s))
print("summary %.2fs fit %.2fs" % (t1 - t0, t2 - t1))

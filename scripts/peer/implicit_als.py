"""The `implicit` library's ALS on a split written by `rapport recommend evaluate --split-out`,
scored with the same definitions as rapport's (precision@10 = hits / 10, recall@10 = hits /
test items, nDCG@10 over min(10, test items) ideal hits), printed as one JSON object.

Usage: implicit_als.py DIR [--factors 64] [--iterations 15] [--seed 0] [--alpha 1.0]
"""
import argparse
import json
import math
import time

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares


def load(path, cols):
    data = np.loadtxt(path, dtype=np.float64, ndmin=2)
    return data[:, :cols] if len(data) else np.zeros((0, cols))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("--factors", type=int, default=64)
    p.add_argument("--iterations", type=int, default=15)
    p.add_argument("--regularization", type=float, default=0.01)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    train = load(f"{a.dir}/train.tsv", 3)
    test = load(f"{a.dir}/test.tsv", 2)
    users = int(max(train[:, 0].max(), test[:, 0].max() if len(test) else 0)) + 1
    items = int(max(train[:, 1].max(), test[:, 1].max() if len(test) else 0)) + 1
    ui = sp.csr_matrix((train[:, 2].astype(np.float32), (train[:, 0].astype(int), train[:, 1].astype(int))),
                       shape=(users, items))
    model = AlternatingLeastSquares(factors=a.factors, iterations=a.iterations,
                                    regularization=a.regularization, alpha=a.alpha,
                                    random_state=a.seed, calculate_training_loss=False)
    started = time.perf_counter()
    model.fit(ui, show_progress=False)
    fit_seconds = time.perf_counter() - started
    held = {}
    for u, i in test.astype(int):
        held.setdefault(u, set()).add(i)
    gain = [1.0 / math.log2(r + 2) for r in range(10)]
    sums = [0.0, 0.0, 0.0]
    for u, truth in held.items():
        ids, _ = model.recommend(u, ui[u], N=10, filter_already_liked_items=True)
        hits = [r for r, i in enumerate(ids) if i in truth]
        sums[0] += len(hits) / 10
        sums[1] += len(hits) / len(truth)
        sums[2] += sum(gain[r] for r in hits) / sum(gain[: min(10, len(truth))])
    n = max(len(held), 1)
    print(json.dumps({"precision_at_10": sums[0] / n, "recall_at_10": sums[1] / n,
                      "ndcg_at_10": sums[2] / n, "users": len(held), "fit_seconds": fit_seconds}))


if __name__ == "__main__":
    main()

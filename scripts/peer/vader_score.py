#!/usr/bin/env python3
"""The Python reference for `rapport sentiment`: vaderSentiment 3.3.2's compound score of every
text of a VADER ground-truth file (tab separated: id, human mean rating, text), timed over the
scoring loop alone (the import and the lexicon load are not counted).

    vader_score.py FILE SCORES_OUT   -> prints {"seconds": ..., "rows": ...}; writes one score per line
"""
import json, sys, time
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

analyzer = SentimentIntensityAnalyzer()
texts = [line.rstrip("\n").split("\t", 2)[2] for line in open(sys.argv[1], encoding="utf-8")]
best, scores = float("inf"), None
for _ in range(3):
    t = time.perf_counter()
    scores = [analyzer.polarity_scores(text)["compound"] for text in texts]
    best = min(best, time.perf_counter() - t)
with open(sys.argv[2], "w") as f:
    f.writelines(f"{s}\n" for s in scores)
print(json.dumps({"seconds": best, "rows": len(texts)}))

#!/usr/bin/env python3
"""Synthetic feedback for the search benchmark: N items whose texts are real sentences (the VADER
ground-truth snippets and the Olist sample's review comments, English and Portuguese), one or
two per item, spread over 100,000 customers and three years (seeded: the same N gives the
same file).

    scripts/gen-feedback-data.py 1000000 /tmp/fb1m     -> /tmp/fb1m/feedback.csv, words.txt

words.txt lists 300 query words drawn from the texts' vocabulary across frequency ranks (common,
middling and rare words), for the timed searches."""
import collections, csv, datetime, glob, os, random, re, sys

n, out = int(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../shared/data")
texts = []
for f in sorted(glob.glob(f"{here}/vader_groundtruth/*_GroundTruth.txt")):
    texts += [l.rstrip("\n").split("\t", 2)[2] for l in open(f, encoding="utf-8")]
reviews = f"{here}/olist/sample_8135_orders/olist_order_reviews_dataset.csv"
if os.path.exists(reviews):
    texts += [r["review_comment_message"] for r in csv.DictReader(open(reviews, encoding="utf-8"))
              if r.get("review_comment_message")]
rng = random.Random(11)
start = datetime.datetime(2022, 1, 1)
with open(f"{out}/feedback.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "customer", "source", "text", "created_at"])
    for i in range(n):
        text = rng.choice(texts) if rng.random() < 0.7 else rng.choice(texts) + " " + rng.choice(texts)
        at = start + datetime.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        w.writerow([f"F{i}", f"C{rng.randrange(100_000)}", rng.choice(["email", "app", "survey"]),
                    text, at.strftime("%Y-%m-%dT%H:%M:%SZ")])
counts = collections.Counter(w for t in texts for w in re.findall(r"\w+", t.lower()))
ranked = [w for w, _ in counts.most_common()]
picks = ranked[:100] + rng.sample(ranked[100:5000], 100) + rng.sample(ranked[5000:], 100)
open(f"{out}/words.txt", "w").write("\n".join(picks) + "\n")
print(f"{n} items from {len(texts)} texts in {out}; {len(ranked)} distinct words")

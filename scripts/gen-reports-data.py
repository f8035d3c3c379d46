#!/usr/bin/env python3
"""Synthetic company for the report benchmarks: N customers, about M purchase orders over three
years from a heterogeneous purchase process (gamma-distributed order counts, uniform days after a
random first purchase), NPS/CSAT/CES ratings for some customers and support tickets for others.

    scripts/gen-reports-data.py 1000000 10000000 /tmp/r1m

writes orders.csv, feedback.csv and interactions.csv into the directory (seeded: the same
arguments give the same files)."""
import csv, datetime, os, random, sys

n, target, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)
rng = random.Random(7)
start = datetime.datetime(2022, 1, 1, 9, 0, 0)
span = 3 * 365
mean = target / n
prices = ["4.99", "9.99", "14.50", "19.90", "29.00", "49.00", "99.00"]
orders = 0
with open(f"{out}/orders.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["order", "customer", "placed_at", "sku", "quantity", "unit_price"])
    for c in range(n):
        k = max(1, round(rng.gammavariate(0.8, mean / 0.8)))
        first = rng.randrange(span)
        days = [first] + [first + rng.randrange(span - first) for _ in range(k - 1)]
        for d in days:
            orders += 1
            at = start + datetime.timedelta(days=d, minutes=rng.randrange(600))
            w.writerow([f"O{orders}", f"C{c}", at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        f"P{rng.randrange(500)}", 1 + (rng.random() < 0.2), rng.choice(prices)])
fid = 0
with open(f"{out}/feedback.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "customer", "source", "rating", "created_at"])
    for c in range(n):
        for source, share, lo, hi in (("nps", 0.3, 0, 10), ("csat", 0.1, 1, 5), ("ces", 0.05, 1, 7)):
            if rng.random() < share:
                fid += 1
                at = start + datetime.timedelta(days=rng.randrange(span))
                w.writerow([f"F{fid}", f"C{c}", source, rng.randint(lo, hi), at.strftime("%Y-%m-%d")])
tid = 0
with open(f"{out}/interactions.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "customer", "channel", "direction", "subject", "at"])
    for c in range(n):
        if rng.random() < 0.2:
            for _ in range(rng.randint(1, 3)):
                tid += 1
                at = start + datetime.timedelta(days=rng.randrange(span))
                w.writerow([f"T{tid}", f"C{c}", "support", "inbound", "help", at.strftime("%Y-%m-%d")])
print(f"{n} customers, {orders} orders, {fid} ratings, {tid} support tickets in {out}")

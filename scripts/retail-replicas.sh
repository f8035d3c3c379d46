#!/usr/bin/env bash
# Writes UCI Online Retail replicated N times to OUT (CSV with the original header). Replica k
# gets its own invoice ids (prefix "k-") and customer ids (+100000 k), so it is new data.
# Usage: scripts/retail-replicas.sh N OUT   (reads ../shared/data/online_retail)
set -euo pipefail
cd "$(dirname "$0")/.."
replicas="$1"
out="$2"
src=../shared/data/online_retail/online_retail.csv.gz
zcat "$src" | awk -F, -v n="$replicas" 'NR == 1 { header = $0; next } { rows[NR] = $0 }
  END { print header; for (k = 0; k < n; k++) for (i = 2; i <= NR; i++) {
    $0 = rows[i]; split(rows[i], f, ","); line = rows[i]
    sub(/^[^,]*/, k "-" f[1], line)
    if (k > 0 && line ~ /,[0-9]+,[^,]*$/) { m = match(line, /,[0-9]+,[^,]*$/); c = substr(line, m + 1); split(c, cc, ","); line = substr(line, 1, m) (cc[1] + 100000 * k) "," cc[2] }
    print line } }' > "$out"

#!/usr/bin/env bash
# Outbox e-mail throughput: N queued messages sent by `rapport outbox work --once` to the SMTP
# sink of the tests (Python's aiosmtpd on loopback), into a fresh SQLite file.
# Usage: scripts/bench-outbox.sh [N]   (RAPPORT=path/to/rapport; default target/release/rapport)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
rapport="${RAPPORT:-$target/release/rapport}"
scripts/smtp-sink-venv.sh
work="$(mktemp -d)"
trap 'kill "$sink" 2> /dev/null || true; rm -rf "$work"' EXIT
"$rapport" --db "$work/b.db" migrate > /dev/null
# Customers and messages written straight into the schema: the bench times sending only.
python3 - "$work/b.db" "$n" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
now = int(time.time() * 1e6)
for i in range(int(sys.argv[2])):
    cid = c.execute("INSERT INTO customers (external_id, email) VALUES (?, ?)",
                    (f"c{i}", f"c{i}@example.com")).lastrowid
    c.execute("""INSERT INTO outbox (dedupe_key, customer_id, channel, recipient, subject, body,
                 topic, next_attempt_at, created_at) VALUES (?, ?, 'email', ?, ?, ?, 'bench', ?, ?)""",
              (f"bench:{i}", cid, f"c{i}@example.com", f"Hello {i}", "Body text", now, now))
c.commit()
PY
"$target/smtp-sink-venv/bin/python" crates/server/tests/support/smtp_sink.py \
    --out "$work/mail.jsonl" > "$work/sink.out" &
sink=$!
until grep -q PORT "$work/sink.out" 2> /dev/null; do sleep 0.1; done
port=$(awk '/PORT/{print $2}' "$work/sink.out")
start=$(date +%s.%N)
"$rapport" --db "$work/b.db" outbox work --once --smtp-url "smtp://127.0.0.1:$port" \
    --mail-from news@acme.example
end=$(date +%s.%N)
received=$(wc -l < "$work/mail.jsonl")
python3 -c "import sys; n, t = int(sys.argv[1]), float(sys.argv[2]) - float(sys.argv[3]); \
print(f'{n} e-mails received in {t:.2f} s: {n / t:.0f}/s, {t / n * 1000:.1f} ms each')" \
    "$received" "$end" "$start"

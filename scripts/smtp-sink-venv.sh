#!/usr/bin/env bash
# Installs the outbox tests' SMTP sink (Python's aiosmtpd) in a venv beside the build:
# $CARGO_TARGET_DIR/smtp-sink-venv (default ./target). Quiet, and a no-op once installed.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${CARGO_TARGET_DIR:-$PWD/target}/smtp-sink-venv"
if "$venv/bin/python" -c "import aiosmtpd" 2> /dev/null; then
    exit 0
fi
echo "== installing aiosmtpd for the outbox tests in $venv"
mkdir -p "$(dirname "$venv")"
if ! python3 -m venv "$venv" > /dev/null 2>&1; then
    apt-get install -y -q python3-venv > /dev/null
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check aiosmtpd

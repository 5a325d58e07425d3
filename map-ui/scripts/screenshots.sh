#!/usr/bin/env bash
# Screenshots of each view into docs/screenshots/, with Debian's chromium and
# the real binary (built here unless GRIDPATROL_BIN is set).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund
if [ -z "${GRIDPATROL_BIN:-}" ]; then
  (cd .. && cargo build --quiet)
  export GRIDPATROL_BIN="$(cd .. && pwd)/target/debug/gridpatrol"
fi
exec node scripts/screenshots.mjs

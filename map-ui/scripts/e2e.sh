#!/usr/bin/env bash
# End-to-end tests of the map UI: Debian's chromium, driven by playwright-core,
# against the real gridpatrol binary serving the demo data on a temporary
# SQLite file and a free loopback port.
#
#   bash map-ui/scripts/e2e.sh          # lint + unit tests, builds the binary (cargo build), then e2e
#   GRIDPATROL_BIN=/path/to/gridpatrol bash map-ui/scripts/e2e.sh
#
# Needs: Node.js 20.19+ with npm, and `apt-get install -y chromium fonts-noto-cjk`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "e2e: no chromium at ${CHROMIUM_PATH:-/usr/bin/chromium}; install it: apt-get install -y chromium fonts-noto-cjk" >&2
  exit 1
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# The pure parts first (seconds): types, lint, unit tests. E2E_ONLY=1 skips them.
if [ -z "${E2E_ONLY:-}" ]; then
  npm run --silent lint
  npm test --silent
fi
if [ -z "${GRIDPATROL_BIN:-}" ]; then
  # Builds the UI (build.rs) and embeds it; a no-op when nothing changed.
  (cd .. && cargo build --quiet)
  GRIDPATROL_BIN="${CARGO_TARGET_DIR:-$(cd .. && pwd)/target}/debug/gridpatrol"
fi
export GRIDPATROL_BIN
exec node --test --test-concurrency=1 e2e/

#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (PostGIS,
# Chromium and CJK fonts for the map tests, GDAL for the OGC API tests), makes sure PostgreSQL runs,
# then runs cargo test (PostGIS tests included), schemathesis against the
# served OpenAPI document and the map-ui tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgresql-15-postgis-3)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
# GDAL is the GIS client of the OGC API tests (tests/it/ogc_gdal.rs)
command -v ogrinfo >/dev/null || need+=(gdal-bin)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

# Redis holds the rate limit instances share (tests/it/instances.rs and the
# two-instance script)
if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  command -v redis-server >/dev/null || {
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  }
  redis-server --bind 127.0.0.1 --port 6379 --save '' --appendonly no --daemonize yes
  for _ in $(seq 30); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.2; done
fi

# sqlx::test makes a fresh database per test on this server
export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
psql "$DATABASE_URL" -qAtc "select 1" >/dev/null

# the 台账 workbook test opens the xlsx with openpyxl (tests/it/casefile_workbook.rs),
# the evaluation's draft 通报 with python-docx (tests/it/evaluation_api.rs)
if ! target/xlsx-venv/bin/python -c 'import openpyxl, docx' 2>/dev/null; then
  python3 -m venv target/xlsx-venv
  target/xlsx-venv/bin/pip install -q openpyxl python-docx
fi

cargo test --workspace --locked

# the OpenAPI document (written to target/openapi.json by tests/it/openapi.rs)
# must be valid OpenAPI
if [ ! -x target/spec-venv/bin/openapi-spec-validator ]; then
  python3 -m venv target/spec-venv
  target/spec-venv/bin/pip install -q openapi-spec-validator
fi
target/spec-venv/bin/openapi-spec-validator target/openapi.json

# two instances on one PostGIS behind haproxy: shared rate limit, writes
# seen across instances, a rolling restart under load that loses nothing
scripts/two-instances.sh

# the served answers against the served document (schemathesis, bounded:
# about three minutes on two cores)
scripts/schemathesis.sh

if [ -x map-ui/scripts/e2e.sh ]; then
  map-ui/scripts/e2e.sh
fi

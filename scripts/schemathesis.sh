#!/usr/bin/env bash
# The served OpenAPI document against the served answers: starts the binary on
# 127.0.0.1 with the Songjiang demo data on a temporary SQLite file, then runs
# schemathesis (pinned, in target/schemathesis-venv; scripts/schemathesis_hooks.py
# works around a CPython 3.11 bug) on every operation with a
# bounded number of examples and a time bound. Any check that fails (a 5xx, an
# undocumented status, content type or header, an answer off its schema) fails
# the script. Bounded: about three minutes on two cores.
#
#   scripts/schemathesis.sh            # the debug binary (built if missing)
#   GRIDPATROL_BIN=target/release/gridpatrol scripts/schemathesis.sh
#   SCHEMATHESIS_EXAMPLES=50 SCHEMATHESIS_MAX_TIME=600 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

venv=target/schemathesis-venv
version=4.32.5
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $version" ]; then
  "${SCHEMATHESIS_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$version" "hypothesis==6.170.27"
fi

bin=${GRIDPATROL_BIN:-target/debug/gridpatrol}
if [ ! -x "$bin" ]; then
  cargo build -q --locked --bin gridpatrol
fi
bin=$(realpath "$bin")

work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# the demo admin token is written to the working directory; no rate limit,
# so the run measures the contract and not the bucket
(cd "$work" && RUST_LOG=info,sqlx=warn exec "$bin" serve --demo \
  --database-url "sqlite://$work/gp.sqlite" --bind 127.0.0.1:0 \
  --fixtures "$root/fixtures/songjiang" --rate-limit 0 \
  >"$work/serve.log" 2>&1) &
pid=$!

base=
for _ in $(seq 300); do
  base=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$work/serve.log" | head -n1 || true)
  [ -n "$base" ] && [ -s "$work/demo-admin.token" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$work/serve.log" >&2
    echo "schemathesis: the service did not start" >&2
    exit 1
  fi
  sleep 1
done
if [ -z "$base" ]; then
  cat "$work/serve.log" >&2
  echo "schemathesis: the service did not start in 300 s" >&2
  exit 1
fi
echo "schemathesis: service at $base"

status=0
# run in the temporary directory: schemathesis keeps its cache where it runs
st="$root/$venv/bin/schemathesis"
(cd "$work" && SCHEMATHESIS_HOOKS="$root/scripts/schemathesis_hooks.py" \
  "$st" run "$base/api/v1/openapi.json" \
  --url "$base" \
  --header "Authorization: Bearer $(cat "$work/demo-admin.token")" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-15}" \
  --max-time "${SCHEMATHESIS_MAX_TIME:-180}" \
  --workers 2 \
  --request-timeout 60 \
  --seed "${SCHEMATHESIS_SEED:-20261028}" \
  --no-shrink --continue-on-failure \
  --suppress-health-check all \
  --warnings off \
  --report junit --report-junit-path "$root/target/schemathesis-junit.xml" \
  "$@") \
  || status=$?

if [ "$status" -ne 0 ]; then
  echo "schemathesis: failures (the service log follows)" >&2
  grep -E 'ERROR|panicked' "$work/serve.log" | tail -n 20 >&2 || true
fi
exit "$status"

#!/usr/bin/env bash
# The read path under load: the release binary serves the Songjiang demo on
# 127.0.0.1, first on SQLite, then on a fresh PostGIS database, and wrk asks
# for one town's coverage map (GET /api/v1/coverage?scope=town:...) with
# 20 connections on 2 threads for 15 s:
#   uncached   the answer cache off (--read-cache-mb 0): every request computes
#   cached     the answer cache on (the default)
#   + writer   the same while another process uploads a new track every second
#              (each upload moves the data version: the answer is computed again)
# and prints requests per second and the 99th percentile latency of each.
# Target: 500 req/s with p99 < 50 ms on 2 cores, on both stores.
#
#   scripts/bench-read.sh               # both stores
#   STORES=sqlite scripts/bench-read.sh # one
# Tunables: DURATION (15s), CONNECTIONS (20), THREADS (2), TOWN, PORT,
# PG_URL (the PostgreSQL server, postgres://postgres@127.0.0.1:5432).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
# 永丰街道: 2,131 res-10 cells, 1.1 MB of GeoJSON; the uploads walk in it
TOWN=${TOWN:-310117002}
TRACK_LON=${TRACK_LON:-121.1980}
TRACK_LAT=${TRACK_LAT:-31.0185}
PORT=${PORT:-18473}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
STORES=${STORES:-sqlite postgis}
BASE="http://127.0.0.1:$PORT"
URI="/api/v1/coverage?scope=town:$TOWN"

if ! command -v wrk >/dev/null; then
  echo "installing wrk"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

cargo build --release --locked --bin gridpatrol
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/gridpatrol"
FIXTURES="$PWD/fixtures/songjiang"
WORK=$(mktemp -d)
SERVER=
WRITER=
PGDB=

cleanup() {
  [ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null || true
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [ -n "$PGDB" ] && dropdb --if-exists "$PGDB" --maintenance-db="$PG_URL/postgres" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# start URL CACHE_MB: serves the demo (loaded on the first start) and waits
start() {
  (cd "$WORK" && exec "$BIN" serve --demo --fixtures "$FIXTURES" --bind "127.0.0.1:$PORT" \
    --database-url "$1" --rate-limit 0 --read-cache-mb "$2" >>"$WORK/server.log" 2>&1) &
  SERVER=$!
  for _ in $(seq 600); do
    curl -sf "$BASE/health" >/dev/null 2>&1 && [ -s "$WORK/demo-admin.token" ] && return 0
    kill -0 "$SERVER" 2>/dev/null || { tail -20 "$WORK/server.log"; exit 1; }
    sleep 0.5
  done
  echo "the server did not come up"; tail -20 "$WORK/server.log"; exit 1
}

stop() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
}

# a new walk of 60 fixes, 5 s and about 5 m apart, ending now, in the town
# (a new route each time, so a new fingerprint and a new track)
track() {
  awk -v i="$1" -v t0="$(date -u +%s)" -v lon="$TRACK_LON" -v lat="$TRACK_LAT" 'BEGIN {
    print "officer,time,lon,lat"
    for (k = 0; k < 60; k++) {
      printf "bench%02d,%s,%.6f,%.6f\n", i % 50, strftime("%Y-%m-%dT%H:%M:%SZ", t0 - 300 + k * 5, 1),
        lon + k * 0.00005 + (i % 40) * 0.0004, lat + (i % 25) * 0.0003
    }
  }'
}

writer() {
  local i=0 token=$1
  while true; do
    i=$((i + 1))
    track "$i" >"$WORK/track.csv"
    curl -s -o /dev/null -w '%{http_code}\n' -X POST -H "Authorization: Bearer $token" \
      -H 'Content-Type: text/csv' --data-binary @"$WORK/track.csv" \
      "$BASE/api/v1/tracks?name=bench-$i.csv" >>"$WORK/writes.log" || true
    sleep 1
  done
}

# bench STORE LABEL: wrk against the town's coverage, one result line
bench() {
  local token out rps p99
  token=$(cat "$WORK/demo-admin.token")
  curl -sf -o /dev/null -H "Authorization: Bearer $token" "$BASE$URI"
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency \
    -H "Authorization: Bearer $token" "$BASE$URI")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-8s %-20s %10s req/s   p99 %8s   %s\n' "$1" "$2" "$rps" "$p99" \
    "$(grep -E 'Non-2xx|Socket errors' <<<"$out" | tr -s ' ' | paste -sd' ' || true)"
}

run() {
  local store=$1 url=$2 token
  start "$url" 0
  bench "$store" "uncached"
  stop
  start "$url" 64
  bench "$store" "cached"
  token=$(cat "$WORK/demo-admin.token")
  : >"$WORK/writes.log"
  writer "$token" &
  WRITER=$!
  bench "$store" "cached + writer"
  kill "$WRITER"; WRITER=
  echo "         writer: $(grep -c '^201' "$WORK/writes.log") tracks stored, $(grep -vc '^201' "$WORK/writes.log") refused"
  stop
}

echo "GET $URI, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for store in $STORES; do
  case $store in
    sqlite)
      run sqlite "sqlite://$WORK/bench.db" ;;
    postgis)
      PGDB="gp_bench_read_$$"
      createdb "$PGDB" --maintenance-db="$PG_URL/postgres"
      run postgis "$PG_URL/$PGDB" ;;
  esac
  rm -f "$WORK/demo-admin.token"
done

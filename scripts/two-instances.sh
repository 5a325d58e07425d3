#!/usr/bin/env bash
# Two `gridpatrol serve` processes on one PostGIS database behind haproxy,
# as a district runs them: both start at once (the migrations run once,
# under PostgreSQL's advisory lock), the rate limit is shared through Redis,
# a write through one instance is seen in the other's (cached) answers, and
# a rolling restart of each instance in turn under load loses no request:
# wrk reads through the balancer and an uploader writes a track every half
# second; every answer must be a 2xx.
#
# Bounded: about 40 s. Needs PostgreSQL with PostGIS and Redis on
# 127.0.0.1; installs haproxy and wrk from Debian when missing.
# GRIDPATROL_BIN picks the binary (default: the debug build of cargo test).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=${GRIDPATROL_BIN:-$root/target/debug/gridpatrol}
[ -x "$bin" ] || cargo build --locked --bin gridpatrol

need=()
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)

work=$(mktemp -d)
db="gridpatrol_two_$$"
base=$((20000 + $$ % 20000))
lb=$base a=$((base + 1)) b=$((base + 2))
url="postgres://postgres@127.0.0.1:5432/$db"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/a.pid" ] && kill "$(cat "$work/a.pid")" 2>/dev/null || true
  [ -f "$work/b.pid" ] && kill "$(cat "$work/b.pid")" 2>/dev/null || true
  sleep 0.5
  dropdb -h 127.0.0.1 -U postgres --if-exists "$db" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
createdb -h 127.0.0.1 -U postgres "$db"

# start NAME PORT [--demo]: one instance, its pid in $work/NAME.pid
start() {
  local name=$1 port=$2
  shift 2
  (cd "$work" && exec "$bin" --database-url "$url" serve --bind "127.0.0.1:$port" \
    --rate-limit 2000 --rate-burst 10000 --redis redis://127.0.0.1:6379 "$@" \
    >>"$work/$name.log" 2>&1) &
  echo $! >"$work/$name.pid"
}
healthy() {
  # the demo loads first: a minute or more on a busy 2-core machine
  for _ in $(seq 3000); do
    curl -fs "http://127.0.0.1:$1/health" >/dev/null && return 0
    sleep 0.1
  done
  echo "instance on port $1 did not come up:" >&2
  cat "$work"/*.log >&2
  return 1
}
# stop NAME: SIGTERM, then wait until it has finished what it was doing
stop() {
  local pid
  pid=$(cat "$work/$1.pid")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

start a "$a" --demo
start b "$b"
healthy "$a"
healthy "$b"
token=$(cat "$work/demo-admin.token")
auth="Authorization: Bearer $token"

cat >"$work/haproxy.cfg" <<EOF
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout check 3s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response
frontend gridpatrol
  bind 127.0.0.1:$lb
  default_backend instances
backend instances
  balance roundrobin
  option httpchk GET /health
  http-check expect status 200
  default-server inter 300ms fall 2 rise 1
  server a 127.0.0.1:$a check
  server b 127.0.0.1:$b check
EOF
"$haproxy" -q -f "$work/haproxy.cfg" &
pids+=($!)
healthy "$lb"

read_path="/api/v1/coverage/summary?level=town&from=2026-10-01&to=2026-12-01"

# a track through instance a shows in instance b's answer
track() { # track K: a short walk no other K repeats, as CSV
  python3 - "$1" <<'EOF'
import sys, datetime
k = int(sys.argv[1])
t0 = datetime.datetime(2026, 11, 29, 1, 0, tzinfo=datetime.timezone.utc) + datetime.timedelta(minutes=7 * k)
print("officer,time,lon,lat")
for i in range(30):
    t = (t0 + datetime.timedelta(seconds=10 * i)).isoformat()
    print(f"officer{k % 9:02d},{t},{121.2200 + i * 0.0001:.6f},{31.0300 + (k % 40) * 0.0004:.6f}")
EOF
}
before=$(curl -fs -H "$auth" "http://127.0.0.1:$b$read_path")
track 0 | curl -fs -o /dev/null -H "$auth" -H 'Content-Type: text/csv' --data-binary @- \
  "http://127.0.0.1:$a/api/v1/tracks"
# b learns the new data version from PostgreSQL's NOTIFY: within moments
seen=""
for i in $(seq 50); do
  after=$(curl -fs -H "$auth" "http://127.0.0.1:$b$read_path")
  if [ "$before" != "$after" ]; then seen=$i; break; fi
  sleep 0.02
done
if [ -z "$seen" ]; then
  echo "FAIL: a track uploaded through one instance is not seen by the other" >&2
  exit 1
fi
echo "a write through instance a is seen by instance b (read $seen)"

# under load: reads through the balancer, a writer every half second, and
# a rolling restart of b, then of a
wrk -t2 -c8 -d22s -H "$auth" "http://127.0.0.1:$lb/api/v1/tracks?limit=5" >"$work/wrk.txt" &
wrk_pid=$!
(
  k=1
  end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do
    code=$(track "$k" | curl -s -o /dev/null -w '%{http_code}' -H "$auth" \
      -H 'Content-Type: text/csv' --data-binary @- "http://127.0.0.1:$lb/api/v1/tracks")
    echo "$code" >>"$work/writes.txt"
    k=$((k + 1))
    sleep 0.5
  done
) &
writer_pid=$!
sleep 4
stop b
start b "$b"
healthy "$b"
sleep 4
stop a
start a "$a"
healthy "$a"
wait "$writer_pid"
wait "$wrk_pid"

cat "$work/wrk.txt"
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
bad=$(awk '/Non-2xx or 3xx responses/ {print $NF}' "$work/wrk.txt")
errors=$(awk '/Socket errors/ {print}' "$work/wrk.txt")
writes=$(wc -l <"$work/writes.txt")
bad_writes=$(grep -cv '^201$' "$work/writes.txt" || true)
echo "reads: $requests through the balancer, ${bad:-0} not 2xx; writes: $writes, $bad_writes not 201"
if [ -n "${bad:-}" ] || [ -n "$errors" ] || [ "$bad_writes" != 0 ] || [ "${requests:-0}" -eq 0 ]; then
  echo "FAIL: requests were lost during the rolling restart" >&2
  sort "$work/writes.txt" | uniq -c >&2
  grep -h -E "WARN|ERROR" "$work"/a.log "$work"/b.log | tail -20 >&2
  exit 1
fi
echo "two instances: rolling restart under load lost no request"

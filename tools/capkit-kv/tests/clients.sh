#!/usr/bin/env bash
# A real client library against a running cluster: three `capkit-kv serve` processes on
# 127.0.0.1 and redis-py (Debian's python3-redis) connecting, naming its connection, writing and
# reading with SET, GET, MSET, MGET, a pipeline, scanning the keyspace with SCAN and KEYS; then,
# with two nodes killed, the third's UNAVAILABLE seen as the library's ResponseError.
# Usage: clients.sh CAPKIT_KV PRESET
set -euo pipefail
kv=$1
preset=${2:-cp-linearizable}
here=$(dirname "$0")
source "$here/lib.sh"

# The interpreter that has redis-py (scripts/setup installs python3-redis for the system's).
py=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c 'import redis' 2>/dev/null; then
    py=$candidate
    break
  fi
done
[[ -n $py ]] || fail "no python3 with redis-py (Debian's python3-redis; scripts/setup installs it)"

echo "preset $preset, clients $(client_port 0) $(client_port 1) $(client_port 2)"
for i in 0 1 2; do start $i; done
for i in 0 1 2; do wait_ready $i; done
"$py" "$here/clients.py" serve-checks "$(client_port 0)" "$(client_port 1)" || fail "redis-py"

echo "nodes 1 and 2 killed: node 0 alone refuses"
kill -9 "${pids[1]}" "${pids[2]}"
wait_log "$work/node0.log" "node 1 is down"
wait_log "$work/node0.log" "node 2 is down"
"$py" "$here/clients.py" refused "$(client_port 0)" || fail "redis-py against a node alone"
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "node 0 exited with $? after SIGTERM"
echo "PASS"

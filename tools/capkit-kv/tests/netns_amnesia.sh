#!/usr/bin/env bash
# Amnesia with real processes: three `capkit-kv serve` processes without --data, each in its own
# network namespace (netns_lib.sh), under a load that records every operation as a history.
#
#   1. node 0 is cut off: the writes are acknowledged by nodes 1 and 2 alone;
#   2. node 2 is killed (SIGKILL); node 1 is cut off and node 0 put back; node 2 is started
#      again, empty, with the same command: nodes 0 and 2, a quorum of three, hold none of
#      those writes but what node 2 fetches, and node 1, which has them, is out of reach;
#   3. reads on that side;
#   4. every link is healed.
#
# CATCH_UP always (capkit-kv's default): node 2 refuses and answers no peer until it has fetched
# from both others, so in step 3 the side of nodes 0 and 2 refuses (UNAVAILABLE), after the heal
# every node reads the last write, and capkit-check finds the history linearizable. CATCH_UP
# never (the control): node 2 serves at once, the read in step 3 returns the value before the
# acknowledged write, and capkit-check must reject the history.
#
# Needs root for `ip netns` (exits 77 elsewhere; fails when CI=true).
# Usage: netns_amnesia.sh CAPKIT_KV CAPKIT_CHECK PRESET CATCH_UP   (CATCH_UP: always or never)
set -euo pipefail
kv=$1
check=$2
preset=$3
catch_up=$4
here=$(cd "$(dirname "$0")" && pwd)
client=$here/netns_partition.py
skip_code=77

echo "--catch-up $catch_up"
source "$here/netns_lib.sh"
# No anti-entropy: it could bring node 2 the write before the read of step 3 (the control).
for i in 0 1 2; do start_server $i --catch-up "$catch_up" --anti-entropy-ms 0; done
peers_up 2
sees() {  # node peers: until node I sees that many peers (caught up or not)
  in_ns "${nodes[$1]}" python3 "$client" ready --server "$(server "$1")" --peers "$2" --any \
    --timeout 15 || fail "node $1 does not see $2 peers within 15 s"
}
nemesis() {  # what value
  echo "{\"process\": \"nemesis\", \"type\": \"info\", \"f\": \"$1\", \"value\": \"$2\", \"time\": $(now)}" \
    >>"$work/nemesis.jsonl"
}

expect "ok 1" 1 set k 1

echo "load through nodes 1 and 2 (seed $$)"
for i in 1 2; do
  ip netns exec "${nodes[$i]}" python3 "$client" load --server "$(server $i)" --node "$i" \
    --stop "$work/stop$i" --events "$work/load$i.jsonl" --seed $$ --workers 3 &
  pids+=($!)
  load_pid[i]=$!
done
sleep 1

echo "1. node 0 cut off: nodes 1 and 2 acknowledge the writes"
ip -n "$sw" link set n0 down
nemesis start-partition "node 0 alone"
sees 1 1
sees 2 1
expect "ok 2" 1 set k 2
sleep 0.5

echo "2. node 2 killed; node 1 cut off, node 0 back; node 2 started again, empty"
touch "$work/stop2"
kill -9 "${server_pid[2]}"
wait "${server_pid[2]}" 2>/dev/null || true
wait "${load_pid[2]}" || fail "the load through node 2 failed"
nemesis kill "node 2"
ip -n "$sw" link set n1 down
ip -n "$sw" link set n0 up
nemesis start-partition "node 1 alone"
start_server 2 --catch-up "$catch_up" --anti-entropy-ms 0
nemesis start "node 2, empty"
sees 0 1
sees 2 1

echo "3. reads on the side of nodes 0 and 2"
sleep 1.5  # past node 2's quarantine: what keeps it from serving now is node 1's absence
if [[ $catch_up == always ]]; then
  [[ $(stat_of 2 catching_up) == 1 ]] || fail "node 2 stopped catching up without node 1"
  expect "fail UNAVAILABLE*catching up*" 2 get k
  expect "fail UNAVAILABLE*" 0 get k  # node 2 answers no read: no quorum here
else
  expect "ok 1" 0 get k  # stale: 2 was acknowledged before this read began
fi

echo "4. heal"
ip -n "$sw" link set n1 up
nemesis stop-partition "all"
peers_up 2 30  # every node sees both others, and node 2 has caught up
touch "$work/stop1"
wait "${load_pid[1]}" || fail "the load through node 1 failed"
if [[ $catch_up == always ]]; then
  for i in 0 1 2; do expect "ok 2" $i get k; done
  echo "  node 2 fetched $(stat_of 2 catch_up_keys) states, refused $(stat_of 2 recovering_refusals) requests meanwhile"
else
  # The stale read wrote k = 1 back to nodes 0 and 2: a quorum of them keeps answering it until
  # node 1's copy is read, so reads stay stale for a while after the heal.
  for i in 0 1 2; do echo "  node $i get k: $(run $i get k)"; done
fi

echo "stop the servers"
for i in 0 1 2; do kill -TERM "${server_pid[$i]}"; done
for i in 0 1 2; do wait "${server_pid[$i]}" || fail "node $i exited with $? after SIGTERM"; done
pids=()

echo "the history"
merge_history
check_history
if [[ $catch_up == always ]]; then
  ((verdict == 0)) || fail "capkit-check exit $verdict: with catch-up the history must be linearizable"
else
  ((verdict == 1)) || fail "capkit-check exit $verdict: the stale read must make it not linearizable"
fi
echo "PASS"

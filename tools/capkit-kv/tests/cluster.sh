#!/usr/bin/env bash
# Three `capkit-kv serve` processes on 127.0.0.1, driven by redis-cli and capkit-kv's own client:
# quorum writes and reads; node 2 killed with SIGKILL in the middle of a load, every write of the
# load still acknowledged and readable; node 2 restarted empty fetches every key from its peers
# before it counts toward a quorum (and, with that off, gets them back by anti-entropy); garbage on a client port and on a peer port closes only that connection;
# a client beyond --max-clients is refused; SIGTERM stops every server cleanly.
# Usage: cluster.sh CAPKIT_KV PRESET
set -euo pipefail
kv=$1
preset=${2:-cp-linearizable}
source "$(dirname "$0")/lib.sh"

echo "preset $preset, peers $peers, clients $(client_port 0) $(client_port 1) $(client_port 2)"

keys_of() { cli "$1" info keyspace | grep -o 'keys=[0-9]*'; }

# Tombstones go 300 ms after every replica holds them (serial collects its own way). Node 1
# takes at most 8 clients at once.
for i in 0 1 2; do start $i --tombstone-grace-ms 300 $( ((i == 1)) && echo --max-clients 8); done
for i in 0 1 2; do wait_ready $i; done

echo "quorum writes and reads"
[[ $(cli 0 set greeting hello) == OK ]] || fail "SET through node 0"
[[ $(cli 1 get greeting) == hello ]] || fail "GET through node 1"
[[ $("$kv" get greeting --server "127.0.0.1:$(client_port 2)") == hello ]] || fail "capkit-kv get"
"$kv" put greeting2 world --server "127.0.0.1:$(client_port 2)" >/dev/null || fail "capkit-kv put"
[[ $(cli 0 get greeting2) == world ]] || fail "GET after capkit-kv put"

echo "SIGKILL node 2 in the middle of a load through nodes 0 and 1"
for i in $(seq 1 3000); do echo "SET key$i value$i"; done >"$work/load.txt"
(cli 0 <"$work/load.txt" >"$work/load0.out" 2>&1) &
load=$!
sleep 0.05
kill -9 "${pids[2]}"
wait "$load" || true
ok=$(grep -c '^OK$' "$work/load0.out" || true)
[[ $ok == 3000 ]] || fail "$ok of 3000 writes acknowledged while node 2 died: $(grep -v '^OK$' "$work/load0.out" | head -3)"
for i in 1 1377 3000; do
  [[ $(cli 1 get "key$i") == "value$i" ]] || fail "key$i not readable through node 1"
done
wait_log "$work/node0.log" "node 2 is down"

echo "restart node 2 empty, without anti-entropy: it fetches every key before it serves"
start 2 --anti-entropy-ms 0
wait_ready 2  # until it has caught up
want=$(keys_of 0)  # key1..3000, greeting, greeting2
[[ $(keys_of 2) == "$want" ]] || fail "node 2 holds $(keys_of 2) once caught up, node 0 $want"
fetched=$(cli 2 info stats | tr -d '\r' | grep '^catch_up_keys:' | cut -d: -f2)
((fetched >= 3002)) || fail "node 2 counts $fetched keys fetched from its peers"
for i in $(seq 1 3000); do echo "GET key$i"; done | cli 2 >"$work/reads.out"
mismatch=$(paste -d' ' <(seq 1 3000 | sed 's/^/value/') "$work/reads.out" | awk '$1 != $2' | head -3)
[[ -z $mismatch ]] || fail "reads through the restarted node: $mismatch"
echo "  node 2 fetched $fetched states from its peers before it counted toward a quorum"

if [[ $preset == cp-serial ]]; then
  echo "(serial: no anti-entropy; a Paxos register is brought up to date by its next round)"
else
  echo "restart node 2 empty again, serving at once (--catch-up never): anti-entropy brings"
  echo "every key back with no read at all"
  kill -9 "${pids[2]}"
  wait "${pids[2]}" 2>/dev/null || true
  wait_log "$work/node0.log" "node 2 is down"
  start 2 --anti-entropy-ms 200 --tombstone-grace-ms 300 --catch-up never
  wait_ready 2
  want=$(keys_of 0)  # key1..3000, greeting, greeting2
  for _ in $(seq 150); do [[ $(keys_of 2) == "$want" ]] && break; sleep 0.1; done
  [[ $(keys_of 2) == "$want" ]] || fail "node 2 holds $(keys_of 2) after 15 s of anti-entropy, node 0 $want"
  [[ $(cli 2 info stats | grep -o 'requests:[0-9]*') == requests:0 ]] || fail "node 2 coordinated a request"
  for i in 1 1377 3000; do
    [[ $(cli 2 get "key$i") == "value$i" ]] || fail "key$i on node 2 after anti-entropy"
  done
  echo "  node 2 has every key back ($want) from anti-entropy alone"

  echo "a deleted key's tombstones are collected once every replica holds them"
  [[ $(cli 1 del greeting2) == 1 ]] || fail "DEL greeting2"
  for _ in $(seq 150); do [[ $(keys_of 0) == keys=3001 && $(keys_of 1) == keys=3001 ]] && break; sleep 0.1; done
  [[ $(keys_of 0) == keys=3001 && $(keys_of 1) == keys=3001 ]] ||
    fail "after 15 s nodes 0 and 1 hold $(keys_of 0) and $(keys_of 1), not keys=3001"
  # At least one: a tombstone that anti-entropy offered again (from a node that had not taken
  # its purge yet) is taken and collected again.
  [[ $(cli 0 info stats | grep -o 'tombstones_purged:[0-9]*') != tombstones_purged:0 ]] ||
    fail "node 0 counts no tombstone collected"
  [[ -z $(cli 2 get greeting2) ]] || fail "greeting2 is back on node 2"
fi

echo "garbage on a client port and on a peer port closes only that connection"
exec 3<>"/dev/tcp/127.0.0.1/$(client_port 0)"
printf '*2\r\n$3\r\nGET\r\n$-7\r\n' >&3
reply=$(timeout 2 cat <&3 || true)
exec 3>&-
[[ $reply == *"Protocol error"* ]] || fail "no protocol error for a bad bulk length: '$reply'"
exec 3<>"/dev/tcp/127.0.0.1/$(peer_port 0)"
printf 'GET / HTTP/1.1\r\n\r\n' >&3
timeout 2 cat <&3 >/dev/null || true
exec 3>&-
wait_log "$work/node0.log" "closing connection from 127.0.0.1"
[[ $(cli 0 set after garbage) == OK ]] || fail "node 0 stopped serving after garbage"
[[ $(cli 1 get after) == garbage ]] || fail "the write after garbage is not readable"
[[ $(cli 0 info replication | grep -o 'peers_up:[0-9]') == peers_up:2 ]] || fail "peers dropped after garbage"

echo "a client beyond --max-clients is refused in RESP, and clients are served again after"
fds=()
for _ in $(seq 8); do
  exec {fd}<>"/dev/tcp/127.0.0.1/$(client_port 1)"
  fds+=("$fd")
done
reply=$(cli 1 ping 2>&1 || true)
[[ $reply == *"max number of clients reached"* ]] || fail "a ninth client was not refused: '$reply'"
for fd in "${fds[@]}"; do exec {fd}>&-; done
for _ in $(seq 50); do [[ $(cli 1 ping 2>/dev/null) == PONG ]] && break; sleep 0.1; done
[[ $(cli 1 ping) == PONG ]] || fail "node 1 serves no client after the others left"

echo "SIGTERM stops every server cleanly"
for i in 0 1 2; do kill -TERM "${pids[$i]}"; done
for i in 0 1 2; do
  wait "${pids[$i]}" || fail "node $i exited with $? after SIGTERM"
  grep -q "stopped" "$work/node$i.log" || fail "node $i did not say it stopped"
done
pids=()
echo "PASS"

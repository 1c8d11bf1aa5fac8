#!/usr/bin/env bash
# Five `capkit-kv serve` processes on 127.0.0.1 with a hash_ring preset (three copies of each key
# among the five): every key written through one node reads back through every other, and sits
# on exactly three nodes (INFO's key counts add up to 3 x keys). Node 4 is killed with SIGKILL,
# writes go on, and it restarts empty: anti-entropy among each key's owners (and, for
# ring-ap-hinted, the hints its fallbacks kept) give it back its share with no read, 3 x keys in
# all again. A ring of two nodes (fewer than N) is refused with exit 2.
# Usage: ring.sh CAPKIT_KV [PRESET]   (ring-ap-hinted, the default, or ring-strong)
set -euo pipefail
kv=$1
preset=${2:-ring-ap-hinted}
kv_nodes=5
here=$(dirname "$0")
source "$here/lib.sh"
keys=200

echo "preset $preset on $nodes nodes, peers $peers"
held() {  # the keys every live node holds, added up
  local sum=0 n k
  for n in "$@"; do
    k=$(cli "$n" info keyspace | tr -d '\r' | sed -n 's/^db0:keys=\([0-9]*\).*/\1/p')
    sum=$((sum + ${k:-0}))
  done
  echo "$sum"
}
write() {  # node first last: SET keyI vI, answered OK each
  local ok
  ok=$(for ((k = $2; k <= $3; k++)); do echo "SET key$k v$k"; done | cli "$1" | grep -c '^OK$' || true)
  ((ok == $3 - $2 + 1)) || fail "only $ok of $(($3 - $2 + 1)) writes through node $1 answered OK"
}
wait_held() {  # total nodes...: until the live nodes hold `total` keys, 20 s at most
  local want=$1
  shift
  for _ in $(seq 200); do (($(held "$@") == want)) && return 0; sleep 0.1; done
  fail "the nodes hold $(held "$@") keys, not $want"
}

for ((i = 0; i < nodes; i++)); do start $i --anti-entropy-ms 200; done
for ((i = 0; i < nodes; i++)); do wait_ready $i; done
line=$(cli 3 info server | tr -d '\r' | grep '^placement:')
[[ $line == "placement:hash_ring M=5" ]] || fail "INFO says '$line'"

echo "$keys keys through node 0: each read back through every node, and on three nodes"
write 0 0 $((keys - 1))
for k in 0 17 99 $((keys - 1)); do
  for ((i = 0; i < nodes; i++)); do
    [[ $(cli $i get key$k) == v$k ]] || fail "node $i reads key$k as '$(cli $i get key$k)'"
  done
done
wait_held $((3 * keys)) 0 1 2 3 4
echo "  $(held 0 1 2 3 4) copies"

echo "SIGKILL node 4; $keys more keys through node 1; node 4 back empty"
kill -9 "${pids[4]}"
wait "${pids[4]}" 2>/dev/null || true
for _ in $(seq 50); do cli 1 info replication | grep -q "peers_up:3" && break; sleep 0.1; done
write 1 $keys $((2 * keys - 1))
before=$(held 0 1 2 3)
start 4 --anti-entropy-ms 200
wait_ready 4
wait_held $((3 * 2 * keys)) 0 1 2 3 4
echo "  the survivors held $before, now all five hold $(held 0 1 2 3 4) copies; node 4 $(held 4)"
(($(held 4) > 0)) || fail "node 4 got nothing back"
[[ $(cli 4 info stats | tr -d '\r' | grep '^requests:') == "requests:0" ]] ||
  fail "node 4 coordinated requests: $(cli 4 info stats | grep '^requests:')"

echo "a ring of two nodes, below N=3, is refused"
code=0
out=$("$kv" serve --id 0 --listen 127.0.0.1:0 --client 127.0.0.1:0 \
  --peers "0=127.0.0.1:1,1=127.0.0.1:2" --preset "$preset" 2>&1) || code=$?
[[ $code == 2 && $out == *"hash_ring of 3 to 64 nodes"* ]] || fail "exit $code: $out"
echo "PASS"

#!/usr/bin/env bash
# A real network partition: three `capkit-kv serve` processes, each in its own network namespace,
# joined by veth pairs to a bridge in a fourth ("switch") namespace. Clients in each namespace
# record every operation as a history (netns_partition.py); node 2's link is cut in the switch
# namespace for a few seconds under load, then healed.
#
# - CP presets: the minority refuses with UNAVAILABLE once its failure detector sees the cut,
#   the majority keeps serving, every node serves after the heal, and capkit-check finds the
#   whole history linearizable.
# - AP presets: both sides answer during the cut; a read on the minority after a write
#   acknowledged by the majority returns the older value, so capkit-check must say not
#   linearizable; after the heal a write made on the minority alone reaches the majority's
#   copies with nobody reading it (anti-entropy), a write after the heal reaches the minority's
#   copy too, and once every key has been read the nodes agree on all of them.
#
# Needs root (or CAP_NET_ADMIN and CAP_SYS_ADMIN) for `ip netns`; exits 77 (skipped) where
# namespaces cannot be made, and fails instead when CI=true.
# Usage: netns_partition.sh CAPKIT_KV CAPKIT_CHECK PRESET MODE   (MODE: cp or ap)
set -euo pipefail
kv=$1
check=$2
preset=$3
mode=$4
here=$(cd "$(dirname "$0")" && pwd)
client=$here/netns_partition.py
skip_code=77
cut_seconds=${CUT_SECONDS:-4}  # how long node 2 stays cut off

skip() {
  echo "SKIP: $*"
  if [[ ${CI:-} == true ]]; then
    echo "FAIL: CI=true, where the partition test must run"
    exit 1
  fi
  exit $skip_code
}

# Namespaces and interfaces carry this test's PID, so parallel runs never meet. The addresses
# live only inside these namespaces (no route leads there from outside), so the subnet cannot
# clash with the machine's own networks either.
tag=ckp$$
sw=$tag-sw
nodes=("$tag-n0" "$tag-n1" "$tag-n2")
subnet=10.213.77
addr() { echo "$subnet.$(($1 + 1))"; }
peer_port=7400
client_port=6400
made=()
pids=()
work=$(mktemp -d)

cleanup() {
  local rc=$? p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for ns in "${made[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  if [[ -n ${KEEP_WORK:-} ]] && ((rc != skip_code)); then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL: $*"
  for i in 0 1 2; do
    [[ -f $work/node$i.log ]] && { echo "--- node $i"; tail -15 "$work/node$i.log"; }
  done
  exit 1
}

command -v ip >/dev/null || skip "iproute2's ip is not installed (scripts/setup installs it)"
command -v python3 >/dev/null || skip "python3 is not installed (scripts/setup installs it)"

add_ns() {
  local err
  err=$(ip netns add "$1" 2>&1) || {
    ip netns del "$1" 2>/dev/null || true
    skip "cannot create a network namespace as uid $(id -u) (needs root, or CAP_NET_ADMIN and CAP_SYS_ADMIN): $err"
  }
  made+=("$1")
}
# Foreground only: started with &, a function would be a subshell whose PID is not the
# command's. Background processes use `ip netns exec` directly, which execs the command.
in_ns() {  # namespace command...
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

echo "preset $preset ($mode); namespaces $sw ${nodes[*]}; subnet $subnet.0/24"
add_ns "$sw"
err=$(ip -n "$sw" link add br0 type bridge 2>&1) || skip "cannot create a bridge: $err"
ip -n "$sw" link set br0 up
ip -n "$sw" link set lo up
for i in 0 1 2; do
  add_ns "${nodes[$i]}"
  err=$(ip -n "${nodes[$i]}" link add eth0 type veth peer name "n$i" netns "$sw" 2>&1) ||
    skip "cannot create a veth pair: $err"
  ip -n "$sw" link set "n$i" master br0
  ip -n "$sw" link set "n$i" up
  ip -n "${nodes[$i]}" addr add "$(addr $i)/24" dev eth0
  ip -n "${nodes[$i]}" link set eth0 up
  ip -n "${nodes[$i]}" link set lo up
done

peers="0=$(addr 0):$peer_port,1=$(addr 1):$peer_port,2=$(addr 2):$peer_port"
server() { echo "$(addr "$1"):$client_port"; }
for i in 0 1 2; do
  # Plain TCP (--insecure on these non-loopback addresses): partitions are the subject here;
  # kv.tls covers TLS.
  ip netns exec "${nodes[$i]}" "$kv" serve --id "$i" --listen "$(addr $i):$peer_port" \
    --client "$(server $i)" --peers "$peers" --preset "$preset" --insecure \
    --peer-timeout-ms 1000 --request-timeout-ms 1000 >"$work/node$i.log" 2>&1 &
  pids+=($!)
  server_pid[i]=$!
done
peers_up() {  # want [seconds]: until every node sees that many peers (2 together, or the cut)
  local i want
  for i in 0 1 2; do
    want=$1
    [[ $1 == cut ]] && { ((i == 2)) && want=0 || want=1; }
    kill -0 "${server_pid[$i]}" 2>/dev/null || fail "node $i is not running"
    in_ns "${nodes[$i]}" python3 "$client" ready --server "$(server $i)" --peers "$want" \
      --timeout "${2:-15}" || fail "node $i does not see $want peers within ${2:-15} s"
  done
}
peers_up 2

# One scripted operation through node I, recorded as process 900+I; prints its outcome.
run() {  # node op args...
  local i=$1
  shift
  in_ns "${nodes[$i]}" python3 "$client" "do" --server "$(server "$i")" --events "$work/scripted.jsonl" \
    --process $((900 + i)) "$@"
}
expect() {  # what node op args...: the outcome must be `what` (a glob)
  local want=$1 got
  shift
  got=$(run "$@")
  echo "  node $1 $2 ${*:3}: $got"
  # shellcheck disable=SC2053 # `want` is a glob on purpose
  [[ $got == $want ]] || fail "node $1: $2 ${*:3} answered '$got', expected '$want'"
}
now() { python3 "$client" now; }
stat_of() {  # node name: a counter of the node's INFO stats
  in_ns "${nodes[$1]}" python3 "$client" stat --server "$(server "$1")" "$2"
}
nemesis() {  # what time: the cut and the heal, in the history as Jepsen writes them
  echo "{\"process\": \"nemesis\", \"type\": \"info\", \"f\": \"$1\", \"value\": \"node 2\", \"time\": $2}" \
    >>"$work/nemesis.jsonl"
}

echo "before the cut"
expect "ok 1" 0 set stale 1
for _ in $(seq 50); do [[ $(run 2 get stale) == "ok 1" ]] && break; sleep 0.05; done
expect "ok 1" 2 get stale

echo "load through every node (seed $$)"
for i in 0 1 2; do
  ip netns exec "${nodes[$i]}" python3 "$client" load --server "$(server $i)" --node "$i" \
    --stop "$work/stop" --events "$work/load$i.jsonl" --seed $$ &
  pids+=($!)
  load_pid[i]=$!
done
sleep 1.5

echo "cut node 2 off ($cut_seconds s)"
ip -n "$sw" link set n2 down
t_cut=$(now)
nemesis start-partition "$t_cut"
peers_up cut  # every failure detector has seen it
t_seen=$(now)
echo "  seen by every node after $(((t_seen - t_cut) / 1000000)) ms"
expect "ok 2" 0 set stale 2
if [[ $mode == cp ]]; then
  expect "fail UNAVAILABLE*" 2 get stale
  expect "fail UNAVAILABLE*" 2 set only2 5
  expect "fail UNAVAILABLE*" 2 set split 3
  expect "fail UNAVAILABLE*" 2 set split2 7
else
  expect "ok 1" 2 get stale  # stale: the majority acknowledged 2 before this read began
  expect "ok 5" 2 set only2 5
  expect "ok 3" 2 set split 3
  expect "ok 7" 2 set split2 7
fi
expect "ok 4" 0 set split 4
expect "ok 8" 0 set split2 8
sleep "$(python3 -c "print(max(0.5, $cut_seconds - ($(now) - $t_cut) / 1e9))")"

echo "heal"
t_heal=$(now)
ip -n "$sw" link set n2 up
nemesis stop-partition "$t_heal"
# The transport keeps its connections through the cut, so it hears the other side again when
# the kernel retransmits; TCP's retransmission timeout doubled meanwhile.
peers_up 2 $((15 + 2 * cut_seconds))
t_up=$(now)
echo "  every node sees every peer again after $(((t_up - t_heal) / 1000000)) ms"
sleep 1.5
touch "$work/stop"
for i in 0 1 2; do wait "${load_pid[$i]}" || fail "the load through node $i failed"; done

echo "after the heal, load stopped"
if [[ $mode == ap ]]; then
  # Anti-entropy (a Merkle comparison with the next peer every second, capkit-kv's default)
  # brings what only the minority took to the majority without anyone reading it there. Once
  # nodes 0 and 2 have each started two rounds since now (so each has compared with both peers),
  # node 0's own copy, which a read at R=1 answers from, holds it.
  declare -A rounds_at=()
  for i in 0 2; do rounds_at[$i]=$(stat_of $i anti_entropy_rounds); done
  for _ in $(seq 300); do
    done_both=yes
    for i in 0 2; do
      (($(stat_of $i anti_entropy_rounds) >= ${rounds_at[$i]} + 2)) || done_both=""
    done
    [[ -n $done_both ]] && break
    sleep 0.05
  done
  [[ -n $done_both ]] || fail "nodes 0 and 2 did not run two anti-entropy rounds each in 15 s"
  expect "ok 5" 0 get only2
  echo "  node 0 took $(stat_of 0 anti_entropy_keys) key(s) from anti-entropy"
else
  # The minority refused the write: there is nothing to repair.
  expect "ok nil" 0 get only2
fi
# A write after the heal goes to every replica and wins there (a later stamp from the same
# clock), so a key written on both sides converges without a read: node 2's first read of
# split2 since the cut sees it.
expect "ok 9" 1 set split2 9
expect "ok 9" 2 get split2
keys="stale only2 split split2 k0 k1 k2 k3 k4 k5"
agree=""
for round in 1 2 3 4 5 6 7 8 9 10; do
  declare -A seen=()
  agree=yes
  for key in $keys; do
    for i in 0 1 2; do seen[$key.$i]=$(run $i get "$key"); done
    [[ ${seen[$key.0]} == ok* && ${seen[$key.0]} == "${seen[$key.1]}" &&
      ${seen[$key.0]} == "${seen[$key.2]}" ]] || agree=""
  done
  # A linearizable store agrees at the first read; an AP one once its reads repaired the rest.
  [[ -n $agree || $mode == ap ]] || fail "nodes disagree after the heal on a linearizable preset: $(declare -p seen)"
  [[ -n $agree ]] && break
  sleep 0.2
done
[[ -n $agree ]] || fail "nodes still disagree after $round rounds of reads: $(declare -p seen)"
echo "  every node agrees on every key after $round round(s) of reads"
[[ ${seen[stale.0]} == "ok 2" ]] || fail "stale reads '${seen[stale.0]}', not the acknowledged 2"
[[ ${seen[split2.0]} == "ok 9" ]] || fail "split2 reads '${seen[split2.0]}', not the last write, 9"
if [[ $mode == cp ]]; then
  [[ ${seen[only2.0]} == "ok nil" ]] || fail "only2 reads '${seen[only2.0]}': the refused write took effect"
  [[ ${seen[split.0]} == "ok 4" ]] || fail "split reads '${seen[split.0]}', not the majority's 4"
else
  [[ ${seen[only2.0]} == "ok 5" ]] || fail "only2 reads '${seen[only2.0]}' after read repair, not 5"
  [[ ${seen[split.0]} == "ok 3" || ${seen[split.0]} == "ok 4" ]] ||
    fail "split reads '${seen[split.0]}', neither side's write"
  echo "  split resolved to ${seen[split.0]#ok } (3: the minority's write, 4: the majority's)"
fi

echo "stop the servers"
for i in 0 1 2; do kill -TERM "${server_pid[$i]}"; done
for i in 0 1 2; do
  wait "${server_pid[$i]}" || fail "node $i exited with $? after SIGTERM"
done
pids=()

echo "the history"
python3 "$client" merge "$work/history.jsonl" "$work"/load*.jsonl "$work/scripted.jsonl" \
  "$work/nemesis.jsonl"
echo "  $(wc -l <"$work/history.jsonl") events"
# Under serial presets (CASPaxos) two proposers on one key can make each other's round fail
# after its accept went out, partition or not: TIMEOUT, as docs/capkit-kv.md says. A few of
# those are the protocol working; a quorum refused (UNAVAILABLE) is still not allowed.
allow=0
[[ $preset == *serial* ]] && allow=0.05
python3 "$client" check --mode "$mode" --history "$work/history.jsonl" --minority 2 \
  --cut "$t_cut" --seen "$t_seen" --heal "$t_heal" --up "$t_up" --allow-timeouts "$allow" ||
  fail "the workload around the partition"
set +e
"$check" --timeout 30 "$work/history.jsonl" >"$work/check.out" 2>&1
verdict=$?
set -e
head -12 "$work/check.out" | sed 's/^/  /'
if [[ $mode == cp ]]; then
  ((verdict == 0)) || fail "capkit-check exit $verdict: the history of a CP preset must be linearizable"
else
  # The stale read above makes any history of this run non-linearizable.
  ((verdict == 1)) || fail "capkit-check exit $verdict: the stale read must make it not linearizable"
  grep -vE '"process": 90[0-9],' "$work/history.jsonl" >"$work/workload.jsonl"
  echo "  the load alone: $("$check" --timeout 30 "$work/workload.jsonl" 2>&1 | head -1) (not asserted: stale reads there depend on timing)"
fi
echo "PASS"

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

echo "mode $mode"
source "$here/netns_lib.sh"
for i in 0 1 2; do start_server $i; done
peers_up 2

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
merge_history
# Under serial presets (CASPaxos) two proposers on one key can make each other's round fail
# after its accept went out, partition or not: TIMEOUT, as docs/capkit-kv.md says. A few of
# those are the protocol working; a quorum refused (UNAVAILABLE) is still not allowed.
allow=0
[[ $preset == *serial* ]] && allow=0.05
python3 "$client" check --mode "$mode" --history "$work/history.jsonl" --minority 2 \
  --cut "$t_cut" --seen "$t_seen" --heal "$t_heal" --up "$t_up" --allow-timeouts "$allow" ||
  fail "the workload around the partition"
check_history
if [[ $mode == cp ]]; then
  ((verdict == 0)) || fail "capkit-check exit $verdict: the history of a CP preset must be linearizable"
else
  # The stale read above makes any history of this run non-linearizable.
  ((verdict == 1)) || fail "capkit-check exit $verdict: the stale read must make it not linearizable"
  grep -vE '"process": 90[0-9],' "$work/history.jsonl" >"$work/workload.jsonl"
  echo "  the load alone: $("$check" --timeout 30 "$work/workload.jsonl" 2>&1 | head -1) (not asserted: stale reads there depend on timing)"
fi
echo "PASS"

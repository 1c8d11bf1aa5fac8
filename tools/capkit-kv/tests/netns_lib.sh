#!/usr/bin/env bash
# What the network-namespace tests share (sourced by netns_partition.sh and netns_amnesia.sh):
# three namespaces for the nodes, joined by veth pairs to a bridge in a fourth ("switch"), the
# servers started in them, cleanup, and waiting until every node sees its peers. The sourcing
# script sets kv, preset, client (netns_partition.py) and skip_code first; `ip -n "$sw" link set
# nI down` cuts node I off, `up` heals it.

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

echo "preset $preset; namespaces $sw ${nodes[*]}; subnet $subnet.0/24"
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
start_server() {  # node [serve options...]: starts (or restarts) node I in its namespace
  local i=$1
  shift
  # Plain TCP (--insecure on these non-loopback addresses): partitions are the subject here;
  # kv.tls covers TLS.
  ip netns exec "${nodes[$i]}" "$kv" serve --id "$i" --listen "$(addr $i):$peer_port" \
    --client "$(server $i)" --peers "$peers" --preset "$preset" --insecure \
    --peer-timeout-ms 1000 --request-timeout-ms 1000 "$@" >>"$work/node$i.log" 2>&1 &
  pids+=($!)
  server_pid[i]=$!
}
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

# Every recorded event (the loads, the scripted operations, the nemesis), in time order, into
# $work/history.jsonl.
merge_history() {
  python3 "$client" merge "$work/history.jsonl" "$work"/load*.jsonl "$work/scripted.jsonl" \
    "$work/nemesis.jsonl"
  echo "  $(wc -l <"$work/history.jsonl") events"
}
# capkit-check ($check) on that history: its exit code in $verdict (0 linearizable, 1 not), its
# first lines shown.
check_history() {
  set +e
  "$check" --timeout 30 "$work/history.jsonl" >"$work/check.out" 2>&1
  verdict=$?
  set -e
  head -12 "$work/check.out" | sed 's/^/  /'
}

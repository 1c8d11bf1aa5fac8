#!/usr/bin/env bash
# Three `capkit-kv serve --data DIR --sync always` processes on 127.0.0.1 killed together with
# SIGKILL under a load of writes, then restarted on their directories: every write acknowledged
# before the kill must be readable after the restart (crash.py records them and checks).
# Also: INFO's storage line; a directory held by a running node, one that is not a capkit store,
# one whose records another preset wrote, a bad --sync and --sync without --data all exit 2 with
# a sentence.
# Usage: crash.sh CAPKIT_KV PRESET [SYNC]   (SYNC: always, the default, or group:MS)
# NO_DATA=1 restarts the nodes without --data: the check must then fail (a control, run by hand).
set -euo pipefail
kv=$1
preset=${2:-cp-linearizable}
sync=${3:-always}
here=$(dirname "$0")
source "$here/lib.sh"
clients=6  # two per node
keys=40    # per client

echo "preset $preset, peers $peers, clients $(client_port 0) $(client_port 1) $(client_port 2)"

with_data() {  # node
  [[ ${NO_DATA:-0} == 1 && ${restarted:-0} == 1 ]] || echo --data "$work/data$1" --sync "$sync"
}
refused() {  # expected-sentence serve-options...: serve must exit 2 saying it
  local want=$1 out code=0
  shift
  out=$("$kv" serve --id 0 --listen 127.0.0.1:0 --client 127.0.0.1:0 --peers "$peers" \
    --preset "$preset" "$@" 2>&1) || code=$?
  [[ $code == 2 ]] || fail "serve $* exited $code, not 2: $out"
  [[ $out == *"$want"* ]] || fail "serve $* did not say '$want': $out"
  echo "  refused: ${out:0:160}"
}

for i in 0 1 2; do start $i $(with_data $i); done
for i in 0 1 2; do wait_ready $i; done
line=$(cli 0 info server | tr -d '\r' | grep '^storage:')
[[ $line == "storage:rocksdb sync=$sync dir=$work/data0" ]] || fail "INFO says '$line'"
incarnation() { cli "$1" info server | tr -d '\r' | grep '^incarnation:' | cut -d: -f2; }
[[ $(incarnation 0) == 0 ]] || fail "a first run on a new directory is incarnation $(incarnation 0), not 0"

echo "what serve refuses"
refused "$work/data0: cannot open" --data "$work/data0"  # node 0 holds it
mkdir "$work/junk" && echo "not a manifest" >"$work/junk/CURRENT"
refused "$work/junk: cannot open" --data "$work/junk"
refused "--sync: 'sometimes' is not always, periodic:MS, group:MS" --data "$work/other" --sync sometimes
refused "--sync never needs --data DIR" --sync never
touch "$work/file"
refused "cannot create the directory" --data "$work/file/data"

echo "$clients clients write their own keys with increasing values; SIGKILL all three under load"
load_pids=()
for c in $(seq 0 $((clients - 1))); do
  python3 "$here/crash.py" load --port "$(client_port $((c % 3)))" --client "$c" --keys "$keys" \
    --acked "$work/acked$c" >"$work/load$c.out" 2>&1 &
  load_pids+=($!)
done
acked() { cat "$work"/acked* 2>/dev/null | grep -vc "^sent" || true; }
for _ in $(seq 100); do (($(acked) >= 3000)) && break; sleep 0.1; done
(($(acked) >= 300)) || fail "only $(acked) writes acknowledged after 10 s of load"
kill -9 "${pids[0]}" "${pids[1]}" "${pids[2]}"
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
for p in "${load_pids[@]}"; do wait "$p" || fail "a load client failed: $(cat "$work"/load*.out)"; done
cat "$work"/load*.out
echo "  $(acked) writes acknowledged before the kill"
for c in $(seq 0 $((clients - 1))); do
  [[ $(grep -vc '^sent' "$work/acked$c") -gt 0 ]] || fail "client $c had no write acknowledged"
done

echo "restart all three on their directories"
restarted=1
for i in 0 1 2; do start $i $(with_data $i); done
for i in 0 1 2; do wait_ready $i; done
for i in 0 1 2; do
  recovered=$(grep -o 'opened with [0-9]* keys recovered' "$work/node$i.log" | tail -1 | grep -o '[0-9]*' || true)
  [[ ${NO_DATA:-0} == 1 || ${recovered:-0} -gt 0 ]] || fail "node $i recovered ${recovered:-no} keys"
  echo "  node $i recovered ${recovered:-0} keys"
done
# The store counts runs: no request id of the killed run is used again.
[[ ${NO_DATA:-0} == 1 || $(incarnation 1) == 1 ]] || fail "node 1 restarted as incarnation $(incarnation 1), not 1"

# W=1 (ap-lww): a write is acknowledged once its coordinator stored it, so read it there (R=1
# answers from that copy); quorum presets: through another node than the one that took it.
loads=()
for c in $(seq 0 $((clients - 1))); do
  if [[ $preset == ap-* ]]; then via=$((c % 3)); else via=$(((c + 1) % 3)); fi
  loads+=(--load "$c:$(client_port $via):$work/acked$c")
done
python3 "$here/crash.py" check --keys "$keys" "${loads[@]}" || fail "acknowledged writes were lost"

[[ $(cli 0 set greeting hello) == OK ]] || fail "SET greeting after the restart"

echo "SIGTERM stops every server cleanly"
for i in 0 1 2; do kill -TERM "${pids[$i]}"; done
for i in 0 1 2; do wait "${pids[$i]}" || fail "node $i exited with $? after SIGTERM"; done
pids=()

echo "a directory written under another preset's state type is refused, naming the record"
if [[ $preset == cp-serial ]]; then other=ap-lww; else other=cp-serial; fi
preset=$other refused "is corrupt: the state does not decode" --data "$work/data0"
echo "PASS"

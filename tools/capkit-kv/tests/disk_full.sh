#!/usr/bin/env bash
# Fail-stop on a storage write that fails: one `capkit-kv serve --data DIR` (ap-lww, W=1, so it
# acknowledges alone) on a 1 MiB tmpfs, written with 20 KB values until the disk is full. The node
# must exit 1 with the storage error's sentence, having answered nothing it did not store; on a
# larger disk it restarts on the same directory and every write it acknowledged reads back.
# Needs root (mount): exits 77 (skipped) without it, unless CI=true.
# Usage: disk_full.sh CAPKIT_KV [SYNC]
set -euo pipefail
kv=$1
sync=${2:-always}
here=$(dirname "$0")
source "$here/lib.sh"
disk=$work/disk
mkdir "$disk"
if ! mount -t tmpfs -o size=1m capkit-kv-test "$disk" 2>/dev/null; then
  echo "cannot mount a tmpfs here (not root?): skipped"
  [[ ${CI:-} == true ]] && exit 1
  exit 77
fi
trap 'umount "$disk" 2>/dev/null || true; cleanup' EXIT

start() {
  "$kv" serve --id 0 --listen "127.0.0.1:$(peer_port 0)" --client "127.0.0.1:$(client_port 0)" \
    --peers "$peers" --preset ap-lww --data "$disk/data" --sync "$sync" >>"$work/node0.log" 2>&1 &
  pids[0]=$!
}
ready() {
  for _ in $(seq 100); do
    [[ $(redis-cli -p "$(client_port 0)" ping 2>/dev/null) == PONG ]] && return 0
    sleep 0.1
  done
  fail "node 0 did not come up"
}

echo "write 20 KB values until the 1 MiB disk is full (sync $sync)"
start
ready
python3 "$here/crash.py" fill --port "$(client_port 0)" --size 20000 --acked "$work/acked"
code=0
wait "${pids[0]}" || code=$?
pids=()
[[ $code == 1 ]] || fail "the node exited $code on a full disk, not 1"
grep -q "error node 0: stopping at once, answering nothing more: .*No space left on device" \
  "$work/node0.log" || fail "the node did not log why it stopped"
grep "stopping at once" "$work/node0.log" | cut -c1-220
n=$(wc -l <"$work/acked")
((n > 0)) || fail "no write was acknowledged before the disk filled"

echo "restart on a larger disk: the $n acknowledged writes read back"
mount -o remount,size=8m "$disk"
start
ready
python3 "$here/crash.py" check-fill --port "$(client_port 0)" --size 20000 --acked "$work/acked" ||
  fail "acknowledged writes were lost"
kill -TERM "${pids[0]}"
wait "${pids[0]}" || fail "node 0 exited with $? after SIGTERM"
pids=()
echo "PASS"

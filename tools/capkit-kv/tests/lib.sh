# Sourced by capkit-kv's loopback process tests (cluster.sh, tls.sh, ring.sh): a scratch folder
# and the servers started (in pids[node]), both gone on any exit; fail() with each node's last
# log lines; 2 x $nodes free ports from the kernel (peer ports of nodes 0 .. nodes-1, then their
# client ports; 3 nodes unless the caller sets $kv_nodes) and the --peers list; wait_log() for a
# line to appear; and, for plain-TCP tests that set $kv and $preset, start() a node, cli() to
# talk to it with redis-cli, wait_ready() until it serves.
nodes=${kv_nodes:-3}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for ((i = 0; i < nodes; i++)); do [[ -f $work/node$i.log ]] && { echo "--- node $i"; tail -20 "$work/node$i.log"; }; done
  exit 1
}

read -r -a ports < <(python3 -c '
import socket, sys
ss = [socket.socket() for _ in range(2 * int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$nodes")
peer_port() { echo "${ports[$1]}"; }
client_port() { echo "${ports[$(($1 + nodes))]}"; }
peers=""
for ((i = 0; i < nodes; i++)); do peers+="${peers:+,}$i=127.0.0.1:$(peer_port $i)"; done

wait_log() {  # file text
  for _ in $(seq 50); do grep -q -- "$2" "$1" && return 0; sleep 0.1; done
  fail "'$2' never appeared in $1"
}

# Plain TCP (cluster.sh, crash.sh): the caller sets $kv (capkit-kv) and $preset.
start() {  # node [serve options...]
  local n=$1
  shift
  "$kv" serve --id "$n" --listen "127.0.0.1:$(peer_port "$n")" --client "127.0.0.1:$(client_port "$n")" \
    --peers "$peers" --preset "$preset" --peer-timeout-ms 1000 "$@" >>"$work/node$n.log" 2>&1 &
  pids[$n]=$!
}
cli() {  # node args...
  local n=$1
  shift
  redis-cli -p "$(client_port "$n")" "$@"
}
wait_ready() {  # node: PONG, every peer up, and caught up (a node that starts empty first fetches)
  for _ in $(seq 100); do
    if [[ $(cli "$1" ping 2>/dev/null) == PONG ]] &&
      cli "$1" info replication | tr -d '\r' | grep -q "peers_up:$((nodes - 1))" &&
      cli "$1" info replication | tr -d '\r' | grep -q "^catching_up:0"; then
      return 0
    fi
    sleep 0.1
  done
  fail "node $1 did not come up"
}

#!/usr/bin/env bash
# Three `capkit-kv serve` processes over TLS with mutual authentication (certificates from
# tests/transport/make-certs.sh, the CTest fixture tls.certs): capkit-kv's client and redis-cli
# --tls with a client certificate are served; no certificate, plain TCP, a certificate another CA
# signed and a node certificate on a client port are refused, and the server's log says why; a
# node with another CA's certificate cannot join; serve refuses a certificate naming another node
# and, with TLS, no longer refuses an address that is not loopback.
# Usage: tls.sh CAPKIT_KV CERTS_DIR
set -euo pipefail
kv=$1
certs=$2
preset=cp-linearizable
source "$(dirname "$0")/lib.sh"
tls() {  # name: the flags presenting certificate `name`
  echo "--tls-ca $certs/ca.pem --tls-cert $certs/$1.pem --tls-key $certs/$1.key"
}


start() {  # node certificate [client host]
  # shellcheck disable=SC2046
  "$kv" serve --id "$1" --listen "127.0.0.1:$(peer_port "$1")" --client "${3:-127.0.0.1}:$(client_port "$1")" \
    --peers "$peers" --preset "$preset" --peer-timeout-ms 1000 $(tls "$2") >>"$work/node$1.log" 2>&1 &
  pids[$1]=$!
}
cli() {  # node certificate args...: redis-cli over TLS presenting `certificate`
  local n=$1 c=$2
  shift 2
  redis-cli -p "$(client_port "$n")" --tls --cacert "$certs/ca.pem" --cert "$certs/$c.pem" --key "$certs/$c.key" "$@"
}
wait_ready() {  # node
  for _ in $(seq 100); do
    if [[ $(cli "$1" client ping 2>/dev/null) == PONG ]] &&
      cli "$1" client info replication | tr -d '\r' | grep -q "peers_up:2" &&
      cli "$1" client info replication | tr -d '\r' | grep -q "^catching_up:0"; then
      return 0
    fi
    sleep 0.1
  done
  fail "node $1 did not come up"
}

echo "serve refuses a certificate that names another node"
set +e
out=$("$kv" serve --id 2 --listen 127.0.0.1:1 --client 127.0.0.1:2 --peers "$peers" --preset "$preset" $(tls liar) 2>&1)
rc=$?
set -e
[[ $rc == 2 && $out == *"names node 1, not node 2"* ]] || fail "serve with liar.pem: exit $rc, '$out'"
set +e
out=$("$kv" serve --id 0 --listen 127.0.0.1:1 --client 0.0.0.0:2 --peers "$peers" --preset "$preset" 2>&1)
rc=$?
set -e
[[ $rc == 2 && $out == *"refusing plain TCP on 0.0.0.0:2"*"--tls-ca"* ]] || fail "plain TCP on 0.0.0.0: exit $rc, '$out'"

# With TLS an address that is not loopback is served (node 0's clients listen on every address).
start 0 node0 0.0.0.0
start 1 node1
start 2 node2
for i in 0 1 2; do wait_ready $i; done

echo "clients with a client certificate are served"
[[ $(cli 0 client set greeting hello) == OK ]] || fail "redis-cli --tls SET through node 0"
[[ $(cli 1 client get greeting) == hello ]] || fail "redis-cli --tls GET through node 1"
# shellcheck disable=SC2046
"$kv" put greeting2 world --server "127.0.0.1:$(client_port 2)" $(tls client) >/dev/null || fail "capkit-kv put over TLS"
# shellcheck disable=SC2046
[[ $("$kv" get greeting2 --server "127.0.0.1:$(client_port 0)" $(tls client)) == world ]] || fail "capkit-kv get over TLS"
grep -q "refusing client" "$work/node0.log" "$work/node1.log" "$work/node2.log" && fail "a good client was refused"

echo "clients without a certificate of the cluster are refused, and the log says why"
refused() {  # description log-text command...
  local what=$1 text=$2
  shift 2
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  [[ $rc != 0 && $out != *world* ]] || fail "$what was served: exit $rc, '$out'"
  wait_log "$work/node0.log" "refusing client 127.0.0.1:[0-9]*: .*$text"
}
refused "redis-cli --tls without a certificate" "peer did not return a certificate" \
  redis-cli -p "$(client_port 0)" --tls --cacert "$certs/ca.pem" get greeting2
refused "capkit-kv get without TLS" "it does not speak TLS" \
  "$kv" get greeting2 --server "127.0.0.1:$(client_port 0)"
# shellcheck disable=SC2046
refused "capkit-kv get with another CA's client certificate" "certificate verify failed.*CN=mallory" \
  "$kv" get greeting2 --server "127.0.0.1:$(client_port 0)" $(tls mallory)
refused "redis-cli --tls with another CA's client certificate" "certificate verify failed.*CN=mallory" \
  cli 0 mallory get greeting2
refused "redis-cli --tls with a node certificate" "a node 1 certificate on the client port" \
  cli 0 node1 get greeting2
# capkit-kv's client refuses a node certificate itself, before connecting.
set +e
# shellcheck disable=SC2046
out=$("$kv" get greeting2 --server "127.0.0.1:$(client_port 0)" $(tls node1) 2>&1)
rc=$?
set -e
[[ $rc == 2 && $out == *"names node 1, not a client"* ]] || fail "capkit-kv get with node1.pem: exit $rc, '$out'"
[[ $(cli 0 client get greeting2) == world ]] || fail "node 0 stopped serving after refusals"

echo "a node with another CA's certificate cannot join"
kill -9 "${pids[2]}"
wait "${pids[2]}" 2>/dev/null || true
start 2 rogue
wait_log "$work/node0.log" "closing connection from 127.0.0.1:[0-9]*: TLS handshake failed: certificate verify failed.*CN=capkit node 2"
wait_log "$work/node0.log" "cannot connect to node 2 at 127.0.0.1:$(peer_port 2): TLS handshake failed: certificate verify failed"
peers_up_0() { cli 0 client info replication | grep -o 'peers_up:[0-9]'; }
for _ in $(seq 50); do [[ $(peers_up_0) == peers_up:1 ]] && break; sleep 0.1; done
sleep 1.5  # past the peer timeout: a rogue that had been heard from would be up again
[[ $(peers_up_0) == peers_up:1 ]] || fail "node 0 counts the rogue node 2 as up"
[[ $(cli 1 client set during rogue) == OK ]] || fail "nodes 0 and 1 no longer make a quorum"

echo "SIGTERM stops every server cleanly"
for i in 0 1 2; do kill -TERM "${pids[$i]}"; done
for i in 0 1; do
  wait "${pids[$i]}" || fail "node $i exited with $? after SIGTERM"
  grep -q "stopped" "$work/node$i.log" || fail "node $i did not say it stopped"
done
wait "${pids[2]}" || true
pids=()
echo "PASS"

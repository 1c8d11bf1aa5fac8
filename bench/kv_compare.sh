#!/usr/bin/env bash
# capkit-kv against Redis and etcd on this one machine, over loopback, driven the same way by
# bench/load/kv_load.cpp (closed loop: each client one request in flight) at 16 and 64 clients:
#   capkit-kv strong-lww       N=3 R=2 W=2: every SET acknowledged by two of three copies
#   capkit-kv cp-linearizable  the same quorums, ABD reads
#   redis                      one Redis, SET (no copy: the fast, unreplicated baseline)
#   redis+2 replicas SET+WAIT  SET then WAIT 1 on one connection: acknowledged by the primary and
#                              one replica, Redis's nearest promise to W=2
#   etcd (disk) / etcd (tmpfs) three members, put through the HTTP/JSON gateway; Debian's etcd 3.4
#                              cannot skip fsync, so tmpfs shows what the disk costs
# then redis-benchmark -P 16 SET against capkit-kv and a plain Redis, and the syscalls per
# operation of the capkit-kv nodes (perf stat). Prints a table and the ratios the issue asks for.
# Usage: bench/kv_compare.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
# Any command that fails stops the script: say which one and where, before the EXIT trap cleans up.
trap 'echo "bench/kv_compare.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
source scripts/lib.sh
scripts/setup redis-server etcd-server linux-perf
# The Release build the demo, scripts/bench and the gcc test pass share (scripts/lib.sh).
capkit_configure_release
capkit_build_release capkit-kv kv_load
kv=$capkit_release_dir/tools/capkit-kv
load=$capkit_release_dir/bench/kv_load

work=$(mktemp -d)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap 'stop_all; rm -rf "$work" /dev/shm/capkit-etcd-*' EXIT
results=()  # "system|op|clients|json"

wait_port() {  # port
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  exit 1
}
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }  # user + system
# Runs the load and adds to its figures where the CPU went: the servers' CPU per operation (all
# of the system's processes together), the busiest server process's share of a core, the load
# generator's CPU per operation, and ops/s divided by that share: the throughput this run
# projects with a core for every process, when the busiest one would be the first to run out.
run_load() {  # system op clients servers [kv_load args...]
  local system=$1 op=$2 clients=$3 servers=$4
  shift 4
  local out before=() used=() p i t0 t1 ops TIMEFORMAT='%U %S'
  for p in "${pids[@]}"; do before+=("$(cpu_ticks "$p")"); done
  t0=$(date +%s%N)
  { time "$load" --servers "$servers" --op "$op" --clients "$clients" --seconds "$secs" "$@" \
    >"$work/load.out" 2>"$work/load.err"; } 2>"$work/load.time" || {
    echo "kv_load failed against $system ($op, $clients clients):" >&2
    cat "$work/load.err" >&2
    exit 1
  }
  t1=$(date +%s%N)
  for i in "${!pids[@]}"; do used+=($(($(cpu_ticks "${pids[$i]}") - ${before[$i]}))); done
  cat "$work/load.err" >&2
  out=$(<"$work/load.out")
  ops=$(grep -o '"ops": [0-9]*' <<<"$out" | cut -d' ' -f2)
  out="${out%\}}$(awk -v hz="$hz" -v ops="${ops:-0}" -v wall="$(((t1 - t0) / 1000))" \
    -v used="${used[*]}" -v load="$(<"$work/load.time")" 'BEGIN {
      n = split(used, u, " "); total = 0; most = 0
      for (i = 1; i <= n; i++) { total += u[i]; if (u[i] > most) most = u[i] }
      if (ops == 0 || wall == 0) { printf "}"; exit }
      split(load, l, " "); share = most / hz * 1e6 / wall
      printf ", \"server_cpu_us_per_op\": %.1f, \"busiest_core_share\": %.2f, \"load_cpu_us_per_op\": %.1f, \"core_per_process_ops_per_s\": %.0f}",
        total / hz * 1e6 / ops, share, (l[1] + l[2]) * 1e6 / ops, (share > 0 ? ops / (wall / 1e6) / share : 0)
    }')"
  results+=("$system|$op|$clients|$out")
  printf '  %-28s %-9s %3s clients  %s\n' "$system" "$op" "$clients" "$out"
}

capkit_cluster() {  # preset
  local peers="0=127.0.0.1:17100,1=127.0.0.1:17101,2=127.0.0.1:17102"
  for i in 0 1 2; do
    "$kv" serve --id $i --listen 127.0.0.1:1710$i --client 127.0.0.1:1639$i --peers "$peers" \
      --preset "$1" --log-level warn 2>>"$work/capkit.log" &
    pids+=($!)
  done
  for i in 0 1 2; do wait_port 1639$i; done
  sleep 1  # peers connected
}
capkit_servers=127.0.0.1:16390,127.0.0.1:16391,127.0.0.1:16392
# Runs a load command against node 0 and counts, over 2 s, the syscalls of the three capkit-kv
# processes (perf) and the commands node 0 processed (INFO): syscalls per command.
commands_on_node0() { redis-cli -p 16390 info stats | grep commands_processed | cut -d: -f2 | tr -d '\r'; }
syscalls_per_set() {  # load command...
  "$@" >/dev/null 2>&1 &
  local lp=$! before after calls
  sleep 0.5
  before=$(commands_on_node0)
  calls=$(perf stat -x, -e raw_syscalls:sys_enter -p "${pids[0]},${pids[1]},${pids[2]}" -- sleep 2 2>&1 >/dev/null | cut -d, -f1)
  after=$(commands_on_node0)
  kill $lp 2>/dev/null || true
  wait $lp 2>/dev/null || true
  awk -v c="$calls" -v n="$((after - before - 1))" 'BEGIN { if (n > 0) printf "%.2f", c / n; else print "?" }'
}

echo "=== loopback comparison, $secs s per run, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for preset in strong-lww cp-linearizable; do
  capkit_cluster "$preset"
  for c in 16 64; do
    run_load "capkit-kv $preset" set $c $capkit_servers
    run_load "capkit-kv $preset" get $c $capkit_servers
  done
  if [[ $preset == strong-lww ]]; then
    # Over the load's 10,000 keys (-r): without -r every SET names one key, and a pipeline of
    # SETs to one key runs in order, one quorum write after another (shown as well).
    pipelined=$(redis-benchmark -p 16390 -t set -c 64 -P 16 -r 10000 -n 3000000 -q 2>/dev/null |
      tr '\r' '\n' | grep -o 'SET: [0-9.]*' | tail -1 | cut -d' ' -f2)
    printf '  %-28s redis-benchmark -P 16 -c 64 -r 10000 SET: %s ops/s\n' "capkit-kv $preset" "$pipelined"
    one_key=$(redis-benchmark -p 16390 -t set -c 64 -P 16 -n 1000000 -q 2>/dev/null | tr '\r' '\n' |
      grep -o 'SET: [0-9.]*' | tail -1 | cut -d' ' -f2)
    printf '  %-28s redis-benchmark -P 16 -c 64 SET, one key: %s ops/s\n' "capkit-kv $preset" "$one_key"
    # Syscalls of the three nodes per SET, all clients on node 0 (which counts the commands).
    echo "  syscalls per SET, three nodes together: $(syscalls_per_set "$load" --servers 127.0.0.1:16390 --op set --clients 64 --seconds 5) (64 clients, one request each in flight); $(syscalls_per_set redis-benchmark -p 16390 -t set -c 64 -P 16 -r 10000 -n 100000000 -q) (redis-benchmark -P 16 -r 10000)"
  fi
  stop_all
done

redis-server --port 16600 --dir "$work" --save "" --appendonly no --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
wait_port 16600
for c in 16 64; do run_load "redis" set $c 127.0.0.1:16600; done
plain_pipelined=$(redis-benchmark -p 16600 -t set -c 64 -P 16 -r 10000 -n 6000000 -q 2>/dev/null |
  tr '\r' '\n' | grep -o 'SET: [0-9.]*' | tail -1 | cut -d' ' -f2)
printf '  %-28s redis-benchmark -P 16 -c 64 -r 10000 SET: %s ops/s\n' "redis" "$plain_pipelined"
plain_one_key=$(redis-benchmark -p 16600 -t set -c 64 -P 16 -n 3000000 -q 2>/dev/null |
  tr '\r' '\n' | grep -o 'SET: [0-9.]*' | tail -1 | cut -d' ' -f2)
printf '  %-28s redis-benchmark -P 16 -c 64 SET, one key: %s ops/s\n' "redis" "$plain_one_key"
stop_all

redis-server --port 16601 --dir "$work" --save "" --appendonly no >"$work/redis1.log" 2>&1 &
pids+=($!)
wait_port 16601
for port in 16602 16603; do
  redis-server --port $port --dir "$work" --save "" --appendonly no --replicaof 127.0.0.1 16601 >"$work/redis$port.log" 2>&1 &
  pids+=($!)
  wait_port $port
done
for _ in $(seq 50); do
  [[ $(redis-cli -p 16601 info replication | grep -c 'state=online') == 2 ]] && break
  sleep 0.1
done
for c in 16 64; do run_load "redis+2 replicas SET+WAIT" set-wait $c 127.0.0.1:16601; done
stop_all

for medium in disk tmpfs; do
  base=/var/tmp
  [[ $medium == tmpfs ]] && base=/dev/shm
  cluster="e0=http://127.0.0.1:23800,e1=http://127.0.0.1:23801,e2=http://127.0.0.1:23802"
  for i in 0 1 2; do
    rm -rf "$base/capkit-etcd-$i"
    etcd --name e$i --data-dir "$base/capkit-etcd-$i" \
      --listen-client-urls http://127.0.0.1:2379$i --advertise-client-urls http://127.0.0.1:2379$i \
      --listen-peer-urls http://127.0.0.1:2380$i --initial-advertise-peer-urls http://127.0.0.1:2380$i \
      --initial-cluster "$cluster" --initial-cluster-state new --log-level error \
      >"$work/etcd$i.log" 2>&1 &
    pids+=($!)
  done
  for i in 0 1 2; do wait_port 2379$i; done
  sleep 2  # a leader
  for c in 16 64; do
    run_load "etcd ($medium)" set $c 127.0.0.1:23790,127.0.0.1:23791,127.0.0.1:23792 --protocol etcd
  done
  stop_all
  rm -rf "$base"/capkit-etcd-*
done

# Ratios against baselines measured in this run.
field() {  # system op clients name
  for r in "${results[@]}"; do
    IFS='|' read -r s o c j <<<"$r"
    if [[ $s == "$1" && $o == "$2" && $c == "$3" ]]; then
      grep -o "\"$4\": [0-9.]*" <<<"$j" | cut -d' ' -f2
      return
    fi
  done
  echo 0
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }'; }
echo
echo "=== ratios (targets from the issue in brackets)"
for c in 16 64; do
  k=$(field "capkit-kv strong-lww" set $c ops_per_s)
  echo "  $c clients: capkit-kv strong-lww SET / etcd (disk) put: $(ratio "$k" "$(field "etcd (disk)" set $c ops_per_s)") [>= 10]"
  echo "  $c clients: capkit-kv strong-lww SET / etcd (tmpfs) put: $(ratio "$k" "$(field "etcd (tmpfs)" set $c ops_per_s)")"
  echo "  $c clients: capkit-kv strong-lww SET / redis SET+WAIT 1: $(ratio "$k" "$(field "redis+2 replicas SET+WAIT" set-wait $c ops_per_s)") [>= 2], p99 $(field "capkit-kv strong-lww" set $c p99_ms) ms vs $(field "redis+2 replicas SET+WAIT" set-wait $c p99_ms) ms [no worse]"
  echo "  $c clients: capkit-kv cp-linearizable SET / strong-lww SET: $(ratio "$(field "capkit-kv cp-linearizable" set $c ops_per_s)" "$k")"
  echo "  $c clients, server CPU per SET: capkit-kv strong-lww $(field "capkit-kv strong-lww" set $c server_cpu_us_per_op) us, redis SET+WAIT 1 $(field "redis+2 replicas SET+WAIT" set-wait $c server_cpu_us_per_op) us, plain redis $(field "redis" set $c server_cpu_us_per_op) us; the load generator $(field "redis" set $c load_cpu_us_per_op) us per plain redis SET"
  # What the 2x target leaves the servers on this machine: its cores, less the load generator's
  # CPU at twice Redis's SET+WAIT rate, per SET.
  echo "  $c clients, server CPU per SET the >= 2x target leaves on $(nproc) cores: $(awk -v n="$(nproc)" \
    -v r="$(field "redis+2 replicas SET+WAIT" set-wait $c ops_per_s)" \
    -v l="$(field "capkit-kv strong-lww" set $c load_cpu_us_per_op)" \
    'BEGIN { if (r > 0) printf "%.1f", n * 1e6 / (2 * r) - l; else print "?" }') us"
  kc=$(field "capkit-kv strong-lww" set $c core_per_process_ops_per_s)
  rc=$(field "redis+2 replicas SET+WAIT" set-wait $c core_per_process_ops_per_s)
  echo "  $c clients, a core per process (projected: ops/s / the busiest process's share of a core): capkit-kv strong-lww $kc, redis SET+WAIT 1 $rc: $(ratio "$kc" "$rc")"
done
echo "  -P 16 over 10,000 keys: capkit-kv strong-lww SET / plain redis SET: $(ratio "$pipelined" "$plain_pipelined") [>= 0.25]"
echo "  -P 16, every SET on one key: capkit-kv strong-lww SET / plain redis SET: $(ratio "$one_key" "$plain_one_key")"

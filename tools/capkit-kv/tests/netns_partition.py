#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The client side of netns_partition.sh: a small Redis (RESP2) client that records every
operation as a history in capkit-check's JSON lines (docs/history-format.md), and the checks
made on that history.

  ready  --server H:P [--peers N] [--any]  PONG, N peers up and caught up (--any: or not), or exit 1
  load   --server H:P --node I --stop F --events OUT [--workers N] [--keys K] [--seed S]
         workers on the server until the file F exists (or --max-seconds); events to OUT
  do     --server H:P --events OUT --process P get KEY | set KEY VALUE
         one recorded operation; prints 'ok VALUE', 'fail REPLY' or 'info REPLY'
  now    prints CLOCK_MONOTONIC in ns (the clock every event is stamped with)
  merge  OUT FILE...                       every event of the files, in time order, into OUT
  check  --mode cp|ap --history H --minority I --cut T --seen T --heal T --up T
         what must hold of the workload around the partition: the cut was made at --cut,
         every node had seen it at --seen, it was healed at --heal and seen healed at --up

Times are CLOCK_MONOTONIC nanoseconds (time.monotonic_ns), one clock for every network
namespace of the machine, so events recorded in different namespaces can be merged in order.
"""
import argparse
import json
import os
import random
import socket
import sys
import threading
import time

REPLY_TIMEOUT_S = 5.0  # well above the servers' request timeout (1 s): a silent server is info


class Lost(Exception):
    """The connection failed or went silent: the outcome of the call is unknown."""


class Client:
    def __init__(self, server):
        host, port = server.rsplit(":", 1)
        self.address = (host, int(port))
        self.sock = None
        self.buf = b""

    def connect(self):
        self.close()
        self.sock = socket.create_connection(self.address, timeout=REPLY_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    def send(self, *words):
        out = b"*%d\r\n" % len(words)
        for w in words:
            w = w if isinstance(w, bytes) else str(w).encode()
            out += b"$%d\r\n%s\r\n" % (len(w), w)
        try:
            if self.sock is None:
                self.connect()
            self.sock.sendall(out)
        except OSError as e:
            self.close()
            raise Lost(str(e))

    def _line(self):
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except OSError as e:
                raise Lost(str(e))
            if not chunk:
                raise Lost("the server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exactly(self, n):
        while len(self.buf) < n:
            try:
                chunk = self.sock.recv(65536)
            except OSError as e:
                raise Lost(str(e))
            if not chunk:
                raise Lost("the server closed the connection")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def reply(self):
        """('+', text) | ('-', text) | (':', int) | ('$', bytes or None) | ('*', [replies])"""
        try:
            line = self._line()
            kind, rest = chr(line[0]), line[1:]
            if kind in "+-":
                return kind, rest.decode(errors="replace")
            if kind == ":":
                return kind, int(rest)
            if kind == "$":
                n = int(rest)
                if n < 0:
                    return kind, None
                data = self._exactly(n + 2)[:-2]
                return kind, data
            if kind == "*":
                return kind, [self.reply() for _ in range(max(int(rest), 0))]
            raise Lost("unexpected reply %r" % line[:40])
        except Lost:
            self.close()
            raise

    def call(self, *words):
        self.send(*words)
        return self.reply()


def now():
    return time.monotonic_ns()


class Recorder:
    """Events of one client process, each stamped when it happened."""

    def __init__(self):
        self.events = []
        self.last = 0

    def add(self, process, type_, f, key, value, **extra):
        t = now()
        if t <= self.last:  # a process's own events stay in order, even on a coarse clock
            t = self.last + 1
        self.last = t
        e = {"process": process, "type": type_, "f": f, "key": key, "value": value, "time": t}
        e.update(extra)
        self.events.append(e)


def outcome(reply):
    """The history's completion type for a server reply, and the error text if any."""
    kind, body = reply
    if kind != "-":
        return "ok", None
    if body.startswith("UNAVAILABLE"):
        return "fail", body  # refused: the quorum could not be reached, no effect
    if body.startswith("TIMEOUT"):
        return "info", body  # may have been applied
    return "error", body  # anything else is a bug the check reports


def run_op(client, rec, process, f, key, value):
    """One recorded call: returns (type, value read or written, error text)."""
    rec.add(process, "invoke", f, key, value if f == "write" else None)
    try:
        if f == "write":
            reply = client.call("SET", key, str(value))
        else:
            reply = client.call("GET", key)
    except Lost as e:
        rec.add(process, "info", f, key, value if f == "write" else None, error=str(e))
        return "info", None, str(e)
    type_, error = outcome(reply)
    if f == "read" and type_ == "ok":
        if reply[0] != "$":
            type_, error = "error", "GET answered %r" % (reply,)
        else:
            value = None if reply[1] is None else int(reply[1])
    extra = {"error": error} if error else {}
    if type_ == "error":
        rec.add(process, "info", f, key, value if f == "write" else None, unexpected=True, **extra)
    else:
        rec.add(process, type_, f, key, value if type_ == "ok" or f == "write" else None, **extra)
    return type_, value, error


def cmd_ready(a):
    c = Client(a.server)
    deadline = time.monotonic() + a.timeout
    while time.monotonic() < deadline:
        try:
            if c.call("PING") == ("+", "PONG"):
                info = c.call("INFO", "replication")[1].decode()
                # Caught up too (unless --any): a node that starts empty first fetches from its
                # peers.
                if "peers_up:%d" % a.peers in info and (a.any or "catching_up:1" not in info):
                    return 0
        except (Lost, OSError):
            c.close()
        time.sleep(0.05)
    print("%s: not ready within %.0f s" % (a.server, a.timeout), file=sys.stderr)
    return 1


def cmd_stat(a):
    """Prints one field of the server's INFO (a counter of its stats, catching_up, ...)."""
    info = Client(a.server).call("INFO", "all")[1].decode()
    for line in info.splitlines():
        if line.startswith(a.name + ":"):
            print(line.split(":", 1)[1])
            return 0
    print("%s: INFO has no %s" % (a.server, a.name), file=sys.stderr)
    return 1


def cmd_load(a):
    """Workers doing reads and writes of unique values on a few keys until the stop file."""
    events, lock = [], threading.Lock()
    give_up = time.monotonic() + a.max_seconds  # should the test that started it be gone

    def worker(w):
        rng = random.Random(a.seed * 1000 + a.node * 10 + w)
        rec = Recorder()
        generation, seq = 0, 0
        client = Client(a.server)
        while not os.path.exists(a.stop) and time.monotonic() < give_up:
            # A process whose call ended unknown is retired, as Jepsen does: the next calls are
            # another process's, so the checker never waits on an open call.
            process = 1000 * generation + 10 * a.node + w
            key = "k%d" % rng.randrange(a.keys)
            if rng.random() < 0.5:
                seq += 1
                value = (a.node * 10 + w) * 1_000_000 + seq  # unique across the cluster
                type_, _, _ = run_op(client, rec, process, "write", key, value)
            else:
                type_, _, _ = run_op(client, rec, process, "read", key, None)
            if type_ in ("info", "error"):
                generation += 1
                client.close()
            time.sleep(rng.uniform(0.002, 0.012))
        client.close()
        with lock:
            events.extend(rec.events)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(a.events, "w") as out:
        for e in events:
            out.write(json.dumps(e) + "\n")
    return 0


def cmd_do(a):
    rec = Recorder()
    client = Client(a.server)
    f = "write" if a.op == "set" else "read"
    if f == "write" and len(a.args) != 2 or f == "read" and len(a.args) != 1:
        print("do: get KEY | set KEY VALUE", file=sys.stderr)
        return 2
    value = int(a.args[1]) if f == "write" else None
    type_, value, error = run_op(client, rec, a.process, f, a.args[0], value)
    client.close()
    with open(a.events, "a") as out:
        for e in rec.events:
            out.write(json.dumps(e) + "\n")
    print(type_, error if error else ("nil" if value is None else value))
    return 0


def cmd_now(_):
    print(now())
    return 0


def cmd_merge(a):
    events = []
    for name in a.files:
        with open(name) as f:
            events.extend(json.loads(line) for line in f if line.strip())
    # File order is the real-time order for capkit-check. Every invoke was stamped before its
    # request left and every completion after its reply came, so sorting by time keeps each
    # call's interval around the moment it took effect.
    events.sort(key=lambda e: e["time"])
    with open(a.out, "w") as out:
        for e in events:
            out.write(json.dumps(e) + "\n")
    return 0


def calls(history):
    """Each workload call (process < 900) as dict(process, f, key, value, type, start, end)."""
    open_, done = {}, []
    for e in history:
        p = e["process"]
        if not isinstance(p, int) or p % 1000 >= 900:
            continue
        if e["type"] == "invoke":
            open_[p] = dict(process=p, node=(p % 1000) // 10, f=e["f"], key=e["key"],
                            start=e["time"])
        else:
            c = open_.pop(p)
            c.update(type=e["type"], end=e["time"], value=e.get("value"),
                     error=e.get("error"), unexpected=e.get("unexpected", False))
            done.append(c)
    return done


def cmd_check(a):
    with open(a.history) as f:
        history = [json.loads(line) for line in f if line.strip()]
    cs = calls(history)
    problems = []
    window = (a.seen, a.heal)  # every failure detector has seen the cut
    after = a.up  # every node sees every peer again
    minority = [c for c in cs if c["node"] == a.minority]
    majority = [c for c in cs if c["node"] != a.minority]

    def summary(group):
        out = {}
        for c in group:
            out[c["type"]] = out.get(c["type"], 0) + 1
        return " ".join("%s=%d" % kv for kv in sorted(out.items())) or "none"

    def in_window(c, lo, hi):
        return lo <= c["start"] < hi

    for c in cs:
        if c["unexpected"]:
            problems.append("node %d answered %s %s with an unexpected %r"
                            % (c["node"], c["f"], c["key"], c["error"]))
    before = [c for c in cs if c["end"] < a.cut]
    min_cut = [c for c in minority if in_window(c, *window)]
    maj_cut = [c for c in majority if in_window(c, *window)]
    min_after = [c for c in minority if c["start"] >= after]
    maj_after = [c for c in majority if c["start"] >= after]
    print("calls: %d; before the cut: %s; during the cut, once seen: minority %s, majority %s; "
          "after the heal, once seen: minority %s, majority %s"
          % (len(cs), summary(before), summary(min_cut), summary(maj_cut), summary(min_after),
             summary(maj_after)))

    def served(group, what):
        """Every call ok, but for TIMEOUTs within the allowance (CASPaxos contention)."""
        refused = [c for c in group if c["type"] == "fail"]
        if refused:
            problems.append("%s refused %d of %d calls, e.g. %r"
                            % (what, len(refused), len(group), refused[0]))
        unknown = [c for c in group if c["type"] == "info"]
        if len(unknown) > a.allow_timeouts * len(group):
            problems.append("%s left %d of %d calls unknown (allowed: %d%%), e.g. %r"
                            % (what, len(unknown), len(group), round(100 * a.allow_timeouts),
                               unknown[0]))

    if len(min_cut) < 20 or len(maj_cut) < 20:
        problems.append("too few calls during the cut to judge (minority %d, majority %d)"
                        % (len(min_cut), len(maj_cut)))
    # The majority serves under every preset: it holds a quorum, and AP needs only itself.
    served(maj_cut, "the majority, during the cut,")
    if a.mode == "cp":
        # Nothing the minority starts after the cut can reach a quorum before the heal.
        ok = [c for c in minority if a.cut <= c["start"] and c["end"] < a.heal
              and c["type"] == "ok"]
        if ok:
            problems.append("the minority acknowledged %d calls started after the cut, e.g. %r"
                            % (len(ok), ok[0]))
        # Once its failure detector has seen the cut, it refuses at once: UNAVAILABLE.
        bad = [c for c in min_cut
               if c["type"] != "fail" or not (c["error"] or "").startswith("UNAVAILABLE")]
        if bad:
            problems.append("the minority answered %d of %d calls during the cut other than "
                            "with UNAVAILABLE, e.g. %r" % (len(bad), len(min_cut), bad[0]))
    else:
        served(min_cut, "the minority, during the cut (an AP preset answers on both sides),")
    # After the heal every node serves again.
    if len(min_after) < 10 or len(maj_after) < 10:
        problems.append("too few calls after the heal to judge (minority %d, majority %d)"
                        % (len(min_after), len(maj_after)))
    served(min_after, "the minority, after the heal,")
    served(maj_after, "the majority, after the heal,")
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("ready")
    p.add_argument("--server", required=True)
    p.add_argument("--peers", type=int, default=2)
    p.add_argument("--timeout", type=float, default=15)
    p.add_argument("--any", action="store_true", help="caught up or not")
    p = sub.add_parser("load")
    p.add_argument("--server", required=True)
    p.add_argument("--node", type=int, required=True)
    p.add_argument("--stop", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--keys", type=int, default=6)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=60)
    p = sub.add_parser("do")
    p.add_argument("--server", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--process", type=int, required=True)
    p.add_argument("op", choices=["get", "set"])
    p.add_argument("args", nargs="+")
    sub.add_parser("now")
    p = sub.add_parser("stat")
    p.add_argument("--server", required=True)
    p.add_argument("name")
    p = sub.add_parser("merge")
    p.add_argument("out")
    p.add_argument("files", nargs="+")
    p = sub.add_parser("check")
    p.add_argument("--mode", choices=["cp", "ap"], required=True)
    p.add_argument("--history", required=True)
    p.add_argument("--minority", type=int, required=True)
    p.add_argument("--cut", type=int, required=True)
    p.add_argument("--heal", type=int, required=True)
    p.add_argument("--seen", type=int, required=True)
    p.add_argument("--up", type=int, required=True)
    p.add_argument("--allow-timeouts", type=float, default=0.0,
                   help="share of served calls that may end in TIMEOUT (default none)")
    a = ap.parse_args()
    return {"ready": cmd_ready, "load": cmd_load, "do": cmd_do, "now": cmd_now,
            "stat": cmd_stat, "merge": cmd_merge, "check": cmd_check}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())

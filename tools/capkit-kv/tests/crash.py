#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The client side of crash.sh: a load whose acknowledged writes are recorded, and the check
that every one of them is readable after the servers were killed and restarted.

  load   --port P --client C --keys K --acked FILE
         writes SET c<C>k<v mod K> <v> for v = 1, 2, 3... one at a time until the server goes
         away; every write answered +OK is appended to FILE as 'KEY VALUE' (flushed before the
         next is sent); at the end, 'sent V' with the last value sent (answered or not)
  check  --keys K --load C:P:FILE [--load ...]
         reads every key of every client C through port P and checks it against the client's
         FILE: the value read is the last value acknowledged for the key or one written after
         it (a write not acknowledged may still have taken effect), never older, never absent,
         never a value nobody sent

  fill   --port P --size S --acked FILE
         SET f0, f1, f2... to S-byte values until the server goes away (disk_full.sh)
  check-fill --port P --size S --acked FILE
         every key in FILE reads back with its value

Each client writes its own keys with increasing values, so "the value read is at least the last
one acknowledged" is the whole check. Exit 0 when it holds, 1 (with what failed) when not.
"""
import argparse
import socket
import sys
import time


class Lost(Exception):
    """The connection failed: the server is gone."""


class Client:
    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def call(self, *words):
        out = b"*%d\r\n" % len(words)
        for w in words:
            w = str(w).encode()
            out += b"$%d\r\n%s\r\n" % (len(w), w)
        try:
            self.sock.sendall(out)
            return self._reply()
        except OSError as e:
            raise Lost(str(e))

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Lost("the server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:].decode()
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise Lost("the server closed the connection")
                self.buf += chunk
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"-":
            return ("error", rest)
        return rest  # +OK, :n


def key_of(client, v, keys):
    return "c%dk%d" % (client, v % keys)


def load(a):
    c = Client(a.port)
    sent = 0
    errors = 0
    with open(a.acked, "a") as out:
        try:
            v = 0
            while True:
                v += 1
                sent = v
                r = c.call("SET", key_of(a.client, v, a.keys), v)
                if r == "OK":
                    out.write("%s %d\n" % (key_of(a.client, v, a.keys), v))
                    out.flush()
                else:
                    errors += 1  # UNAVAILABLE, TIMEOUT: not acknowledged, maybe applied
        except (Lost, OSError):
            pass
        out.write("sent %d\n" % sent)
    print("client %d: %d writes sent, %d answered with an error" % (a.client, sent, errors))


def check(a):
    failures = []
    acked_total = newer = keys_read = 0
    for spec in a.load:
        client, port, path = spec.split(":", 2)
        client, port = int(client), int(port)
        last = {}
        sent = None
        with open(path) as f:
            for line in f:
                key, value = line.split()
                if key == "sent":
                    sent = int(value)
                else:
                    last[key] = max(last.get(key, 0), int(value))
                    acked_total += 1
        if sent is None:
            failures.append("client %d: its file has no 'sent' line: the load did not end" % client)
            continue
        c = Client(port)
        for k in range(a.keys):
            key = "c%dk%d" % (client, k)
            for attempt in range(20):  # a serial read may time out when rounds collide
                r = c.call("GET", key)
                if not (isinstance(r, tuple) and r[1].startswith(("TIMEOUT", "UNAVAILABLE"))):
                    break
                time.sleep(0.05)
            keys_read += 1
            want = last.get(key)
            if isinstance(r, tuple):
                failures.append("%s: GET through port %d failed: %s" % (key, port, r[1]))
            elif r is None:
                if want is not None:
                    failures.append("%s: absent, but %d was acknowledged" % (key, want))
            elif not r.isdigit() or int(r) % a.keys != k or int(r) > sent:
                failures.append("%s: %r was never written to it (client %d sent 1..%d)"
                                % (key, r, client, sent))
            elif want is not None and int(r) < want:
                failures.append("%s: %s read, older than %d, acknowledged before the kill: "
                                "an acknowledged write was lost" % (key, r, want))
            elif want is None or int(r) > want:
                newer += 1
    print("%d keys read, %d acknowledged writes; %d keys hold a later, unacknowledged write"
          % (keys_read, acked_total, newer))
    if failures:
        print("%d failures:" % len(failures))
        for f in failures[:20]:
            print("  " + f)
        return 1
    return 0


def fill_value(i, size):
    v = "%d:" % i
    return v + "x" * (size - len(v))


def fill(a):
    """SET f<i> to a value of --size bytes, i = 0, 1, 2... until the server goes away; every
    key answered +OK is appended to --acked, and the first other answer ends the load too."""
    c = Client(a.port)
    n = 0
    with open(a.acked, "w") as out:
        try:
            while True:
                r = c.call("SET", "f%d" % n, fill_value(n, a.size))
                if r != "OK":
                    print("f%d: answered %r" % (n, r))
                    break
                out.write("f%d\n" % n)
                out.flush()
                n += 1
        except (Lost, OSError) as e:
            print("f%d: %s" % (n, e))
    print("%d writes of %d bytes acknowledged" % (n, a.size))


def check_fill(a):
    c = Client(a.port)
    failures = []
    with open(a.acked) as f:
        keys = [line.strip() for line in f if line.strip()]
    for key in keys:
        r = c.call("GET", key)
        if r != fill_value(int(key[1:]), a.size):
            failures.append("%s: %s" % (key, "absent" if r is None else "%r..." % str(r)[:20]))
    print("%d acknowledged keys read back" % len(keys))
    for f in failures[:20]:
        print("  " + f)
    return 1 if failures or not keys else 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("load")
    l.add_argument("--port", type=int, required=True)
    l.add_argument("--client", type=int, required=True)
    l.add_argument("--keys", type=int, required=True)
    l.add_argument("--acked", required=True)
    c = sub.add_parser("check")
    c.add_argument("--keys", type=int, required=True)
    c.add_argument("--load", action="append", required=True)
    for name in ("fill", "check-fill"):
        f = sub.add_parser(name)
        f.add_argument("--port", type=int, required=True)
        f.add_argument("--size", type=int, required=True)
        f.add_argument("--acked", required=True)
    a = p.parse_args()
    if a.cmd == "load":
        load(a)
        return 0
    if a.cmd == "fill":
        fill(a)
        return 0
    if a.cmd == "check-fill":
        return check_fill(a)
    return check(a)


if __name__ == "__main__":
    sys.exit(main())

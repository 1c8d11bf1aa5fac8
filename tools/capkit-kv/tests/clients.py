#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The client side of clients.sh: redis-py (Debian's python3-redis), as an application uses it,
against a running three-node capkit-kv cluster.

  serve-checks PORT0 PORT1   what a client does when every node is up
  refused PORT0              a write through a node that lost its quorum raises an error
"""
import sys

import redis


def serve_checks(port0, port1):
    # client_name makes redis-py send CLIENT SETNAME on connect, as applications do.
    r = redis.Redis(host="127.0.0.1", port=port0, client_name="capkit-test")
    other = redis.Redis(host="127.0.0.1", port=port1, decode_responses=True)
    assert r.ping() is True
    assert r.client_getname() == "capkit-test", r.client_getname()
    assert r.set("a", "1") is True
    assert r.get("a") == b"1"
    assert other.get("a") == "1"
    assert r.mset({"b": "2", "c": "3"}) is True
    assert r.mget(["a", "b", "c", "absent"]) == [b"1", b"2", b"3", None]
    assert other.exists("a", "b", "absent") == 2
    assert r.delete("c") == 1 and r.get("c") is None
    # A pipeline without MULTI (transaction=False): the replies in order, one round trip.
    pipe = r.pipeline(transaction=False)
    pipe.set("p", "x")
    pipe.get("p")
    pipe.mget("a", "p")
    assert pipe.execute() == [True, b"x", [b"1", b"x"]]
    for i in range(20):
        r.set("user:%d" % i, i)
    # This node's own copy: every key, once the writes it coordinated are in.
    keys = set(r.scan_iter(match="user:*", count=3))
    assert keys == {("user:%d" % i).encode() for i in range(20)}, keys
    assert sorted(r.keys("user:1?")) == [("user:1%d" % i).encode() for i in range(10)]
    assert r.dbsize() == 23, r.dbsize()  # a, b, p and the 20 users (c is deleted)
    try:
        r.execute_command("EXPIRE", "a", "10")
        raise AssertionError("EXPIRE answered")
    except redis.exceptions.ResponseError as e:
        assert "unknown command" in str(e), e
    print("redis-py %s: SET, GET, MSET, MGET, EXISTS, DEL, a pipeline, SCAN, KEYS, DBSIZE and "
          "CLIENT SETNAME/GETNAME served" % redis.__version__)


def refused(port0):
    r = redis.Redis(host="127.0.0.1", port=port0)
    for call in (lambda: r.set("a", "9"), lambda: r.get("a"), lambda: r.mget("a", "b")):
        try:
            call()
            raise AssertionError("a node without its quorum answered")
        except redis.exceptions.ResponseError as e:
            assert str(e).startswith("UNAVAILABLE quorum not reached"), e
    print("redis-py raises ResponseError('UNAVAILABLE quorum not reached ...') on a node alone")


if __name__ == "__main__":
    if sys.argv[1] == "serve-checks":
        serve_checks(int(sys.argv[2]), int(sys.argv[3]))
    else:
        refused(int(sys.argv[2]))

// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <capkit/crdt/g_counter.hpp>

TEST_CASE("g_counter sums the increments of every node", "[crdt][g_counter]") {
    capkit::g_counter c;
    CHECK(c.value() == 0);
    c.increment(1);
    c.increment(2, 5);
    c.increment(1, 3);
    CHECK(c.value() == 9);
    CHECK(c.counts().get(1) == 4);
}

TEST_CASE("g_counter merge counts each increment once", "[crdt][g_counter]") {
    capkit::g_counter a;
    a.increment(1, 3);
    capkit::g_counter b = a;  // b has seen a's 3
    b.increment(1, 2);
    a.merge(b);
    CHECK(a.value() == 5);  // the maximum per node, not 3 + 5
    a.merge(b);
    CHECK(a.value() == 5);
    CHECK(a == b);
}

TEST_CASE("g_counter merge keeps concurrent increments of both sides", "[crdt][g_counter]") {
    capkit::g_counter a, b;
    a.increment(1, 3);
    b.increment(2, 4);
    a.merge(b);
    b.merge(a);
    CHECK(a.value() == 7);
    CHECK(a == b);
}

TEST_CASE("g_counter merge never loses a node's later increments", "[crdt][g_counter]") {
    capkit::g_counter stale, fresh;
    stale.increment(1, 1);
    fresh = stale;
    fresh.increment(1, 10);
    fresh.merge(stale);  // an old state arriving late
    CHECK(fresh.value() == 11);
}

TEST_CASE("g_counter increment by zero changes nothing", "[crdt][g_counter]") {
    capkit::g_counter c;
    c.increment(1, 0);
    CHECK(c == capkit::g_counter{});
}

// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include <capkit/crdt/pn_counter.hpp>

TEST_CASE("pn_counter goes up and down, and below zero", "[crdt][pn_counter]") {
    capkit::pn_counter c;
    c.increment(1, 3);
    c.decrement(2, 5);
    CHECK(c.value() == -2);
    c.increment(2);
    CHECK(c.value() == -1);
}

TEST_CASE("pn_counter merge keeps a decrement made after the other side's state",
          "[crdt][pn_counter]") {
    capkit::pn_counter a;
    a.increment(1, 5);
    capkit::pn_counter b = a;
    b.decrement(1, 3);  // same node: a single per-node count could not tell this from stale
    a.merge(b);
    CHECK(a.value() == 2);
    b.merge(a);
    CHECK(a == b);
}

TEST_CASE("pn_counter merge keeps concurrent updates of both sides", "[crdt][pn_counter]") {
    capkit::pn_counter a, b;
    a.increment(1, 10);
    b.decrement(2, 4);
    b.increment(2, 1);
    a.merge(b);
    CHECK(a.value() == 7);
    a.merge(b);
    CHECK(a.value() == 7);
}

TEST_CASE("pn_counter value is exact when the sums pass INT64_MAX", "[crdt][pn_counter]") {
    constexpr auto big = std::uint64_t{std::numeric_limits<std::int64_t>::max()} + 10;
    capkit::pn_counter c;
    c.increment(1, big);
    c.decrement(2, big + 3);
    CHECK(c.value() == -3);
    c.decrement(2, std::uint64_t{1} << 62);
    c.decrement(3, std::uint64_t{1} << 62);  // net -2^63 - 3 would overflow; -2^63 does not
    c.increment(3, 3);
    CHECK(c.value() == std::numeric_limits<std::int64_t>::min());
}

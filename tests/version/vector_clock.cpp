// SPDX-License-Identifier: MIT
#include <capkit/version/vector_clock.hpp>

#include <catch2/catch.hpp>

using capkit::causal_order;
using capkit::vector_clock;

TEST_CASE("a new vector clock has seen nothing", "[vector_clock]") {
    vector_clock c;
    CHECK(c.empty());
    CHECK(c.size() == 0);
    CHECK(c.get(7) == 0);
    CHECK(compare(c, vector_clock{}) == causal_order::equal);
}

TEST_CASE("increment counts one node's events", "[vector_clock]") {
    vector_clock c;
    CHECK(c.increment(2) == 1);
    CHECK(c.increment(2) == 2);
    CHECK(c.increment(0) == 1);
    CHECK(c.get(2) == 2);
    CHECK(c.get(0) == 1);
    CHECK(c.get(1) == 0);
    REQUIRE(c.size() == 2);
    // Entries come sorted by node id whatever the order of increments.
    CHECK(c.entries()[0] == vector_clock::entry{0, 1});
    CHECK(c.entries()[1] == vector_clock::entry{2, 2});
}

TEST_CASE("vector clocks compare causally", "[vector_clock]") {
    vector_clock a{{0, 1}, {1, 2}};
    SECTION("equal") {
        CHECK(compare(a, vector_clock{{1, 2}, {0, 1}}) == causal_order::equal);
    }
    SECTION("before and after") {
        vector_clock b{{0, 2}, {1, 2}};
        CHECK(compare(a, b) == causal_order::before);
        CHECK(compare(b, a) == causal_order::after);
        CHECK(b.descends(a));
        CHECK_FALSE(a.descends(b));
    }
    SECTION("a node the other lacks makes it later") {
        vector_clock b{{0, 1}, {1, 2}, {5, 1}};
        CHECK(compare(a, b) == causal_order::before);
        CHECK(compare(b, a) == causal_order::after);
    }
    SECTION("concurrent") {
        vector_clock b{{0, 2}, {1, 1}};
        CHECK(compare(a, b) == causal_order::concurrent);
        CHECK(compare(b, a) == causal_order::concurrent);
        CHECK_FALSE(a.descends(b));
        CHECK_FALSE(b.descends(a));
    }
    SECTION("disjoint nodes are concurrent") {
        CHECK(compare(vector_clock{{0, 1}}, vector_clock{{1, 1}}) == causal_order::concurrent);
    }
    SECTION("every clock descends itself and the empty clock") {
        CHECK(a.descends(a));
        CHECK(a.descends(vector_clock{}));
        CHECK_FALSE(vector_clock{}.descends(a));
    }
}

TEST_CASE("merge takes the pointwise maximum and descends both", "[vector_clock]") {
    vector_clock a{{0, 3}, {1, 1}};
    vector_clock b{{1, 4}, {2, 2}};
    vector_clock m = a;
    m.merge(b);
    CHECK(m == vector_clock{{0, 3}, {1, 4}, {2, 2}});
    CHECK(m.descends(a));
    CHECK(m.descends(b));
    CHECK(compare(a, m) == causal_order::before);
    vector_clock n = b;
    n.merge(a);
    CHECK(n == m);
}

TEST_CASE("a node named twice keeps its larger counter", "[vector_clock]") {
    CHECK(vector_clock{{1, 5}, {1, 2}} == vector_clock{{1, 5}});
    CHECK(vector_clock{{1, 0}}.empty());
}

// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <compare>

#include <capkit/version/counter_map.hpp>

using capkit::detail::counter_map;

static counter_map make(std::initializer_list<std::pair<capkit::node_id, std::uint64_t>> in) {
    counter_map m;
    for (auto [n, c] : in) m.set(n, c);
    return m;
}

TEST_CASE("counter_map counts per node and treats missing nodes as zero", "[detail]") {
    counter_map m;
    CHECK(m.get(4) == 0);
    CHECK(m.increment(4) == 1);
    CHECK(m.increment(4, 5) == 6);
    CHECK(m.increment(1) == 1);
    CHECK(m.sum() == 7);
    REQUIRE(m.size() == 2);
    CHECK(m.entries()[0].first == 1);  // kept sorted by node
    m.set(4, 0);
    CHECK(m.size() == 1);
    CHECK(m == make({{1, 1}}));  // no zero entries, so equal maps compare equal
}

TEST_CASE("counter_map merge is a pointwise maximum", "[detail]") {
    auto a = make({{1, 3}, {2, 1}});
    a.merge(make({{2, 4}, {3, 2}}));
    CHECK(a == make({{1, 3}, {2, 4}, {3, 2}}));
}

TEST_CASE("counter_map compares pointwise", "[detail]") {
    CHECK(compare(make({{1, 1}}), make({{1, 2}})) == std::partial_ordering::less);
    CHECK(compare(make({{1, 2}, {2, 1}}), make({{1, 2}})) == std::partial_ordering::greater);
    CHECK(compare(make({{1, 2}}), make({{1, 2}})) == std::partial_ordering::equivalent);
    CHECK(compare(make({{1, 2}}), make({{2, 1}})) == std::partial_ordering::unordered);
    CHECK(compare(counter_map{}, make({{2, 1}})) == std::partial_ordering::less);
    CHECK(make({{1, 2}, {2, 1}}).descends(make({{2, 1}})));
    CHECK_FALSE(make({{1, 2}}).descends(make({{2, 1}})));
}

// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <capkit/resolve/lww.hpp>

using lww = capkit::lww<>;
using state = lww::state<std::string>;
using ts = capkit::hlc::timestamp;

static std::vector<std::string> values_of(const state& s) {
    auto v = lww::values(s);
    return {v.begin(), v.end()};
}

TEST_CASE("lww models the resolver concept", "[resolve][lww]") {
    STATIC_REQUIRE(capkit::resolver<lww, std::string>);
    STATIC_REQUIRE(capkit::resolver<lww, int>);
    STATIC_REQUIRE(lww::totally_ordered);
    CHECK(lww::name == "lww<hlc>");
}

TEST_CASE("a never-written key has no value", "[resolve][lww]") {
    state never_written{};
    CHECK(lww::values(never_written).empty());
}

TEST_CASE("the later stamp wins whichever write arrives first", "[resolve][lww]") {
    state empty{};
    auto early = lww::write(empty, {}, 1, ts{100, 0}, std::string("early"));
    auto late = lww::write(early, {}, 2, ts{200, 0}, std::string("late"));
    CHECK(values_of(late) == std::vector<std::string>{"late"});
    // Arriving out of order changes nothing: the early write loses, silently.
    auto reordered = lww::write(late, {}, 1, ts{100, 0}, std::string("early"));
    CHECK(reordered == late);
}

TEST_CASE("equal stamps go to the higher node id", "[resolve][lww]") {
    state from_1{std::string("one"), ts{5, 0}, 1};
    state from_2{std::string("two"), ts{5, 0}, 2};
    CHECK(lww::merge(from_1, from_2) == from_2);
    CHECK(lww::merge(from_2, from_1) == from_2);
}

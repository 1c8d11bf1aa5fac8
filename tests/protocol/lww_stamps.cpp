// SPDX-License-Identifier: MIT
// How lww stamps writes: never behind what the coordinator stores or what its client read.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <capkit/cluster.hpp>
#include <capkit/protocol/replica.hpp>

using namespace capkit;
using strong_lww = replica<std::string, std::string, quorum<3, 2, 2>, strong>;

TEST_CASE("a write is not acknowledged while losing to a runaway clock's version",
          "[protocol][lww]") {
    cluster<strong_lww> c;
    REQUIRE(c.at(0).put("k", "first").has_value());
    // A peer whose clock ran an hour ahead wrote "runaway"; its stamp is far beyond the allowed
    // offset, so the replicas' clocks refuse to follow it. It reaches node 1 as read repair.
    strong_lww::state future{std::string("runaway"), hlc::timestamp{3'600'000'000'000, 0}, 2};
    c.network().send(
        2, 1, strong_lww::message(protocol::repair<std::string, strong_lww::state>{"k", future}));
    c.settle();
    auto written = c.at(1).put("k", "second");
    REQUIRE(written.has_value());
    CHECK(c.replica(1).stats().clock_refusals > 0);
    // The acknowledged write is what every later read returns, not the runaway version.
    auto read = c.at(2).get<capkit::all>("k");
    REQUIRE(read.has_value());
    CHECK(read->values == std::vector<std::string>{"second"});
    CHECK(written->context == read->context);
}

TEST_CASE("a write is stamped after the version its client read", "[protocol][lww]") {
    cluster<strong_lww> c;
    c.partition({{0, 1}, {2}});
    for (int i = 0; i < 3; ++i) REQUIRE(c.at(0).put("k", "old " + std::to_string(i)).has_value());
    c.heal();
    auto seen = c.at(2).get("k");
    REQUIRE(seen.has_value());
    REQUIRE(c.at(2).put("k", "new", seen->context).has_value());
    auto after = c.at(0).get<capkit::all>("k");
    REQUIRE(after.has_value());
    CHECK(after->values == std::vector<std::string>{"new"});
    CHECK(after->context > seen->context);
}

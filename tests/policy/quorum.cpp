// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <capkit/policy/quorum.hpp>

using capkit::all;
using capkit::majority;
using capkit::one;
using capkit::quorum;

TEST_CASE("named levels resolve against N as Cassandra's do", "[policy][quorum]") {
    STATIC_REQUIRE(quorum<3, majority, majority>::r == 2);
    STATIC_REQUIRE(quorum<4, majority, majority>::w == 3);  // floor(4/2)+1: two majorities meet
    STATIC_REQUIRE(quorum<5, majority, all>::r == 3);
    STATIC_REQUIRE(quorum<5, majority, all>::w == 5);
    STATIC_REQUIRE(quorum<5, one, capkit::three>::w == 3);
    STATIC_REQUIRE(quorum<7, capkit::two, 4>::r == 2);
}

TEST_CASE("a quorum is majority/majority unless told otherwise", "[policy][quorum]") {
    STATIC_REQUIRE(quorum<5>::r == 3);
    STATIC_REQUIRE(quorum<5>::w == 3);
    STATIC_REQUIRE(quorum<1>::r == 1);
}

TEST_CASE("overlap is R + W > N", "[policy][quorum]") {
    STATIC_REQUIRE(quorum<3, 2, 2>::overlapping);
    STATIC_REQUIRE(quorum<5, 1, 5>::overlapping);
    STATIC_REQUIRE_FALSE(quorum<3, 1, 2>::overlapping);
    STATIC_REQUIRE_FALSE(quorum<4, 2, 2>::overlapping);
}

TEST_CASE("a quorum's name carries the resolved sizes", "[policy][quorum]") {
    CHECK(quorum<3, 2, 2>::name == "quorum_3_2_2");
    CHECK(quorum<5, majority, all>::name == "quorum_5_3_5");
    CHECK(quorum<12, one, 12>::name == "quorum_12_1_12");
}

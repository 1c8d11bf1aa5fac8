// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <type_traits>

#include <archetypes/max_register.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/resolve/crdt_merge.hpp>

using namespace capkit;

TEST_CASE("an empty config takes every default", "[policy][config]") {
    using c = config<>;
    STATIC_REQUIRE(std::is_same_v<c::quorum, quorum<3, majority, majority>>);
    STATIC_REQUIRE(std::is_same_v<c::consistency, eventual>);
    STATIC_REQUIRE(std::is_same_v<c::resolver, lww<hlc>>);
    STATIC_REQUIRE(std::is_same_v<c::placement, all_nodes>);
    STATIC_REQUIRE(std::is_same_v<c::storage, memory>);
    CHECK(c::name == "quorum_3_2_2/eventual/lww<hlc>");
}

TEST_CASE("policies are found by category whatever their order", "[policy][config]") {
    using a = config<quorum<5, 3, 3>, linearizable, memory>;
    using b = config<memory, linearizable, quorum<5, 3, 3>>;
    STATIC_REQUIRE(std::is_same_v<a::quorum, b::quorum>);
    STATIC_REQUIRE(std::is_same_v<a::consistency, b::consistency>);
    STATIC_REQUIRE(std::is_same_v<a::storage, b::storage>);
    STATIC_REQUIRE(a::n == 5 && a::r == 3 && a::w == 3);
    CHECK(a::name == b::name);
}

TEST_CASE("the state type comes from the resolver", "[policy][config]") {
    using c = config<crdt_merge, quorum<3, one, one>>;
    STATIC_REQUIRE(std::is_same_v<c::state<archetypes::max_register>,
                                  crdt_merge::state<archetypes::max_register>>);
    STATIC_REQUIRE(std::is_same_v<config<>::state<int>, lww<>::state<int>>);
}

TEST_CASE("the compile-time rules accept exactly the sound combinations", "[policy][config]") {
    // Each of these sits on the boundary of a rule; the compile_fail tests hold the other side.
    STATIC_REQUIRE(config<quorum<3, 2, 2>, linearizable>::n == 3);
    STATIC_REQUIRE(config<quorum<5, 1, 5>, strong>::w == 5);    // R + W = N + 1
    STATIC_REQUIRE(config<quorum<5, 3, 3>, serial>::r == 3);    // majorities
    STATIC_REQUIRE(config<quorum<5, 3, 5>, serial>::w == 5);    // all is at least a majority
    STATIC_REQUIRE(config<quorum<3, 1, 1>, eventual>::r == 1);  // eventual asks no overlap
    STATIC_REQUIRE(configuration<config<serial>>);
    STATIC_REQUIRE_FALSE(configuration<int>);
}

// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <archetypes/max_register.hpp>
#include <capkit/resolve/crdt_merge.hpp>

using capkit::crdt_merge;
using reg = capkit::archetypes::max_register;

TEST_CASE("crdt_merge models the resolver concept for any CRDT", "[resolve][crdt_merge]") {
    STATIC_REQUIRE(capkit::crdt<reg>);
    STATIC_REQUIRE(capkit::resolver<crdt_merge, reg>);
    STATIC_REQUIRE_FALSE(crdt_merge::totally_ordered);
}

TEST_CASE("a write joins the coordinator's CRDT into the stored one", "[resolve][crdt_merge]") {
    crdt_merge::state<reg> stored{reg{7}};
    // A coordinator that had only seen 5 writes 6: the stored 7 is not lost, merge is a join.
    auto after = crdt_merge::write(stored, {}, 0, {}, reg{6});
    CHECK(after.value.v == 7);
    auto higher = crdt_merge::write(after, {}, 0, {}, reg{9});
    CHECK(higher.value.v == 9);
    REQUIRE(crdt_merge::values(higher).size() == 1);
    CHECK(crdt_merge::values(higher)[0].v == 9);
}

TEST_CASE("crdt_merge merge is order-free", "[resolve][crdt_merge]") {
    crdt_merge::state<reg> a{reg{3}}, b{reg{8}};
    CHECK(crdt_merge::merge(a, b) == crdt_merge::merge(b, a));
    CHECK(crdt_merge::merge(a, a) == a);
}

TEST_CASE("crdt_merge is no resolver for a value that is not a CRDT", "[resolve][crdt_merge]") {
    STATIC_REQUIRE_FALSE(capkit::resolver<crdt_merge, int>);
    STATIC_REQUIRE_FALSE(capkit::resolver<crdt_merge>);
}

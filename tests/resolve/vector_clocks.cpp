// SPDX-License-Identifier: MIT
#include <capkit/resolve/vector_clocks.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using capkit::vector_clock;
using vc = capkit::vector_clocks;
using state = vc::state<std::string>;

namespace {

state write(const state& stored, const vector_clock& ctx, capkit::node_id self, std::string v) {
    return vc::write(stored, ctx, self, {}, std::move(v));
}

std::vector<std::string> sorted_values(const state& s) {
    auto vs = vc::values(s);
    std::vector<std::string> out(vs.begin(), vs.end());
    std::ranges::sort(out);
    return out;
}

using strings = std::vector<std::string>;

}  // namespace

TEST_CASE("vector_clocks models the resolver concept", "[vector_clocks]") {
    STATIC_REQUIRE(capkit::resolver<vc, std::string>);
    STATIC_REQUIRE(capkit::resolver<vc, int>);
    STATIC_REQUIRE_FALSE(vc::totally_ordered);
    CHECK(vc::name == "vector_clocks");
    state never_written;
    CHECK(vc::values(never_written).empty());
}

TEST_CASE("a write that saw the stored clock replaces every sibling", "[vector_clocks]") {
    auto s = write(state{}, {}, 0, "a");
    CHECK(sorted_values(s) == strings{"a"});
    CHECK(vc::context_of(s) == vector_clock{{0, 1}});
    auto t = write(s, vc::context_of(s), 0, "b");
    CHECK(sorted_values(t) == strings{"b"});
    CHECK(t.clock == vector_clock{{0, 2}});
}

TEST_CASE("concurrent writes on two replicas come back as siblings", "[vector_clocks]") {
    auto a = write(state{}, {}, 1, "alice");
    auto b = write(state{}, {}, 2, "bob");
    auto ab = vc::merge(a, b);
    CHECK(sorted_values(ab) == strings{"alice", "bob"});
    CHECK(vc::merge(b, a) == ab);
    CHECK(ab.clock == vector_clock{{1, 1}, {2, 1}});
    SECTION("a write whose context saw both replaces both") {
        auto c = write(ab, vc::context_of(ab), 1, "carol");
        CHECK(sorted_values(c) == strings{"carol"});
        // The stale sides merge in without coming back.
        CHECK(vc::merge(c, a) == c);
        CHECK(vc::merge(b, c) == c);
    }
    SECTION("a write that saw one of them keeps both and adds itself") {
        auto c = write(ab, vc::context_of(a), 1, "carol");
        CHECK(sorted_values(c) == strings{"alice", "bob", "carol"});
    }
}

TEST_CASE("one coordinator cannot tell which siblings a stale client saw", "[vector_clocks]") {
    // Clients A and B both read v0. A writes x, B writes y (a sibling of x), and A writes z with
    // the context its write of x returned: A saw x, yet the one clock cannot say so.
    auto v0 = write(state{}, {}, 0, "v0");
    auto x = write(v0, vc::context_of(v0), 0, "x");
    auto y = write(x, vc::context_of(v0), 0, "y");
    CHECK(sorted_values(y) == strings{"x", "y"});
    auto z = write(y, vc::context_of(x), 0, "z");
    CHECK(sorted_values(z) == strings{"x", "y", "z"});  // x is a false sibling
}

TEST_CASE("merging concurrent versions never revives a superseded sibling", "[vector_clocks]") {
    // Node 1 writes A. Node 2 writes B, then C with a context that saw B. Node 3 merged A and the
    // state holding B. A plain union of siblings would make merge order matter:
    // (a + b) + c = {A, C} but a + (b + c) = {A, B, C}, B revived.
    auto a = write(state{}, {}, 1, "A");
    auto b1 = write(state{}, {}, 2, "B");
    auto b2 = write(b1, vc::context_of(b1), 2, "C");
    auto c = vc::merge(a, b1);
    CHECK(sorted_values(c) == strings{"A", "B"});
    auto left = vc::merge(vc::merge(a, b2), c);
    auto right = vc::merge(a, vc::merge(b2, c));
    CHECK(sorted_values(left) == strings{"A", "C"});
    CHECK(left == right);
}

TEST_CASE("merge lets the descendant win", "[vector_clocks]") {
    auto s = write(state{}, {}, 0, "a");
    auto t = write(s, {}, 1, "b");
    REQUIRE(t.clock.descends(s.clock));
    CHECK(vc::merge(s, t) == t);
    CHECK(vc::merge(t, s) == t);
    CHECK(vc::merge(t, t) == t);
}

// SPDX-License-Identifier: MIT
#include <capkit/resolve/dvv.hpp>

#include <algorithm>
#include <iterator>
#include <ranges>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using capkit::version_vector;
using state = capkit::dvv::state<std::string>;
using strings = std::vector<std::string>;

namespace {

state write(const state& stored, const version_vector& ctx, capkit::node_id self, std::string v) {
    return capkit::dvv::write(stored, ctx, self, {}, std::move(v));
}

strings sorted_values(const state& s) {
    strings out;
    std::ranges::copy(capkit::dvv::values(s), std::back_inserter(out));
    std::ranges::sort(out);
    return out;
}

}  // namespace

TEST_CASE("dvv models the resolver concept", "[dvv]") {
    STATIC_REQUIRE(capkit::resolver<capkit::dvv, std::string>);
    STATIC_REQUIRE(capkit::resolver<capkit::dvv, int>);
    STATIC_REQUIRE_FALSE(capkit::dvv::totally_ordered);
    CHECK(capkit::dvv::name == "dvv");
    state never_written;
    CHECK(std::ranges::empty(capkit::dvv::values(never_written)));
}

TEST_CASE("dvv keeps concurrent writes on two replicas as siblings", "[dvv]") {
    auto a = write(state{}, {}, 1, "alice");
    auto b = write(state{}, {}, 2, "bob");
    auto ab = capkit::dvv::merge(a, b);
    CHECK(sorted_values(ab) == strings{"alice", "bob"});
    CHECK(capkit::dvv::merge(b, a) == ab);
    CHECK(capkit::dvv::context_of(ab) == version_vector{{1, 1}, {2, 1}});
    SECTION("a write whose context saw both replaces both") {
        auto c = write(ab, capkit::dvv::context_of(ab), 2, "carol");
        CHECK(sorted_values(c) == strings{"carol"});
        CHECK(capkit::dvv::merge(a, c) == c);
    }
    SECTION("a write that saw one replaces only that one") {
        auto c = write(ab, capkit::dvv::context_of(a), 2, "carol");
        CHECK(sorted_values(c) == strings{"bob", "carol"});
    }
}

TEST_CASE("dvv tells which siblings a stale client saw through one coordinator", "[dvv]") {
    // The case vector_clocks gets wrong: A and B read v0; A writes x, B writes y, and A writes z
    // with the context its write of x returned. z supersedes x (A saw it) but not y.
    auto v0 = write(state{}, {}, 0, "v0");
    auto x = write(v0, capkit::dvv::context_of(v0), 0, "x");
    auto y = write(x, capkit::dvv::context_of(v0), 0, "y");
    CHECK(sorted_values(y) == strings{"x", "y"});
    auto z = write(y, capkit::dvv::context_of(x), 0, "z");
    CHECK(sorted_values(z) == strings{"y", "z"});
    CHECK(z.size() == 2);
}

// SPDX-License-Identifier: MIT
#include <capkit/version/dvvset.hpp>

#include <algorithm>
#include <ranges>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using capkit::causal_order;
using capkit::dvvset;
using capkit::version_vector;
using set = dvvset<std::string>;

namespace {

std::vector<std::string> sorted_values(const set& s) {
    std::vector<std::string> out;
    std::ranges::copy(values(s), std::back_inserter(out));
    std::ranges::sort(out);
    return out;
}

}  // namespace

TEST_CASE("an empty dvvset has no siblings and an empty context", "[dvvset]") {
    set s;
    CHECK(s.empty());
    CHECK(s.size() == 0);
    CHECK(std::ranges::empty(values(s)));
    CHECK(join(s).empty());
}

TEST_CASE("a write with the context it read supersedes what it read", "[dvvset]") {
    auto s = update(std::string("a"), {}, set{}, 0);
    CHECK(s.size() == 1);
    CHECK(join(s) == version_vector{{0, 1}});
    auto t = update(std::string("b"), join(s), s, 0);
    CHECK(sorted_values(t) == std::vector<std::string>{"b"});
    CHECK(join(t) == version_vector{{0, 2}});
    CHECK(compare(s, t) == causal_order::before);
}

TEST_CASE("concurrent writes through one coordinator become siblings", "[dvvset]") {
    auto s = update(std::string("a"), {}, set{}, 0);
    // Both clients read s, then write: the second write has not seen the first.
    auto ctx = join(s);
    auto t = update(std::string("b"), ctx, s, 0);
    auto u = update(std::string("c"), ctx, t, 0);
    CHECK(sorted_values(u) == std::vector<std::string>{"b", "c"});
    REQUIRE(u.entries().size() == 1);
    // One entry per node: counter 3, live values newest first (dots 3 and 2).
    CHECK(u.entries()[0].counter == 3);
    CHECK(u.entries()[0].values == std::vector<std::string>{"c", "b"});
    SECTION("a write that saw both replaces both") {
        auto v = update(std::string("d"), join(u), u, 0);
        CHECK(sorted_values(v) == std::vector<std::string>{"d"});
    }
    SECTION("a write that saw only the older context keeps both") {
        auto v = update(std::string("d"), ctx, u, 0);
        CHECK(sorted_values(v) == std::vector<std::string>{"b", "c", "d"});
    }
}

TEST_CASE("sync keeps concurrent writes on different nodes and drops superseded ones", "[dvvset]") {
    auto a = update(std::string("a"), {}, set{}, 1);
    auto b = update(std::string("b"), {}, set{}, 2);
    auto ab = sync(a, b);
    CHECK(sorted_values(ab) == std::vector<std::string>{"a", "b"});
    CHECK(sync(b, a) == ab);
    CHECK(compare(a, b) == causal_order::concurrent);
    CHECK(compare(a, ab) == causal_order::before);

    // Node 2 learns of a and supersedes both; syncing with the stale a must not bring a back.
    auto c = update(std::string("c"), join(ab), ab, 2);
    CHECK(sorted_values(sync(a, c)) == std::vector<std::string>{"c"});
    CHECK(sorted_values(sync(c, a)) == std::vector<std::string>{"c"});
    CHECK(sync(ab, c) == c);
    CHECK(sync(c, c) == c);
}

TEST_CASE("sync trims the values the other side has superseded", "[dvvset]") {
    // Three blind writes through node 0: three siblings, dots (0,1) (0,2) (0,3).
    auto s1 = update(std::string("v1"), {}, set{}, 0);
    auto s2 = update(std::string("v2"), {}, s1, 0);
    auto s3 = update(std::string("v3"), {}, s2, 0);
    CHECK(s3.entries()[0].values == std::vector<std::string>{"v3", "v2", "v1"});
    // Replica 1 got s2; a client read it there and wrote x, superseding v1 and v2 but not v3.
    auto x = update(std::string("x"), join(s2), s2, 1);
    CHECK(sorted_values(x) == std::vector<std::string>{"x"});
    CHECK(compare(x, s3) == causal_order::concurrent);
    auto m = sync(s3, x);
    CHECK(sorted_values(m) == std::vector<std::string>{"v3", "x"});
    CHECK(sync(x, s3) == m);
    REQUIRE(m.entries().size() == 2);
    CHECK(m.entries()[0].counter == 3);
    CHECK(m.entries()[0].values == std::vector<std::string>{"v3"});
}

TEST_CASE("a context ahead of the stored state supersedes what it covers", "[dvvset]") {
    // Client read from a replica that had node 1's write; the coordinator, node 0, has not.
    auto remote = update(std::string("r"), {}, set{}, 1);
    auto local = update(std::string("l"), {}, set{}, 0);
    auto w = update(std::string("w"), join(remote), local, 0);
    CHECK(sorted_values(w) == std::vector<std::string>{"l", "w"});
    // When the remote state arrives, "r" is already covered by w's history: it is not revived.
    CHECK(sorted_values(sync(w, remote)) == std::vector<std::string>{"l", "w"});
}

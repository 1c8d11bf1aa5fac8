// SPDX-License-Identifier: MIT
// capkit::merkle_tree: equal contents give equal trees whatever the order they came in, one key's
// change shows on its own path only, and the incremental tree equals one built from scratch.
#include <capkit/protocol/merkle_tree.hpp>

#include <algorithm>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <rapidcheck.h>
#include <catch2/catch.hpp>

#include <capkit/detail/text.hpp>

namespace {

using tree = capkit::merkle_tree<std::string>;

std::uint64_t kh(const std::string& k) {
    return capkit::key_hash(k);
}

void fill(tree& t, const std::map<std::string, std::uint64_t>& items) {
    for (const auto& [k, h] : items) t.set(k, kh(k), h);
}

// Every node of every level.
std::vector<std::uint64_t> all_hashes(const tree& t) {
    std::vector<std::uint64_t> out;
    for (unsigned level = 0; level <= t.depth(); ++level)
        for (std::size_t i = 0; i < (std::size_t{1} << level); ++i) out.push_back(t.hash(level, i));
    return out;
}

}  // namespace

TEST_CASE("merkle_tree: the same items in another order give the same tree", "[merkle]") {
    std::map<std::string, std::uint64_t> items;
    for (int i = 0; i < 300; ++i)
        items["key" + std::to_string(i)] = 0x9e3779b97f4a7c15ULL * (i + 1);
    tree a(6), b(6);
    fill(a, items);
    for (auto it = items.rbegin(); it != items.rend(); ++it) b.set(it->first, kh(it->first), 7);
    for (auto it = items.rbegin(); it != items.rend(); ++it)
        b.set(it->first, kh(it->first), it->second);
    CHECK(a.size() == 300);
    CHECK(b.size() == 300);
    CHECK(a.hash(0, 0) != 0);
    CHECK(all_hashes(a) == all_hashes(b));
}

TEST_CASE("merkle_tree: one key's change differs on its own path and nowhere else", "[merkle]") {
    std::map<std::string, std::uint64_t> items;
    for (int i = 0; i < 500; ++i)
        items[capkit::detail::cat("k", std::to_string(i))] = std::uint64_t(i) * 1000003 + 1;
    tree a(8), b(8);
    fill(a, items);
    fill(b, items);
    const std::string changed = "k123";
    b.set(changed, kh(changed), 42);
    auto leaf = a.bucket_of(kh(changed));
    for (unsigned level = 0; level <= a.depth(); ++level) {
        auto on_path = leaf >> (a.depth() - level);
        for (std::size_t i = 0; i < (std::size_t{1} << level); ++i) {
            INFO("level " << level << " node " << i);
            CHECK((a.hash(level, i) != b.hash(level, i)) == (i == on_path));
        }
    }
    bool found = false;
    b.for_each_under(a.depth(), leaf, [&](const tree::entry& e) { found |= e.key == changed; });
    CHECK(found);
}

TEST_CASE("merkle_tree: erasing every key gives the empty tree back", "[merkle]") {
    tree t(5);
    t.set("a", kh("a"), 1);
    t.set("b", kh("b"), 2);
    CHECK(t.hash(0, 0) != 0);
    CHECK(t.erase("a", kh("a")));
    CHECK_FALSE(t.erase("a", kh("a")));
    CHECK(t.erase("b", kh("b")));
    CHECK(t.size() == 0);
    CHECK(all_hashes(t) == all_hashes(tree(5)));
    CHECK(t.hash(0, 0) == 0);
}

TEST_CASE("merkle_tree: a depth beyond 24 or a node beyond the tree is refused", "[merkle]") {
    CHECK_THROWS_WITH(tree(25), Catch::Contains("depth above 24"));
    tree t(3);
    CHECK_THROWS_AS(t.hash(4, 0), std::out_of_range);
    CHECK_THROWS_AS(t.hash(3, 8), std::out_of_range);
    CHECK(tree(0).hash(0, 0) == 0);
}

TEST_CASE("merkle_tree: after any sets and erases, the tree equals one built from what is left",
          "[merkle]") {
    auto ok = rc::check([](const std::vector<std::pair<std::uint8_t, std::uint64_t>>& ops) {
        tree incremental(4);
        std::map<std::string, std::uint64_t> left;
        for (auto [k, h] : ops) {
            auto key = std::to_string(k % 40);
            if (h % 5 == 0) {
                RC_ASSERT(incremental.erase(key, kh(key)) == (left.erase(key) == 1));
            } else {
                incremental.set(key, kh(key), h);
                left[key] = h;
            }
            (void)incremental.hash(0, 0);  // refresh midway, so laziness is exercised
        }
        tree scratch(4);
        fill(scratch, left);
        RC_ASSERT(incremental.size() == left.size());
        RC_ASSERT(all_hashes(incremental) == all_hashes(scratch));
    });
    CHECK(ok);
}

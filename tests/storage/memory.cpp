// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include <capkit/storage/memory.hpp>

TEST_CASE("memory storage keeps the last state put for each key", "[storage]") {
    STATIC_REQUIRE(capkit::storage<capkit::memory, std::string, std::string>);
    capkit::memory::table<std::string, int> t;
    CHECK(t.find("a") == nullptr);
    t.put("a", 1);
    t.put("b", 2);
    t.put("a", 3);
    REQUIRE(t.find("a") != nullptr);
    CHECK(*t.find("a") == 3);
    CHECK(t.size() == 2);
    std::map<std::string, int> seen;
    t.for_each([&](const std::string& k, int v) { seen[k] = v; });
    CHECK(seen == std::map<std::string, int>{{"a", 3}, {"b", 2}});
    CHECK(t.erase("a"));
    CHECK_FALSE(t.erase("a"));
    CHECK(t.find("a") == nullptr);
}

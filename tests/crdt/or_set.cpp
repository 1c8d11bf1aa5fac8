// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <capkit/crdt/or_set.hpp>

using strings = std::vector<std::string>;

TEST_CASE("or_set adds, removes and lists its elements sorted", "[crdt][or_set]") {
    capkit::or_set<std::string> s;
    CHECK(s.empty());
    s.add(1, "tea");
    s.add(1, "jam");
    s.add(1, "tea");
    CHECK(s.value() == strings{"jam", "tea"});
    CHECK(s.size() == 2);
    CHECK(s.contains("tea"));
    CHECK(s.remove("tea"));
    CHECK_FALSE(s.remove("tea"));
    CHECK_FALSE(s.contains("tea"));
    CHECK(s.value() == strings{"jam"});
}

TEST_CASE("or_set: an add concurrent with a remove wins", "[crdt][or_set]") {
    capkit::or_set<std::string> a;
    a.add(1, "milk");
    capkit::or_set<std::string> b = a;  // both replicas hold milk, then a partition
    a.remove("milk");
    b.add(2, "milk");  // b never saw the remove
    auto ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    CHECK(ab.contains("milk"));
    CHECK(ab == ba);
    CHECK(ab.size() == 1);
}

TEST_CASE("or_set: a remove stays when merged with a replica holding only the old add",
          "[crdt][or_set]") {
    capkit::or_set<std::string> a;
    a.add(1, "milk");
    capkit::or_set<std::string> b = a;
    a.remove("milk");
    a.merge(b);  // b still holds the add a removed: it must not come back
    CHECK_FALSE(a.contains("milk"));
    b.merge(a);
    CHECK_FALSE(b.contains("milk"));
    CHECK(a == b);
}

TEST_CASE("or_set: re-adding after a remove works, here and after merge", "[crdt][or_set]") {
    capkit::or_set<std::string> a;
    a.add(1, "milk");
    capkit::or_set<std::string> b = a;
    a.remove("milk");
    a.add(1, "milk");
    CHECK(a.contains("milk"));
    b.merge(a);
    CHECK(b.contains("milk"));
    b.remove("milk");
    a.merge(b);
    CHECK_FALSE(a.contains("milk"));
}

TEST_CASE("or_set: a remove drops only the adds it observed", "[crdt][or_set]") {
    capkit::or_set<std::string> a, b, c;
    a.add(1, "milk");
    b.add(2, "milk");  // the same element, added concurrently
    c = a;
    c.merge(b);
    CHECK(c.size() == 1);  // one element, though two adds
    CHECK(c.value() == strings{"milk"});
    a.remove("milk");  // a saw only its own add
    a.merge(b);
    CHECK(a.contains("milk"));
    c.remove("milk");  // c saw both
    c.merge(a);
    c.merge(b);
    CHECK_FALSE(c.contains("milk"));
}

TEST_CASE("or_set: a remove on one replica travels through a third", "[crdt][or_set]") {
    capkit::or_set<int> a, b, c;
    a.add(1, 7);
    b.merge(a);
    c.merge(a);
    b.remove(7);
    c.merge(b);  // c hears of the remove from b, not from a
    a.merge(c);
    CHECK_FALSE(a.contains(7));
    CHECK(a == c);
}

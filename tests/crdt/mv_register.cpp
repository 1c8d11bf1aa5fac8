// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <capkit/crdt/mv_register.hpp>

using strings = std::vector<std::string>;

TEST_CASE("mv_register holds nothing until assigned, then the last assign", "[crdt][mv_register]") {
    capkit::mv_register<std::string> r;
    CHECK(r.value().empty());
    r.assign(1, "red");
    r.assign(1, "blue");
    CHECK(r.value() == strings{"blue"});
}

TEST_CASE("mv_register keeps both of two concurrent assigns", "[crdt][mv_register]") {
    capkit::mv_register<std::string> a, b;
    a.assign(1, "red");
    b.assign(2, "blue");
    auto ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    CHECK(ab.value() == strings{"blue", "red"});
    CHECK(ab == ba);

    SECTION("an assign that saw both replaces both") {
        ab.assign(1, "green");
        a.merge(ab);
        b.merge(ab);
        CHECK(a.value() == strings{"green"});
        CHECK(b.value() == strings{"green"});
    }
    SECTION("an assign that saw one replaces only that one") {
        a.assign(1, "green");  // a saw red, never blue
        ba.merge(a);
        CHECK(ba.value() == strings{"blue", "green"});
    }
}

TEST_CASE("mv_register shows concurrent equal values once", "[crdt][mv_register]") {
    capkit::mv_register<std::string> a, b;
    a.assign(1, "red");
    b.assign(2, "red");
    a.merge(b);
    CHECK(a.value() == strings{"red"});
    CHECK(a.kernel().entries().size() == 2);  // still two writes, for later merges
}

TEST_CASE("mv_register: an older state arriving late changes nothing", "[crdt][mv_register]") {
    capkit::mv_register<int> a;
    a.assign(1, 1);
    auto old = a;
    a.assign(2, 2);
    auto before = a;
    a.merge(old);
    CHECK(a == before);
    CHECK(a.value() == std::vector<int>{2});
}

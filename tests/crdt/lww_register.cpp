// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include <capkit/crdt/lww_register.hpp>

using namespace std::chrono_literals;
using capkit::hlc;

TEST_CASE("lww_register starts empty and takes a write", "[crdt][lww_register]") {
    capkit::lww_register<std::string> r;
    CHECK(r.value().empty());
    r.merge(capkit::lww_register<std::string>{});
    CHECK(r == capkit::lww_register<std::string>{});
    CHECK(r.assign("x", {5, 0}, 1));
    CHECK(r.value() == "x");
    CHECK(r.origin() == 1);
}

TEST_CASE("lww_register keeps the later write whatever the merge order", "[crdt][lww_register]") {
    capkit::lww_register<std::string> a, b;
    a.assign("early", {10, 0}, 2);
    b.assign("late", {10, 1}, 1);
    auto ab = a, ba = b;
    ab.merge(b);
    ba.merge(a);
    CHECK(ab.value() == "late");
    CHECK(ab == ba);
}

TEST_CASE("lww_register breaks a tie in time by the higher node id", "[crdt][lww_register]") {
    capkit::lww_register<std::string> a, b;
    a.assign("from 7", {10, 0}, 7);
    b.assign("from 3", {10, 0}, 3);
    a.merge(b);
    b.merge(a);
    CHECK(a.value() == "from 7");
    CHECK(b.value() == "from 7");
}

TEST_CASE("lww_register ignores a write older than the one it holds", "[crdt][lww_register]") {
    capkit::lww_register<int> r;
    CHECK(r.assign(1, {20, 0}, 1));
    CHECK_FALSE(r.assign(2, {19, 5}, 2));
    CHECK_FALSE(r.assign(3, {20, 0}, 1));  // the same write again
    CHECK(r.value() == 1);
}

TEST_CASE("lww_register: a node whose clock lags wins once its hlc has seen the remote write",
          "[crdt][lww_register]") {
    hlc fast, slow;
    capkit::lww_register<std::string> a, b;
    a.assign("ahead", fast.now(100ms), 1);
    b.merge(a);
    CHECK_FALSE(b.assign("behind", slow.now(50ms), 2));  // physical time alone loses
    auto seen = slow.update(b.stamp(), 50ms);
    REQUIRE(seen.has_value());
    CHECK(b.assign("behind", slow.now(50ms), 2));  // the hlc now orders it after
    a.merge(b);
    CHECK(a.value() == "behind");
}

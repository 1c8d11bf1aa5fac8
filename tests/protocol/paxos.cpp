// SPDX-License-Identifier: MIT
// capkit::serial: CASPaxos per key.
#include <catch2/catch.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <capkit/cluster.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/protocol/replica.hpp>

using namespace capkit;
using serial_3 = replica<std::string, int, quorum<3>, serial>;
using serial_5 = replica<std::string, int, quorum<5>, serial>;
using ledger = cluster<serial_3>;

namespace {
std::optional<int> plus_one(const std::optional<int>& v) {
    return v.value_or(0) + 1;
}
}  // namespace

TEST_CASE("serial picks the CASPaxos replica", "[protocol][paxos]") {
    STATIC_REQUIRE(std::is_same_v<serial_3, paxos_replica<std::string, int, quorum<3>, serial>>);
}

TEST_CASE("compare_and_set applies only on the expected value", "[protocol][paxos]") {
    ledger c;
    REQUIRE(c.at(0).compare_and_set("x", std::nullopt, 1).has_value());  // absent -> 1
    auto lost = c.at(1).compare_and_set("x", std::nullopt, 2);
    REQUIRE(lost.has_error());
    CHECK(lost.error() == errc::precondition_failed);
    REQUIRE(c.at(2).compare_and_set("x", 1, 3).has_value());
    auto read = c.at(1).get("x");
    REQUIRE(read.has_value());
    CHECK(read->values == std::vector<int>{3});
}

TEST_CASE("update is atomic: concurrent increments are never lost", "[protocol][paxos]") {
    // Nine increments from three proposers at once, interleaved by a seeded scheduler. Each that
    // succeeds must count; one that timed out may or may not have; one refused had no effect.
    std::uint64_t retries = 0;
    for (std::uint64_t seed = 1; seed <= 150; ++seed) {
        CAPTURE(seed);
        ledger c(replica_options{.seed = seed});
        c.network().reorder(seed);
        detail::rng rng(seed);
        int ok = 0, unknown = 0;
        for (int i = 0; i < 9; ++i) {
            c.node_at(static_cast<node_id>(i % 3)).async_update("n", plus_one, [&](auto r) {
                if (r) {
                    ++ok;
                } else if (r.error() == errc::timeout) {
                    ++unknown;
                } else {
                    CHECK(r.error() == errc::unavailable);
                }
            });
        }
        // Some seeds cut node 2 off for a while in the middle of the run.
        if (rng.chance(0.3)) {
            for (int s = 0; s < 20; ++s) c.network().step();
            c.network().cut(2, 0);
            c.network().cut(2, 1);
            for (int s = 0; s < 40; ++s) c.network().step();
            c.network().heal();
        }
        c.settle();
        for (node_id i = 0; i < 3; ++i) retries += c.replica(i).stats().retries;
        auto final_value = c.at(0).get("n");
        REQUIRE(final_value.has_value());
        int n = final_value->found() ? final_value->values.at(0) : 0;
        CHECK(n >= ok);
        CHECK(n <= ok + unknown);
    }
    CHECK(retries > 0);  // contention really happened, and backoff ran
}

TEST_CASE("a minority side refuses; the majority keeps serving", "[protocol][paxos]") {
    cluster<serial_5> c;
    REQUIRE(c.at(0).put("k", 1).has_value());
    c.partition({{0, 1}, {2, 3, 4}});
    for (node_id i : {0u, 1u}) {
        auto r = c.at(i).get("k");
        REQUIRE(r.has_error());
        CHECK(r.error() == errc::unavailable);
        auto u = c.at(i).update("k", plus_one);
        REQUIRE(u.has_error());
        CHECK(u.error() == errc::unavailable);
    }
    auto u = c.at(3).update("k", plus_one);
    REQUIRE(u.has_value());
    CHECK(**u == 2);
    c.heal();
    auto r = c.at(0).get("k");
    REQUIRE(r.has_value());
    CHECK(r->values == std::vector<int>{2});
}

TEST_CASE("a proposer that cannot reach a quorum it believed reachable times out or refuses",
          "[protocol][paxos]") {
    ledger c;
    REQUIRE(c.at(0).put("k", 1).has_value());
    // Links cut behind the nodes' backs: node 0 sends, hears nothing, and runs out of time.
    c.network().cut(0, 1);
    c.network().cut(0, 2);
    auto read = c.at(0).get("k");
    REQUIRE(read.has_error());
    CHECK(read.error() == errc::unavailable);  // no accept was sent: certainly no effect
    c.network().heal();
    // Accepts lost on the way out: the write may have taken effect, so the answer is timeout.
    c.network().cut_one_way(1, 0);
    c.network().cut_one_way(2, 0);
    auto write = c.at(0).put("k", 7);
    REQUIRE(write.has_error());
    CHECK(write.error() == errc::unavailable);  // promises never came back: nothing accepted
}

TEST_CASE("deletion collects the register everywhere, and nothing brings it back",
          "[protocol][paxos]") {
    ledger c;
    REQUIRE(c.at(0).put("gone", 41).has_value());
    REQUIRE(c.at(1).remove("gone").has_value());
    c.settle();
    for (node_id i = 0; i < 3; ++i) {
        CHECK(c.replica(i).find("gone") == nullptr);
        CHECK(c.replica(i).stats().erased == 1);
    }
    // A stale accept from before the deletion (ballot 1) arrives now: it must be refused, or the
    // collected register would come back with the old value.
    using message = serial_3::message;
    c.network().send(0, 1,
                     message(protocol::accept<std::string, int>{{0, 999, 1}, "gone", {1, 0}, 41}));
    c.settle();
    CHECK(c.replica(1).find("gone") == nullptr);
    auto read = c.at(1).get("gone");
    REQUIRE(read.has_value());
    CHECK_FALSE(read->found());
    // That read was a round too: it left empty registers (the identity accepted at a new
    // ballot), which is what makes a read of an absent key linearizable.
    REQUIRE(c.replica(1).find("gone") != nullptr);
    CHECK_FALSE(c.replica(1).find("gone")->value.has_value());

    // The key can be written again.
    REQUIRE(c.at(2).put("gone", 5).has_value());
    CHECK(c.at(0).get("gone")->values == std::vector<int>{5});
}

TEST_CASE("a tombstone stays while a replica is unreachable", "[protocol][paxos]") {
    ledger c;
    REQUIRE(c.at(0).put("k", 1).has_value());
    c.partition({{0, 1}, {2}});
    REQUIRE(c.at(0).remove("k").has_value());  // a majority accepts the tombstone
    c.settle();
    // Collecting needs all N acceptors; with one cut off the tombstone is kept, not dropped.
    CHECK(c.replica(0).find("k") != nullptr);
    CHECK_FALSE(c.replica(0).find("k")->value.has_value());
    c.heal();
    auto r = c.at(2).get("k");
    REQUIRE(r.has_value());
    CHECK_FALSE(r->found());
}

TEST_CASE("per-request levels keep serial's majority rule", "[protocol][paxos]") {
    cluster<serial_5> c;
    REQUIRE(c.at(0).put<capkit::all>("k", 9).has_value());
    c.partition({{0, 1, 2, 3}, {4}});
    auto all_write = c.at(0).put<capkit::all>("k", 10);
    REQUIRE(all_write.has_error());
    CHECK(all_write.error() == errc::unavailable);
    CHECK(c.at(0).get("k")->values == std::vector<int>{9});
}

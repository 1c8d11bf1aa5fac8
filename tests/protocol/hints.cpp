// SPDX-License-Identifier: MIT
// Hinted handoff (capkit::sloppy) over the simulated network: a coordinator keeps the writes a
// replica missed while unreachable and hands them off when it is back, with no read and no
// anti-entropy (and without sloppy nothing does, the control); hints are bounded in count and
// age, the drops counted; a newer write joins a hint in flight; hints survive the holder's crash.
#include <capkit/capkit.hpp>
#include <capkit/sim_cluster.hpp>

#include <support/sim_harness.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;

template <class Replica>
struct harness : capkit::test::sim_harness<Replica> {
    using base = capkit::test::sim_harness<Replica>;
    using base::cluster;
    using base::put;
    explicit harness(capkit::replica_options o = {}) : base(5, o) {}

    void write_keys(node_id via, int count, std::int64_t base = 0) {
        for (int k = 0; k < count; ++k) put(via, "key" + std::to_string(k), base + k);
    }
    std::size_t held_by(node_id i) { return cluster.replica(i).stored_keys(); }
};

using ap_hinted =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, capkit::one, capkit::one>,
                    capkit::eventual, capkit::sloppy>;
using ap_strict = capkit::replica<std::string, std::int64_t,
                                  capkit::quorum<3, capkit::one, capkit::one>, capkit::eventual>;
using quorum_hinted = capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>,
                                      capkit::eventual, capkit::dvv, capkit::sloppy>;

static_assert(ap_hinted::hinted && !ap_strict::hinted);

}  // namespace

TEST_CASE("hinted handoff: a replica back from a partition gets what it missed, unread",
          "[hints]") {
    harness<ap_hinted> h;
    h.isolate(2);
    h.write_keys(0, 100);
    CHECK(h.held_by(2) == 0);
    CHECK(h.cluster.replica(0).stats().hints_stored == 100);  // one per key, for node 2
    h.heal();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 100);
    for (int k = 0; k < 100; k += 33)
        CHECK(*h.cluster.replica(2).find("key" + std::to_string(k)) ==
              *h.cluster.replica(0).find("key" + std::to_string(k)));
    CHECK(h.cluster.replica(0).stats().hints_delivered == 100);
    CHECK(h.cluster.replica(2).stats().requests == 0);
}

TEST_CASE("without sloppy, a replica back from a partition stays behind (the control)", "[hints]") {
    harness<ap_strict> h;
    h.isolate(2);
    h.write_keys(0, 100);
    h.heal();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 0);
    CHECK(h.cluster.replica(0).stats().hints_stored == 0);
}

TEST_CASE(
    "hinted handoff: a replica believed reachable that did not acknowledge by the deadline gets "
    "a hint",
    "[hints]") {
    // Node 0's messages to node 2 are lost, while every node still believes node 2 reachable:
    // no hint when the writes start, one for each when their deadline passes unacknowledged.
    harness<ap_hinted> h;
    h.net.cut_one_way(0, 2);
    h.write_keys(0, 20);  // W = 1: acknowledged by node 0 itself
    CHECK(h.cluster.replica(0).stats().hints_stored == 0);
    h.net.run_for(2s);  // past request_timeout (1 s)
    CHECK(h.cluster.replica(0).stats().hints_stored == 20);
    CHECK(h.held_by(2) == 0);
    h.heal();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 20);
    CHECK(h.cluster.replica(0).stats().hints_delivered == 20);
    // A replica that acknowledged in time gets no hint: node 1 had every write.
    CHECK(h.held_by(1) == 20);
    CHECK(h.cluster.replica(0).stats().hints_stored == 20);
}

TEST_CASE("without sloppy, a lost write message leaves the replica behind (the control)",
          "[hints]") {
    harness<ap_strict> h;
    h.net.cut_one_way(0, 2);
    h.write_keys(0, 20);
    h.net.run_for(2s);
    h.heal();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 0);
}

TEST_CASE("hinted handoff: hints beyond the count are dropped and counted", "[hints]") {
    capkit::replica_options o;
    o.hints.max_hints = 10;
    harness<ap_hinted> h(o);
    h.isolate(2);
    h.write_keys(0, 100);
    CHECK(h.cluster.replica(0).stats().hints_stored == 10);
    CHECK(h.cluster.replica(0).stats().hints_dropped == 90);
    h.heal();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 10);
    CHECK(h.cluster.replica(0).stats().hints_delivered == 10);
}

TEST_CASE("hinted handoff: hints older than max_age are dropped and counted", "[hints]") {
    capkit::replica_options o;
    o.hints.max_age = 2s;
    harness<ap_hinted> h(o);
    h.isolate(2);
    h.write_keys(0, 20);
    h.net.run_for(1s);
    h.write_keys(1, 5, 100);  // younger: these survive
    h.net.run_for(1500ms);
    h.heal();
    h.net.run_for(1s);
    CHECK(h.cluster.replica(0).stats().hints_dropped == 20);
    CHECK(h.cluster.replica(1).stats().hints_dropped == 0);
    CHECK(h.held_by(2) == 5);
}

TEST_CASE("hinted handoff: a write joined into a hint in flight is handed off too", "[hints]") {
    harness<ap_hinted> h;
    h.isolate(2);
    h.put(0, "k", 1);
    h.heal();
    // The handoff of 1 leaves at the next tick; 2 is written while node 2 still looks away to
    // node 0's coordinator (told so below), so it joins the same hint.
    h.cluster.replica(0).set_reachable(2, false);
    h.put(0, "k", 2);
    h.cluster.replica(0).set_reachable(2, true);
    h.net.run_for(1s);
    REQUIRE(h.cluster.replica(2).find("k"));
    CHECK(*h.cluster.replica(2).find("k") == *h.cluster.replica(0).find("k"));
    CHECK(h.cluster.replica(0).stats().hints_delivered == 1);
}

TEST_CASE("hinted handoff: hints survive their holder's crash (sync always)", "[hints]") {
    harness<ap_hinted> h;
    h.isolate(2);
    h.write_keys(0, 30);
    h.cluster.crash(0);
    h.heal();
    h.cluster.restart(0);
    h.cluster.tell_reachability();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 30);
}

TEST_CASE("hinted handoff under W = 2: the siblings a replica missed reach it", "[hints]") {
    harness<quorum_hinted> h;
    h.isolate(2);
    h.write_keys(0, 10);
    h.write_keys(1, 10, 50);  // concurrent with node 0's writes: siblings
    h.heal();
    h.net.run_for(1s);
    CHECK(h.held_by(2) == 10);
    for (int k = 0; k < 10; ++k) {
        auto key = "key" + std::to_string(k);
        CHECK(*h.cluster.replica(2).find(key) == *h.cluster.replica(0).find(key));
    }
}

TEST_CASE(
    "hinted handoff: a hint made at a write's deadline is as old as the write, so it cannot "
    "outlive a collected tombstone",
    "[hints][tombstone_gc]") {
    // From a review: node 0's messages to node 2 are lost, so its write of 7 gets a hint for
    // node 2 at the deadline (4 s later). The key is deleted and its tombstone collected after
    // the grace period (4.1 s; hints live at most grace / 2). Dated at the deadline, the hint
    // outlived the collection and brought 7 back to node 2; dated at the write, it expires.
    capkit::replica_options o;
    o.request_timeout = 4s;
    o.tombstone_gc.grace = 4100ms;
    capkit::test::sim_harness<ap_hinted> h(5, o);
    h.net.cut_one_way(0, 2);
    const auto start = h.net.now();
    h.put(0, "k", 7);
    h.net.run_for(10ms);
    h.call([&](auto done) { h.cluster.node_at(1).async_remove("k", {}, done); });
    h.net.run_for(10ms);
    for (node_id i = 0; i < 3; ++i) REQUIRE(h.cluster.replica(i).find("k") != nullptr);
    bool collected = false;
    while (!collected && h.net.now() - start < 20s) {
        h.net.run_for(50ms);
        collected = true;
        for (node_id i = 0; i < 3; ++i) collected = collected && !h.cluster.replica(i).find("k");
    }
    REQUIRE(collected);
    h.heal();
    h.net.run_for(1s);
    const auto* s = h.cluster.replica(2).find("k");
    CHECK_FALSE((s && s->value.has_value()));
    std::optional<bool> found;
    h.cluster.node_at(1).async_get<capkit::all>("k", [&](auto r) { found = r && r->found(); });
    h.net.run_until([&] { return found.has_value(); });
    REQUIRE(found.has_value());
    CHECK_FALSE(*found);
}

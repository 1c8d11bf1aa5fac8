// SPDX-License-Identifier: MIT
// Group commit (replica_options::group_commit): a replica's writes become durable together, and
// nothing it says leaves it before they are. Over the seeded simulator: acknowledgements wait
// for the window, one sync serves many writes, and a crash of every node right after the
// acknowledgements loses none of them, where syncing on the same period without waiting (the
// control) loses them all.
#include <capkit/capkit.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/protocol/replica_io.hpp>
#include <capkit/sim_cluster.hpp>

#include <support/sim_harness.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;

using strong_lww =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::strong>;
using serial =
    capkit::replica<std::string, std::int64_t,
                    capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>;

capkit::replica_options grouped(std::chrono::nanoseconds window) {
    capkit::replica_options o;
    o.group_commit.window = window;
    return o;
}

// Puts keys k0 .. k(count-1) through node 0 all at once; returns when all have completed, with
// the keys acknowledged.
template <class Replica>
std::vector<std::string> put_at_once(capkit::test::sim_harness<Replica>& h, int count) {
    std::vector<std::string> acked;
    int done = 0;
    for (int k = 0; k < count; ++k) {
        std::string key = capkit::detail::cat("k", std::to_string(k));
        h.cluster.node_at(0).async_put(key, k, {}, [&, key](const auto& r) {
            if (r) acked.push_back(key);
            ++done;
        });
    }
    h.net.run_until([&] { return done == count; });
    REQUIRE(done == count);
    return acked;
}

}  // namespace

TEST_CASE("group commit: a write is acknowledged only after the window's sync", "[group_commit]") {
    for (auto window : {0ms, 20ms}) {
        capkit::test::sim_harness<strong_lww> h(3, grouped(window));
        auto start = h.net.now();
        h.put(0, "k", 1);
        auto took = h.net.now() - start;
        INFO("window " << window.count() << " ms, acknowledged after " << took.count() << " ns");
        if (window == 0ms) {
            CHECK(took < 5ms);  // two 1 ms hops
            CHECK(h.cluster.replica(0).stats().group_syncs == 0);
        } else {
            CHECK(took >= window);
            CHECK(h.cluster.replica(0).stats().group_syncs >= 1);
        }
    }
}

TEMPLATE_TEST_CASE("group commit: one sync serves every write of a window", "[group_commit]",
                   strong_lww, serial) {
    capkit::test::sim_harness<TestType> h(4, grouped(10ms));
    auto acked = put_at_once(h, 100);
    CHECK(acked.size() == 100);
    for (node_id i = 0; i < TestType::n; ++i) {
        INFO("node " << i);
        auto syncs = h.cluster.replica(i).stats().group_syncs;
        CHECK(syncs >= 1);
        CHECK(syncs <= 4);  // a few windows, not a sync per write
    }
}

TEMPLATE_TEST_CASE(
    "group commit: every node crashing right after the acknowledgements loses none of them; "
    "syncing as often without waiting loses them",
    "[group_commit]", strong_lww, serial) {
    for (auto mode : {capkit::sync_policy::mode::group, capkit::sync_policy::mode::interval}) {
        const bool group = mode == capkit::sync_policy::mode::group;
        capkit::test::sim_harness<TestType> h(5, {}, {mode, 10ms});
        auto acked = put_at_once(h, 20);
        REQUIRE(acked.size() == 20);
        // Every node stops at the moment the last acknowledgement arrived, and comes back on
        // what its storage made durable.
        for (node_id i = 0; i < TestType::n; ++i) h.cluster.crash(i);
        for (node_id i = 0; i < TestType::n; ++i) h.cluster.restart(i);
        h.cluster.tell_reachability();
        h.caught_up();  // interval: nothing was synced, so they came back empty and catch up
        std::size_t missing = 0;
        for (const auto& key : acked) {
            h.call([&](auto done) {
                h.cluster.node_at(1).async_get(key, [&, done](const auto& r) {
                    if (r && !r->found()) ++missing;
                    done(r);
                });
            });
        }
        INFO((group ? "group" : "interval") << ": " << missing << " of 20 acknowledged missing");
        if (group) {
            CHECK(missing == 0);
        } else {
            CHECK(missing > 0);  // acknowledged before the first sync, then gone
        }
    }
}

TEST_CASE("group commit: a window that leaves requests no time is refused in a sentence",
          "[group_commit]") {
    auto o = grouped(300ms);  // request_timeout 1 s: a quarter is the most
    CHECK_THROWS_WITH((strong_lww(0, o)), Catch::Contains("group_commit.window") &&
                                              Catch::Contains("a quarter of request_timeout"));
    CHECK_THROWS_AS((serial(0, o)), std::invalid_argument);
    o.group_commit.window = 250ms;
    CHECK_NOTHROW(strong_lww(0, o));
}

TEST_CASE("replica_io holds back what follows a write until the write's group is persisted",
          "[group_commit]") {
    capkit::detail::replica_io<int, 3> io(0);
    io.send(1, 10);  // before any write: free
    CHECK_FALSE(io.must_persist());
    CHECK_FALSE(io.begin_persist());
    io.wrote();
    io.send(2, 20);  // could acknowledge the write
    io.complete([] {});
    CHECK(io.must_persist());
    auto out = io.take_messages();
    REQUIRE(out.size() == 1);
    CHECK(out[0].m == 10);
    CHECK(io.take_completions().empty());

    const auto first = io.begin_persist();
    REQUIRE(first);
    CHECK_FALSE(io.must_persist());
    io.send(1, 30);  // a later step that wrote nothing: could show the first group's write
    io.wrote();      // a write while the first group syncs: the second group
    io.send(1, 40);
    const auto second = io.begin_persist();
    REQUIRE(second);
    CHECK(*second > *first);
    CHECK(io.take_messages().empty());

    io.persisted(*first);
    out = io.take_messages();
    REQUIRE(out.size() == 2);  // 20 and 30; 40 follows the second group's write
    CHECK(out[0].m == 20);
    CHECK(out[1].m == 30);
    CHECK(io.take_completions().size() == 1);

    io.persisted(*second);
    int drained = 0;
    io.drain_messages([&](node_id to, int m) {
        CHECK(to == 1);
        CHECK(m == 40);
        ++drained;
    });
    CHECK(drained == 1);
    io.send(2, 50);  // nothing waits: free at once
    CHECK(io.take_messages().size() == 1);
}

TEST_CASE(
    "group commit with no window: each sync follows the step that wrote, and the writes "
    "made during a sync form the next group",
    "[group_commit]") {
    capkit::replica_options o;
    o.group_commit.on = true;
    capkit::test::sim_harness<strong_lww> h(11, o);
    auto start = h.net.now();
    h.put(0, "k", 1);
    CHECK(h.net.now() - start < 5ms);  // no window to wait for
    auto acked = put_at_once(h, 50);
    CHECK(acked.size() == 50);
    for (node_id i = 0; i < strong_lww::n; ++i)
        CHECK(h.cluster.replica(i).stats().group_syncs >= 1);
}

TEST_CASE(
    "group commit: a sync run elsewhere holds the acknowledgements until it is done, "
    "while the node goes on taking requests",
    "[group_commit]") {
    // A runner that keeps the syncs (as a thread would be running them) until the test lets them
    // finish: the replica must not acknowledge, and must go on accepting writes meanwhile.
    using test_node = capkit::node<strong_lww, capkit::in_memory<strong_lww::message>>;
    capkit::in_memory<strong_lww::message> net;
    capkit::replica_options o;
    o.group_commit.on = true;
    std::vector<std::unique_ptr<test_node>> nodes;
    std::vector<std::function<void()>> running;
    for (node_id i = 0; i < strong_lww::n; ++i) {
        nodes.push_back(std::make_unique<test_node>(i, net, o));
        nodes.back()->sync_with([&](std::function<void()> sync, std::function<void()> done) {
            sync();
            running.push_back(std::move(done));
        });
    }
    // Delivers what is in flight, never firing a wake-up: virtual time must not jump to the
    // requests' deadline while the disks sync.
    auto deliver = [&] {
        while (net.in_flight() > 0) net.step();
    };
    int acked = 0, failed = 0;
    for (int k = 0; k < 3; ++k)
        nodes[0]->async_put(capkit::detail::cat("k", std::to_string(k)), k, {},
                            [&](const auto& r) { (r ? acked : failed) += 1; });
    deliver();
    CHECK(acked == 0);  // every replica's write waits for its sync
    CHECK(failed == 0);
    CHECK(running.size() == strong_lww::n);
    while (!running.empty()) {
        auto done = std::move(running);
        running.clear();
        for (auto& d : done) d();
        deliver();
    }
    CHECK(acked == 3);
    CHECK(failed == 0);
    CHECK(nodes[0]->replica().stats().group_syncs >= 1);
}

TEST_CASE(
    "group commit in the simulator: a node restarted and crashed again before writing "
    "keeps its state",
    "[group_commit]") {
    // From a review: the simulator refilled a node's durable copy only at its group syncs, so a
    // node that restarted, wrote nothing, and crashed again came back empty.
    for (auto mode : {capkit::sync_policy::mode::always, capkit::sync_policy::mode::interval,
                      capkit::sync_policy::mode::group}) {
        capkit::test::sim_harness<strong_lww> h(7, {}, {mode, 10ms});
        h.put(0, "k", 42);
        h.net.run_for(50ms);
        for (int round = 0; round < 2; ++round) {
            for (node_id i = 0; i < strong_lww::n; ++i) h.cluster.crash(i);
            for (node_id i = 0; i < strong_lww::n; ++i) h.cluster.restart(i);
            h.net.run_for(50ms);  // up a while, nothing written
        }
        std::size_t held = 0;
        for (node_id i = 0; i < strong_lww::n; ++i)
            held += h.cluster.replica(i).find("k") != nullptr ? 1 : 0;
        INFO("sync mode " << static_cast<int>(mode));
        CHECK(held == strong_lww::n);
    }
}

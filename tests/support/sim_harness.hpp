// SPDX-License-Identifier: MIT
// A three-or-more-node cluster over the seeded simulator with 1 ms links, for the protocol tests
// of anti-entropy, tombstone collection and hinted handoff: cut one node off and tell every node,
// heal, and run one client call to its completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <catch2/catch.hpp>

#include <capkit/sim_cluster.hpp>

namespace capkit::test {

template <class Replica>
struct sim_harness {
    capkit::sim<typename Replica::message> net;
    capkit::sim_cluster<Replica> cluster;

    sim_harness(std::uint64_t seed, replica_options options, sync_policy sync = {})
        : net(seed), cluster(net, options, sync) {
        net.set_latency(latency::fixed(std::chrono::milliseconds(1)));
    }

    // Cuts node `alone` off from the others, and tells every node.
    void isolate(node_id alone) {
        std::vector<node_id> others;
        for (node_id i = 0; i < cluster.nodes(); ++i)
            if (i != alone) others.push_back(i);
        net.partition({{alone}, others});
        cluster.tell_reachability();
    }
    void heal() {
        net.heal();
        cluster.tell_reachability();
    }

    // Runs until no node is catching up (a node back without its data fetches first:
    // protocol/catch_up.hpp).
    void caught_up() {
        net.run_until([&] {
            for (node_id i = 0; i < cluster.nodes(); ++i)
                if (cluster.up(i) && cluster.replica(i).catching_up()) return false;
            return true;
        });
    }

    // Runs `call(done)` (a client call given its completion) until it completes; it must succeed.
    template <class Call>
    void call(Call&& call) {
        bool done = false;
        call([&](const auto& r) {
            REQUIRE(r.has_value());
            done = true;
        });
        net.run_until([&] { return done; });
        REQUIRE(done);
    }
    void put(node_id via, const typename Replica::key_type& key,
             typename Replica::value_type value) {
        call([&](auto done) { cluster.node_at(via).async_put(key, value, {}, done); });
    }
};

}  // namespace capkit::test

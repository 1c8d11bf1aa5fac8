// SPDX-License-Identifier: MIT
// hash_ring placement in the replicas: on M = 6 nodes with N = 3, each key is stored on exactly
// its three owners, any node coordinates any key (owner or not), quorums count owners only, and
// with capkit::sloppy a write whose owner is away goes to the next node of the key's preference
// list, which keeps it as a hint, counts toward W, and hands it to the owner once it is back
// (Dynamo's sloppy quorum). Over the seeded simulator.
#include <capkit/capkit.hpp>
#include <capkit/sim_cluster.hpp>

#include <support/sim_harness.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;

constexpr unsigned cluster_nodes = 6;

template <class... P>
using ring_replica = capkit::replica<std::string, std::int64_t, capkit::hash_ring<>, P...>;
using ring_strong = ring_replica<capkit::quorum<3, 2, 2>, capkit::strong>;
using ring_linearizable = ring_replica<capkit::quorum<3, 2, 2>, capkit::linearizable>;
using ring_sloppy_all = ring_replica<capkit::quorum<3, 1, 3>, capkit::eventual, capkit::sloppy>;
using ring_strict_all = ring_replica<capkit::quorum<3, 1, 3>, capkit::eventual>;

static_assert(ring_strong::ringed && ring_strong::max_nodes >= cluster_nodes);

capkit::replica_options on_ring() {
    capkit::replica_options o;
    o.cluster_size = cluster_nodes;
    return o;
}

// The key's owners and fallbacks as the replicas compute them: the same ring, built anew.
std::vector<node_id> preference(const std::string& key) {
    std::vector<node_id> nodes(cluster_nodes);
    for (node_id i = 0; i < cluster_nodes; ++i) nodes[i] = i;
    capkit::hash_ring<> ring(nodes, 3);
    return ring.preference_list(key, cluster_nodes);
}

template <class Replica>
struct ring_harness : capkit::test::sim_harness<Replica> {
    using base = capkit::test::sim_harness<Replica>;
    using base::cluster;
    using base::net;
    explicit ring_harness(std::uint64_t seed = 11) : base(seed, on_ring()) {}

    // Cuts `away` off from every other node, and tells every node.
    void cut_off(const std::vector<node_id>& away) {
        std::vector<node_id> rest;
        for (node_id i = 0; i < cluster_nodes; ++i)
            if (std::ranges::find(away, i) == away.end()) rest.push_back(i);
        net.partition({away, rest});
        cluster.tell_reachability();
    }

    std::optional<std::int64_t> get(node_id via, const std::string& key) {
        std::optional<std::int64_t> out;
        this->call([&](auto done) {
            cluster.node_at(via).async_get(key, [&, done](const auto& r) {
                if (r && r->found()) out = r->values.front();
                done(r);
            });
        });
        return out;
    }

    std::set<node_id> holders(const std::string& key) {
        std::set<node_id> out;
        for (node_id i = 0; i < cluster_nodes; ++i)
            if (cluster.replica(i).find(key) != nullptr) out.insert(i);
        return out;
    }
};

}  // namespace

TEMPLATE_TEST_CASE("hash_ring: each key is stored on its N owners, and any node serves it",
                   "[ring]", ring_strong, ring_linearizable) {
    ring_harness<TestType> h;
    REQUIRE(h.cluster.nodes() == cluster_nodes);
    std::set<node_id> coordinators_not_owning;
    for (int k = 0; k < 60; ++k) {
        std::string key = "key" + std::to_string(k);
        node_id via = static_cast<node_id>(k % cluster_nodes);
        auto pref = preference(key);
        std::set<node_id> owners(pref.begin(), pref.begin() + 3);
        if (!owners.contains(via)) coordinators_not_owning.insert(via);
        h.put(via, key, k);
        h.net.run_for(10ms);  // the third owner's copy lands too
        INFO(key << " via node " << via);
        CHECK(h.holders(key) == owners);
        // Read back through a node that does not own it, and through an owner.
        node_id stranger = pref[3];
        CHECK(h.get(stranger, key) == std::optional<std::int64_t>(k));
        CHECK(h.get(pref[0], key) == std::optional<std::int64_t>(k));
    }
    CHECK(coordinators_not_owning.size() >= 3);  // the case was exercised from several nodes
    // The keys spread over every node, about N / M of them each.
    for (node_id i = 0; i < cluster_nodes; ++i) {
        INFO("node " << i);
        CHECK(h.cluster.replica(i).stored_keys() > 10);
        CHECK(h.cluster.replica(i).stored_keys() < 60);
    }
}

TEST_CASE("hash_ring: a quorum counts the key's owners only", "[ring]") {
    ring_harness<ring_strong> h;
    const std::string key = "k";
    auto pref = preference(key);
    h.put(pref[0], key, 1);
    // Two owners away: four nodes are up, but only one owner: R = W = 2 cannot be met.
    h.cut_off({pref[1], pref[2]});
    bool refused = false;
    h.cluster.node_at(pref[3]).async_get(
        key, [&](const auto& r) { refused = !r && r.error() == capkit::errc::unavailable; });
    h.net.run_for(10ms);
    CHECK(refused);
}

TEST_CASE(
    "hash_ring with sloppy: a fallback keeps the write for an owner away, counts toward W, and "
    "hands it off",
    "[ring][hints]") {
    const std::string key = "k";
    auto pref = preference(key);
    // W = 3 = N: with an owner away only the fallback can make up the third acknowledgement.
    ring_harness<ring_sloppy_all> h;
    const node_id away = pref[2], fallback = pref[3];
    h.cut_off({away});
    h.put(pref[0], key, 7);
    h.net.run_for(10ms);
    CHECK(h.holders(key) == std::set<node_id>{pref[0], pref[1]});  // the fallback's is a hint
    CHECK(h.cluster.replica(fallback).stats().hints_stored == 1);
    CHECK(h.cluster.replica(pref[0]).stats().hints_stored == 0);  // not the coordinator's
    h.heal();
    h.net.run_for(1s);
    CHECK(h.holders(key) == std::set<node_id>{pref[0], pref[1], pref[2]});
    CHECK(h.cluster.replica(fallback).stats().hints_delivered == 1);
    CHECK(h.cluster.replica(away).stats().requests == 0);  // no read brought it

    // The control: strict quorums refuse the write, W = 3 owners not being reachable.
    ring_harness<ring_strict_all> strict;
    strict.cut_off({away});
    bool refused = false;
    strict.cluster.node_at(pref[0]).async_put(
        key, 7, {}, [&](const auto& r) { refused = !r && r.error() == capkit::errc::unavailable; });
    strict.net.run_for(10ms);
    CHECK(refused);
}

TEST_CASE("hash_ring with sloppy: a coordinator that is itself the fallback keeps the hint",
          "[ring][hints]") {
    const std::string key = "k";
    auto pref = preference(key);
    ring_harness<ring_sloppy_all> h;
    h.cut_off({pref[0]});
    h.put(pref[3], key, 9);  // pref[3], first fallback, coordinates
    h.net.run_for(10ms);
    CHECK(h.cluster.replica(pref[3]).stats().hints_stored == 1);
    CHECK(h.cluster.replica(pref[3]).find(key) == nullptr);
    h.heal();
    h.net.run_for(1s);
    CHECK(h.holders(key) == std::set<node_id>{pref[0], pref[1], pref[2]});
}

TEST_CASE("hash_ring placement refuses what it cannot do yet, in sentences", "[ring]") {
    auto o = on_ring();
    o.cluster_size = 2;  // below N
    CHECK_THROWS_WITH(ring_strong(0, o), Catch::Contains("at least N = 3"));
    o = on_ring();
    o.anti_entropy.interval = 100ms;
    CHECK_THROWS_WITH(ring_strong(0, o), Catch::Contains("anti-entropy and tombstone collection"));
    o = on_ring();
    o.tombstone_gc.grace = 1s;
    CHECK_THROWS_AS(ring_strong(0, o), std::invalid_argument);
    using plain = capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>>;
    CHECK_THROWS_WITH(plain(0, on_ring()),
                      Catch::Contains("cluster_size 6 with capkit::all_nodes"));
    CHECK_NOTHROW(ring_strong(0, on_ring()));
}

TEST_CASE("hash_ring with sloppy: a write at capkit::any is acknowledged by hints alone",
          "[ring][hints]") {
    // Cassandra's ANY: the coordinator, not an owner, is cut off from every node; its write is
    // acknowledged by the hints it keeps, one per owner, and the owners get them after the heal.
    // (At W = 1 a sloppy write would pass too: the coordinator, on the key's preference list,
    // stands in for one owner. It cannot stand in for two, so W = 2 is refused: the control.)
    using ring_sloppy_two = ring_replica<capkit::quorum<3, 1, 2>, capkit::eventual, capkit::sloppy>;
    const std::string key = "k";
    auto pref = preference(key);
    const node_id coordinator = pref[5];  // the last fallback: no owner
    ring_harness<ring_sloppy_two> h;
    h.cut_off({coordinator});
    std::optional<bool> ok;
    h.cluster.node_at(coordinator).template async_put<capkit::any>(key, 5, {}, [&](const auto& r) {
        ok = r.has_value();
    });
    h.net.run_for(10ms);
    REQUIRE(ok.has_value());
    CHECK(*ok);
    CHECK(h.cluster.replica(coordinator).stats().hints_stored == 3);
    CHECK(h.holders(key).empty());
    h.heal();
    h.net.run_for(1s);
    CHECK(h.holders(key) == std::set<node_id>{pref[0], pref[1], pref[2]});

    // The control: at the configured W = 2 the same write is refused.
    ring_harness<ring_sloppy_two> strict;
    strict.cut_off({coordinator});
    bool refused = false;
    strict.cluster.node_at(coordinator).async_put(key, 5, {}, [&](const auto& r) {
        refused = !r && r.error() == capkit::errc::unavailable;
    });
    strict.net.run_for(10ms);
    CHECK(refused);
}

TEST_CASE("capkit::any under all_nodes is capkit::one: the coordinator holds a copy",
          "[ring][hints]") {
    using hinted = capkit::replica<std::string, std::int64_t, capkit::quorum<3, 1, 1>,
                                   capkit::eventual, capkit::sloppy>;
    capkit::test::sim_harness<hinted> h(3, {});
    h.isolate(0);
    std::optional<bool> ok;
    h.cluster.node_at(0).template async_put<capkit::any>(
        "k", 1, {}, [&](const auto& r) { ok = r.has_value(); });
    h.net.run_for(10ms);
    REQUIRE(ok.has_value());
    CHECK(*ok);
    CHECK(h.cluster.replica(0).find("k") != nullptr);
    CHECK(h.cluster.replica(0).stats().hints_stored == 2);
}

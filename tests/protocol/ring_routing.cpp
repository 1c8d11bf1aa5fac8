// SPDX-License-Identifier: MIT
// hash_ring placement in the replicas: on M = 6 nodes with N = 3, each key is stored on exactly
// its three owners, any node coordinates any key (owner or not), quorums count owners only, and
// with capkit::sloppy a write whose owner is away goes to the next node of the key's preference
// list, which keeps it as a hint, counts toward W, and hands it to the owner once it is back
// (Dynamo's sloppy quorum). serial keeps each key's CASPaxos register on its owners, whose
// majority decides, and any node proposes. Over the seeded simulator.
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
using ring_serial =
    ring_replica<capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>;
using ring_sloppy_all = ring_replica<capkit::quorum<3, 1, 3>, capkit::eventual, capkit::sloppy>;
using ring_strict_all = ring_replica<capkit::quorum<3, 1, 3>, capkit::eventual>;

static_assert(ring_strong::ringed && ring_strong::max_nodes >= cluster_nodes);
static_assert(ring_serial::ringed && capkit::on_hash_ring<ring_serial>);

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
    explicit ring_harness(std::uint64_t seed = 11, capkit::replica_options o = on_ring())
        : base(seed, o) {}

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

    // True when `key` is held by exactly its owners, all with one state.
    bool on_its_owners_alike(const std::string& key) {
        auto pref = preference(key);
        std::set<node_id> owners(pref.begin(), pref.begin() + 3);
        if (holders(key) != owners) return false;
        const auto* first = cluster.replica(pref[0]).find(key);
        for (node_id o : owners)
            if (!(*cluster.replica(o).find(key) == *first)) return false;
        return true;
    }
};

using ring_ap = ring_replica<capkit::quorum<3, capkit::one, capkit::one>, capkit::eventual>;

constexpr auto ae_interval = 100ms;

capkit::replica_options ring_with(bool anti_entropy, std::chrono::nanoseconds grace = {}) {
    auto o = on_ring();
    if (anti_entropy) o.anti_entropy.interval = ae_interval;
    o.anti_entropy.tree_depth = 6;
    o.tombstone_gc.grace = grace;
    return o;
}

std::string ring_key(int k) {
    return "key" + std::to_string(k);
}

// The keys among ring_key(0 .. count-1) that `node` owns, and those it does not.
std::pair<std::vector<int>, std::vector<int>> split_by_owner(node_id node, int count) {
    std::pair<std::vector<int>, std::vector<int>> out;
    for (int k = 0; k < count; ++k) {
        auto pref = preference(ring_key(k));
        (std::find(pref.begin(), pref.begin() + 3, node) != pref.begin() + 3 ? out.first
                                                                             : out.second)
            .push_back(k);
    }
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("hash_ring: each key is stored on its N owners, and any node serves it",
                   "[ring]", ring_strong, ring_linearizable, ring_serial) {
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

TEMPLATE_TEST_CASE("hash_ring: a quorum counts the key's owners only", "[ring]", ring_strong,
                   ring_serial) {
    ring_harness<TestType> h;
    const std::string key = "k";
    auto pref = preference(key);
    h.put(pref[0], key, 1);
    // One owner away: the other two are a quorum, whichever node asks.
    h.cut_off({pref[2]});
    CHECK(h.get(pref[3], key) == std::optional<std::int64_t>(1));
    // Two owners away: four nodes are up, but only one owner: R = W = 2 cannot be met.
    h.cut_off({pref[1], pref[2]});
    bool refused = false;
    h.cluster.node_at(pref[3]).async_get(
        key, [&](const auto& r) { refused = !r && r.error() == capkit::errc::unavailable; });
    h.net.run_for(10ms);
    CHECK(refused);
}

TEST_CASE("hash_ring with serial: only a key's owners take part in its rounds", "[ring]") {
    const std::string key = "k";
    auto pref = preference(key);
    const capkit::protocol::prepare<std::string, std::int64_t> round{
        {pref[3], 1, 1}, key, {7, pref[3]}};
    // An owner promises and keeps a register; a node that does not own the key ignores the
    // round (a routing mistake must not make it a second acceptor of the key).
    ring_serial owner(pref[0], on_ring());
    owner.receive(pref[3], round, capkit::time_point{});
    CHECK(owner.find(key) != nullptr);
    CHECK(owner.take_messages().size() == 1);
    ring_serial stranger(pref[4], on_ring());
    stranger.receive(pref[3], round, capkit::time_point{});
    CHECK(stranger.find(key) == nullptr);
    CHECK(stranger.take_messages().empty());
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
    // Tombstone collection under ABD on a ring: a coordinator that owns no copy could tag a
    // write below a tombstone whose purge one owner missed. Strong (no tags) is fine.
    o = on_ring();
    o.tombstone_gc.grace = 1s;
    CHECK_THROWS_WITH(ring_linearizable(0, o), Catch::Contains("keep tombstone_gc.grace at 0") &&
                                                   Catch::Contains("capkit::linearizable"));
    CHECK_NOTHROW(ring_strong(0, o));
    o.anti_entropy.interval = 100ms;
    CHECK_NOTHROW(ring_strong(0, o));
    // Nor with sloppy: a write acknowledged by hints alone would go with a hint dropped at
    // grace / 2.
    CHECK_THROWS_WITH(ring_sloppy_all(0, o), Catch::Contains("acknowledged by hints alone") &&
                                                 Catch::Contains("tombstone_gc.grace at 0"));
    o.tombstone_gc.grace = {};
    CHECK_NOTHROW(ring_sloppy_all(0, o));
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

TEST_CASE(
    "hash_ring with anti-entropy: an owner back from a partition gets the keys it owns without a "
    "read, and no node gets a key it does not own",
    "[ring][anti_entropy]") {
    constexpr node_id away = 5;
    constexpr int keys = 120;
    auto [owned, not_owned] = split_by_owner(away, keys);
    REQUIRE(owned.size() > 20);
    REQUIRE(not_owned.size() > 20);
    for (bool anti_entropy : {true, false}) {
        INFO((anti_entropy ? "anti-entropy on" : "anti-entropy off (the control)"));
        ring_harness<ring_ap> h(11, ring_with(anti_entropy));
        h.cut_off({away});
        for (int k = 0; k < keys; ++k) h.put(static_cast<node_id>(k % away), ring_key(k), k);
        h.heal();
        h.net.run_for(10 * ae_interval);
        int complete = 0;
        for (int k : owned) complete += h.on_its_owners_alike(ring_key(k));
        if (anti_entropy) {
            CHECK(complete == static_cast<int>(owned.size()));
            CHECK(h.cluster.replica(away).stored_keys() == owned.size());
            CHECK(h.cluster.replica(away).stats().anti_entropy_keys == owned.size());
        } else {
            CHECK(complete == 0);
            CHECK(h.cluster.replica(away).stored_keys() == 0);
        }
        CHECK(h.cluster.replica(away).stats().requests == 0);  // no read brought them
        for (int k : not_owned) CHECK(h.on_its_owners_alike(ring_key(k)));
    }
}

TEMPLATE_TEST_CASE(
    "hash_ring tombstone collection: among each key's owners, never while one that missed the "
    "delete is away, so no deleted value comes back",
    "[ring][tombstone_gc]", ring_ap, ring_strong) {
    constexpr node_id away = 5;
    constexpr int keys = 60;
    constexpr auto grace = 1s;
    auto [owned, not_owned] = split_by_owner(away, keys);
    ring_harness<TestType> h(11, ring_with(true, grace));
    for (int k = 0; k < keys; ++k) h.put(static_cast<node_id>(k % cluster_nodes), ring_key(k), k);
    h.net.run_for(10ms);
    h.cut_off({away});  // it keeps the values of the keys it owns
    for (int k = 0; k < keys; ++k)
        h.call([&](auto done) {
            h.cluster.node_at(static_cast<node_id>(k % away)).async_remove(ring_key(k), {}, done);
        });
    h.net.run_for(3 * grace);
    // Keys whose owners are all here are collected; the others wait for the owner away.
    for (int k : not_owned) CHECK(h.holders(ring_key(k)).empty());
    for (int k : owned) {
        INFO(ring_key(k));
        CHECK(h.holders(ring_key(k)).size() == 3);
        const auto* stale = h.cluster.replica(away).find(ring_key(k));
        REQUIRE(stale != nullptr);
        REQUIRE(stale->value.has_value());  // written (a tombstone is an empty item) ...
        CHECK(stale->value->has_value());   // ... with the value it missed the delete of
    }
    h.heal();
    h.net.run_for(4 * grace);
    std::uint64_t purged = 0;
    for (node_id i = 0; i < cluster_nodes; ++i) {
        purged += h.cluster.replica(i).stats().tombstones_purged;
        CHECK(h.cluster.replica(i).stored_keys() == 0);
    }
    CHECK(purged == 3 * keys);  // each key's three owners, no one else
    for (int k : owned) CHECK(h.get(preference(ring_key(k))[3], ring_key(k)) == std::nullopt);
}

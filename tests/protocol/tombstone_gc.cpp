// SPDX-License-Identifier: MIT
// Tombstone collection over the simulated network: a deletion's tombstones go once every replica
// holds them and the grace period has passed, never while a replica that missed the delete is
// away (the resurrection bug, shown first with a collector that does not wait for it), never over
// a newer write, and a key written again after its tombstones went outranks a straggler of them.
#include <capkit/capkit.hpp>
#include <capkit/sim_cluster.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;

constexpr auto grace = 1s;

template <class Replica>
struct harness {
    capkit::sim<typename Replica::message> net{11};
    capkit::sim_cluster<Replica> cluster;

    explicit harness(bool anti_entropy = false) : cluster(net, options(anti_entropy)) {
        net.set_latency(capkit::latency::fixed(1ms));
    }
    static capkit::replica_options options(bool anti_entropy) {
        capkit::replica_options o;
        o.tombstone_gc.grace = grace;
        if (anti_entropy) o.anti_entropy.interval = 100ms;
        return o;
    }

    void isolate(node_id alone) {
        std::vector<node_id> others;
        for (node_id i = 0; i < Replica::n; ++i)
            if (i != alone) others.push_back(i);
        net.partition({{alone}, others});
        cluster.tell_reachability();
    }
    void heal() {
        net.heal();
        cluster.tell_reachability();
    }

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
    void put(node_id via, const std::string& key, std::int64_t v) {
        call([&](auto done) { cluster.node_at(via).async_put(key, v, {}, done); });
    }
    void remove(node_id via, const std::string& key) {
        call([&](auto done) { cluster.node_at(via).async_remove(key, {}, done); });
    }
    // Reads through `via` at R = N, so every replica's copy counts and the join is returned.
    std::optional<std::int64_t> get_all(node_id via, const std::string& key) {
        std::optional<std::optional<std::int64_t>> out;
        cluster.node_at(via).template async_get<capkit::all>(key, [&](auto r) {
            REQUIRE(r.has_value());
            out.emplace(r->found() ? std::optional(r->values.front()) : std::nullopt);
        });
        net.run_until([&] { return out.has_value(); });
        REQUIRE(out.has_value());
        return *out;
    }
    // Which nodes hold any state (a value or a tombstone) of `key`.
    std::vector<node_id> holders(const std::string& key) {
        std::vector<node_id> out;
        for (node_id i = 0; i < Replica::n; ++i)
            if (cluster.replica(i).find(key)) out.push_back(i);
        return out;
    }
    std::uint64_t purged() {
        std::uint64_t sum = 0;
        for (node_id i = 0; i < Replica::n; ++i)
            sum += cluster.replica(i).stats().tombstones_purged;
        return sum;
    }
};

using ap_lww = capkit::replica<std::string, std::int64_t,
                               capkit::quorum<3, capkit::one, capkit::one>, capkit::eventual>;
using strong_lww =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::strong>;
using cp_linearizable =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::linearizable>;
using ap_dvv =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, capkit::one, capkit::one>,
                    capkit::eventual, capkit::dvv>;

}  // namespace

TEMPLATE_TEST_CASE("tombstone collection: every replica's tombstone goes after the grace period",
                   "[tombstone_gc]", ap_lww, strong_lww, cp_linearizable) {
    harness<TestType> h;
    h.put(0, "k", 1);
    h.net.run_for(10ms);
    h.remove(1, "k");
    h.net.run_for(10ms);
    CHECK(h.holders("k") == std::vector<node_id>{0, 1, 2});  // tombstones, within the grace
    h.net.run_for(grace / 2);
    CHECK(h.holders("k").size() == 3);
    CHECK(h.purged() == 0);
    h.net.run_for(2 * grace);
    CHECK(h.holders("k").empty());
    CHECK(h.purged() == 3);
    CHECK(h.get_all(2, "k") == std::nullopt);
    // A key written again after its tombstones went is an ordinary key.
    h.put(2, "k", 2);
    CHECK(h.get_all(0, "k") == 2);
}

TEST_CASE(
    "the resurrection bug: a collector that does not wait for every replica revives the "
    "value (the control)",
    "[tombstone_gc]") {
    harness<ap_lww> h(true);
    h.put(0, "k", 1);
    h.net.run_for(10ms);
    h.isolate(2);  // node 2 keeps k = 1 and misses the delete
    h.remove(0, "k");
    h.net.run_for(2 * grace);
    const auto tombstone = *h.cluster.replica(0).find("k");
    // What a collector does that erases tombstones once the grace period has passed, whoever
    // holds the value still (Cassandra's when repair did not run within gc_grace_seconds).
    for (node_id i : {0u, 1u})
        h.net.send(0, i, capkit::protocol::purge<std::string, ap_lww::state>{"k", tombstone});
    h.net.run_for(10ms);
    CHECK(h.holders("k") == std::vector<node_id>{2});
    h.heal();
    h.net.run_for(grace);
    CHECK(h.get_all(0, "k") == 1);  // the deleted value is back
}

TEST_CASE(
    "tombstone collection waits for a replica that missed the delete, so it cannot revive "
    "the value",
    "[tombstone_gc]") {
    harness<ap_lww> h(true);
    h.put(0, "k", 1);
    h.net.run_for(10ms);
    h.isolate(2);
    h.remove(0, "k");
    h.net.run_for(10 * grace);  // long past the grace period, node 2 still away
    CHECK(h.holders("k") == std::vector<node_id>{0, 1, 2});
    CHECK(h.purged() == 0);
    CHECK(h.cluster.replica(2).find("k")->value == std::optional<std::int64_t>(1));
    h.heal();
    h.net.run_for(2 * grace);
    CHECK(h.holders("k").empty());  // node 2 took the tombstone, voted, and all three erased
    CHECK(h.purged() == 3);
    h.net.run_for(5 * grace);  // anti-entropy rounds find nothing to bring back
    CHECK(h.holders("k").empty());
    for (node_id i = 0; i < 3; ++i) CHECK(h.get_all(i, "k") == std::nullopt);
}

TEST_CASE("tombstone collection leaves a key written again after its delete", "[tombstone_gc]") {
    harness<strong_lww> h;
    h.put(0, "k", 1);
    h.remove(1, "k");
    h.put(2, "k", 3);
    h.net.run_for(3 * grace);
    CHECK(h.holders("k").size() == 3);
    CHECK(h.purged() == 0);
    CHECK(h.get_all(0, "k") == 3);
}

TEMPLATE_TEST_CASE("a straggler tombstone cannot supersede a write made after its collection",
                   "[tombstone_gc]", ap_lww, cp_linearizable) {
    harness<TestType> h;
    h.put(0, "k", 1);
    h.remove(0, "k");
    h.net.run_for(10ms);
    const auto tombstone = *h.cluster.replica(0).find("k");
    h.net.run_for(3 * grace);
    REQUIRE(h.holders("k").empty());
    h.put(1, "k", 4);
    h.net.run_for(10ms);
    // The tombstone again, as from a replica whose purge was lost: a repair joins it everywhere.
    for (node_id i = 0; i < 3; ++i)
        h.net.send(2, i,
                   capkit::protocol::repair<std::string, typename TestType::state>{"k", tombstone});
    h.net.run_for(10ms);
    for (node_id i = 0; i < 3; ++i) CHECK(h.get_all(i, "k") == 4);
}

TEST_CASE("tombstone collection asked of a resolver with siblings is refused in a sentence",
          "[tombstone_gc]") {
    capkit::replica_options o;
    o.tombstone_gc.grace = grace;
    CHECK_THROWS_WITH(ap_dvv(0, o), Catch::Contains("totally ordered resolver") &&
                                        Catch::Contains("keep tombstone_gc.grace at zero"));
    CHECK_NOTHROW(ap_dvv(0, capkit::replica_options{}));
}

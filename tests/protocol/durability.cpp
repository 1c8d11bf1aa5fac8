// SPDX-License-Identifier: MIT
// Crash and restart over the simulated network: a node keeps what its sync policy made durable,
// amnesia keeps nothing, and a restarted node's requests are new requests.
#include <capkit/capkit.hpp>
#include <capkit/sim_cluster.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;

template <class Replica>
struct harness {
    capkit::sim<typename Replica::message> net{42};
    capkit::sim_cluster<Replica> cluster;

    explicit harness(capkit::sync_policy sync) : cluster(net, {}, sync) {
        net.set_latency(capkit::latency::fixed(1ms));
    }

    bool put(node_id via, const std::string& key, std::int64_t v) {
        std::optional<bool> ok;
        cluster.node_at(via).async_put(key, v, {}, [&](auto r) { ok = r.has_value(); });
        net.run_until([&] { return ok.has_value(); });
        return ok.value_or(false);
    }
    std::optional<std::int64_t> get(node_id via, const std::string& key) {
        std::optional<std::optional<std::int64_t>> out;
        cluster.node_at(via).async_get(key, [&](auto r) {
            REQUIRE(r.has_value());
            out.emplace(r->found() ? std::optional(r->values.front()) : std::nullopt);
        });
        net.run_until([&] { return out.has_value(); });
        REQUIRE(out.has_value());
        return *out;
    }
    void crash_all() {
        for (node_id i = 0; i < Replica::n; ++i) cluster.crash(i);
    }
    void restart_all() {
        for (node_id i = 0; i < Replica::n; ++i) cluster.restart(i);
    }
    // Until no node catches up (those back without their data fetch first: protocol/catch_up.hpp).
    void caught_up() {
        net.run_until([&] {
            for (node_id i = 0; i < Replica::n; ++i)
                if (cluster.up(i) && cluster.replica(i).catching_up()) return false;
            return true;
        });
    }
};

using linearizable =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::linearizable>;
using serial = capkit::replica<std::string, std::int64_t, capkit::quorum<3>, capkit::serial>;

}  // namespace

TEMPLATE_TEST_CASE("sync always: an acknowledged write survives the crash of every node",
                   "[durability]", linearizable, serial) {
    harness<TestType> h({capkit::sync_policy::mode::always});
    REQUIRE(h.put(0, "k", 1));
    h.crash_all();
    CHECK_FALSE(h.cluster.up(0));
    h.restart_all();
    CHECK(h.get(1, "k") == 1);
    REQUIRE(h.put(0, "k", 2));  // the restarted proposer still outbids what it promised
    CHECK(h.get(2, "k") == 2);
}

TEMPLATE_TEST_CASE("sync never: a crash of every node loses everything", "[durability]",
                   linearizable, serial) {
    harness<TestType> h({capkit::sync_policy::mode::never});
    REQUIRE(h.put(0, "k", 1));
    h.crash_all();
    h.restart_all();
    h.caught_up();  // all empty: they catch up from each other, and find nothing
    CHECK(h.get(1, "k") == std::nullopt);
}

TEST_CASE("sync by interval: a crash loses the writes since the last sync", "[durability]") {
    harness<linearizable> h({capkit::sync_policy::mode::interval, 100ms});
    REQUIRE(h.put(0, "a", 1));                   // at about 2 ms
    h.net.run_until(capkit::time_point(150ms));  // synced at 100 ms
    REQUIRE(h.put(0, "b", 2));
    h.crash_all();
    h.restart_all();  // on part of what they had: not empty, so they serve at once
    CHECK(h.get(0, "a") == 1);
    CHECK(h.get(0, "b") == std::nullopt);
}

TEST_CASE("amnesia brings a node back empty and is counted", "[durability]") {
    harness<linearizable> h({capkit::sync_policy::mode::always});
    REQUIRE(h.put(0, "k", 1));
    h.cluster.amnesia(2);
    CHECK(h.cluster.up(2));
    CHECK(h.cluster.amnesia_count() == 1);
    CHECK(h.cluster.replica(2).find("k") == nullptr);
    CHECK(h.cluster.replica(1).find("k") != nullptr);
    h.caught_up();  // it fetches what it forgot before it counts (protocol/catch_up.hpp)
    CHECK(h.cluster.replica(2).find("k") != nullptr);
    CHECK(h.get(2, "k") == 1);
}

TEST_CASE("a crashed node's requests vanish and its restarted self numbers requests anew",
          "[durability]") {
    harness<linearizable> h({capkit::sync_policy::mode::always});
    std::vector<std::uint64_t> sequences;
    h.net.on_deliver([&](auto, node_id from, node_id, const linearizable::message& m) {
        if (from != 0) return;
        if (const auto* rq =
                std::get_if<capkit::protocol::read_request<std::string, linearizable::state>>(&m))
            sequences.push_back(rq->id.sequence);
    });
    bool answered = false;
    h.cluster.node_at(0).async_get("k", [&](auto) { answered = true; });
    h.cluster.crash(0);
    h.net.run_for(1s);
    CHECK_FALSE(answered);  // its callbacks went down with it
    h.cluster.restart(0);
    CHECK(h.get(0, "k") == std::nullopt);
    REQUIRE(sequences.size() >= 2);
    CHECK(sequences.front() < (std::uint64_t{1} << 40));
    CHECK(sequences.back() > (std::uint64_t{1} << 40));
}

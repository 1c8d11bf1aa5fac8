// SPDX-License-Identifier: MIT
// A node that restarts without its data catches up before it counts toward a quorum
// (protocol/catch_up.hpp): it refuses requests and answers no replica until a quorum's worth of
// its peers has sent it what they hold, after a quarantine; a cluster that starts empty begins
// to serve once all its nodes have started. With catch-up off, the same runs read stale data.
#include <capkit/capkit.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/sim_cluster.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;

// A read's outcome: a value, absent (nullopt inside), or the error it failed with.
struct read_outcome {
    std::optional<std::optional<std::int64_t>> value;
    std::optional<capkit::errc> error;
};

template <class Replica>
struct harness {
    capkit::sim<typename Replica::message> net{7};
    capkit::sim_cluster<Replica> cluster;

    static capkit::replica_options options(
        capkit::catch_up_when when = capkit::catch_up_when::after_restart) {
        capkit::replica_options o;
        o.request_timeout = 200ms;
        o.catch_up.when = when;
        o.catch_up.max_entries = 2;  // several pages per peer
        return o;
    }
    explicit harness(capkit::replica_options o = options())
        : cluster(net, o, {capkit::sync_policy::mode::always}) {
        net.set_latency(capkit::latency::fixed(1ms));
    }

    bool put(node_id via, const std::string& key, std::int64_t v) {
        std::optional<bool> ok;
        cluster.node_at(via).async_put(key, v, {}, [&](auto r) { ok = r.has_value(); });
        net.run_until([&] { return ok.has_value(); });
        return ok.value_or(false);
    }
    read_outcome get(node_id via, const std::string& key) {
        read_outcome out;
        bool done = false;
        cluster.node_at(via).async_get(key, [&](auto r) {
            done = true;
            if (r)
                out.value.emplace(r->found() ? std::optional(r->values.front()) : std::nullopt);
            else
                out.error = r.error().code;
        });
        net.run_until([&] { return done; });
        return out;
    }
    void partition(const std::vector<std::vector<node_id>>& groups) {
        net.partition(groups);
        cluster.tell_reachability();
    }
    void heal() {
        net.heal();
        cluster.tell_reachability();
    }
};

using linearizable =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::linearizable>;
using serial = capkit::replica<std::string, std::int64_t, capkit::quorum<3>, capkit::serial>;
using eventual =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 1, 1>, capkit::eventual>;

// Writes k = 1 acknowledged by nodes 0 and 1 only (2 cut off), then node 1 forgets everything,
// and node 0 goes away: a read quorum of {1, 2} now holds no copy but what 1 catches up.
template <class Replica>
void write_then_forget(harness<Replica>& h) {
    h.partition({{0, 1}, {2}});
    for (int i = 0; i < 5; ++i) REQUIRE(h.put(0, capkit::detail::cat("k", std::to_string(i)), i));
    REQUIRE(h.put(0, "k", 1));
    h.cluster.amnesia(1);
    h.partition({{1, 2}, {0}});
}

}  // namespace

TEST_CASE("catch_up_need: enough of the others to meet every write quorum that counted a node",
          "[amnesia]") {
    using capkit::detail::catch_up_need;
    CHECK(catch_up_need(3, 2) == 2);  // a majority of three: both others
    CHECK(catch_up_need(5, 3) == 3);  // a majority of five: three of the four others
    CHECK(catch_up_need(5, 5) == 1);  // writes to all five: any other holds them
    CHECK(catch_up_need(5, 1) == 4);  // W = 1 promises no copy anywhere else: ask all
    CHECK(catch_up_need(6, 2) == 5);  // a ring of six, W = 2: all but W - 2 = 0 others
    CHECK(catch_up_need(1, 1) == 0);
}

TEST_CASE("catch-up pages cover each wanted key once, in hash order, whole hashes at a time",
          "[amnesia]") {
    capkit::memory::table<std::string, int> table;
    for (int i = 0; i < 50; ++i) table.put(capkit::detail::cat("key", std::to_string(i)), i);
    auto wanted = [](const std::string& k) { return k.back() != '7'; };  // 45 of them
    std::vector<std::string> seen;
    std::uint64_t from = 0;
    int pages = 0;
    for (;;) {
        auto [entries, next] = capkit::detail::catch_up_page_of<std::string, int>(
            table, from, wanted, 4, std::size_t{1} << 20);
        ++pages;
        REQUIRE(!entries.empty());
        CHECK(entries.size() <= 4);
        for (auto& [k, v] : entries) {
            CHECK(capkit::key_hash(k) >= from);
            CHECK(*table.find(k) == v);
            if (next) CHECK(capkit::key_hash(k) < *next);
            seen.push_back(k);
        }
        if (!next) break;
        from = *next;
    }
    CHECK(pages == 12);  // 45 keys, 4 a page
    std::ranges::sort(seen);
    CHECK(std::ranges::adjacent_find(seen) == seen.end());
    CHECK(seen.size() == 45);
    // A byte bound smaller than one state still moves one hash a page.
    auto [one, next] =
        capkit::detail::catch_up_page_of<std::string, int>(table, 0, wanted, 1024, 1);
    CHECK(one.size() == 1);
    CHECK(next.has_value());
}

TEMPLATE_TEST_CASE("a node back without its data refuses, then serves what it had acknowledged",
                   "[amnesia]", linearizable, serial) {
    harness<TestType> h;
    write_then_forget(h);
    CHECK(h.cluster.replica(1).catching_up());
    // Node 1 refuses to coordinate, and answers nothing node 2 asks.
    CHECK(h.get(1, "k").error == capkit::errc::recovering);
    auto through_2 = h.get(2, "k");
    CHECK_FALSE(through_2.value.has_value());  // unavailable or timed out: never stale
    // It cannot finish: node 0, whose copy it may be missing, is out of reach.
    h.net.run_for(2s);
    CHECK(h.cluster.replica(1).catching_up());
    // Back in reach: after the quarantine it fetches from both and serves again.
    h.heal();
    h.net.run_until([&] { return !h.cluster.replica(1).catching_up(); });
    CHECK(h.cluster.replica(1).stats().catch_up_keys >= 6);
    CHECK(h.cluster.replica(1).stats().recovering == 1);
    h.partition({{1, 2}, {0}});
    auto after = h.get(2, "k");
    REQUIRE(after.value.has_value());
    CHECK(*after.value == 1);
    for (int i = 0; i < 5; ++i)
        CHECK(h.get(1, capkit::detail::cat("k", std::to_string(i))).value ==
              std::optional(std::optional<std::int64_t>(i)));
}

TEMPLATE_TEST_CASE("with catch-up off, the same amnesia reads stale data", "[amnesia]",
                   linearizable, serial) {
    harness<TestType> h(harness<TestType>::options(capkit::catch_up_when::never));
    write_then_forget(h);
    CHECK_FALSE(h.cluster.replica(1).catching_up());
    auto stale = h.get(2, "k");
    REQUIRE(stale.value.has_value());
    CHECK(*stale.value == std::nullopt);  // k = 1 was acknowledged, and is not seen
}

TEST_CASE("eventual replicas serve at once after an amnesia", "[amnesia]") {
    harness<eventual> h;
    REQUIRE(h.put(0, "k", 1));
    h.cluster.amnesia(1);
    CHECK_FALSE(h.cluster.replica(1).catching_up());
    CHECK(h.get(1, "k").value.has_value());
}

TEST_CASE("a node fetches from peers that serve only after a request timeout", "[amnesia]") {
    harness<linearizable> h;
    REQUIRE(h.put(0, "k", 1));
    const auto forgot = h.net.now();
    h.cluster.amnesia(1);
    h.net.run_until([&] { return !h.cluster.replica(1).catching_up(); });
    // Every message sent before the crash has arrived or is lost by then.
    CHECK(h.net.now() >= forgot + 200ms);
    CHECK(h.net.now() < forgot + 300ms);
    CHECK(h.cluster.replica(1).find("k") != nullptr);
}

TEMPLATE_TEST_CASE("a cluster that starts empty with catch-up always serves once all have started",
                   "[amnesia]", linearizable, serial) {
    harness<TestType> h(harness<TestType>::options(capkit::catch_up_when::always));
    for (node_id i = 0; i < 3; ++i) CHECK(h.cluster.replica(i).catching_up());
    h.partition({{0, 1}, {2}});  // node 2 not started yet, as far as 0 and 1 can tell
    h.net.run_for(1s);
    CHECK(h.cluster.replica(0).catching_up());
    CHECK(h.get(0, "k").error == capkit::errc::recovering);
    h.heal();
    const auto healed = h.net.now();
    h.net.run_until([&] {
        return !h.cluster.replica(0).catching_up() && !h.cluster.replica(1).catching_up() &&
               !h.cluster.replica(2).catching_up();
    });
    // All were empty, so no quarantine: ready once each has heard from the others.
    CHECK(h.net.now() < healed + 100ms);
    CHECK(h.put(0, "k", 3));
    CHECK(h.get(2, "k").value == std::optional(std::optional<std::int64_t>(3)));
}

TEST_CASE("a node restarted on what it kept does not catch up", "[amnesia]") {
    harness<linearizable> h;
    h.cluster.crash(2);
    h.cluster.restart(2);  // nothing written yet: an empty store, but one it kept
    CHECK_FALSE(h.cluster.replica(2).catching_up());
    REQUIRE(h.put(2, "k", 1));
}

TEST_CASE("catch-up's page bounds are checked", "[amnesia]") {
    capkit::replica_options o;
    o.catch_up.max_entries = 0;
    auto why = capkit::options_error<linearizable>(o);
    REQUIRE(why);
    CHECK(why->find("catch_up.max_entries") != std::string::npos);
    CHECK_THROWS_AS(linearizable(0, o), std::invalid_argument);
}

// SPDX-License-Identifier: MIT
// Tombstone collection over the simulated network: a deletion's tombstones go once every replica
// holds them and the grace period has passed, never while a replica that missed the delete is
// away (the resurrection bug, shown first with a collector that does not wait for it), never over
// a newer write, and a key written again after its tombstones went outranks a straggler of them.
#include <capkit/capkit.hpp>
#include <capkit/sim_cluster.hpp>

#include <support/sim_harness.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::node_id;
using capkit::time_point;

constexpr auto grace = 1s;

template <class Replica>
struct harness : capkit::test::sim_harness<Replica> {
    using base = capkit::test::sim_harness<Replica>;
    using base::call;
    using base::cluster;
    using base::net;
    explicit harness(bool anti_entropy = false) : base(11, options(anti_entropy)) {}
    static capkit::replica_options options(bool anti_entropy) {
        capkit::replica_options o;
        o.tombstone_gc.grace = grace;
        if (anti_entropy) o.anti_entropy.interval = 100ms;
        return o;
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

// Replicas driven by hand, every message delivered, held or dropped explicitly (the cases a
// review found: a read in flight from a replica that just took the tombstone, a late vote of an
// earlier round, the purge floor across a restart).
template <class R>
struct hand_network {
    using message = typename R::message;
    struct in_flight {
        node_id from, to;
        message m;
    };
    std::vector<std::optional<R>> nodes;
    std::deque<in_flight> queue;
    capkit::replica_options opts;

    explicit hand_network(capkit::replica_options o) : opts(o) {
        for (node_id i = 0; i < R::n; ++i) nodes.emplace_back(std::in_place, i, o);
    }
    R& at(node_id i) { return *nodes[i]; }
    void collect(node_id i) {
        for (auto& out : at(i).take_messages()) queue.push_back({i, out.to, std::move(out.m)});
        for (auto& c : at(i).take_completions()) c();
    }
    // Delivers queued messages that `pass` accepts (dropping those `drop` names) until quiet;
    // messages neither passed nor dropped stay queued (held).
    template <class Pass, class Drop>
    void run(time_point now, Pass pass, Drop drop) {
        for (bool moved = true; moved;) {
            moved = false;
            for (auto it = queue.begin(); it != queue.end();) {
                if (drop(*it)) {
                    it = queue.erase(it);
                    moved = true;
                } else if (pass(*it)) {
                    auto f = std::move(*it);
                    it = queue.erase(it);
                    at(f.to).receive(f.from, std::move(f.m), now);
                    collect(f.to);
                    moved = true;
                    break;  // the queue may have grown
                } else {
                    ++it;
                }
            }
        }
    }
    void run_all(time_point now) {
        run(
            now, [](auto&) { return true; }, [](auto&) { return false; });
    }
};

template <class M, class V>
bool is(const V& v) {
    return std::holds_alternative<M>(v);
}

using S = strong_lww::state;

capkit::replica_options gc_options() {
    capkit::replica_options o;
    o.tombstone_gc.grace = 1s;
    return o;
}

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

TEST_CASE(
    "tombstone collection: a replica that has just taken the tombstone votes no, so its "
    "read in flight cannot revive the value",
    "[tombstone_gc]") {
    hand_network<strong_lww> n(gc_options());
    bool ok = false;
    n.at(0).put("k", 5, {}, 1ms, [&](auto r) { ok = r.has_value(); });
    n.collect(0);
    n.run_all(1ms);
    REQUIRE(ok);
    // Node 2 misses the delete.
    ok = false;
    n.at(0).remove("k", {}, 2ms, [&](auto r) { ok = r.has_value(); });
    n.collect(0);
    n.run(
        2ms, [](auto&) { return true; }, [](auto& f) { return f.from == 2 || f.to == 2; });
    REQUIRE(ok);
    REQUIRE(n.at(2).find("k")->value == std::optional<std::int64_t>(5));
    // 3 s later, node 2 (back) starts a read; its requests are slow (held).
    std::optional<std::optional<std::int64_t>> read;
    n.at(2).get("k", 3s, [&](auto r) {
        REQUIRE(r.has_value());
        read.emplace(r->found() ? std::optional(r->values.front()) : std::nullopt);
    });
    n.collect(2);
    REQUIRE(n.queue.size() == 2);  // read_requests to 0 and 1: held
    // Node 0 collects the tombstone: prepare, votes, purge, all delivered.
    n.at(0).tick(3s);
    n.collect(0);
    auto gc = [](auto& f) { return !is<capkit::protocol::read_request<std::string, S>>(f.m); };
    n.run(3s, gc, [](auto&) { return false; });
    // Node 2 took the tombstone with the prepare, but has not held it for the grace: no.
    for (node_id i = 0; i < 3; ++i) CHECK(n.at(i).find("k") != nullptr);
    CHECK(n.at(2).stats().tombstones_purged == 0);
    // The held read requests arrive now: the tombstones answer them.
    n.run_all(3s + 5ms);
    REQUIRE(read.has_value());
    CHECK(*read == std::nullopt);
    const S* s0 = n.at(0).find("k");
    CHECK((s0 != nullptr && !*s0->value));
    // A grace period later every replica has held it long enough: collected everywhere.
    n.at(0).tick(4500ms);
    n.collect(0);
    n.run_all(4500ms);
    for (node_id i = 0; i < 3; ++i) CHECK(n.at(i).find("k") == nullptr);
}

TEST_CASE(
    "tombstone collection: a late vote of an earlier round does not count for a newer "
    "tombstone",
    "[tombstone_gc]") {
    hand_network<strong_lww> n(gc_options());
    bool ok = false;
    n.at(0).put("k", 1, {}, 1ms, [&](auto r) { ok = r.has_value(); });
    n.collect(0);
    n.run_all(1ms);
    n.at(0).remove("k", {}, 2ms, [&](auto r) { ok = r.has_value(); });  // T1 everywhere
    n.collect(0);
    n.run_all(2ms);
    REQUIRE(ok);
    // Round 1 for T1 at 1.5 s: node 1's vote is slow (held), node 2's lost.
    n.at(0).tick(1500ms);
    n.collect(0);
    using vote = capkit::protocol::purge_vote<std::string, S>;
    n.run(
        1500ms, [](auto& f) { return !is<vote>(f.m); },
        [](auto& f) { return is<vote>(f.m) && f.from == 2; });
    REQUIRE(n.queue.size() == 1);  // node 1's yes, held
    // Node 2 writes V' = 7 (acknowledged by 1 and 2; node 0's copy lost).
    ok = false;
    n.at(2).put("k", 7, {}, 1600ms, [&](auto r) { ok = r.has_value(); });
    n.collect(2);
    n.run(
        1600ms, [](auto& f) { return !is<vote>(f.m); },
        [](auto& f) { return f.to == 0 && !is<vote>(f.m); });
    REQUIRE(n.queue.size() == 1);
    REQUIRE(ok);
    // Node 0 deletes again (T2 > V'), acknowledged by 0 and 2; node 1's copy lost.
    ok = false;
    n.at(0).remove("k", {}, 1700ms, [&](auto r) { ok = r.has_value(); });
    n.collect(0);
    n.run(
        1700ms, [](auto& f) { return !is<vote>(f.m); }, [](auto& f) { return f.to == 1; });
    REQUIRE(ok);
    REQUIRE(n.at(1).find("k")->value == std::optional<std::int64_t>(7));
    // Round 2 for T2 (60 ms after T2, well inside the grace): the prepare to node 1 is lost,
    // node 2 votes yes, then node 1's stale yes for T1 arrives.
    using prepare = capkit::protocol::purge_prepare<std::string, S>;
    n.at(0).tick(1760ms);
    n.collect(0);
    n.run(
        1760ms, [](auto& f) { return !is<vote>(f.m) || f.from == 2; },
        [](auto& f) { return is<prepare>(f.m) && f.to == 1; });
    n.run_all(1760ms);
    CHECK(n.at(0).find("k") != nullptr);  // T2 stays: it is new, and the old vote names T1
    // The acknowledged delete T2 holds: 7 does not come back.
    std::optional<std::optional<std::int64_t>> read;
    n.at(0).get<capkit::all>("k", 1800ms, [&](auto r) {
        read.emplace(r->found() ? std::optional(r->values.front()) : std::nullopt);
    });
    n.collect(0);
    n.run_all(1800ms);
    REQUIRE(read.has_value());
    CHECK(*read == std::nullopt);
}

TEST_CASE(
    "tombstone collection: the purge floor survives a restart, so a write made after it "
    "outranks a straggler",
    "[tombstone_gc]") {
    hand_network<strong_lww> n(gc_options());
    bool ok = false;
    // Node 0's clock runs 400 ms ahead of the others' (only node 0's `now` is shifted): within
    // max_clock_offset (500 ms), so its tombstone can be collected.
    constexpr auto skew = 400ms;
    n.at(0).put("k", 1, {}, 1ms + skew, [&](auto r) { ok = r.has_value(); });
    n.collect(0);
    n.run_all(1ms);
    n.at(0).remove("k", {}, 2ms + skew, [&](auto r) { ok = r.has_value(); });
    n.collect(0);
    n.run_all(2ms);
    REQUIRE(ok);
    // Collection at 2 s (node 0's 7 s): the purge to node 2 is lost, so node 2 keeps T.
    n.at(0).tick(2s + skew);
    n.collect(0);
    n.run(
        2s, [](auto&) { return true; },
        [](auto& f) { return is<capkit::protocol::purge<std::string, S>>(f.m) && f.to == 2; });
    REQUIRE(n.at(0).find("k") == nullptr);
    REQUIRE(n.at(1).find("k") == nullptr);
    REQUIRE(n.at(2).find("k") != nullptr);
    // Node 1 restarts on what it made durable.
    auto d = n.at(1).durable();
    auto o = gc_options();
    o.incarnation = 1;
    n.nodes[1].emplace(1, o, std::move(d));
    // A write through node 1 at 3 s, acknowledged by 0 and 1 (node 2 slow).
    ok = false;
    n.at(1).put("k", 42, {}, 3s, [&](auto r) { ok = r.has_value(); });
    n.collect(1);
    n.run(
        3s, [](auto& f) { return f.to != 2 && f.from != 2; }, [](auto&) { return false; });
    REQUIRE(ok);
    n.run_all(3s);
    std::optional<std::optional<std::int64_t>> read;
    n.at(1).get<capkit::all>("k", 3100ms, [&](auto r) {
        read.emplace(r->found() ? std::optional(r->values.front()) : std::nullopt);
    });
    n.collect(1);
    n.run_all(3100ms);
    REQUIRE(read.has_value());
    CHECK(*read == std::optional<std::int64_t>(42));
}

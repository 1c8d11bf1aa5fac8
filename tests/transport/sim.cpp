// SPDX-License-Identifier: MIT
#include <capkit/transport/sim.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <capkit/detail/text.hpp>
#include <capkit/node.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/replica.hpp>

using namespace std::chrono_literals;
using capkit::latency;
using capkit::node_id;
using capkit::send_status;
using capkit::time_point;
using net_type = capkit::sim<std::string>;

namespace {

struct delivery {
    time_point at;
    node_id from, to;
    std::string m;
    friend bool operator==(const delivery&, const delivery&) = default;
};

// Attaches nodes 0 .. count-1, logging every delivery (with its time) and every wake-up.
struct harness {
    explicit harness(unsigned count, std::uint64_t seed = 1, std::size_t max_in_flight = 1 << 20)
        : net(seed, max_in_flight) {
        for (node_id id = 0; id < count; ++id) attach(id);
    }
    void attach(node_id id) {
        net.attach(
            id,
            [this, id](node_id from, std::string&& m) {
                log.push_back({net.now(), from, id, m});
            },
            [this, id] { woken.emplace_back(id, net.now()); });
    }
    std::vector<std::string> messages() const {
        std::vector<std::string> out;
        for (const auto& d : log) out.push_back(d.m);
        return out;
    }
    net_type net;
    std::vector<delivery> log;
    std::vector<std::pair<node_id, time_point>> woken;
};

using wakes = std::vector<std::pair<node_id, time_point>>;
using strings = std::vector<std::string>;

// Sends "from>to" on every ordered pair of nodes below `count`, runs, and returns what arrived.
strings all_pairs(harness& h, node_id count) {
    h.log.clear();
    for (node_id from = 0; from < count; ++from)
        for (node_id to = 0; to < count; ++to)
            if (from != to) h.net.send(from, to, std::to_string(from) + ">" + std::to_string(to));
    h.net.run();
    auto out = h.messages();
    std::ranges::sort(out);
    return out;
}

}  // namespace

TEST_CASE("sim models the transport concept", "[transport][sim]") {
    STATIC_REQUIRE(capkit::transport<net_type, std::string>);
    STATIC_REQUIRE(capkit::transport<capkit::sim<int>, int>);
    // Move-only messages travel too (they are never duplicated).
    STATIC_REQUIRE(capkit::transport<capkit::sim<std::unique_ptr<int>>, std::unique_ptr<int>>);
}

TEST_CASE("sim respects a fixed latency and keeps each link FIFO", "[transport][sim]") {
    harness h(3);
    h.net.set_latency(latency::fixed(5ms));
    h.net.run_until(time_point(2ms));
    CHECK(h.net.now() == 2ms);  // run_until moves time even with nothing to do
    for (int i = 0; i < 10; ++i) h.net.send(0, 1, std::to_string(i));
    h.net.run_until(time_point(3ms));
    h.net.send(0, 1, "later");
    h.net.send(2, 1, "other link");
    CHECK(h.net.in_flight() == 12);
    CHECK(h.log.empty());  // sending never delivers

    h.net.run_until(time_point(7ms) - 1ns);
    CHECK(h.log.empty());
    h.net.run_until(time_point(7ms));  // due at exactly 7 ms: included
    REQUIRE(h.log.size() == 10);
    for (int i = 0; i < 10; ++i) {
        CHECK(h.log[i].m == std::to_string(i));
        CHECK(h.log[i].at == 7ms);
    }
    h.net.run();
    CHECK(h.log[10] == delivery{8ms, 0, 1, "later"});
    CHECK(h.log[11] == delivery{8ms, 2, 1, "other link"});
    CHECK(h.net.now() == 8ms);
    CHECK(h.net.delivered() == 12);
    CHECK(h.net.in_flight() == 0);
    CHECK_FALSE(h.net.step());
}

TEST_CASE("sim draws latencies from their distribution", "[transport][sim]") {
    SECTION("uniform: within [lo, hi], both ends reachable, not FIFO") {
        harness h(2, 7);
        h.net.set_latency(latency::uniform(1ms, 1ms + 99ns));
        for (int i = 0; i < 2000; ++i) h.net.send(0, 1, std::to_string(i));
        h.net.run();
        REQUIRE(h.log.size() == 2000);
        auto [lo, hi] = std::ranges::minmax(h.log, {}, &delivery::at);
        CHECK(lo.at == 1ms);
        CHECK(hi.at == 1ms + 99ns);
        CHECK_FALSE(
            std::ranges::is_sorted(h.log, {}, [](const delivery& d) { return std::stoi(d.m); }));
    }
    SECTION("per link, over the global one") {
        harness h(3);
        h.net.set_latency(latency::fixed(1ms));
        h.net.set_latency(0, 2, latency::fixed(9ms));
        h.net.send(0, 2, "slow");
        h.net.send(2, 0, "back");
        h.net.send(0, 1, "fast");
        h.net.run();
        CHECK(h.log ==
              std::vector<delivery>{{1ms, 2, 0, "back"}, {1ms, 0, 1, "fast"}, {9ms, 0, 2, "slow"}});
    }
    SECTION("long tailed: a body around the base, a power-law tail, a cap") {
        capkit::detail::rng g(3);
        auto d = latency::long_tailed(1ms, 0.5, 64ms);
        CHECK(d.min() == 500us);
        CHECK(d.max() == 64ms);
        constexpr int draws = 100'000;
        int from_8 = 0, above_12 = 0, at_cap = 0, below_base = 0;
        for (int i = 0; i < draws; ++i) {
            auto x = d.draw(g);
            REQUIRE(x >= 500us);
            REQUIRE(x <= 64ms);
            from_8 += x >= 8ms;
            above_12 += x > 12ms;
            at_cap += x == 64ms;
            below_base += x < 1ms;
        }
        // After k doublings a delay lies in [0.5, 1.5] ms * 2^k, and k >= j has chance 2^-j: 8 ms
        // needs 3 doublings and 4 suffice; above 12 ms needs 4 and 5 suffice; the cap needs 6 and
        // 7 suffice. Slack of five standard deviations.
        CHECK(from_8 >= draws / 16 - 400);
        CHECK(from_8 <= draws / 8 + 500);
        CHECK(above_12 >= draws / 32 - 300);
        CHECK(above_12 <= draws / 16 + 400);
        CHECK(at_cap >= draws / 128 - 150);
        CHECK(at_cap <= draws / 64 + 200);
        CHECK(below_base == Approx(draws / 4).margin(700));  // half the body, which is half
    }
}

TEST_CASE("sim delays messages to reorder them only when asked", "[transport][sim]") {
    harness h(2, 11);
    h.net.set_latency(latency::fixed(1ms));
    h.net.set_reorder(0.5, 2ms);
    for (int i = 0; i < 200; ++i) h.net.send(0, 1, std::to_string(i));
    h.net.run();
    REQUIRE(h.log.size() == 200);
    for (const auto& d : h.log) {
        CHECK(d.at >= 1ms);
        CHECK(d.at <= 3ms);
    }
    auto on_time = std::ranges::count(h.log, time_point(1ms), &delivery::at);
    CHECK(on_time == Approx(100).margin(40));  // the held-back half lands later
    CHECK(h.messages() != [] {
        strings fifo;
        for (int i = 0; i < 200; ++i) fifo.push_back(std::to_string(i));
        return fifo;
    }());
}

TEST_CASE("sim cuts, partitions, bridges and heals links", "[transport][sim]") {
    harness h(5);
    h.net.set_latency(latency::fixed(1ms));
    SECTION("one way") {
        h.net.cut_one_way(0, 1);
        CHECK_FALSE(h.net.linked(0, 1));
        CHECK(h.net.linked(1, 0));
        CHECK(h.net.send(0, 1, "lost") == send_status::sent);  // silently
        h.net.send(1, 0, "kept");
        h.net.run();
        CHECK(h.messages() == strings{"kept"});
        CHECK(h.net.dropped() == 1);
    }
    SECTION("both ways") {
        h.net.cut(0, 1);
        auto got = all_pairs(h, 3);
        CHECK(got == strings{"0>2", "1>2", "2>0", "2>1"});
        CHECK(h.net.dropped() == 2);
    }
    SECTION("a message in flight when its link is cut is lost") {
        h.net.send(0, 1, "in flight");
        h.net.send(1, 0, "reverse");
        h.net.run_until(time_point(500us));
        h.net.cut_one_way(0, 1);
        h.net.run();
        CHECK(h.messages() == strings{"reverse"});
        CHECK(h.net.dropped() == 1);
    }
    SECTION("a message sent over a cut link is lost even if the link heals before it lands") {
        h.net.cut(0, 1);
        h.net.send(0, 1, "lost");
        h.net.heal();
        h.net.run();
        CHECK(h.log.empty());
        CHECK(h.net.dropped() == 1);
    }
    SECTION("partition into groups; a node in no group is isolated") {
        h.net.partition({{0, 1}, {2, 3}});
        CHECK(all_pairs(h, 5) == strings{"0>1", "1>0", "2>3", "3>2"});
        CHECK(h.net.linked(4, 4));
        SECTION("a new partition replaces the old") {
            h.net.partition({{0, 1, 2, 3, 4}});
            CHECK(all_pairs(h, 5).size() == 20);
        }
    }
    SECTION("bridge: both halves reach the bridge node, not each other") {
        h.net.bridge({0, 1}, 2, {3, 4});
        CHECK(all_pairs(h, 5) == strings{"0>1", "0>2", "1>0", "1>2", "2>0", "2>1", "2>3", "2>4",
                                         "3>2", "3>4", "4>2", "4>3"});
    }
    SECTION("heal restores every link") {
        h.net.partition({{0}, {1}, {2}});
        h.net.cut_one_way(3, 4);
        h.net.heal();
        for (node_id a = 0; a < 5; ++a)
            for (node_id b = 0; b < 5; ++b) CHECK(h.net.linked(a, b));
        CHECK(all_pairs(h, 5).size() == 20);
    }
}

TEST_CASE("sim drops messages at the rate it is given", "[transport][sim]") {
    constexpr int sends = 100'000;
    auto lost = [](double global, std::optional<double> on_link) {
        harness h(2, 99);
        h.net.set_drop(global);
        if (on_link) h.net.set_drop(0, 1, *on_link);
        for (int i = 0; i < sends; ++i) h.net.send(0, 1, "");
        h.net.run();
        CHECK(h.net.delivered() + h.net.dropped() == std::size_t{sends});
        return static_cast<int>(h.net.dropped());
    };
    CHECK(lost(0, std::nullopt) == 0);
    CHECK(lost(1, std::nullopt) == sends);
    // 5 standard deviations of a binomial(100000, 0.2): 5 * sqrt(16000) ~ 632.
    CHECK(lost(0.2, std::nullopt) == Approx(sends * 0.2).margin(632));
    CHECK(lost(0.01, std::nullopt) == Approx(sends * 0.01).margin(158));
    CHECK(lost(1, 0.0) == 0);  // a link's own rate wins over the global one
    CHECK(lost(0, 0.5) == Approx(sends / 2).margin(791));
}

TEST_CASE("sim duplicates messages, each copy with its own delay", "[transport][sim]") {
    SECTION("always") {
        harness h(2, 5);
        h.net.set_latency(latency::uniform(1ms, 5ms));
        h.net.set_duplicate(1);
        h.net.send(0, 1, "twice");
        CHECK(h.net.in_flight() == 2);
        h.net.run();
        REQUIRE(h.log.size() == 2);
        CHECK(h.messages() == strings{"twice", "twice"});
        CHECK(h.log[0].at != h.log[1].at);  // two draws (equal only by a 1 in 4 million chance)
        CHECK(h.net.duplicated() == 1);
        CHECK(h.net.delivered() == 2);
    }
    SECTION("at a rate, on one link") {
        harness h(3, 5);
        h.net.set_duplicate(0, 1, 0.25);
        for (int i = 0; i < 10'000; ++i) {
            h.net.send(0, 1, "");
            h.net.send(0, 2, "");
        }
        h.net.run();
        CHECK(h.net.duplicated() == Approx(2500).margin(217));  // 5 standard deviations
        CHECK(h.net.delivered() == 20'000 + h.net.duplicated());
    }
}

TEST_CASE("sim refuses unknown nodes and reports a full queue", "[transport][sim]") {
    harness h(2, 1, 2);
    CHECK(h.net.send(0, 7, "nobody") == send_status::unknown_node);
    CHECK(h.net.send(7, 0, "from nobody") == send_status::unknown_node);
    CHECK(h.net.send(0, 1, "a") == send_status::sent);
    CHECK(h.net.send(0, 1, "b") == send_status::sent);
    CHECK(h.net.send(0, 1, "c") == send_status::queue_full);
    CHECK(h.net.in_flight() == 2);
    REQUIRE(h.net.step());
    CHECK(h.net.send(0, 1, "d") == send_status::sent);
    h.net.run();
    CHECK(h.messages() == strings{"a", "b", "d"});
    CHECK(h.net.dropped() == 0);
}

TEST_CASE("sim wakes nodes on virtual time", "[transport][sim]") {
    harness h(3);
    h.net.wake(0, 5s);
    h.net.wake(1, 2s);
    h.net.wake(2, 9s);
    h.net.wake(2, 7s);  // replaces node 2's earlier request
    h.net.wake(1, 2s);  // asking again changes nothing
    h.net.send(0, 1, "first");
    REQUIRE(h.net.step());
    CHECK(h.log.size() == 1);  // latency zero: the message comes first
    h.net.run();
    CHECK(h.woken == wakes{{1, 2s}, {0, 5s}, {2, 7s}});
    CHECK(h.net.now() == 7s);

    SECTION("a wake-up in the past fires now") {
        h.net.wake(0, 1s);
        REQUIRE(h.net.step());
        CHECK(h.woken.back() == std::pair<node_id, time_point>{0, 7s});
    }
    SECTION("time_point::max() cancels, and time does not move to a cancelled wake-up") {
        h.net.wake(0, 20s);
        h.net.wake(0, time_point::max());
        CHECK_FALSE(h.net.step());
        CHECK(h.net.now() == 7s);
    }
    SECTION("a waker may ask again") {
        capkit::sim<int> net(1);
        std::vector<time_point> at;
        net.attach(
            0, [](node_id, int&&) {},
            [&] {
                at.push_back(net.now());
                if (at.size() < 3) net.wake(0, net.now() + 100ms);
            });
        net.wake(0, 100ms);
        net.run();
        CHECK(at == std::vector<time_point>{100ms, 200ms, 300ms});
    }
}

TEST_CASE("sim runs scheduled actions in time order, ties in insertion order", "[transport][sim]") {
    capkit::sim<int> net(1);
    std::vector<std::string> ran;
    net.schedule(20ms, [&] { ran.push_back("20a"); });
    net.schedule(10ms, [&] {
        ran.push_back("10a");
        net.schedule(10ms, [&] { ran.push_back("10c, from 10a"); });  // after 10b: a later tie
        net.schedule(5ms, [&] { ran.push_back("past, runs now"); });
    });
    net.schedule(20ms, [&] { ran.push_back("20b"); });
    net.schedule(10ms, [&] { ran.push_back("10b"); });
    net.run_until(15ms);
    CHECK(ran == strings{"10a", "10b", "10c, from 10a", "past, runs now"});
    CHECK(net.now() == 15ms);
    net.run();
    CHECK(ran == strings{"10a", "10b", "10c, from 10a", "past, runs now", "20a", "20b"});
    CHECK(net.now() == 20ms);

    SECTION("run_until with a predicate stops as soon as it holds") {
        int count = 0;
        for (int i = 1; i <= 5; ++i) net.schedule(net.now() + i * 1ms, [&] { ++count; });
        CHECK(net.run_until([&] { return count == 2; }));
        CHECK(net.now() == 22ms);
        CHECK_FALSE(net.run_until([] { return false; }));  // runs out of events
        CHECK(count == 5);
        net.run_for(10ms);
        CHECK(net.now() == 35ms);
    }
}

TEST_CASE("sim: a crashed node gets nothing and sends nothing until it restarts",
          "[transport][sim]") {
    harness h(3);
    h.net.set_latency(latency::fixed(1ms));
    h.net.send(1, 0, "sent before the crash");
    h.net.send(0, 1, "lost: lands while down");
    h.net.wake(1, 5ms);
    h.net.crash(1);
    CHECK_FALSE(h.net.up(1));
    CHECK(h.net.up(0));
    CHECK(h.net.send(1, 2, "from a down node") == send_status::sent);  // lost
    h.net.wake(1, 6ms);                                                // ignored while down
    h.net.run();
    CHECK(h.log == std::vector<delivery>{{1ms, 1, 0, "sent before the crash"}});
    CHECK(h.woken.empty());
    CHECK(h.net.dropped() == 2);

    h.net.restart(1);
    CHECK(h.net.up(1));
    h.attach(1);  // the lab's new node object
    h.net.send(0, 1, "after restart");
    h.net.wake(1, h.net.now() + 1s);
    h.net.run();
    CHECK(h.log.back() == delivery{2ms, 0, 1, "after restart"});
    CHECK(h.woken == wakes{{1, 1001ms}});
}

TEST_CASE("sim: a detached node gets nothing; attaching again resumes", "[transport][sim]") {
    harness h(2);
    h.net.set_latency(latency::fixed(1ms));
    h.net.wake(1, 1s);
    h.net.send(0, 1, "in flight");
    h.net.detach(1);
    CHECK(h.net.send(0, 1, "to a known address") == send_status::sent);
    h.net.run();
    CHECK(h.log.empty());
    CHECK(h.woken.empty());
    CHECK(h.net.dropped() == 2);
    CHECK(h.net.now() == 1ms);

    h.attach(1);
    h.net.send(0, 1, "again");
    h.net.run();
    CHECK(h.messages() == strings{"again"});
}

TEST_CASE("sim: clock skew shifts a node's clock and the wake-ups it asks for",
          "[transport][sim]") {
    harness h(3);
    h.net.run_until(time_point(10s));
    h.net.set_clock_skew(1, 3s);
    h.net.set_clock_skew(2, -15s);
    CHECK(h.net.clock_skew(1) == 3s);
    CHECK(h.net.now() == 10s);
    CHECK(h.net.now(0) == 10s);
    CHECK(h.net.now(1) == 13s);
    CHECK(h.net.now(2) == 0s);  // clamped at zero

    h.net.wake(1, h.net.now(1) + 1s);  // 14 s on its clock: 11 s true
    h.net.wake(0, 12s);
    h.net.run();
    CHECK(h.woken == wakes{{1, 11s}, {0, 12s}});
    h.net.set_clock_skew(2, -5s);
    h.net.wake(2, 8s);  // 13 s true
    h.net.wake(1, 5s);  // already past on its clock: now
    h.net.run();
    CHECK(h.woken == wakes{{1, 11s}, {0, 12s}, {1, 12s}, {2, 13s}});
    CHECK(h.net.now(2) == 8s);
    h.net.wake(2, time_point::max() - 1ns);  // beyond the end of true time: never
    CHECK_FALSE(h.net.step());
}

// --- Real replicas over the simulated network ----------------------------------------------

namespace {

using replica = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::strong>;
using replica_net = capkit::sim<typename replica::message>;
using replica_node = capkit::node<replica, replica_net>;

std::uint64_t fnv1a(std::uint64_t h, std::uint64_t x, int bytes) {
    for (int i = 0; i < bytes; ++i) {
        h ^= (x >> (8 * i)) & 0xff;
        h *= 0x100000001b3ULL;
    }
    return h;
}
constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ULL;

// A three-node cluster under drops, delays, a partition and a heal, clients writing and reading
// through every node: the outcome of each request and the time of every delivery, hashed.
std::uint64_t replica_run(std::uint64_t seed) {
    replica_net net(seed);
    net.set_latency(latency::uniform(1ms, 4ms));
    net.set_drop(0.05);
    net.set_duplicate(0.02);
    std::uint64_t h = fnv_offset;
    net.on_deliver([&](time_point at, node_id from, node_id to, const auto& m) {
        h = fnv1a(h, static_cast<std::uint64_t>(at.count()), 8);
        h = fnv1a(h, from, 4);
        h = fnv1a(h, to, 4);
        h = fnv1a(h, m.index(), 1);
    });
    std::vector<std::unique_ptr<replica_node>> nodes;
    for (node_id i = 0; i < 3; ++i) nodes.push_back(std::make_unique<replica_node>(i, net));
    for (int i = 0; i < 60; ++i) {
        net.schedule(time_point(i * 50ms), [&, i] {
            auto& via = *nodes[static_cast<std::size_t>(i) % 3];
            auto key = capkit::detail::cat("k", std::to_string(i % 4));
            auto record = [&h](bool ok) { h = fnv1a(h, ok ? 1 : 2, 1); };
            if (i % 2 == 0)
                via.async_put(key, std::to_string(i), {}, [=](const auto& r) { record(bool(r)); });
            else
                via.async_get(key, [=](const auto& r) { record(bool(r)); });
        });
    }
    net.schedule(time_point(1s), [&] { net.partition({{0}, {1, 2}}); });
    net.schedule(time_point(2s), [&] { net.heal(); });
    net.run();
    h = fnv1a(h, net.delivered(), 8);
    h = fnv1a(h, net.dropped(), 8);
    return h;
}

}  // namespace

TEST_CASE("capkit::node runs unchanged over sim", "[transport][sim]") {
    replica_net net(1);
    net.set_latency(latency::fixed(2ms));
    std::vector<std::unique_ptr<replica_node>> nodes;
    for (node_id i = 0; i < 3; ++i) nodes.push_back(std::make_unique<replica_node>(i, net));

    std::optional<capkit::result<typename replica::write_result>> put;
    nodes[0]->async_put("k", "v", {}, [&](auto r) { put = std::move(r); });
    REQUIRE(net.run_until([&] { return put.has_value(); }));
    CHECK(put->has_value());
    CHECK(net.now() == 4ms);  // one round trip

    std::optional<capkit::result<typename replica::read_result>> got;
    nodes[2]->async_get("k", [&](auto r) { got = std::move(r); });
    REQUIRE(net.run_until([&] { return got.has_value(); }));
    REQUIRE(got->has_value());
    CHECK((*got)->values == strings{"v"});

    // Cut off from both peers, a request waits out its timeout on virtual time.
    net.partition({{0}, {1, 2}});
    got.reset();
    auto asked = net.now();
    nodes[0]->async_get("k", [&](auto r) { got = std::move(r); });
    REQUIRE(net.run_until([&] { return got.has_value(); }));
    CHECK_FALSE(got->has_value());
    CHECK(net.now() == asked + 1s);
}

TEST_CASE("sim: a skewed node keeps time on its own clock; a destroyed node detaches",
          "[transport][sim]") {
    replica_net net(1);
    net.set_latency(latency::fixed(2ms));
    net.set_clock_skew(0, 5s);
    std::vector<std::unique_ptr<replica_node>> nodes;
    for (node_id i = 0; i < 3; ++i) nodes.push_back(std::make_unique<replica_node>(i, net));

    // The node sets its deadline on its own clock (5 s ahead); it fires one timeout later in
    // true time too.
    net.partition({{0}, {1, 2}});
    std::optional<capkit::result<typename replica::read_result>> got;
    nodes[0]->async_get("k", [&](auto r) { got = std::move(r); });
    REQUIRE(net.run_until([&] { return got.has_value(); }));
    CHECK_FALSE(got->has_value());
    CHECK(net.now() == 1s);
    CHECK(net.now(0) == 6s);

    net.heal();
    nodes[2].reset();
    auto dropped = net.dropped();
    std::optional<capkit::result<typename replica::write_result>> put;
    nodes[1]->async_put("k", "v", {}, [&](auto r) { put = std::move(r); });
    REQUIRE(net.run_until([&] { return put.has_value(); }));
    CHECK(put->has_value());                         // nodes 1 and 0 make W = 2
    CHECK(net.dropped() == dropped + 1);             // the copy for node 2 found nobody
    CHECK(net.send(0, 2, {}) == send_status::sent);  // a known address, even with no one there
}

TEST_CASE("sim replays a replica cluster exactly from its seed", "[transport][sim]") {
    auto a = replica_run(2024);
    CHECK(replica_run(2024) == a);
    CHECK(replica_run(2025) != a);
}

// --- Determinism ------------------------------------------------------------------------------

namespace {

struct ping {
    std::uint64_t id;
    std::uint32_t hops;
};

struct trace {
    std::uint64_t hash = fnv_offset;
    std::vector<std::uint64_t> steps;  // one entry per delivery or wake-up
    friend bool operator==(const trace&, const trace&) = default;
};

// Five echo nodes pass pings along for a few hops under uniform and long-tailed latency,
// drops, duplicates, reordering, a partition, a bridge, a crash and clock skew; node 0 also
// wakes every 7 ms of its own clock to start a ping. Every delivery (time, sender, addressee,
// payload) and wake-up is folded into an FNV-1a 64-bit hash, byte by byte, little-endian.
trace echo_run(std::uint64_t seed) {
    capkit::sim<ping> net(seed);
    trace t;
    auto fold = [&t](time_point at, node_id from, node_id to, std::uint64_t id,
                     std::uint32_t hops) {
        auto h = fnv1a(t.hash, static_cast<std::uint64_t>(at.count()), 8);
        h = fnv1a(h, from, 4);
        h = fnv1a(h, to, 4);
        h = fnv1a(h, id, 8);
        h = fnv1a(h, hops, 4);
        t.hash = h;
        t.steps.push_back(h);
    };
    net.on_deliver([&](time_point at, node_id from, node_id to, const ping& p) {
        fold(at, from, to, p.id, p.hops);
    });
    constexpr node_id nodes = 5;
    std::uint64_t next_id = 1000;
    for (node_id id = 0; id < nodes; ++id)
        net.attach(
            id,
            [&net, id](node_id, ping&& p) {
                if (p.hops < 8) net.send(id, node_id(p.id + p.hops) % nodes, {p.id, p.hops + 1});
            },
            [&, id] {
                fold(net.now(), id, id, 0, 0);
                net.send(id, node_id(next_id % nodes), {next_id, 0});
                ++next_id;
                if (net.now() < 300ms) net.wake(id, net.now(id) + 7ms);
            });

    net.set_latency(latency::uniform(1ms, 10ms));
    net.set_latency(3, 4, latency::long_tailed(2ms, 0.5, 100ms));
    net.set_drop(0.05);
    net.set_drop(1, 2, 0.3);
    net.set_duplicate(0.05);
    net.set_reorder(0.1, 5ms);
    net.set_clock_skew(0, 3ms);
    net.wake(0, 10ms);

    for (std::uint64_t i = 0; i < 200; ++i)
        net.schedule(time_point(std::chrono::milliseconds(i)), [&net, i] {
            auto from = node_id(i % nodes), to = node_id((i * 3 + 1) % nodes);
            net.send(from, to, {i, 0});
        });
    net.schedule(50ms, [&] { net.partition({{0, 1}, {2, 3, 4}}); });
    net.schedule(100ms, [&] { net.cut_one_way(2, 3); });
    net.schedule(120ms, [&] { net.heal(); });
    net.schedule(130ms, [&] { net.crash(4); });
    net.schedule(140ms, [&] { net.bridge({0, 1}, 2, {3, 4}); });
    net.schedule(160ms, [&] { net.restart(4); });
    net.schedule(170ms, [&] { net.heal(); });
    net.run();

    auto h = fnv1a(t.hash, net.delivered(), 8);
    h = fnv1a(h, net.dropped(), 8);
    h = fnv1a(h, net.duplicated(), 8);
    t.hash = fnv1a(h, static_cast<std::uint64_t>(net.now().count()), 8);
    return t;
}

}  // namespace

TEST_CASE("sim gives the same history for the same seed, on every compiler",
          "[transport][sim][determinism]") {
    auto a = echo_run(42);
    INFO("hash 0x" << std::hex << a.hash);
    CHECK(a.steps.size() > 500);  // a scenario with some traffic in it
    CHECK(echo_run(42) == a);     // replayed in this process
    auto b = echo_run(43);
    CHECK(b.hash != a.hash);
    CHECK(b.steps != a.steps);
    // Replayed in other processes and by other compilers: g++ 12 and clang++ 16 both give this.
    CHECK(a.hash == 0xacd3e706ae5c24a1ULL);
}

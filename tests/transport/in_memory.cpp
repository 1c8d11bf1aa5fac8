// SPDX-License-Identifier: MIT
#include <capkit/transport/in_memory.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using capkit::node_id;
using capkit::send_status;
using net_type = capkit::in_memory<std::string>;

namespace {

struct delivery {
    node_id from, to;
    std::string m;
    friend bool operator==(const delivery&, const delivery&) = default;
};

// Attaches nodes 0 .. count-1, logging every delivery and every wake-up (with the time it came).
struct harness {
    explicit harness(unsigned count, std::size_t max_queue = 1 << 20)
        : net(capkit::time_source::virtual_time, max_queue) {
        for (node_id id = 0; id < count; ++id)
            net.attach(
                id,
                [this, id](node_id from, std::string&& m) {
                    log.push_back({from, id, m});
                },
                [this, id] { woken.emplace_back(id, net.now()); });
    }
    net_type net;
    std::vector<delivery> log;
    std::vector<std::pair<node_id, capkit::time_point>> woken;
};

std::vector<std::string> messages(const std::vector<delivery>& log) {
    std::vector<std::string> out;
    for (const auto& d : log) out.push_back(d.m);
    return out;
}

// The order in which 32 messages sent from node 0 to node 1 arrive: FIFO, or drawn from `seed`.
std::vector<std::string> order_of(std::optional<std::uint64_t> seed) {
    harness h(2);
    if (seed) h.net.reorder(*seed);
    for (int i = 0; i < 32; ++i) h.net.send(0, 1, std::to_string(i));
    h.net.run();
    return messages(h.log);
}

}  // namespace

TEST_CASE("in_memory models the transport concept", "[transport][in_memory]") {
    STATIC_REQUIRE(capkit::transport<net_type, std::string>);
    STATIC_REQUIRE(capkit::transport<capkit::in_memory<int>, int>);
}

TEST_CASE("in_memory delivers in FIFO order across all links", "[transport][in_memory]") {
    harness h(3);
    CHECK(h.net.send(0, 1, "a") == send_status::sent);
    CHECK(h.net.send(2, 0, "b") == send_status::sent);
    CHECK(h.net.send(0, 1, "c") == send_status::sent);
    CHECK(h.net.send(1, 2, "d") == send_status::sent);
    CHECK(h.net.in_flight() == 4);
    CHECK(h.log.empty());  // sending never delivers; stepping does

    REQUIRE(h.net.step());
    CHECK(h.log == std::vector<delivery>{{0, 1, "a"}});
    h.net.run();
    CHECK(h.log == std::vector<delivery>{{0, 1, "a"}, {2, 0, "b"}, {0, 1, "c"}, {1, 2, "d"}});
    CHECK(h.net.delivered() == 4);
    CHECK(h.net.dropped() == 0);
    CHECK(h.net.in_flight() == 0);
    CHECK_FALSE(h.net.step());
}

TEST_CASE("a message sent from a receiver is delivered after those already queued",
          "[transport][in_memory]") {
    net_type net;
    std::vector<std::string> log;
    net.attach(
        0, [&](node_id, std::string&& m) { log.push_back("0:" + m); }, [] {});
    net.attach(
        1,
        [&](node_id from, std::string&& m) {
            log.push_back("1:" + m);
            if (m == "ping") net.send(1, from, "pong");
        },
        [] {});
    net.send(0, 1, "ping");
    net.send(0, 1, "second");
    net.run();
    CHECK(log == std::vector<std::string>{"1:ping", "1:second", "0:pong"});
}

TEST_CASE("in_memory cuts links one way or both ways", "[transport][in_memory]") {
    harness h(3);
    SECTION("one way") {
        h.net.cut_one_way(0, 1);
        CHECK_FALSE(h.net.linked(0, 1));
        CHECK(h.net.linked(1, 0));
        CHECK(h.net.linked(0, 2));
        // The sender cannot tell: a cut link loses messages silently, as a network does.
        CHECK(h.net.send(0, 1, "lost") == send_status::sent);
        CHECK(h.net.send(1, 0, "kept") == send_status::sent);
        CHECK(h.net.send(0, 2, "other link") == send_status::sent);
        h.net.run();
        CHECK(h.log == std::vector<delivery>{{1, 0, "kept"}, {0, 2, "other link"}});
        CHECK(h.net.dropped() == 1);
        CHECK(h.net.delivered() == 2);
    }
    SECTION("both ways") {
        h.net.cut(0, 1);
        CHECK_FALSE(h.net.linked(0, 1));
        CHECK_FALSE(h.net.linked(1, 0));
        h.net.send(0, 1, "lost");
        h.net.send(1, 0, "lost too");
        h.net.send(2, 1, "kept");
        h.net.run();
        CHECK(h.log == std::vector<delivery>{{2, 1, "kept"}});
        CHECK(h.net.dropped() == 2);
    }
    SECTION("a message in flight when its link is cut is lost") {
        h.net.send(0, 1, "in flight");
        h.net.send(1, 0, "reverse");
        h.net.cut_one_way(0, 1);
        h.net.run();
        CHECK(h.log == std::vector<delivery>{{1, 0, "reverse"}});
        CHECK(h.net.dropped() == 1);
    }
    SECTION("heal restores every link") {
        h.net.cut(0, 1);
        h.net.cut_one_way(2, 0);
        h.net.heal();
        for (node_id a = 0; a < 3; ++a)
            for (node_id b = 0; b < 3; ++b) CHECK(h.net.linked(a, b));
        h.net.send(0, 1, "a");
        h.net.send(1, 0, "b");
        h.net.send(2, 0, "c");
        h.net.run();
        CHECK(messages(h.log) == std::vector<std::string>{"a", "b", "c"});
        CHECK(h.net.dropped() == 0);
    }
}

TEST_CASE("in_memory partitions nodes into groups", "[transport][in_memory]") {
    harness h(5);
    h.net.partition({{0, 1}, {2, 3}});  // node 4 is in no group: isolated
    CHECK(h.net.linked(0, 1));
    CHECK(h.net.linked(1, 0));
    CHECK(h.net.linked(2, 3));
    CHECK(h.net.linked(3, 2));
    for (node_id a : {0u, 1u})
        for (node_id b : {2u, 3u}) {
            CHECK_FALSE(h.net.linked(a, b));
            CHECK_FALSE(h.net.linked(b, a));
        }
    for (node_id a = 0; a < 4; ++a) {
        CHECK_FALSE(h.net.linked(a, 4));
        CHECK_FALSE(h.net.linked(4, a));
    }
    for (node_id from = 0; from < 5; ++from)
        for (node_id to = 0; to < 5; ++to)
            if (from != to) h.net.send(from, to, std::to_string(from) + ">" + std::to_string(to));
    h.net.run();
    CHECK(messages(h.log) == std::vector<std::string>{"0>1", "1>0", "2>3", "3>2"});
    CHECK(h.net.dropped() == 20 - 4);

    h.net.heal();
    h.log.clear();
    h.net.send(0, 4, "back");
    h.net.send(3, 1, "across");
    h.net.run();
    CHECK(h.log == std::vector<delivery>{{0, 4, "back"}, {3, 1, "across"}});
}

TEST_CASE("in_memory's virtual time stands still, then jumps to the next wake-up",
          "[transport][in_memory]") {
    harness h(3);
    CHECK(h.net.now() == capkit::time_point{0});
    h.net.wake(0, 5s);
    h.net.wake(1, 2s);
    h.net.wake(2, 9s);
    h.net.wake(2, 7s);  // replaces node 2's earlier request
    h.net.send(0, 1, "first");

    // Messages flow first, and time does not move while they do.
    REQUIRE(h.net.step());
    CHECK(h.log.size() == 1);
    CHECK(h.woken.empty());
    CHECK(h.net.now() == capkit::time_point{0});

    REQUIRE(h.net.step());
    CHECK(h.woken == std::vector<std::pair<node_id, capkit::time_point>>{{1, 2s}});
    CHECK(h.net.now() == 2s);
    h.net.run();
    CHECK(h.woken ==
          std::vector<std::pair<node_id, capkit::time_point>>{{1, 2s}, {0, 5s}, {2, 7s}});
    CHECK(h.net.now() == 7s);
    CHECK_FALSE(h.net.step());  // every wake-up fires once

    SECTION("a wake-up in the past fires without moving time back") {
        h.net.wake(0, 1s);
        REQUIRE(h.net.step());
        CHECK(h.woken.back() == std::pair<node_id, capkit::time_point>{0, 7s});
        CHECK(h.net.now() == 7s);
    }
    SECTION("advance moves virtual time") {
        h.net.advance(3s);
        CHECK(h.net.now() == 10s);
    }
}

TEST_CASE("in_memory run_until stops as soon as the predicate holds", "[transport][in_memory]") {
    harness h(2);
    for (int i = 0; i < 5; ++i) h.net.send(0, 1, std::to_string(i));
    CHECK(h.net.run_until([&] { return h.log.size() == 2; }));
    CHECK(h.net.in_flight() == 3);
    CHECK_FALSE(h.net.run_until([] { return false; }));  // runs out of work
    CHECK(h.log.size() == 5);
}

TEST_CASE("in_memory wakes a node from a waker that asks again", "[transport][in_memory]") {
    net_type net;
    std::vector<capkit::time_point> at;
    net.attach(
        0, [](node_id, std::string&&) {},
        [&] {
            at.push_back(net.now());
            if (at.size() < 3) net.wake(0, net.now() + 100ms);
        });
    net.wake(0, 100ms);
    net.run();
    CHECK(at == std::vector<capkit::time_point>{100ms, 200ms, 300ms});
}

TEST_CASE("in_memory reorder(seed) is deterministic per seed", "[transport][in_memory]") {
    auto a = order_of(42);
    CHECK(order_of(42) == a);
    auto fifo = order_of(std::nullopt);
    CHECK(a != fifo);
    // Every message is delivered exactly once, in some order.
    auto sorted = a;
    std::ranges::sort(sorted);
    auto fifo_sorted = fifo;
    std::ranges::sort(fifo_sorted);
    CHECK(sorted == fifo_sorted);
    // Different seeds give different orders (32! orders: a clash would be a broken generator).
    CHECK(order_of(1) != order_of(2));
    CHECK(order_of(1) != a);
    CHECK(order_of(1) == order_of(1));
}

TEST_CASE("in_memory reports a full queue instead of blocking", "[transport][in_memory]") {
    harness h(2, 2);
    CHECK(h.net.send(0, 1, "a") == send_status::sent);
    CHECK(h.net.send(0, 1, "b") == send_status::sent);
    CHECK(h.net.send(0, 1, "c") == send_status::queue_full);
    CHECK(h.net.in_flight() == 2);
    REQUIRE(h.net.step());
    CHECK(h.net.send(0, 1, "d") == send_status::sent);
    h.net.run();
    CHECK(messages(h.log) == std::vector<std::string>{"a", "b", "d"});
}

TEST_CASE("in_memory refuses a message for a node never attached", "[transport][in_memory]") {
    harness h(2);
    CHECK(h.net.send(0, 7, "nobody") == send_status::unknown_node);
    CHECK(h.net.in_flight() == 0);
    h.net.run();
    CHECK(h.log.empty());
    CHECK(h.net.dropped() == 0);
}

TEST_CASE("in_memory on the steady clock tells real time", "[transport][in_memory]") {
    net_type net(capkit::time_source::steady);
    bool woken = false;
    net.attach(
        0, [](node_id, std::string&&) {}, [&] { woken = true; });
    auto start = net.now();
    net.wake(0, start + 2ms);
    net.run();
    CHECK(woken);
    CHECK(net.now() >= start + 2ms);
    net.advance(1h);  // no-op on the steady clock
    CHECK(net.now() < start + 1h);
}

TEST_CASE("in_memory: a wake-up at time_point::max() cancels the earlier one", "[transport]") {
    capkit::in_memory<int> net;
    int woken = 0;
    net.attach(
        0, [](capkit::node_id, int&&) {}, [&] { ++woken; });
    net.wake(0, std::chrono::seconds(5));
    net.wake(0, capkit::time_point::max());
    CHECK_FALSE(net.step());  // nothing left to do
    CHECK(woken == 0);
    CHECK(net.now() == capkit::time_point::zero());  // and virtual time did not move
}

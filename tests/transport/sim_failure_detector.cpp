// SPDX-License-Identifier: MIT
// The failure detector the TCP transport uses, driven under the simulator: nodes send heartbeats
// every timeout / 4 over a seeded network with random delays and reordering, a partition cuts
// one node off, and a heal joins it again. Each side must see the other go down within the
// timeout (plus a heartbeat period and the longest delay) and come back within a heartbeat
// period and a delay, and no live link may be reported down. Reproducible from the seed printed.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include <capkit/protocol/failure_detector.hpp>
#include <capkit/transport/sim.hpp>

using namespace std::chrono_literals;
using capkit::node_id;
using capkit::time_point;

namespace {

struct heartbeat {};

constexpr auto timeout = 400ms;
constexpr auto period = timeout / 4;
constexpr auto max_delay = 20ms;
constexpr auto reorder_window = 10ms;  // a reordered message waits up to this much longer

struct member {
    capkit::failure_detector detector{timeout};
    time_point next_beat{0};
    // When each peer was last seen to change: (time, up).
    std::map<node_id, std::vector<std::pair<time_point, bool>>> changes;
};

// Runs 3 nodes for 6 s: node 2 is cut off over [2 s, 4 s).
std::vector<member> run(std::uint64_t seed) {
    capkit::sim<heartbeat> net(seed);
    net.set_latency(capkit::latency::uniform(1ms, max_delay));
    net.set_reorder(0.2, reorder_window);
    std::vector<member> nodes(3);
    auto beat = [&](node_id self) {
        auto& me = nodes[self];
        const auto now = net.now();
        if (now >= me.next_beat) {
            for (node_id peer = 0; peer < nodes.size(); ++peer)
                if (peer != self) net.send(self, peer, heartbeat{});
            me.next_beat = now + period;
        }
        for (const auto& c : me.detector.tick(now)) me.changes[c.peer].emplace_back(now, c.up);
        net.wake(self, std::min(me.next_beat, me.detector.next_deadline()));
    };
    for (node_id self = 0; self < nodes.size(); ++self) {
        for (node_id peer = 0; peer < nodes.size(); ++peer)
            if (peer != self) nodes[self].detector.watch(peer);
        net.attach(
            self,
            [&, self](node_id from, heartbeat&&) {
                if (nodes[self].detector.heard(from, net.now()))
                    nodes[self].changes[from].emplace_back(net.now(), true);
            },
            [&, self] { beat(self); });
        net.wake(self, time_point{0});
    }
    net.schedule(time_point{2s}, [&] { net.partition({{0, 1}, {2}}); });
    net.schedule(time_point{4s}, [&] { net.heal(); });
    net.run_until(time_point{6s});
    return nodes;
}

}  // namespace

TEST_CASE("under the simulator the failure detector sees a partition and its heal in bounded time",
          "[failure_detector][sim]") {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        INFO("seed " << seed << " (rerun this test case: every choice comes from the seed)");
        const auto nodes = run(seed);
        const auto down_by = time_point{2s} + timeout + period + max_delay + reorder_window;
        const auto up_by = time_point{4s} + period + max_delay + reorder_window;
        for (node_id self = 0; self < 3; ++self) {
            for (node_id peer = 0; peer < 3; ++peer) {
                if (peer == self) continue;
                INFO("node " << self << " watching node " << peer);
                const auto& seen = nodes[self].changes.at(peer);
                const bool across = (self == 2) != (peer == 2);
                if (!across) {  // a live link: up once, early, and never down
                    REQUIRE(seen.size() == 1);
                    CHECK(seen[0].second);
                    CHECK(seen[0].first <= time_point{period + max_delay + reorder_window});
                    continue;
                }
                // up at the start, down in the cut, up after the heal; nothing else
                REQUIRE(seen.size() == 3);
                CHECK(seen[0].second);
                CHECK_FALSE(seen[1].second);
                CHECK(seen[1].first > time_point{2s});
                CHECK(seen[1].first <= down_by);
                CHECK(seen[2].second);
                CHECK(seen[2].first >= time_point{4s});
                CHECK(seen[2].first <= up_by);
            }
        }
    }
}

TEST_CASE("under the simulator the same seed gives the same detections",
          "[failure_detector][sim]") {
    auto flatten = [](const std::vector<member>& nodes) {
        std::vector<std::int64_t> out;
        for (const auto& m : nodes)
            for (const auto& [peer, seen] : m.changes)
                for (const auto& [at, up] : seen) out.insert(out.end(), {peer, at.count(), up});
        return out;
    };
    CHECK(flatten(run(11)) == flatten(run(11)));
}

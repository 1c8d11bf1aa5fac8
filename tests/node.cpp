// SPDX-License-Identifier: MIT
// capkit::node and capkit::cluster: a node destroyed with requests in flight leaves its transport
// safe to run (run this under AddressSanitizer: the sanitize pass of scripts/test), and a
// cluster restarts one node on what it stored, as its next incarnation.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>
#include <capkit/node.hpp>
#include <capkit/transport/in_memory.hpp>
#include <capkit/transport/sim.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <support/protocol_helpers.hpp>

namespace {

using namespace capkit::test;
using capkit::node_id;
using capkit::replica;

using strong = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>;
using serial =
    replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>;
using configs = std::tuple<strong, serial>;

}  // namespace

TEMPLATE_LIST_TEST_CASE("a node destroyed with a request in flight leaves the network safe to run",
                        "[node][in_memory]", configs) {
    using net_type = capkit::in_memory<typename TestType::message>;
    using node_type = capkit::node<TestType, net_type>;
    net_type net;
    std::vector<std::unique_ptr<node_type>> nodes;
    for (node_id i = 0; i < 3; ++i) nodes.push_back(std::make_unique<node_type>(i, net));
    bool answered = false;
    nodes[0]->async_put("k", "v", {}, [&](const auto&) { answered = true; });
    std::optional<bool> node_1_served;
    nodes[1]->async_get("k", [&](const auto& r) { node_1_served = r.has_value(); });
    REQUIRE(net.in_flight() == 4);  // node 0 to 1 and 2; node 1 to 0 and 2
    nodes[0].reset();
    // Before in_memory had detach, what follows was a heap-use-after-free: node 1's request to
    // node 0 is dropped when its turn comes, and the replies to node 0 are refused
    // (unknown_node) instead of reaching the freed node.
    net.run();
    CHECK_FALSE(answered);
    CHECK(net.dropped() == 1);
    CHECK(nodes[1]->send_failures() + nodes[2]->send_failures() >= 2);
    CHECK(node_1_served == true);  // R = 2: node 1 and node 2
    CHECK(net.send(1, 0, typename TestType::message{}) == capkit::send_status::unknown_node);
    // Node 0 can come back under its id, and serves again.
    nodes[0] = std::make_unique<node_type>(0, net);
    bool served = false;
    nodes[0]->async_get("k", [&](const auto& r) { served = r.has_value(); });
    net.run();
    CHECK(served);
}

TEST_CASE("cluster::restart brings a node back on what it stored, as its next incarnation",
          "[node][cluster]") {
    capkit::cluster<strong> c;
    REQUIRE(c.at(0).put("k", "v1").has_value());
    c.settle();
    auto through_1 = c.at(1);  // made before the restart, used after it
    CHECK(c.incarnation(1) == 0);
    c.restart(1);
    CHECK(c.incarnation(1) == 1);
    CHECK(stored(c.replica(1)) == strings{"v1"});
    REQUIRE(through_1.put("k", "v2").has_value());
    c.settle();
    for (node_id i = 0; i < 3; ++i) CHECK(stored(c.replica(i)) == strings{"v2"});
    CHECK(read(c, 1) == strings{"v2"});
}

TEST_CASE("cluster::restart of a coordinator: its request ends unanswered, the write it sent lands",
          "[node][cluster]") {
    capkit::cluster<strong> c;
    bool answered = false;
    c.node_at(0).async_put("k", "v", {}, [&](const auto&) { answered = true; });
    c.restart(0);
    c.settle();
    CHECK_FALSE(answered);
    CHECK(stored(c.replica(1)) == strings{"v"});
    CHECK(stored(c.replica(2)) == strings{"v"});
    // The acknowledgements addressed to the old process reached the new one, whose request ids
    // start above every id of the old (replica_options::incarnation): they completed nothing.
    CHECK(c.network().delivered() == 4);
    CHECK(read(c, 0) == strings{"v"});
}

TEST_CASE("cluster over the simulator: the same synchronous API on a seeded network",
          "[node][cluster][sim]") {
    using sim_net = capkit::sim<strong::message>;
    STATIC_REQUIRE(capkit::partitionable_transport<sim_net>);
    capkit::cluster<strong, sim_net> c({}, std::uint64_t{42});
    REQUIRE(c.at(0).put("k", "v").has_value());
    c.settle();
    c.partition({{0}, {1, 2}});
    CHECK(failed_with(c.at(0).get("k"), capkit::errc::unavailable));
    auto got = c.at(1).get("k");
    REQUIRE(got.has_value());
    CHECK(got->values == strings{"v"});
    c.heal();
    c.restart(2);
    CHECK(c.incarnation(2) == 1);
    CHECK(stored(c.replica(2)) == strings{"v"});
    CHECK(c.at(2).put("k", "w").has_value());
}

TEST_CASE("cluster with an opener: each node starts and restarts on the storage it opens",
          "[node][cluster]") {
    // The opener stands for a directory per node: what it returns is what the node starts on.
    std::vector<int> opened(3, 0);
    auto open = [&](node_id i) {
        ++opened.at(i);
        return strong::durable_state{};
    };
    capkit::cluster<strong> c(open, {});
    CHECK(opened == std::vector<int>{1, 1, 1});
    REQUIRE(c.at(0).put("k", "v").has_value());
    c.settle();
    c.restart(1);
    CHECK(opened == std::vector<int>{1, 2, 1});
    CHECK(stored(c.replica(1)).empty());  // it reopened an empty store: amnesia
    CHECK(c.incarnation(1) == 1);
}

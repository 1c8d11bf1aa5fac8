// SPDX-License-Identifier: MIT
// Deliveries per second of the simulated network (capkit::sim), against the in-memory transport
// on the same workload. echo/*: 64 protocol messages (a replica's write requests) bounce between
// two nodes, each receiver sending what it gets straight back; one iteration is one step, which
// is one delivery. cluster/*: three capkit::node replicas (N=3 R=2 W=2, eventual, lww) over sim
// with uniform latency and 1% drop, 8 clients per node each issuing a put or a get (50/50,
// uniform over 1000 keys) as soon as its last one ends; one iteration is one event (a delivery,
// or a request timing out). items_per_second counts deliveries in both.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include <capkit/detail/random.hpp>
#include <capkit/node.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/level.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/transport/in_memory.hpp>
#include <capkit/transport/sim.hpp>

namespace {

using namespace std::chrono_literals;

using echo_replica = capkit::replica<int, std::int64_t, capkit::quorum<3, capkit::one, capkit::one>,
                                     capkit::eventual, capkit::lww<>>;
using echo_message = typename echo_replica::message;

constexpr int messages_in_flight = 64;

// A write request as a replica sends it: request id, key and a stamped value.
echo_message sample_message(int i) {
    std::variant_alternative_t<2, echo_message> w{};
    w.id = {0, static_cast<std::uint64_t>(i), 1};
    w.key = i;
    w.state.value = 42;
    w.state.origin = 1;
    return w;
}

template <class Net>
void echo(benchmark::State& st, Net& net) {
    for (capkit::node_id id : {0u, 1u})
        net.attach(
            id,
            [&net, id](capkit::node_id from, echo_message&& m) {
                net.send(id, from, std::move(m));
            },
            [] {});
    for (int i = 0; i < messages_in_flight; ++i) net.send(0, 1, sample_message(i));
    auto before = net.delivered();
    for (auto _ : st) net.step();
    st.SetItemsProcessed(static_cast<std::int64_t>(net.delivered() - before));
}

void bm_echo_in_memory(benchmark::State& st) {
    capkit::in_memory<echo_message> net;
    echo(st, net);
}

void bm_echo_sim_fixed(benchmark::State& st) {
    capkit::sim<echo_message> net(1);
    net.set_latency(capkit::latency::fixed(1ms));
    echo(st, net);
}

void bm_echo_sim_uniform(benchmark::State& st) {
    capkit::sim<echo_message> net(1);
    net.set_latency(capkit::latency::uniform(100us, 2ms));
    echo(st, net);
}

// Delays and reordering together; drops and duplicates would change the number in flight.
void bm_echo_sim_long_tailed(benchmark::State& st) {
    capkit::sim<echo_message> net(1);
    net.set_latency(capkit::latency::long_tailed(1ms, 0.3, 100ms));
    net.set_reorder(0.1, 1ms);
    echo(st, net);
}

BENCHMARK(bm_echo_in_memory)->Name("sim/echo/in_memory_baseline");
BENCHMARK(bm_echo_sim_fixed)->Name("sim/echo/fixed");
BENCHMARK(bm_echo_sim_uniform)->Name("sim/echo/uniform");
BENCHMARK(bm_echo_sim_long_tailed)->Name("sim/echo/long_tailed_reordered");

// --- A cluster of real replicas -------------------------------------------------------------

using cluster_replica =
    capkit::replica<int, std::int64_t, capkit::quorum<3>, capkit::eventual, capkit::lww<>>;
using cluster_net = capkit::sim<typename cluster_replica::message>;
using cluster_node = capkit::node<cluster_replica, cluster_net>;

constexpr int clients_per_node = 8;
constexpr int key_count = 1000;

// One client: starts its next request as soon as the last one ends, success or not.
struct client {
    cluster_node* via;
    capkit::detail::rng* g;
    std::size_t* completed;
    void next() {
        int key = static_cast<int>(g->below(key_count));
        if (g->next() & 1) {
            via->async_put(key, std::int64_t{key}, {}, [this](const auto&) { done(); });
        } else {
            via->async_get(key, [this](const auto&) { done(); });
        }
    }
    void done() {
        ++*completed;
        next();
    }
};

void bm_cluster(benchmark::State& st) {
    cluster_net net(7);
    net.set_latency(capkit::latency::uniform(500us, 2ms));
    net.set_drop(0.01);
    capkit::detail::rng g(8);
    std::size_t completed = 0;
    std::vector<std::unique_ptr<cluster_node>> nodes;
    for (capkit::node_id i = 0; i < 3; ++i) nodes.push_back(std::make_unique<cluster_node>(i, net));
    std::vector<client> clients;
    for (int c = 0; c < 3 * clients_per_node; ++c)
        clients.push_back({nodes[static_cast<std::size_t>(c % 3)].get(), &g, &completed});
    for (auto& c : clients) c.next();

    auto before = net.delivered();
    for (auto _ : st) net.step();
    st.SetItemsProcessed(static_cast<std::int64_t>(net.delivered() - before));
    st.counters["requests_per_second"] =
        benchmark::Counter(static_cast<double>(completed), benchmark::Counter::kIsRate);
}

BENCHMARK(bm_cluster)->Name("sim/cluster/3_nodes_put_get_uniform_latency_1pct_drop");

}  // namespace

// SPDX-License-Identifier: MIT
// A recipe to copy (docs/performance.md, "Benchmarking your own configuration"): two
// configurations of your own against each other and against the raw floor, in one binary and one
// run. What makes the figures mean something:
//   - the keys are populated before timing, so a put measures an update, not an insert;
//   - the cluster is settled (cluster::settle) after populating, so no read repair or last
//     acknowledgement from the setup lands inside the timed loop;
//   - the baseline (the same number of raw hash-map updates, one per replica) runs in the same
//     binary and run, so the ratio to it survives a noisy machine better than either figure.
// In-process timings show the CPU a request costs (the coordinator's round and every message,
// on virtual time); they cannot show network latency or what R and W cost in waiting: a quorum
// of 3 answers as fast as a quorum of 1 here. For that run capkit-kv (bench/kv_compare.sh) or the
// lab's latencies on the simulator.
#include <benchmark/benchmark.h>

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

namespace {

// Your configurations.
using mine_strong =
    capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::strong>;
using mine_fast =
    capkit::replica<std::string, std::string, capkit::quorum<3, capkit::one, capkit::one>>;

constexpr std::size_t keys = 10'000;

std::vector<std::string> make_keys() {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < keys; ++i) {
        std::string k =
            "key-";  // appended: g++ 12 -O3 warns on "literal" + std::string (-Wrestrict)
        k += std::to_string(100000 + i);
        out.push_back(std::move(k));
    }
    return out;
}

template <class Replica>
void bm_put(benchmark::State& state) {
    const auto names = make_keys();
    const std::string value(100, 'v');
    capkit::cluster<Replica> c;
    for (const auto& k : names) c.at(0).put(k, value);  // populate: updates, not inserts
    c.settle();                                         // nothing of the setup left in flight
    std::size_t i = 0;
    for (auto _ : state) {
        auto r = c.at(0).put(names[i++ % keys], value);
        benchmark::DoNotOptimize(r);
    }
    state.SetItemsProcessed(state.iterations());
}

// The floor: one raw hash-map update per replica, as a put of N = 3 makes.
void bm_raw_updates(benchmark::State& state) {
    const auto names = make_keys();
    const std::string value(100, 'v');
    std::vector<boost::unordered_flat_map<std::string, std::string>> replicas(3);
    for (auto& m : replicas)
        for (const auto& k : names) m[k] = value;
    std::size_t i = 0;
    for (auto _ : state) {
        const auto& k = names[i++ % keys];
        for (auto& m : replicas) benchmark::DoNotOptimize(m[k] = value);
    }
    state.SetItemsProcessed(state.iterations());
}

BENCHMARK(bm_raw_updates)->Name("own/put/raw_3_updates");
BENCHMARK(bm_put<mine_strong>)->Name("own/put/strong_3_2_2");
BENCHMARK(bm_put<mine_fast>)->Name("own/put/eventual_3_1_1");

}  // namespace

// SPDX-License-Identifier: MIT
// What a hinted write costs: N=3 W=1 eventual lww puts through node 0 over the in-memory
// transport, with every replica reachable (the baseline), with node 2 partitioned away and no
// handoff (the write reaches two replicas), and the same with capkit::sloppy, where each put also
// joins the write into node 0's hint for node 2 (10k keys, so the hints stay bounded by key).
// One iteration is one put and every message it causes.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <capkit/cluster.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/handoff.hpp>
#include <capkit/policy/level.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/replica.hpp>

namespace {

using strict = capkit::replica<std::string, std::int64_t,
                               capkit::quorum<3, capkit::one, capkit::one>, capkit::eventual>;
using hinted =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, capkit::one, capkit::one>,
                    capkit::eventual, capkit::sloppy>;

constexpr std::size_t key_count = 10'000;

const std::vector<std::string>& keys() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < key_count; ++i) {
            std::string k = "key-000000000000";
            for (std::size_t pos = k.size(), v = i; v != 0; v /= 10)
                k[--pos] = static_cast<char>('0' + v % 10);
            out.push_back(k);
        }
        return out;
    }();
    return all;
}

template <class Replica>
void puts(benchmark::State& st, bool node_2_away) {
    capkit::cluster<Replica> c;
    if (node_2_away) c.partition({{0, 1}, {2}});
    auto& net = c.network();
    std::size_t i = 0;
    std::int64_t v = 0;
    for (auto _ : st) {
        c.node_at(0).async_put(keys()[i], ++v, {}, [](auto) {});
        net.run_until([&net] { return net.in_flight() == 0; });
        if (++i == key_count) i = 0;
    }
    st.counters["hints_kept"] = static_cast<double>(c.replica(0).stats().hints_stored);
    st.counters["hints_dropped"] = static_cast<double>(c.replica(0).stats().hints_dropped);
}

void BM_put_all_reachable(benchmark::State& st) {
    puts<strict>(st, false);
}
void BM_put_node_2_away_strict(benchmark::State& st) {
    puts<strict>(st, true);
}
void BM_put_node_2_away_hinted(benchmark::State& st) {
    puts<hinted>(st, true);
}
BENCHMARK(BM_put_all_reachable);
BENCHMARK(BM_put_node_2_away_strict);
BENCHMARK(BM_put_node_2_away_hinted);

}  // namespace

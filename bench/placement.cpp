// SPDX-License-Identifier: MIT
// Placement: the cost of finding a key's N = 3 replicas on a hash_ring of M nodes, cycling over
// 1M distinct string keys, against two baselines in the same run: modulo placement (the same
// key_hash, then nodes hash % M, +1, +2: what the ring adds is its binary search and walk) and
// all_nodes (nodes 0 .. N-1, no hash at all: what the replicas do today).
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <capkit/node_id.hpp>
#include <capkit/policy/hash_ring.hpp>
#include <capkit/policy/key_bytes.hpp>

namespace {

using capkit::node_id;

constexpr std::size_t n = 3;
constexpr std::size_t key_count = 1'000'000;

// user:00000000 .. user:00999999, 13 bytes each.
const std::vector<std::string>& keys() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> out;
        out.reserve(key_count);
        for (std::size_t i = 0; i < key_count; ++i) {
            std::string digits = std::to_string(i);
            out.push_back("user:" + std::string(8 - digits.size(), '0') + digits);
        }
        return out;
    }();
    return all;
}

std::vector<node_id> node_ids(std::size_t m) {
    std::vector<node_id> ids(m);
    for (std::size_t i = 0; i < m; ++i) ids[i] = static_cast<node_id>(i + 1);
    return ids;
}

template <unsigned V>
void bm_hash_ring(benchmark::State& st) {
    const auto& ks = keys();
    const capkit::hash_ring<V> ring(node_ids(static_cast<std::size_t>(st.range(0))), n);
    std::array<node_id, n> out{};
    std::size_t k = 0;
    for (auto _ : st) {
        benchmark::DoNotOptimize(ring.preference_list(ks[k], std::span<node_id>(out)));
        benchmark::DoNotOptimize(out);
        if (++k == ks.size()) k = 0;
    }
    st.SetItemsProcessed(st.iterations());
}

// The vector-returning form, as a caller that keeps the list would use it: one allocation more.
void bm_hash_ring_vector(benchmark::State& st) {
    const auto& ks = keys();
    const capkit::hash_ring<128> ring(node_ids(static_cast<std::size_t>(st.range(0))), n);
    std::size_t k = 0;
    for (auto _ : st) {
        benchmark::DoNotOptimize(ring.preference_list(ks[k], n));
        if (++k == ks.size()) k = 0;
    }
    st.SetItemsProcessed(st.iterations());
}

void bm_modulo(benchmark::State& st) {
    const auto& ks = keys();
    const auto ids = node_ids(static_cast<std::size_t>(st.range(0)));
    std::array<node_id, n> out{};
    std::size_t k = 0;
    for (auto _ : st) {
        const auto first = static_cast<std::size_t>(capkit::key_hash(ks[k]) % ids.size());
        for (std::size_t i = 0; i < n; ++i) out[i] = ids[(first + i) % ids.size()];
        benchmark::DoNotOptimize(out);
        if (++k == ks.size()) k = 0;
    }
    st.SetItemsProcessed(st.iterations());
}

void bm_all_nodes(benchmark::State& st) {
    const auto& ks = keys();
    std::array<node_id, n> out{};
    std::size_t k = 0;
    for (auto _ : st) {
        benchmark::DoNotOptimize(ks[k]);
        for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<node_id>(i);
        benchmark::DoNotOptimize(out);
        if (++k == ks.size()) k = 0;
    }
    st.SetItemsProcessed(st.iterations());
}

BENCHMARK(bm_all_nodes)->Name("placement/all_nodes");
BENCHMARK(bm_modulo)->Name("placement/modulo")->Arg(5)->Arg(20)->Arg(100);
BENCHMARK(bm_hash_ring<16>)->Name("placement/hash_ring<16>")->Arg(5)->Arg(20)->Arg(100);
BENCHMARK(bm_hash_ring<128>)->Name("placement/hash_ring<128>")->Arg(5)->Arg(20)->Arg(100);
BENCHMARK(bm_hash_ring<1024>)->Name("placement/hash_ring<1024>")->Arg(5)->Arg(20)->Arg(100);
BENCHMARK(bm_hash_ring_vector)->Name("placement/hash_ring<128>/vector")->Arg(20);

}  // namespace

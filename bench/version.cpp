// SPDX-License-Identifier: MIT
// Costs of the version metadata: an HLC tick, vector clock compare and merge by number of
// entries, and dvvset sync by number of siblings.
#include <capkit/node_id.hpp>
#include <capkit/version/dvvset.hpp>
#include <capkit/version/hlc.hpp>
#include <capkit/version/vector_clock.hpp>

#include <chrono>
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

namespace {

using namespace std::chrono_literals;

void bm_hlc_now(benchmark::State& st) {
    capkit::hlc clock;
    std::chrono::nanoseconds pt = 1s;
    std::int64_t tick = 0;
    for (auto _ : st) {
        // Physical time moves on every other tick, so both branches of now() are taken.
        pt += std::chrono::nanoseconds(tick++ & 1);
        benchmark::DoNotOptimize(clock.now(pt));
    }
}

void bm_hlc_update(benchmark::State& st) {
    capkit::hlc clock;
    std::chrono::nanoseconds pt = 1s;
    capkit::hlc::timestamp remote{static_cast<std::uint64_t>(pt.count()), 0};
    for (auto _ : st) {
        pt += 1ns;
        // A remote clock that keeps just ahead of ours, as between busy nodes: its wall time
        // moves with ours and it is never behind, so update() takes the remote branch.
        remote.wall = static_cast<std::uint64_t>(pt.count()) + 1;
        remote.logical += 1;
        benchmark::DoNotOptimize(clock.update(remote, pt));
    }
}

// A clock with one entry per node 0..n-1; `bump` (0 or 1) raises the entries of that parity.
capkit::vector_clock clock_of(std::int64_t n, std::int64_t bump) {
    capkit::vector_clock c;
    for (std::int64_t i = 0; i < n; ++i) {
        auto node = static_cast<capkit::node_id>(i);
        for (int k = 0; k < 3 + (i % 2 == bump ? 1 : 0); ++k) c.increment(node);
    }
    return c;
}

// b is a with its last entry raised: compare must walk the whole clock to find b after a.
void bm_vector_clock_compare(benchmark::State& st) {
    auto a = clock_of(st.range(0), 2);
    auto b = a;
    b.increment(static_cast<capkit::node_id>(st.range(0) - 1));
    for (auto _ : st) benchmark::DoNotOptimize(compare(a, b));
}

// Concurrent clocks that differ in every entry.
void bm_vector_clock_merge(benchmark::State& st) {
    auto a = clock_of(st.range(0), 0);
    auto b = clock_of(st.range(0), 1);
    for (auto _ : st) {
        auto merged = a;  // merge into a copy, or from the second round on a would dominate b
        merged.merge(b);
        benchmark::DoNotOptimize(merged);
    }
}

// A replica with `n` siblings from blind writes through 4 coordinators meets one that also has a
// newer concurrent write: the usual anti-entropy exchange.
void bm_dvvset_sync(benchmark::State& st) {
    capkit::dvvset<std::string> a;
    for (std::int64_t i = 0; i < st.range(0); ++i) {
        a = update("value " + std::to_string(i), {}, a, static_cast<capkit::node_id>(i % 4));
    }
    auto b = update(std::string("newer"), {}, a, 4);
    for (auto _ : st) benchmark::DoNotOptimize(sync(a, b));
}

[[maybe_unused]] const bool registered = [] {
    benchmark::RegisterBenchmark("version/hlc/now", bm_hlc_now);
    benchmark::RegisterBenchmark("version/hlc/update", bm_hlc_update);
    benchmark::RegisterBenchmark("version/vector_clock/compare", bm_vector_clock_compare)
        ->Arg(3)
        ->Arg(16)
        ->Arg(64);
    benchmark::RegisterBenchmark("version/vector_clock/merge", bm_vector_clock_merge)
        ->Arg(3)
        ->Arg(16)
        ->Arg(64);
    benchmark::RegisterBenchmark("version/dvvset/sync", bm_dvvset_sync)->Arg(1)->Arg(8)->Arg(64);
    return true;
}();

}  // namespace

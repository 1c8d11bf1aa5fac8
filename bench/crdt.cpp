// SPDX-License-Identifier: MIT
// Merging CRDT states as a replica does (capkit::crdt_merge::merge): copy the stored state and
// merge the incoming one into it, at sizes that occur in practice. The copy is part of the cost.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include <capkit/crdt/g_counter.hpp>
#include <capkit/crdt/lww_register.hpp>
#include <capkit/crdt/mv_register.hpp>
#include <capkit/crdt/or_set.hpp>
#include <capkit/crdt/pn_counter.hpp>
#include <capkit/node_id.hpp>

namespace {

using capkit::node_id;

template <class C>
void merge_into_copy(benchmark::State& st, const C& stored, const C& incoming) {
    for (auto _ : st) {
        C out = stored;
        out.merge(incoming);
        benchmark::DoNotOptimize(out);
    }
}

// Two replicas of a counter every node has updated, each ahead on half of the nodes.
void bm_g_counter_merge(benchmark::State& st) {
    auto nodes = static_cast<node_id>(st.range(0));
    capkit::g_counter a, b;
    for (node_id n = 0; n < nodes; ++n) {
        a.increment(n, 10 + n % 2);
        b.increment(n, 11 - n % 2);
    }
    merge_into_copy(st, a, b);
}
BENCHMARK(bm_g_counter_merge)
    ->Name("crdt/g_counter/merge")
    ->ArgName("nodes")
    ->Arg(3)
    ->Arg(16)
    ->Arg(64);

void bm_pn_counter_merge(benchmark::State& st) {
    auto nodes = static_cast<node_id>(st.range(0));
    capkit::pn_counter a, b;
    for (node_id n = 0; n < nodes; ++n) {
        a.increment(n, 10 + n % 2);
        a.decrement(n, 3);
        b.increment(n, 11 - n % 2);
        b.decrement(n, 3 + n % 2);
    }
    merge_into_copy(st, a, b);
}
BENCHMARK(bm_pn_counter_merge)
    ->Name("crdt/pn_counter/merge")
    ->ArgName("nodes")
    ->Arg(3)
    ->Arg(16)
    ->Arg(64);

// Two replicas of a set of n elements that a partition split: each side then added and removed
// a tenth of the elements on its own.
void bm_or_set_merge(benchmark::State& st) {
    auto n = static_cast<int>(st.range(0));
    auto item = [](int i) { return "item-" + std::to_string(i); };
    capkit::or_set<std::string> a;
    for (int i = 0; i < n; ++i) a.add(1, item(i));
    auto b = a;
    for (int i = 0; i < n / 10 + 1; ++i) {
        a.add(1, item(n + i));
        a.remove(item(i));
        b.add(2, item(2 * n + i));
        b.remove(item(n - 1 - i));
    }
    merge_into_copy(st, a, b);
}
BENCHMARK(bm_or_set_merge)
    ->Name("crdt/or_set/merge")
    ->ArgName("elements")
    ->RangeMultiplier(10)
    ->Range(10, 1000);

// A register holding k siblings from k nodes meets a state in which one of those nodes assigned
// again having seen only its own value: k siblings remain.
void bm_mv_register_merge(benchmark::State& st) {
    auto siblings = static_cast<node_id>(st.range(0));
    capkit::mv_register<std::string> stored;
    capkit::mv_register<std::string> first;
    for (node_id n = 0; n < siblings; ++n) {
        capkit::mv_register<std::string> r;
        r.assign(n, "value written by node " + std::to_string(n));
        if (n == 0) first = r;
        stored.merge(r);
    }
    first.assign(0, "node 0 again");
    merge_into_copy(st, stored, first);
}
BENCHMARK(bm_mv_register_merge)
    ->Name("crdt/mv_register/merge")
    ->ArgName("siblings")
    ->Arg(1)
    ->Arg(8);

// A later write replaces the stored one.
void bm_lww_register_merge(benchmark::State& st) {
    capkit::lww_register<std::string> stored, incoming;
    stored.assign("the value written first, long enough to allocate", {1000, 0}, 1);
    incoming.assign("the value written later, long enough to allocate", {1000, 1}, 2);
    merge_into_copy(st, stored, incoming);
}
BENCHMARK(bm_lww_register_merge)->Name("crdt/lww_register/merge");

}  // namespace

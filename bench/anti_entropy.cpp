// SPDX-License-Identifier: MIT
// Anti-entropy between two replicas of 1M keys that differ in 100: the Merkle exchange (probes
// down the tree, then the differing buckets both ways) against a tree-less comparison that looks
// at every key, the floor of any scheme without one. Messages are handed over in memory, so the
// figures are CPU only; the counters give messages and wire bytes per repair. A second pair
// measures what keeping the tree costs a write: a store with anti-entropy on against off.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/detail/random.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/level.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/anti_entropy.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/storage/memory.hpp>
#include <capkit/wire/encoding.hpp>

namespace {

using replica = capkit::replica<std::string, std::int64_t,
                                capkit::quorum<3, capkit::one, capkit::one>, capkit::eventual>;
using state = replica::state;
using resolver = replica::resolver;
using table = capkit::memory::table<std::string, state>;
using exchange = capkit::detail::anti_entropy<std::string, state>;
using message = replica::message;

constexpr std::size_t key_count = 1'000'000;
constexpr std::size_t differing = 100;

std::string key_of(std::size_t i) {
    std::string k = "key-000000000000";
    for (std::size_t pos = k.size(); i != 0; i /= 10) k[--pos] = static_cast<char>('0' + i % 10);
    return k;
}

state state_of(std::int64_t v, std::int64_t stamp) {
    state s;
    s.value = std::optional<std::int64_t>(v);
    s.stamp.wall = static_cast<std::uint64_t>(stamp);
    return s;
}

// One replica: its table and its side of the exchange.
struct side {
    table data;
    exchange ae;
    explicit side(capkit::node_id self, const capkit::anti_entropy_options& o) : ae(self, 2, o) {}
    bool store(const std::string& k, state s) {
        bool changed = true;
        data.update(k, [&](state& stored, bool fresh) {
            if (fresh) {
                stored = std::move(s);
            } else {
                changed = capkit::join_into<resolver>(stored, std::move(s));
            }
            if (changed) ae.stored(k, stored);
        });
        return changed;
    }
};

// Bounds wide enough for the 100 differing keys to be repaired in one round (the defaults, 64
// subtrees and 1024 states per message, would take two: 100 buckets of ~15 keys each).
capkit::anti_entropy_options options(unsigned depth) {
    capkit::anti_entropy_options o;
    o.interval = std::chrono::seconds(1);
    o.tree_depth = depth;
    o.max_ranges = 256;
    o.max_entries = 4096;
    return o;
}

// Two replicas holding the same 1M keys (built once: it takes seconds).
struct pair_of_replicas {
    side a{0, options(16)}, b{1, options(16)};
    pair_of_replicas() {
        for (std::size_t i = 0; i < key_count; ++i) {
            a.store(key_of(i), state_of(std::int64_t(i), 1));
            b.store(key_of(i), state_of(std::int64_t(i), 1));
        }
    }
};

pair_of_replicas& replicas() {
    static pair_of_replicas p;
    return p;
}

struct traffic {
    std::size_t messages = 0, bytes = 0, repaired = 0;
};

// Runs the round `from` starts at `now` against `to` until no message is left; returns what it
// cost.
traffic round(side& from, side& to, capkit::time_point now) {
    side* sides[2] = {&from, &to};
    std::deque<std::pair<capkit::node_id, message>> queue;  // (destination, message)
    traffic t;
    std::vector<std::byte> bytes;
    auto send_from = [&](capkit::node_id) {
        return [&](capkit::node_id dest, auto&& m) {
            message msg(std::forward<decltype(m)>(m));
            bytes.clear();
            capkit::wire::encode(msg, bytes);
            t.bytes += bytes.size();
            ++t.messages;
            queue.emplace_back(dest, std::move(msg));
        };
    };
    from.ae.tick(
        now, [](capkit::node_id) { return true; }, send_from(0));
    while (!queue.empty()) {
        auto [dest, m] = std::move(queue.front());
        queue.pop_front();
        side& s = *sides[dest];
        capkit::node_id other = dest == 0 ? 1 : 0;
        if (auto* p = std::get_if<capkit::protocol::tree_probe>(&m)) {
            s.ae.on_probe(other, *p, s.data, send_from(dest));
        } else if (auto* e = std::get_if<capkit::protocol::tree_entries<std::string, state>>(&m)) {
            for (auto& [k, st] : e->entries) t.repaired += s.store(k, std::move(st));
            if (e->reply_wanted)
                send_from(dest)(other, s.ae.entries_of(other, e->buckets, s.data, false));
        }
    }
    return t;
}

// Each iteration makes 100 random keys newer on one replica, then repairs them by one round.
void BM_merkle_repair_1M_keys_100_differ(benchmark::State& st) {
    auto& r = replicas();
    // Static: a repetition must make newer states than the one before, or nothing differs.
    static capkit::detail::rng g(1);
    static std::int64_t stamp = 2;
    static capkit::time_point now{0};
    traffic total;
    if (now.count() == 0) round(r.a, r.b, now);  // the first tick plans the first round
    for (auto _ : st) {
        st.PauseTiming();
        ++stamp;
        for (std::size_t i = 0; i < differing; ++i)
            r.a.store(key_of(g.next() % key_count), state_of(-stamp, stamp));
        now += std::chrono::seconds(10);  // a round is due
        st.ResumeTiming();
        auto t = round(r.a, r.b, now);
        total.messages += t.messages;
        total.bytes += t.bytes;
        total.repaired += t.repaired;
        if (t.repaired == 0) st.SkipWithError("the round repaired nothing");
    }
    auto n = static_cast<double>(st.iterations());
    st.counters["messages"] = static_cast<double>(total.messages) / n;
    st.counters["wire_bytes"] = static_cast<double>(total.bytes) / n;
    st.counters["keys_repaired"] = static_cast<double>(total.repaired) / n;
}

// The baseline: with no tree, finding the 100 differing keys means looking at every key of one
// replica in the other (and, across a network, shipping a hash of every key: 8 MB here).
void BM_full_scan_1M_keys_100_differ(benchmark::State& st) {
    auto& r = replicas();
    std::size_t found = 0;
    for (auto _ : st) {
        found = 0;
        r.a.data.for_each([&](const std::string& k, const state& s) {
            const state* other = r.b.data.find(k);
            if (!other || !(*other == s)) ++found;
        });
        benchmark::DoNotOptimize(found);
    }
    st.counters["keys_compared"] = static_cast<double>(key_count);
}

BENCHMARK(BM_merkle_repair_1M_keys_100_differ)->Unit(benchmark::kMillisecond)->Iterations(20);
BENCHMARK(BM_full_scan_1M_keys_100_differ)->Unit(benchmark::kMillisecond);

// What the tree costs a write: a replica's store of a changed state with anti-entropy on
// (encode the state, hash it, update the bucket) and off.
void store_cost(benchmark::State& st, bool on) {
    capkit::anti_entropy_options o = options(12);
    if (!on) o.interval = {};
    side s(0, o);
    constexpr std::size_t keys = 100'000;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < keys; ++i) names.push_back(key_of(i));
    std::int64_t stamp = 1;
    std::size_t i = 0;
    for (auto _ : st) {
        s.store(names[i], state_of(stamp, stamp));
        ++stamp;
        if (++i == keys) i = 0;
    }
}
void BM_store_anti_entropy_off(benchmark::State& st) {
    store_cost(st, false);
}
void BM_store_anti_entropy_on(benchmark::State& st) {
    store_cost(st, true);
}
BENCHMARK(BM_store_anti_entropy_off);
BENCHMARK(BM_store_anti_entropy_on);

}  // namespace

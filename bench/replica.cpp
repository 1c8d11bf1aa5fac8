// SPDX-License-Identifier: MIT
// Client operations through a whole in-process cluster on virtual time, single-threaded: put,
// get and a 50/50 mix, for every quorum and consistency the compile-time rules accept, with
// uniform and zipfian (theta 0.99) keys over 100k keys of 16 bytes and values of 100 bytes. One
// iteration is one full request: the coordinator's round and every message it causes, so all N
// replicas have applied a write (or answered a read) when it ends. The baselines do the same
// number of raw hash map upserts or finds (one per replica), the floor a replica cannot beat.
#include <benchmark/benchmark.h>

#include <boost/hana/at.hpp>
#include <boost/hana/cartesian_product.hpp>
#include <boost/hana/filter.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <capkit/cluster.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/level.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/resolve/lww.hpp>

namespace {

namespace hana = boost::hana;

constexpr std::size_t key_count = 100'000;
constexpr std::size_t value_size = 100;
constexpr std::size_t sequence_length = std::size_t{1} << 20;  // a power of two, to wrap cheaply

// --- Workload -------------------------------------------------------------------------------

// "key-" and 12 digits: 16 bytes.
std::string key_of(std::size_t i) {
    std::string k = "key-000000000000";
    for (std::size_t pos = k.size(); i != 0; i /= 10) k[--pos] = static_cast<char>('0' + i % 10);
    return k;
}

const std::vector<std::string>& keys() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> out;
        out.reserve(key_count);
        for (std::size_t i = 0; i < key_count; ++i) out.push_back(key_of(i));
        return out;
    }();
    return all;
}

const std::string& value() {
    static const std::string v(value_size, 'v');
    return v;
}

double unit(capkit::detail::rng& g) {
    return static_cast<double>(g.next() >> 11) * 0x1.0p-53;
}

// Zipfian ranks in [0, n) as YCSB draws them (Gray et al., "Quickly generating billion-record
// synthetic databases"): rank 0 is the most frequent.
class zipfian_generator {
public:
    zipfian_generator(std::size_t n, double theta) : n_(n), theta_(theta) {
        double zeta2 = 1.0 + std::pow(0.5, theta);
        for (std::size_t i = 1; i <= n; ++i)
            zetan_ += 1.0 / std::pow(static_cast<double>(i), theta);
        alpha_ = 1.0 / (1.0 - theta);
        eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
    }
    std::size_t operator()(capkit::detail::rng& g) const {
        double u = unit(g);
        double uz = u * zetan_;
        if (uz < 1.0) return 0;
        if (uz < 1.0 + std::pow(0.5, theta_)) return 1;
        auto r = static_cast<std::size_t>(static_cast<double>(n_) *
                                          std::pow(eta_ * u - eta_ + 1.0, alpha_));
        return r < n_ ? r : n_ - 1;
    }

private:
    std::size_t n_;
    double theta_;
    double zetan_ = 0, alpha_ = 0, eta_ = 0;
};

// A precomputed sequence of key indices, and for the mix which operations are puts.
struct workload {
    std::vector<std::uint32_t> key;
    std::vector<bool> is_put;
};

struct uniform {
    static constexpr std::string_view name = "uniform";
    static workload make() {
        capkit::detail::rng g(0x5eed0001);
        workload w;
        for (std::size_t i = 0; i < sequence_length; ++i) {
            w.key.push_back(static_cast<std::uint32_t>(g.below(key_count)));
            w.is_put.push_back((g.next() & 1) != 0);
        }
        return w;
    }
};

struct zipfian {
    static constexpr std::string_view name = "zipfian";
    static workload make() {
        capkit::detail::rng g(0x5eed0002);
        zipfian_generator zipf(key_count, 0.99);
        workload w;
        for (std::size_t i = 0; i < sequence_length; ++i) {
            w.key.push_back(static_cast<std::uint32_t>(zipf(g)));
            w.is_put.push_back((g.next() & 1) != 0);
        }
        return w;
    }
};

template <class Distribution>
const workload& workload_of() {
    static const workload w = Distribution::make();
    return w;
}

struct put_op {
    static constexpr std::string_view name = "put";
};
struct get_op {
    static constexpr std::string_view name = "get";
};
struct mix_op {
    static constexpr std::string_view name = "mix";
};

// --- Clusters -------------------------------------------------------------------------------

// One loaded cluster at a time, reused by every benchmark of its configuration (they are
// registered next to each other): loading 100k keys into N replicas takes longer than measuring.
struct loaded_cluster {
    const void* tag = nullptr;
    std::shared_ptr<void> cluster;
};

loaded_cluster& current() {
    static loaded_cluster c;
    return c;
}

// Runs the transport until no message is left: every replica has handled the request. Pending
// wake-ups (request deadlines already met) are not fired; time stands still.
template <class Net>
void drain(Net& net) {
    net.run_until([&net] { return net.in_flight() == 0; });
}

template <class Replica>
capkit::cluster<Replica>& cluster_of() {
    static const char tag = 0;
    auto& cur = current();
    if (cur.tag != &tag) {
        cur.cluster.reset();
        auto c = std::make_shared<capkit::cluster<Replica>>();
        auto& coordinator = c->node_at(0);
        for (const auto& k : keys()) {
            coordinator.async_put(k, value(), {}, [](auto) {});
            drain(c->network());
        }
        cur.cluster = c;
        cur.tag = &tag;
    }
    return *static_cast<capkit::cluster<Replica>*>(cur.cluster.get());
}

template <class Op, class Quorum, class Consistency, class Distribution>
void bm_replica(benchmark::State& st) {
    using replica = capkit::replica<std::string, std::string, Quorum, Consistency>;
    auto& cluster = cluster_of<replica>();
    auto& net = cluster.network();
    auto& coordinator = cluster.node_at(0);
    const auto& all_keys = keys();
    const auto& w = workload_of<Distribution>();
    const typename replica::context no_context{};

    std::size_t i = 0;
    std::uint64_t failed = 0;
    for (auto _ : st) {
        const std::string& key = all_keys[w.key[i]];
        bool put = std::is_same_v<Op, put_op> || (std::is_same_v<Op, mix_op> && w.is_put[i]);
        if (put) {
            coordinator.async_put(key, value(), no_context, [&failed](const auto& r) {
                if (!r) ++failed;
            });
        } else {
            coordinator.async_get(key, [&failed](const auto& r) {
                if (!r || !r->found()) ++failed;
                benchmark::DoNotOptimize(r);
            });
        }
        drain(net);
        i = (i + 1) & (sequence_length - 1);
    }
    if (failed != 0) st.SkipWithError("a request failed or a read missed its key");
    st.SetItemsProcessed(st.iterations());
}

// --- Baselines ------------------------------------------------------------------------------

using raw_map = boost::unordered_flat_map<std::string, std::string>;

std::vector<raw_map> loaded_maps(std::size_t n) {
    std::vector<raw_map> maps(n);
    for (auto& m : maps)
        for (const auto& k : keys()) m.insert_or_assign(k, value());
    return maps;
}

template <class Distribution>
void bm_raw_upserts(benchmark::State& st, std::size_t n) {
    auto maps = loaded_maps(n);
    const auto& all_keys = keys();
    const auto& w = workload_of<Distribution>();
    std::size_t i = 0;
    for (auto _ : st) {
        const std::string& key = all_keys[w.key[i]];
        for (auto& m : maps) benchmark::DoNotOptimize(m.insert_or_assign(key, value()));
        i = (i + 1) & (sequence_length - 1);
    }
    st.SetItemsProcessed(st.iterations());
}

template <class Distribution>
void bm_raw_find(benchmark::State& st, std::size_t n) {
    auto maps = loaded_maps(n);
    const auto& all_keys = keys();
    const auto& w = workload_of<Distribution>();
    std::size_t i = 0;
    for (auto _ : st) {
        const std::string& key = all_keys[w.key[i]];
        for (auto& m : maps) benchmark::DoNotOptimize(m.find(key));
        i = (i + 1) & (sequence_length - 1);
    }
    st.SetItemsProcessed(st.iterations());
}

// --- Registration ---------------------------------------------------------------------------

// The combinations capkit::config accepts (its quorum_rules): strong and linearizable need
// R + W > N, so quorum_3_1_1 runs only under eventual; serial needs majorities.
template <class Q, class C>
constexpr bool accepted = (!C::needs_overlap || Q::overlapping) &&
                          (!C::needs_majorities ||
                           (Q::r >= Q::majority_size && Q::w >= Q::majority_size));

constexpr auto accepted_combo = [](auto combo) {
    using Q = typename decltype(+hana::at_c<0>(combo))::type;
    using C = typename decltype(+hana::at_c<1>(combo))::type;
    return hana::bool_c<accepted<Q, C>>;
};

// Quorum and consistency vary slowest, so the benchmarks of one loaded cluster run together.
constexpr auto grid = hana::filter(
    hana::cartesian_product(hana::make_tuple(
        hana::tuple_t<capkit::quorum<1>, capkit::quorum<3>, capkit::quorum<5>,
                      capkit::quorum<3, capkit::one, capkit::one>>,
        hana::tuple_t<capkit::eventual, capkit::strong, capkit::linearizable, capkit::serial>,
        hana::tuple_t<put_op, get_op, mix_op>, hana::tuple_t<uniform, zipfian>)),
    accepted_combo);

[[maybe_unused]] const bool registered = [] {
    hana::for_each(grid, [](auto combo) {
        using Q = typename decltype(+hana::at_c<0>(combo))::type;
        using C = typename decltype(+hana::at_c<1>(combo))::type;
        using Op = typename decltype(+hana::at_c<2>(combo))::type;
        using D = typename decltype(+hana::at_c<3>(combo))::type;
        auto name = std::string(Op::name) + "/" + std::string(Q::name) + "/" +
                    std::string(C::name) + "/" + std::string(D::name);
        benchmark::RegisterBenchmark(name.c_str(), bm_replica<Op, Q, C, D>);
    });
    // baseline/raw_upserts/N draws uniform keys; the /zipfian rows draw the zipfian ones.
    for (std::size_t n : {1, 3, 5}) {
        auto size = std::to_string(n);
        benchmark::RegisterBenchmark(("baseline/raw_upserts/" + size).c_str(),
                                     bm_raw_upserts<uniform>, n);
        benchmark::RegisterBenchmark(("baseline/raw_find/" + size).c_str(), bm_raw_find<uniform>,
                                     n);
        benchmark::RegisterBenchmark(("baseline/raw_upserts/" + size + "/zipfian").c_str(),
                                     bm_raw_upserts<zipfian>, n);
        benchmark::RegisterBenchmark(("baseline/raw_find/" + size + "/zipfian").c_str(),
                                     bm_raw_find<zipfian>, n);
    }
    return true;
}();

}  // namespace

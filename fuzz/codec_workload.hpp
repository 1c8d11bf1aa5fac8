// SPDX-License-Identifier: MIT
// Real protocol messages for the codec's tests and the fuzzer's seed corpus: small clusters of
// several configurations run a seeded workload (writes, reads, removes, CRDT updates, Paxos
// rounds, partitions and heals) over an in_memory transport that records every message sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/hana/tuple.hpp>
#include <boost/hana/type.hpp>

#include <capkit/crdt/g_counter.hpp>
#include <capkit/crdt/lww_register.hpp>
#include <capkit/crdt/mv_register.hpp>
#include <capkit/crdt/or_set.hpp>
#include <capkit/crdt/pn_counter.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/error.hpp>
#include <capkit/node.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/quorum.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/transport/in_memory.hpp>
#include <capkit/version/hlc.hpp>

namespace capkit::fuzz {

/// An in_memory transport that shows every message sent to `record` first.
template <class Message>
class recording_transport {
public:
    using time_point = typename in_memory<Message>::time_point;

    explicit recording_transport(std::function<void(const Message&)> record)
        : record_(std::move(record)) {}

    send_status send(node_id from, node_id to, Message m) {
        record_(m);
        return net_.send(from, to, std::move(m));
    }
    time_point now() const { return net_.now(); }
    void wake(node_id node, time_point at) { net_.wake(node, at); }
    void attach(node_id node, std::function<void(node_id, Message&&)> receiver,
                std::function<void()> waker) {
        net_.attach(node, std::move(receiver), std::move(waker));
    }
    in_memory<Message>& net() noexcept { return net_; }

private:
    std::function<void(const Message&)> record_;
    in_memory<Message> net_;
};

/// Nodes 0 .. N-1 of `Replica` over a recording transport, with synchronous calls (as
/// capkit::cluster, whose transport is fixed).
template <class Replica>
class recorded_cluster {
public:
    using message = typename Replica::message;
    using transport_type = recording_transport<message>;
    using node_type = node<Replica, transport_type>;
    static constexpr unsigned size = Replica::n;

    explicit recorded_cluster(std::function<void(const message&)> record)
        : net_(std::move(record)) {
        replica_options options;
        options.request_timeout = std::chrono::milliseconds(50);
        for (node_id i = 0; i < size; ++i)
            nodes_.push_back(std::make_unique<node_type>(i, net_, options));
    }

    node_type& at(node_id i) { return *nodes_.at(i); }

    /// Starts a request through `start(callback)` and runs the network until it completes.
    template <class T, class Start>
    result<T> wait(Start start) {
        std::optional<result<T>> out;
        start([&out](result<T> r) { out = std::move(r); });
        net_.net().run_until([&] { return out.has_value(); });
        if (!out) return errc::timeout;
        return std::move(*out);
    }

    void partition(const std::vector<std::vector<node_id>>& groups) {
        net_.net().partition(groups);
        tell_reachability();
    }
    void heal() {
        net_.net().heal();
        tell_reachability();
    }
    void settle() { net_.net().run(); }

private:
    void tell_reachability() {
        for (node_id a = 0; a < size; ++a)
            for (node_id b = 0; b < size; ++b)
                at(a).replica().set_reachable(b,
                                              net_.net().linked(a, b) && net_.net().linked(b, a));
    }

    transport_type net_;
    std::vector<std::unique_ptr<node_type>> nodes_;
};

namespace workload {

template <class T>
T make(detail::rng& rng) {
    if constexpr (std::is_same_v<T, std::string>) {
        static constexpr std::string_view words[] = {
            "", "a", "b", "apple", "zebra", std::string_view("\xff\0 bytes", 8)};
        return std::string(words[rng.below(std::size(words))]);
    } else {
        // Small, large and negative numbers alike.
        auto v = rng.chance(0.5) ? rng.next() % 200 : rng.next();
        return static_cast<T>(rng.chance(0.3) ? 0 - v : v);  // modular: no overflow
    }
}

// The CRDT operation an update applies, drawn from `rng`; `tick` makes lww_register stamps unique.
template <class Crdt>
auto crdt_op(detail::rng& rng, std::uint64_t tick) {
    auto amount = rng.below(5) + 1;
    auto element = make<std::string>(rng);
    bool add = rng.chance(0.7);
    return [=](Crdt& c, node_id self) {
        if constexpr (std::is_same_v<Crdt, g_counter>) {
            c.increment(self, amount);
        } else if constexpr (std::is_same_v<Crdt, pn_counter>) {
            add ? c.increment(self, amount) : c.decrement(self, amount);
        } else if constexpr (std::is_same_v<Crdt, or_set<std::string>>) {
            add ? c.add(self, element) : void(c.remove(element));
        } else if constexpr (std::is_same_v<Crdt, lww_register<std::string>>) {
            c.assign(element, hlc::timestamp{tick, self}, self);
        } else {
            c.assign(self, element);
        }
    };
}

}  // namespace workload

/// Runs a seeded workload on a cluster of `Replica` and shows `record` every message sent.
template <class Replica>
void run_workload(std::function<void(const typename Replica::message&)> record, std::uint64_t seed,
                  int steps = 40) {
    using key_type = typename Replica::key_type;
    using value_type = typename Replica::value_type;
    using context = typename Replica::context;
    constexpr bool paxos = std::is_same_v<typename Replica::consistency, serial>;
    constexpr bool holds_crdt = [] {
        if constexpr (paxos) {
            return false;
        } else {
            return Replica::holds_crdt;
        }
    }();
    recorded_cluster<Replica> c(std::move(record));
    detail::rng rng(seed);
    std::vector<context> seen(3);  // contexts of earlier reads, written back stale or fresh
    auto key_of = [](std::uint64_t k) {
        if constexpr (std::is_same_v<key_type, std::string>) {
            return "key" + std::to_string(k);
        } else {
            return static_cast<key_type>(k * 0x9e3779b97f4a7c15ULL);
        }
    };
    for (int step = 0; step < steps; ++step) {
        auto via = static_cast<node_id>(rng.below(Replica::n));
        auto k = rng.below(3);
        auto key = key_of(k);
        auto& node = c.at(via);
        switch (rng.below(8)) {
            case 0: {  // cut `via` off from the others
                std::vector<node_id> rest;
                for (node_id i = 0; i < Replica::n; ++i)
                    if (i != via) rest.push_back(i);
                c.partition({{via}, rest});
                break;
            }
            case 1:
                c.heal();
                break;
            case 2:
            case 3: {
                auto r = c.template wait<typename Replica::read_result>(
                    [&](auto done) { node.async_get(key, done); });
                if (r.has_value()) seen[k] = r->context;
                break;
            }
            default:
                if constexpr (holds_crdt) {
                    c.template wait<typename Replica::update_result>([&](auto done) {
                        node.async_update(
                            key,
                            workload::crdt_op<value_type>(rng, static_cast<std::uint64_t>(step)),
                            done);
                    });
                } else if constexpr (paxos) {
                    auto v = workload::make<value_type>(rng);
                    switch (rng.below(4)) {
                        case 0:
                            c.template wait<typename Replica::write_result>(
                                [&](auto done) { node.async_put(key, v, {}, done); });
                            break;
                        case 1:
                            c.template wait<typename Replica::write_result>(
                                [&](auto done) { node.async_remove(key, {}, done); });
                            break;
                        case 2:
                            c.template wait<typename Replica::update_result>([&](auto done) {
                                node.async_update(
                                    key,
                                    [v](const std::optional<value_type>& old) {
                                        return old ? std::optional<value_type>(v) : std::nullopt;
                                    },
                                    done);
                            });
                            break;
                        default:
                            c.template wait<typename Replica::write_result>([&](auto done) {
                                node.async_compare_and_set(key, std::nullopt, v, done);
                            });
                    }
                } else {
                    context ctx = rng.chance(0.5) ? seen[k] : context{};
                    if (rng.chance(0.2)) {
                        c.template wait<typename Replica::write_result>(
                            [&](auto done) { node.async_remove(key, ctx, done); });
                    } else {
                        auto v = workload::make<value_type>(rng);
                        c.template wait<typename Replica::write_result>(
                            [&](auto done) { node.async_put(key, v, ctx, done); });
                    }
                }
        }
    }
    c.heal();
    c.settle();
    for (std::uint64_t k = 0; k < 3; ++k)
        for (node_id via = 0; via < Replica::n; ++via)
            c.template wait<typename Replica::read_result>(
                [&](auto done) { c.at(via).template async_get<all>(key_of(k), done); });
}

/// Replica types whose messages the tests round-trip and the seed corpus holds, beside the lab's
/// presets: each CRDT under crdt_merge, and string keys and values.
inline constexpr auto extra_replicas = boost::hana::tuple_t<
    replica<std::string, pn_counter, quorum<3, 2, 2>, eventual, crdt_merge>,
    replica<std::string, or_set<std::string>, quorum<3, 2, 2>, eventual, crdt_merge>,
    replica<std::string, lww_register<std::string>, quorum<3, one, one>, eventual, crdt_merge>,
    replica<std::string, mv_register<std::string>, quorum<3, one, one>, eventual, crdt_merge>,
    replica<std::string, std::string, quorum<3>, serial>,
    replica<std::string, std::string, quorum<3, 2, 2>, strong, lww<>>>;

}  // namespace capkit::fuzz

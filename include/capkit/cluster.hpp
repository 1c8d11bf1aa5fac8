// SPDX-License-Identifier: MIT
/// @file Defines capkit::cluster: N nodes over one in-memory transport, with a synchronous API.
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <capkit/node.hpp>
#include <capkit/transport/in_memory.hpp>

namespace capkit {

/// A whole cluster in one process: nodes 0 .. N-1 of `Replica`, linked by an in_memory transport.
/// Clients call synchronously: each call runs the transport until the request completes (on
/// virtual time a timeout costs no waiting). partition() cuts links and tells every node which
/// peers it can reach, as a perfect failure detector would.
template <class Replica>
class cluster {
public:
    using transport_type = in_memory<typename Replica::message>;
    using node_type = node<Replica, transport_type>;
    using key_type = typename Replica::key_type;
    using value_type = typename Replica::value_type;
    using context = typename Replica::context;
    using read_result = typename Replica::read_result;
    using write_result = typename Replica::write_result;
    using update_result = typename Replica::update_result;
    /// Nodes in the cluster: N, or replica_options::cluster_size with hash_ring placement.
    static unsigned size_of(const replica_options& o) noexcept {
        return o.cluster_size == 0 ? Replica::n : o.cluster_size;
    }

    /// Synchronous calls through one node's coordinator.
    class client {
    public:
        template <auto R = configured>
        result<read_result> get(const key_type& key) {
            return wait<read_result>([&](auto done) { node_->template async_get<R>(key, done); });
        }
        template <auto W = configured>
        result<write_result> put(const key_type& key, value_type value, const context& ctx = {}) {
            return wait<write_result>(
                [&](auto done) { node_->template async_put<W>(key, std::move(value), ctx, done); });
        }
        template <auto W = configured>
        result<write_result> remove(const key_type& key, const context& ctx = {}) {
            return wait<write_result>(
                [&](auto done) { node_->template async_remove<W>(key, ctx, done); });
        }
        /// crdt_merge: applies `op(crdt, self)`; serial: sets `op(current)` atomically.
        template <auto W = configured, class Op>
        result<update_result> update(const key_type& key, Op op) {
            return wait<update_result>(
                [&](auto done) { node_->template async_update<W>(key, std::move(op), done); });
        }
        /// serial only: sets `desired` if the key holds `expected` (empty: absent).
        template <auto W = configured>
        result<write_result> compare_and_set(const key_type& key,
                                             std::optional<value_type> expected,
                                             std::optional<value_type> desired) {
            return wait<write_result>([&](auto done) {
                node_->template async_compare_and_set<W>(key, std::move(expected),
                                                         std::move(desired), done);
            });
        }

    private:
        friend class cluster;
        client(node_type& n, transport_type& t) : node_(&n), net_(&t) {}

        template <class T, class Start>
        result<T> wait(Start start) {
            std::optional<result<T>> out;
            start([&out](result<T> r) { out = std::move(r); });
            net_->run_until([&] { return out.has_value(); });
            assert(out && "a request always completes by its deadline");
            return std::move(*out);
        }

        node_type* node_;
        transport_type* net_;
    };

    explicit cluster(replica_options options = {}, time_source source = time_source::virtual_time)
        : net_(source), size_(size_of(options)) {
        for (node_id i = 0; i < size_; ++i)
            nodes_.push_back(std::make_unique<node_type>(i, net_, options));
    }

    /// A client whose requests node `via` coordinates.
    client at(node_id via) { return client(*nodes_.at(via), net_); }

    node_type& node_at(node_id i) { return *nodes_.at(i); }
    Replica& replica(node_id i) { return nodes_.at(i)->replica(); }
    transport_type& network() noexcept { return net_; }

    /// Splits the cluster into groups that cannot reach each other.
    void partition(const std::vector<std::vector<node_id>>& groups) {
        net_.partition(groups);
        tell_reachability();
    }
    /// Restores every link.
    void heal() {
        net_.heal();
        tell_reachability();
    }
    /// Delivers everything in flight (read repairs included) and fires every pending wake-up.
    void settle() { net_.run(); }

private:
    void tell_reachability() {
        for (node_id a = 0; a < size_; ++a)
            for (node_id b = 0; b < size_; ++b)
                replica(a).set_reachable(b, net_.linked(a, b) && net_.linked(b, a));
    }

    transport_type net_;
    unsigned size_;
    std::vector<std::unique_ptr<node_type>> nodes_;
};

}  // namespace capkit

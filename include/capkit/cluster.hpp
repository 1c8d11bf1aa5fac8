// SPDX-License-Identifier: MIT
/// @file Defines capkit::cluster: nodes 0 .. N-1 of one replica type over one transport that the
/// caller can drive step by step (in_memory by default, sim, or your own), with a synchronous
/// API, partitions and restarts.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <capkit/detail/text.hpp>
#include <capkit/node.hpp>
#include <capkit/protocol/request_level.hpp>
#include <capkit/transport/in_memory.hpp>

namespace capkit {

/// A transport that a thread can drive itself until a condition holds, as capkit::cluster does
/// for its synchronous calls: in_memory and sim do; tcp runs on an io_context instead.
/// Laws: run_until(done) returns done() once nothing is left to do; run() runs until then.
/// Models: in_memory, sim.
template <class T>
concept drivable_transport = requires(T& t, std::function<bool()> done) {
    { t.run_until(done) } -> std::same_as<bool>;
    t.run();
};

/// A drivable transport that can also cut links (partition, heal) and say which links pass.
template <class T>
concept partitionable_transport = drivable_transport<T> &&
    requires(T& t, const T& ct, std::vector<std::vector<node_id>> groups, node_id a) {
    t.partition(groups);
    t.heal();
    { ct.linked(a, a) } -> std::same_as<bool>;
};

/// A whole cluster in one process: nodes 0 .. N-1 of `Replica` (M with hash_ring placement) over
/// one `Transport`, which the cluster owns (constructed from the arguments given) or borrows.
/// Clients call synchronously: each call drives the transport until the request completes (on
/// virtual time a timeout costs no waiting). Any storage: each node's table comes from an
/// `opener` called at the start and at every restart (a RocksDB directory per node, say); by
/// default nodes start empty and a restart keeps what the node held, as a disk would.
/// partition() cuts links and tells every node which peers it can reach, as a perfect failure
/// detector would; restart() replaces one node's process. Call settle() before a partition so
/// that messages still in flight (read repairs, the last acknowledgements) are delivered rather
/// than dropped by the cut.
template <class Replica, class Transport = in_memory<typename Replica::message>>
class cluster {
    static_assert(drivable_transport<Transport>,
                  "capkit::cluster drives its transport from the calling thread, so the transport "
                  "needs `bool run_until(pred)` and `void run()` (in_memory and sim have them); "
                  "over tcp, use capkit::node on an io_context instead");

public:
    using transport_type = Transport;
    using node_type = node<Replica, transport_type>;
    using key_type = typename Replica::key_type;
    using value_type = typename Replica::value_type;
    using context = typename Replica::context;
    using read_result = typename Replica::read_result;
    using write_result = typename Replica::write_result;
    using update_result = typename Replica::update_result;
    using config = typename Replica::config;
    using durable_state = typename Replica::durable_state;
    /// Opens node `id`'s storage: what it starts on, at the start and at each restart.
    using opener = std::function<durable_state(node_id id)>;
    /// Nodes in the cluster: N, or replica_options::cluster_size with hash_ring placement.
    static unsigned size_of(const replica_options& o) noexcept {
        return o.cluster_size == 0 ? Replica::n : o.cluster_size;
    }

    /// Synchronous calls through one node's coordinator.
    class client {
    public:
        // Each call checks its per-request level first (node.hpp says why).
        template <auto R = configured>
        result<read_result> get(const key_type& key) {
            return call<read_result, detail::read_level_ok<config, R>>(
                [&](auto done) { node().template async_get<R>(key, done); });
        }
        template <auto W = configured>
        result<write_result> put(const key_type& key, value_type value, const context& ctx = {}) {
            return call<write_result, detail::write_level_ok<config, W>>(
                [&](auto done) { node().template async_put<W>(key, std::move(value), ctx, done); });
        }
        template <auto W = configured>
        result<write_result> remove(const key_type& key, const context& ctx = {}) {
            return call<write_result, detail::write_level_ok<config, W>>(
                [&](auto done) { node().template async_remove<W>(key, ctx, done); });
        }
        /// crdt_merge: applies `op(crdt, self)`; serial: sets `op(current)` atomically.
        template <auto W = configured, class Op>
        result<update_result> update(const key_type& key, Op op) {
            return call<update_result, detail::write_level_ok<config, W>>(
                [&](auto done) { node().template async_update<W>(key, std::move(op), done); });
        }
        /// serial only: sets `desired` if the key holds `expected` (empty: absent).
        template <auto W = configured>
        result<write_result> compare_and_set(const key_type& key,
                                             std::optional<value_type> expected,
                                             std::optional<value_type> desired) {
            return call<write_result, detail::write_level_ok<config, W>>([&](auto done) {
                node().template async_compare_and_set<W>(key, std::move(expected),
                                                         std::move(desired), done);
            });
        }

    private:
        friend class cluster;
        client(cluster& c, node_id via) : cluster_(&c), via_(via) {}

        // Looked up at each call: the node may have restarted since the client was made.
        node_type& node() { return cluster_->node_at(via_); }

        // A per-request level that breaks the configuration's promise has had its sentence
        // (detail::request_level_rules); `start` is then never called, so nothing deeper is
        // compiled and no second error follows.
        template <class T, bool LevelOk, class Start>
        result<T> call(Start start) {
            if constexpr (LevelOk)
                return wait<T>(std::move(start));
            else
                return {};
        }

        template <class T, class Start>
        result<T> wait(Start start) {
            std::optional<result<T>> out;
            start([&out](result<T> r) { out = std::move(r); });
            cluster_->net().run_until([&] { return out.has_value(); });
            // A request completes by its deadline on in_memory and sim; a transport of one's own
            // whose loop runs dry first would leave the caller waiting for ever.
            if (!out)
                throw std::logic_error(
                    "capkit::cluster: the transport ran out of work before a request was "
                    "answered; its run_until must go on until every wake-up has fired");
            return std::move(*out);
        }

        cluster* cluster_;
        node_id via_;
    };

    /// Owns its transport, made by default. (The constructor, the destructor and start() are
    /// defined after the class, so a file that declares the type extern, compile_once.hpp,
    /// compiles none of the nodes' code.)
    explicit cluster(replica_options options = {});
    /// Owns its transport, made from `args` (in_memory: a time_source; sim: a seed). A transport
    /// of the caller's is borrowed by the constructor that takes it first, never copied here.
    template <class... TransportArgs>
    requires(sizeof...(TransportArgs) > 0 &&
             !(std::is_same_v<std::remove_cvref_t<TransportArgs>, Transport> ||
               ...)) explicit cluster(replica_options options, TransportArgs&&... args)
        : owned_(std::make_unique<Transport>(std::forward<TransportArgs>(args)...)),
          net_(owned_.get()),
          options_(options),
          size_(size_of(options)) {
        start();
    }
    /// Borrows `net`, which must outlive the cluster; each node's storage comes from `open`.
    cluster(Transport& net, replica_options options, opener open = {})
        : net_(&net), options_(options), size_(size_of(options)), open_(std::move(open)) {
        start();
    }
    /// Owns a transport made from `args`; each node's storage comes from `open`.
    template <class... TransportArgs>
    requires(!(std::is_same_v<std::remove_cvref_t<TransportArgs>, Transport> || ...))
        cluster(opener open, replica_options options, TransportArgs&&... args)
        : owned_(std::make_unique<Transport>(std::forward<TransportArgs>(args)...)),
          net_(owned_.get()),
          options_(options),
          size_(size_of(options)),
          open_(std::move(open)) {
        start();
    }
    cluster(const cluster&) = delete;
    cluster& operator=(const cluster&) = delete;
    ~cluster();  // the nodes detach before a borrowed transport goes on

    /// A client whose requests node `via` coordinates (whichever process runs it).
    client at(node_id via) { return client(*this, via); }

    /// How many nodes the cluster has (N, or M on a hash_ring).
    unsigned nodes() const noexcept { return size_; }
    node_type& node_at(node_id i) {
        if (!nodes_.at(i))
            throw std::logic_error(detail::cat("capkit::cluster: node ", std::to_string(i),
                                               " is down: its restart failed (the opener threw); "
                                               "restart it again once its storage opens"));
        return *nodes_[i];
    }
    Replica& replica(node_id i) { return node_at(i).replica(); }
    transport_type& network() noexcept { return *net_; }
    transport_type& net() noexcept { return *net_; }

    /// Splits the cluster into groups that cannot reach each other.
    void partition(const std::vector<std::vector<node_id>>& groups) requires
        partitionable_transport<Transport> {
        net_->partition(groups);
        tell_reachability();
    }
    /// Restores every link.
    void heal() requires partitionable_transport<Transport> {
        net_->heal();
        tell_reachability();
    }
    /// Delivers everything in flight (read repairs included) and fires every pending wake-up.
    void settle() { net_->run(); }

    /// Replaces node `i`'s process by a new one: requests it was coordinating end unanswered
    /// (messages already on their way to it reach the new process, which takes no reply meant
    /// for the old one), and it comes back on what its storage kept (the
    /// opener's table, reopened; by default a copy of what it held, as a disk that kept every
    /// write) as its next incarnation (replica_options::incarnation one higher, so no reply
    /// meant for the old process is taken for one of the new; a table that records its own,
    /// as rocksdb_storage does, raises it further if need be). It is told which peers it
    /// reaches, as the others are. If the opener throws, the exception passes and the node stays
    /// down (node_at says so) until restart(i) succeeds.
    void restart(node_id i) {
        std::optional<durable_state> kept;
        if (!open_) {
            if constexpr (std::copy_constructible<durable_state>)
                kept = replica(i).durable();
            else
                throw std::invalid_argument(
                    "capkit::cluster::restart: this replica's storage cannot be copied, so the "
                    "cluster cannot keep it across a restart; construct the cluster with an "
                    "opener that reopens each node's storage (its directory, say)");
        }
        nodes_.at(i).reset();  // detaches it from the network, and closes its storage
        bring_up(i, incarnation_.at(i) + 1, std::move(kept));
        tell_reachability();
    }
    /// The incarnation node `i` runs as.
    std::uint32_t incarnation(node_id i) const { return incarnation_.at(i); }

    /// Tells every node which peers it can reach both ways (after a change to the transport's
    /// links made directly, not through partition() or heal()).
    void tell_reachability() {
        if constexpr (partitionable_transport<Transport>) {
            for (node_id a = 0; a < size_; ++a) {
                if (!nodes_.at(a)) continue;  // down after a failed restart
                for (node_id b = 0; b < size_; ++b)
                    nodes_[a]->replica().set_reachable(
                        b, nodes_.at(b) && net_->linked(a, b) && net_->linked(b, a));
            }
        }
    }

private:
    void start();

    void bring_up(node_id i, std::uint32_t incarnation, std::optional<durable_state> kept) {
        replica_options o = options_;
        o.incarnation = incarnation;
        durable_state state = kept ? std::move(*kept) : open_ ? open_(i) : durable_state{};
        nodes_[i] = std::make_unique<node_type>(i, *net_, o, std::move(state));
        incarnation_[i] = nodes_[i]->replica().incarnation();
    }

    std::unique_ptr<Transport> owned_;
    Transport* net_;
    replica_options options_;
    unsigned size_;
    opener open_;
    std::vector<std::uint32_t> incarnation_;
    std::vector<std::unique_ptr<node_type>> nodes_;
};

template <class Replica, class Transport>
void cluster<Replica, Transport>::start() {
    incarnation_.assign(size_, options_.incarnation);
    nodes_.resize(size_);
    for (node_id i = 0; i < size_; ++i) bring_up(i, options_.incarnation, std::nullopt);
}

template <class Replica, class Transport>
cluster<Replica, Transport>::~cluster() {
    nodes_.clear();
}

template <class Replica, class Transport>
cluster<Replica, Transport>::cluster(replica_options options)
    : owned_(std::make_unique<Transport>()),
      net_(owned_.get()),
      options_(options),
      size_(size_of(options)) {
    start();
}

}  // namespace capkit

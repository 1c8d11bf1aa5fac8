// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::replica_shell, what both replica state machines (quorum and
/// Paxos) are besides their protocol: identity, options, routing, I/O buffers, table and counters,
/// and the functions a driver calls that only pass through to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <capkit/node_id.hpp>
#include <capkit/protocol/durable_meta.hpp>
#include <capkit/protocol/options_rules.hpp>
#include <capkit/protocol/replica_io.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/protocol/routing.hpp>

namespace capkit::detail {

/// The part of a replica that does not depend on its protocol. `Config` is the replica's
/// capkit::config, `State` what its table keeps per key, `Message` its message variant. A
/// replica derives from it publicly: the functions below are part of every replica's interface
/// (the replica_machine concept); the members are for the replica's protocol code.
template <class Key, class State, class Message, class Config>
class replica_shell {
public:
    using placement = typename Config::placement;
    static constexpr unsigned max_nodes = router<placement, Config::n>::max_nodes;
    using outgoing = typename replica_io<Message, max_nodes>::outgoing;
    using table_type = typename Config::storage::template table<Key, State>;

    /// Group commit (replica_options::group_commit), the driver's side: true when writes wait
    /// for begin_persist().
    bool must_persist() const noexcept { return io_.must_persist(); }
    /// Takes the writes made so far as one group: the driver makes storage() durable, then calls
    /// persisted() with the ticket; what they hold back leaves the node then. Empty when no write
    /// waits.
    std::optional<std::uint64_t> begin_persist() { return io_.begin_persist(); }
    void persisted(std::uint64_t ticket) {
        io_.persisted(ticket);
        ++stats_.group_syncs;
    }
    /// The table, for the driver to sync (rocksdb_storage's sync() may run on another thread).
    table_type& storage() noexcept { return table_; }

    /// The incarnation this replica runs as (replica_options::incarnation, raised above the
    /// last run's when the table records it: detail::start_incarnation).
    std::uint32_t incarnation() const noexcept { return options_.incarnation; }

    /// Keys this replica holds a state for, tombstones (and, under serial, registers left by
    /// reads of absent keys) included.
    std::size_t stored_keys() const noexcept { return table_.size(); }

    /// The messages produced since the last call, for the transport to send.
    std::vector<outgoing> take_messages() { return io_.take_messages(); }

    /// Hands each message produced since the last call to `f(to, message&&)`, keeping the
    /// buffer for the next step. `f` must not feed this replica (transports queue, never deliver
    /// inside send).
    template <class F>
    void drain_messages(F&& f) {
        io_.drain_messages(std::forward<F>(f));
    }

    /// The client completions produced since the last call, to be run by the caller (never from
    /// inside the state machine, so a callback may start another request).
    std::vector<std::function<void()>> take_completions() { return io_.take_completions(); }

    /// Tells the replica whether `peer` is believed reachable (from a failure detector or a
    /// test). A request that cannot reach its quorum is refused at once as `unavailable`.
    void set_reachable(node_id peer, bool reachable) { io_.set_reachable(peer, reachable); }
    bool reachable(node_id peer) const { return io_.reachable(peer); }

    /// The cluster's nodes: N, or M on a hash_ring.
    unsigned nodes() const noexcept { return router_.nodes(); }

    /// Whether node `who` is one of `key`'s N owners (always, under all_nodes).
    bool owns(node_id who, const Key& key) const { return router_.owns(who, key); }

    /// This node's own stored state of `key` (null if it holds none).
    const State* find(const Key& key) const { return table_.find(key); }

    /// Every key this node stores, with its state.
    template <class F>
    void for_each(F&& f) const {
        table_.for_each(std::forward<F>(f));
    }

    node_id id() const noexcept { return self_; }
    const replica_stats& stats() const noexcept { return stats_; }

protected:
    /// `options` already validated (detail::validated) against the replica's shape.
    replica_shell(node_id self, const replica_options& options, table_type table)
        : self_(self),
          options_(options),
          router_(options),
          io_(self),
          table_(std::move(table)),
          persist_by_driver_(options.group_commit.active()) {
        // Above every earlier run's, when the table records it (rocksdb_storage).
        options_.incarnation = start_incarnation(table_, options.incarnation);
        next_sequence_ = first_sequence(options_.incarnation);
    }

    void send(node_id to, Message m) { io_.send(to, std::move(m)); }

    // The table changed: under group commit what follows waits for the driver's sync.
    void wrote() {
        if (persist_by_driver_) io_.wrote();
    }

    node_id self_;
    replica_options options_;
    router<placement, Config::n> router_;
    replica_io<Message, max_nodes> io_;
    table_type table_;
    std::uint64_t next_sequence_ = 0;  // of this node's next request (first_sequence)
    replica_stats stats_;

private:
    bool persist_by_driver_;  // group commit: writes wait for the driver's sync
};

}  // namespace capkit::detail

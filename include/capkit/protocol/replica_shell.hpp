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
#include <capkit/protocol/catch_up.hpp>
#include <capkit/protocol/durable_meta.hpp>
#include <capkit/protocol/messages.hpp>
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

    /// True while this replica, restarted without its data, catches up from its peers
    /// (docs/protocol.md, "Amnesia"): it counts toward no quorum, and refuses the requests made
    /// on it with errc::recovering.
    bool catching_up() const noexcept { return catch_up_.joining(); }

protected:
    /// `options` already validated (detail::validated) against the replica's shape; `kept`: the
    /// table comes from a durable state an earlier run of this node made (so an empty one is
    /// not an amnesia).
    replica_shell(node_id self, const replica_options& options, table_type table, bool kept)
        : self_(self),
          options_(options),
          router_(options),
          io_(self),
          table_(std::move(table)),
          persist_by_driver_(options.group_commit.active()) {
        // Empty: no state, and nothing says an earlier run kept it so.
        const bool empty = table_.size() == 0 && !kept && !ran_before(table_);
        // Above every earlier run's, when the table records it (rocksdb_storage).
        options_.incarnation = start_incarnation(table_, options.incarnation);
        next_sequence_ = first_sequence(options_.incarnation);
        const auto when = options.catch_up.when;
        const bool joins = catch_up_ready && Config::consistency::needs_overlap && empty &&
                           (when == catch_up_when::always ||
                            (when == catch_up_when::after_restart && options.incarnation > 0));
        catch_up_ = catch_up(self, router_.nodes(), catch_up_need(router_.nodes(), Config::w),
                             joins, options.request_timeout, options.request_timeout / 4);
    }

    // Catching up (catch_up.hpp). Pages need keys with a ring hash and an encoding; other
    // replicas serve at once.
    static constexpr bool catch_up_ready =
        ring_key<Key> && wire::encodable<Key> && wire::encodable<State>;

    std::optional<time_point> catch_up_deadline() const { return catch_up_.next_deadline(); }
    void tick_catch_up(time_point now) {
        catch_up_.tick(
            now, [this](node_id p) { return reachable(p); },
            [this](node_id to, std::uint64_t from) { send(to, protocol::catch_up_request{from}); });
    }
    // A peer catching up asks for a page of the keys it owns; answered even while this replica
    // catches up itself (the page says so).
    void serve_catch_up(node_id from, const protocol::catch_up_request& r) {
        protocol::catch_up_page<Key, State> page{r.from, std::nullopt, catch_up_.joining(), {}};
        if constexpr (catch_up_ready) {
            if (from >= router_.nodes()) return;
            auto [entries, next] = catch_up_page_of<Key, State>(
                table_, r.from, [&](const Key& key) { return router_.owns(from, key); },
                options_.catch_up.max_entries, options_.catch_up.max_bytes);
            page.entries = std::move(entries);
            page.next = next;
        }
        send(from, std::move(page));
    }
    // A page for this replica: `join(key, state&&)` merges each state it owns; the next page is
    // asked for.
    template <class Join>
    void take_catch_up(node_id from, protocol::catch_up_page<Key, State>&& page, Join&& join) {
        if (!catch_up_.joining()) return;
        for (auto& [key, s] : page.entries) {
            if (!router_.owns(self_, key)) continue;
            ++stats_.catch_up_keys;
            join(key, std::move(s));
        }
        catch_up_.on_page(
            from, page.from, page.next, page.joining,
            [this](node_id to, std::uint64_t next) { send(to, protocol::catch_up_request{next}); });
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
    catch_up catch_up_;
};

}  // namespace capkit::detail

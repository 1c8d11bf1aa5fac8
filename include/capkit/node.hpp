// SPDX-License-Identifier: MIT
/// @file Defines capkit::node, a replica bound to a transport, with the asynchronous client API.
#pragma once

#include <concepts>
#include <functional>
#include <optional>
#include <utility>

#include <capkit/node_id.hpp>
#include <capkit/protocol/group_commit.hpp>
#include <capkit/protocol/membership.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/protocol/request_level.hpp>
#include <capkit/time.hpp>
#include <capkit/transport/transport.hpp>

namespace capkit {

/// A replica running over a transport: messages from the transport feed the replica, its output
/// goes back out, and its deadlines become wake-ups. Client calls complete through callbacks
/// (`void(result<T>)`), run after the replica's step, so a callback may start another request.
template <class Replica, class Transport>
class node {
    // Each requirement of capkit::transport that Transport misses is one sentence; past those,
    // every use of the transport below is compiled out, so no second error follows.
    static constexpr bool transport_ok = detail::check_transport<Transport, Replica>();

public:
    using replica_type = Replica;
    using key_type = typename Replica::key_type;
    using value_type = typename Replica::value_type;
    using context = typename Replica::context;
    using read_result = typename Replica::read_result;
    using write_result = typename Replica::write_result;
    using update_result = typename Replica::update_result;
    template <class T>
    using callback = typename Replica::template callback<T>;

    node(node_id id, Transport& transport, replica_options options = {})
        : replica_(id, options), transport_(transport), group_(options) {
        attach();
    }
    /// A node restarted on the state its storage had made durable.
    node(node_id id, Transport& transport, replica_options options,
         typename Replica::durable_state recovered)
        : replica_(id, options, std::move(recovered)), transport_(transport), group_(options) {
        attach();
    }
    // The transport holds `this`.
    node(const node&) = delete;
    node& operator=(const node&) = delete;
    ~node() {
        if constexpr (requires { transport_.detach(node_id{}); }) transport_.detach(id());
    }

    // Each call checks its per-request level first: a level that breaks the configuration's
    // promise is one sentence under the user's call, and nothing deeper is compiled.
    template <auto R = configured>
    void async_get(const key_type& key, callback<read_result> done) {
        if constexpr (detail::read_level_ok<typename Replica::config, R>) {
            replica_.template get<R>(key, now(), std::move(done));
            flush();
        }
    }
    template <auto W = configured>
    void async_put(const key_type& key, value_type value, const context& ctx,
                   callback<write_result> done) {
        if constexpr (detail::write_level_ok<typename Replica::config, W>) {
            replica_.template put<W>(key, std::move(value), ctx, now(), std::move(done));
            flush();
        }
    }
    template <auto W = configured>
    void async_remove(const key_type& key, const context& ctx, callback<write_result> done) {
        if constexpr (detail::write_level_ok<typename Replica::config, W>) {
            replica_.template remove<W>(key, ctx, now(), std::move(done));
            flush();
        }
    }
    /// Under crdt_merge, `op(crdt, self)` updates the CRDT; under serial, `op(current)` returns
    /// the new value atomically (both optional: empty is absent).
    template <auto W = configured, class Op>
    void async_update(const key_type& key, Op op, callback<update_result> done) {
        if constexpr (detail::write_level_ok<typename Replica::config, W>) {
            replica_.template update<W>(key, std::move(op), now(), std::move(done));
            flush();
        }
    }
    /// serial only: sets `desired` if the key holds `expected`, else errc::precondition_failed.
    template <auto W = configured>
    requires std::same_as<typename Replica::consistency, serial>
    void async_compare_and_set(const key_type& key, std::optional<value_type> expected,
                               std::optional<value_type> desired, callback<write_result> done) {
        if constexpr (detail::write_level_ok<typename Replica::config, W>) {
            replica_.template compare_and_set<W>(key, std::move(expected), std::move(desired),
                                                 now(), std::move(done));
            flush();
        }
    }

    /// The cluster's configuration (docs/membership.md): begins `change` (its joint step),
    /// finishes the change in progress, or reads the latest agreed configuration, each through
    /// a round of the members.
    void async_change_members(membership_change change, callback<membership> done) {
        replica_.change_members(std::move(change), now(), std::move(done));
        flush();
    }
    void async_finish_change(callback<membership> done) {
        replica_.finish_change(now(), std::move(done));
        flush();
    }
    void async_read_members(callback<membership> done) {
        replica_.read_members(now(), std::move(done));
        flush();
    }

    /// How a group commit's sync runs (replica_options::group_commit): `run(sync, done)` runs
    /// `sync` (on any thread: it touches only the table; it throws when the sync fails, and the
    /// node must then stop) and afterwards `done` on this node's thread, between its steps, while
    /// the node lives. By default both run at once on this thread, once the step's free output
    /// is with the transport. Another thread lets the node go on with requests while the disk
    /// syncs; their writes form the next group.
    using sync_runner = std::function<void(std::function<void()> sync, std::function<void()> done)>;
    void sync_with(sync_runner run) { run_sync_ = std::move(run); }

    /// Calls `f` on this node's thread as each group commit sync begins: the replica's
    /// durable() then is what the sync makes durable (the simulator keeps it for a crash).
    void on_group_sync(std::function<void()> f) { on_sync_ = std::move(f); }

    Replica& replica() noexcept { return replica_; }
    const Replica& replica() const noexcept { return replica_; }
    node_id id() const noexcept { return replica_.id(); }
    /// Messages the transport refused (full queue or unknown node).
    std::size_t send_failures() const noexcept { return send_failures_; }

private:
    void attach() {
        if constexpr (transport_ok) {
            transport_.attach(
                id(),
                [this](node_id from, typename Replica::message&& m) {
                    replica_.receive(from, std::move(m), now());
                    flush();
                },
                [this] {
                    replica_.tick(now());
                    flush();
                });
            // A replica may want waking before anything reaches it (anti-entropy's first round).
            if (auto at = next_deadline()) transport_.wake(id(), *at);
        }
    }

    // This node's clock: its own where the transport simulates one per node (sim's clock skew).
    time_point now() const {
        if constexpr (!transport_ok) {
            return {};
        } else if constexpr (requires { transport_.now(node_id{}); }) {
            return transport_.now(id());
        } else {
            return transport_.now();
        }
    }

    // Defined after the class (see compile_once.hpp): the client calls, templates, call it.
    void flush();

    std::optional<time_point> next_deadline() const {
        auto at = replica_.next_deadline();
        if (auto g = group_.next_round(); g && (!at || *g < *at)) at = g;
        return at;
    }

    // Group commit: syncs the replica's open group when due, outside its steps, and then lets
    // out what the group held back. One sync at a time; writes meanwhile form the next group.
    void persist() {
        if (syncing_ || !group_.due(now(), replica_.must_persist())) return;
        const auto ticket = *replica_.begin_persist();
        if (on_sync_) on_sync_();
        syncing_ = true;
        auto sync = [&table = replica_.storage()] {
            if constexpr (requires { table.sync().value(); }) table.sync().value();
        };
        auto done = [this, ticket] {
            syncing_ = false;
            replica_.persisted(ticket);
            flush();
        };
        if (run_sync_) {
            run_sync_(std::move(sync), std::move(done));
        } else {
            sync();
            done();
        }
    }

    Replica replica_;
    Transport& transport_;
    std::size_t send_failures_ = 0;
    detail::group_commit group_;
    bool syncing_ = false;
    sync_runner run_sync_;
    std::function<void()> on_sync_;
};

template <class Replica, class Transport>
void node<Replica, Transport>::flush() {
    if constexpr (transport_ok) {
        replica_.drain_messages([this](node_id to, typename Replica::message&& m) {
            if (transport_.send(replica_.id(), to, std::move(m)) != send_status::sent)
                ++send_failures_;
        });
        persist();
        // Always restate the deadline: a request that completed must not leave a stale
        // wake-up.
        transport_.wake(replica_.id(), next_deadline().value_or(time_point::max()));
        for (auto& complete : replica_.take_completions()) complete();
    }
}

}  // namespace capkit

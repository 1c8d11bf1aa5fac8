// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::replica_shell, what both replica state machines (quorum and
/// Paxos) are besides their protocol: identity, options, routing, I/O buffers, table and counters,
/// and the functions a driver calls that only pass through to them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/node_id.hpp>
#include <capkit/protocol/catch_up.hpp>
#include <capkit/protocol/durable_meta.hpp>
#include <capkit/protocol/membership_register.hpp>
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

    /// One above the highest node id of the configuration: N, or M on a hash_ring of nodes
    /// 0 .. M-1 (its ids are below it; after a change some of them may not be members).
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

    // ---- the configuration (docs/membership.md) -----------------------------------------------

    /// The latest configuration this node learned: its epoch and members.
    const membership& configuration() const noexcept { return members_.current(); }
    std::uint64_t epoch() const noexcept { return members_.current().epoch; }
    /// Whether this node is a member of the configuration it knows (not removed, or not yet
    /// joined). A node that is not answers its clients errc::not_a_member.
    bool member() const noexcept { return configuration().has(self_); }

    /// Asks the members to agree on `change`: its first step (stable to joint). Completes with
    /// the joint configuration, or refuses (change_in_progress, invalid_change, too_few_members,
    /// unavailable: no majority of the members reached, timeout).
    void change_members(membership_change change, time_point now,
                        std::function<void(result<membership>)> done) {
        if (!placement::spreads_keys) {
            io_.complete([d = std::move(done)] { d(errc::fixed_membership); });
            return;
        }
        if (change.node >= max_nodes || change.replaced >= max_nodes) {
            io_.complete([d = std::move(done)] { d(errc::invalid_change); });
            return;
        }
        members_.change(std::move(change), now, deferred(std::move(done)));
        after_members_step(now);
    }
    /// The change's second step (joint to stable), once its data has moved: refused with
    /// errc::data_moving before every member after the change has fetched what it gains (the
    /// change then finishes by itself, as the last of them says it is ready).
    void finish_change(time_point now, std::function<void(result<membership>)> done) {
        members_.propose(
            [](const membership& m) -> result<membership> {
                if (m.joint() && m.ready.size() < m.next.size()) return errc::data_moving;
                return capkit::finish_change(m);
            },
            now, deferred(std::move(done)));
        after_members_step(now);
    }

    /// True while this node fetches the data it gains in the change in progress.
    bool streaming() const noexcept { return stream_.joining(); }
    /// Reads the latest agreed configuration through a round of the members.
    void read_members(time_point now, std::function<void(result<membership>)> done) {
        members_.read(now, deferred(std::move(done)));
        after_members_step(now);
    }

protected:
    /// `options` already validated (detail::validated) against the replica's shape; `kept`: the
    /// table comes from a durable state an earlier run of this node made (so an empty one is
    /// not an amnesia).
    replica_shell(node_id self, const replica_options& options, table_type table, bool kept,
                  protocol::membership_state members)
        : self_(self),
          options_(options),
          router_(options),
          io_(self),
          table_(std::move(table)),
          persist_by_driver_(options.group_commit.active()),
          members_(start_members(self, std::move(members))),
          saved_members_(members_.durable()),
          routed_epoch_(members_.current().epoch),
          layout_(members_.current()),
          routing_since_(members_.current().epoch) {
        router_.follow(members_.current());
        // Empty: no state, and nothing says an earlier run kept it so.
        const bool empty = table_.size() == 0 && !kept && !ran_before(table_);
        // Above every earlier run's, when the table records it (rocksdb_storage).
        options_.incarnation = start_incarnation(table_, options.incarnation);
        next_sequence_ = first_sequence(options_.incarnation);
        const auto when = options.catch_up.when;
        const bool joins = catch_up_ready && Config::consistency::needs_overlap && empty &&
                           (when == catch_up_when::always ||
                            (when == catch_up_when::after_restart && options.incarnation > 0));
        catch_up_ = catch_up_from_voters(joins);
        // Its acceptor forgot its promises too: it stays silent in configuration rounds until
        // every round from before its crash is over (the same bound as the quarantine above).
        members_amnesic_ =
            empty && (when == catch_up_when::always ||
                      (when == catch_up_when::after_restart && options.incarnation > 0));
        start_stream();  // a restart in the middle of a change: fetch again
    }

    // Catching up (catch_up.hpp). Pages need keys with a ring hash and an encoding; other
    // replicas serve at once.
    static constexpr bool catch_up_ready =
        ring_key<Key> && wire::encodable<Key> && wire::encodable<State>;

    std::optional<time_point> catch_up_deadline() const { return catch_up_.next_deadline(); }
    // Catching up from the voters of the configuration this node knows now.
    catch_up catch_up_from_voters(bool joins) const {
        const auto voters = configuration().voters();
        return catch_up(self_, voters,
                        catch_up_need(static_cast<unsigned>(voters.size()), Config::w), joins,
                        options_.request_timeout, options_.request_timeout / 4);
    }
    void tick_catch_up(time_point now) {
        catch_up_.tick(
            now, [this](node_id p) { return reachable(p); },
            [this](node_id to, std::uint64_t from) {
                send(to, protocol::catch_up_request{from, epoch(), false});
            });
    }
    // A peer catching up asks for a page of the keys it owns; answered even while this replica
    // catches up itself (the page says so).
    void serve_catch_up(node_id from, const protocol::catch_up_request& r) {
        // Both must route by the same configuration: the older learns the newer (and asks again
        // after its retry), and a node that served a page refuses older requests from then on.
        if (!same_routing(r.epoch) || (r.stream && !router_.joint())) {
            tell(from);
            return;
        }
        protocol::catch_up_page<Key, State> page{
            r.from, std::nullopt, catch_up_.joining(), {}, r.stream};
        if constexpr (catch_up_ready) {
            if (!configuration().has(from)) return;
            auto wanted = [&](const Key& key) {
                return r.stream ? gains(from, key) : router_.owns_either(from, key);
            };
            auto [entries, next] = catch_up_page_of<Key, State>(
                table_, r.from, wanted, options_.catch_up.max_entries, options_.catch_up.max_bytes);
            page.entries = std::move(entries);
            page.next = next;
        }
        send(from, std::move(page));
    }
    // A page for this replica: `join(key, state&&)` merges each state it owns; the next page is
    // asked for.
    template <class Join>
    void take_catch_up(node_id from, protocol::catch_up_page<Key, State>&& page, Join&& join,
                       time_point now) {
        auto& pulling = page.stream ? stream_ : catch_up_;
        if (!pulling.joining()) return;
        for (auto& [key, s] : page.entries) {
            if (page.stream ? !gains(self_, key) : !router_.owns_either(self_, key)) continue;
            ++(page.stream ? stats_.stream_keys : stats_.catch_up_keys);
            join(key, std::move(s));
        }
        const bool stream = page.stream;
        const bool done = pulling.on_page(
            from, page.from, page.next, page.joining, [&](node_id to, std::uint64_t next) {
                send(to, protocol::catch_up_request{next, epoch(), stream});
            });
        if (stream && done) say_ready(now);
    }

    void send(node_id to, Message m) { io_.send(to, std::move(m)); }

    // ---- epochs (docs/membership.md, "Epochs on the data path") --------------------------------

    /// The id of this node's request `sequence`, routed by the configuration of epoch `routed`
    /// (the one its owners were chosen by, which a long request may have learned past since).
    protocol::request_id request_id(std::uint64_t sequence, std::uint64_t routed) const noexcept {
        return {self_, sequence, routed};
    }

    /// Whether this replica may act on request `msg` from `from`: only when both know the same
    /// configuration and it names `from`. A request from an older configuration (or from a node
    /// it does not name: removed) is answered with this node's configuration instead, so the
    /// coordinator learns it and routes again; one from a newer configuration waits here until
    /// this node has it (asked of the sender), since the sender may route by owners this node
    /// does not know of yet.
    template <class M>
    bool admit(node_id from, M& msg, time_point now) {
        const std::uint64_t e = msg.id.epoch;
        if (same_routing(e) && configuration().has(from) && member()) return true;
        if (e > epoch()) {
            if (held_.size() >= max_held) held_.erase(held_.begin());  // the coordinator retries
            // Held no longer than its coordinator waits for the answer.
            held_.push_back({from, Message(std::move(msg)), now + options_.request_timeout});
            ++stats_.epoch_waits;
        } else {
            ++stats_.epoch_refusals;
        }
        tell(from);
        return false;
    }

    /// Hands the requests that waited for a configuration this node now knows to
    /// `handle(from, message&&)`.
    template <class Handle>
    void release_held(Handle&& handle) {
        if (held_.empty() || released_epoch_ == epoch()) return;
        released_epoch_ = epoch();
        std::vector<held_request> ready;
        std::erase_if(held_, [&](held_request& h) {
            if (request_epoch(h.m) > epoch()) return false;
            ready.push_back(std::move(h));
            return true;
        });
        for (auto& h : ready) handle(h.from, std::move(h.m));
    }

    /// A message of the configuration register. A node that tells of an older configuration
    /// than this one's is told this one (that is how a node learns what it missed).
    void on_members(node_id from, protocol::membership_message&& m, time_point now) {
        const auto* learn = std::get_if<protocol::membership_learn>(&m);
        if (learn && learn->value.epoch < epoch()) tell(from);
        // A node that lost its promises answers no configuration round until every round from
        // before it lost them is over (it still learns).
        if (!learn && members_silent(now)) return;
        members_.receive(from, std::move(m), now);
        after_members_step(now);
    }
    void tick_members(time_point now) {
        members_silent(now);
        std::erase_if(held_, [&](const held_request& h) { return h.deadline <= now; });
        members_.tick(now);
        stream_.tick(
            now, [this](node_id p) { return reachable(p); },
            [this](node_id to, std::uint64_t from) {
                send(to, protocol::catch_up_request{from, epoch(), true});
            });
        if (ready_due(now)) say_ready(now);
        after_members_step(now);
    }
    std::optional<time_point> members_deadline() const {
        auto at = members_.next_deadline();
        auto earliest = [&](time_point t) {
            if (!at || t < *at) at = t;
        };
        if (members_amnesic_) earliest(silent_until_.value_or(time_point{}));
        for (const auto& h : held_) earliest(h.deadline);
        if (auto s = stream_.next_deadline()) earliest(*s);
        if (owes_ready()) earliest(ready_retry_);
        return at;
    }
    const protocol::membership_state& members_durable() const noexcept {
        return members_.durable();
    }

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
    // The record that keeps the register's state on a table with records (rocksdb_storage).
    static constexpr std::string_view membership_record = "capkit.membership";
    // Requests from a newer configuration wait for it; beyond this many the oldest is dropped.
    static constexpr std::size_t max_held = 256;

    // The register starts on what a restart kept (the simulator's durable state, or the
    // table's record), else on the first configuration: nodes 0 .. M-1 at epoch 1.
    membership_register start_members(node_id self, protocol::membership_state kept) {
        if (kept.learned.epoch == 0)
            kept = load_meta(table_, membership_record, protocol::membership_state{});
        const auto timeout = options_.request_timeout;
        if (kept.learned.epoch == 0)
            return membership_register(self, membership::first(router_.nodes()), Config::n,
                                       timeout);
        return membership_register::from_state(self, std::move(kept), Config::n, timeout);
    }

    template <class T>
    std::function<void(result<T>)> deferred(std::function<void(result<T>)> done) {
        // The register completes inside its steps; a replica's callbacks run after them. Through
        // a queue of its own, so a replica moved meanwhile loses nothing.
        return [q = members_done_, done = std::move(done)](result<T> r) {
            q->push_back([done, r = std::move(r)] { done(r); });
        };
    }

    // True while this node's configuration acceptor must stay silent (members_amnesic_).
    bool members_silent(time_point now) {
        if (!members_amnesic_) return false;
        if (!silent_until_) silent_until_ = now + options_.request_timeout;
        if (now < *silent_until_) return true;
        if (catch_up_.joining()) {
            silent_until_ = now + options_.request_timeout;  // look again then
            return true;
        }
        members_amnesic_ = false;
        return false;
    }

    // After each step of the register: what it promised or accepted is kept before the answers
    // that reveal it leave (under group commit, wrote() holds them until the sync), then they
    // go out; a configuration learned reroutes.
    void after_members_step(time_point) {
        if (members_.durable() != saved_members_) {
            saved_members_ = members_.durable();
            save_meta(table_, membership_record, saved_members_);
            wrote();
        }
        for (auto& [to, m] : members_.take_messages()) send(to, Message(std::move(m)));
        for (auto& done : *members_done_) io_.complete(std::move(done));
        members_done_->clear();
        if (epoch() != routed_epoch_) {
            routed_epoch_ = epoch();
            if (!configuration().same_layout(layout_)) {
                // Keys move: requests routed before now are refused from here on.
                layout_ = configuration();
                routing_since_ = epoch();
                router_.follow(layout_);
                // Pages fetched by the old routing may lack keys this node owns now.
                if (catch_up_.joining()) catch_up_ = catch_up_from_voters(true);
                start_stream();
            }
        }
    }

    // Whether a message routed by the configuration of epoch `e` routes as this node does now:
    // from an epoch since the keys last moved (a change began or ended) up to this node's.
    bool same_routing(std::uint64_t e) const noexcept {
        return e >= routing_since_ && e <= epoch();
    }

    // ---- streaming: what a member after a change gains (docs/membership.md, "Streaming") ----

    // Whether `who` owns `key` after the change in progress and not before it.
    bool gains(node_id who, const Key& key) const {
        return router_.joint() && router_.next_of(key).owns(who) && !router_.owns(who, key);
    }

    // During a change that this node is a member after and has not said it is ready for, it
    // fetches what it gains from the members before the change: from all of them but
    // min(R, W) - 1, so that for every key it reaches more than N - min(R, W) of the key's
    // owners before, which meets every read and every write quorum of the key there. A member
    // it fetched from knows the change (the request carries its epoch), and from then on refuses
    // requests routed before it, so nothing acknowledged there later is missed.
    void start_stream() {
        const auto& c = configuration();
        stream_done_ = false;
        const bool mine = c.joint() && membership::find(c.next, self_) &&
                          std::find(c.ready.begin(), c.ready.end(), self_) == c.ready.end();
        if (!mine || !catch_up_ready) {
            stream_ = catch_up{};
            return;
        }
        std::vector<node_id> before;
        for (const auto& m : c.members)
            if (m.id != self_) before.push_back(m.id);
        const unsigned spare = std::min(Config::r, Config::w) - 1;
        const auto others = static_cast<unsigned>(before.size());
        const unsigned need = others > spare ? others - spare : others;
        stream_ = catch_up(self_, before, need, !before.empty(), std::chrono::nanoseconds(0),
                           options_.request_timeout / 4);
        if (!stream_.joining()) stream_done_ = true;  // nothing to fetch from
        stream_layout_ = c;
        ready_retry_ = time_point{};
    }
    // True while this node owes the change in progress its ready step.
    bool owes_ready() const {
        const auto& c = configuration();
        return stream_done_ && c.joint() && c.same_layout(stream_layout_) &&
               std::find(c.ready.begin(), c.ready.end(), self_) == c.ready.end();
    }
    bool ready_due(time_point now) const { return owes_ready() && now >= ready_retry_; }
    // Asks the members to record this node ready (mark_ready; the last one ends the change).
    // Again a request timeout later while it is not recorded: the round may have failed.
    void say_ready(time_point now) {
        stream_done_ = true;
        if (!ready_due(now)) return;
        ready_retry_ = now + options_.request_timeout;
        members_.propose([self = self_, layout = stream_layout_](
                             const membership& m) { return mark_ready(m, self, layout); },
                         now, [](result<membership>) {});
        after_members_step(now);
    }

    void tell(node_id to) {
        if (to == self_) return;
        send(to,
             Message(protocol::membership_message(protocol::membership_learn{configuration()})));
    }

    static std::uint64_t request_epoch(const Message& m) {
        return std::visit(
            [](const auto& x) -> std::uint64_t {
                if constexpr (requires { x.id.epoch; })
                    return x.id.epoch;
                else
                    return 0;
            },
            m);
    }

    bool persist_by_driver_;  // group commit: writes wait for the driver's sync
    catch_up catch_up_;
    membership_register members_;
    protocol::membership_state saved_members_;  // what the table (and durable()) last kept
    std::uint64_t routed_epoch_;                // the configuration router_ follows
    std::uint64_t released_epoch_ = 0;          // held_ was last released at this epoch
    struct held_request {
        node_id from;
        Message m;
        time_point deadline;
    };
    std::vector<held_request> held_;  // requests from a newer epoch
    std::shared_ptr<std::vector<std::function<void()>>> members_done_ =
        std::make_shared<std::vector<std::function<void()>>>();
    bool members_amnesic_ = false;  // started empty after a restart: its promises are forgotten
    std::optional<time_point> silent_until_;
    membership layout_;            // the configuration router_ routes by
    std::uint64_t routing_since_;  // the epoch keys last moved at (layout_'s first)
    catch_up stream_;              // fetching what this node gains in the change in progress
    membership stream_layout_;     // that change
    bool stream_done_ = false;
    time_point ready_retry_{};
};

}  // namespace capkit::detail

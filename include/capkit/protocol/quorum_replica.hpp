// SPDX-License-Identifier: MIT
/// @file Defines capkit::quorum_replica, the sans-I/O state machine of eventual, strong and
/// linearizable replicas.
#pragma once

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include <capkit/assert.hpp>
#include <capkit/crdt/crdt.hpp>
#include <capkit/error.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/protocol/anti_entropy.hpp>
#include <capkit/protocol/basic_replica.hpp>
#include <capkit/protocol/dispatch.hpp>
#include <capkit/protocol/durable_meta.hpp>
#include <capkit/protocol/group_commit.hpp>
#include <capkit/protocol/hints.hpp>
#include <capkit/protocol/messages.hpp>
#include <capkit/protocol/options_rules.hpp>
#include <capkit/protocol/replica_io.hpp>
#include <capkit/protocol/replica_machine.hpp>
#include <capkit/protocol/replica_rules.hpp>
#include <capkit/protocol/replica_shell.hpp>
#include <capkit/protocol/request_level.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/protocol/routing.hpp>
#include <capkit/protocol/tombstone_gc.hpp>
#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/lww.hpp>     // config's default resolver
#include <capkit/storage/memory.hpp>  // and storage
#include <capkit/time.hpp>
#include <capkit/version/hlc.hpp>

namespace capkit {

namespace detail {
/// What a quorum replica of `Key`s and `Value`s under `Config` stores per key and sends, named
/// before its class so the shell it derives from can hold them. The rules that need the value
/// type come first: a broken one says its sentence and the types fall back to plain values, so
/// the sentence stays the only error.
template <class Key, class Value, class Config>
struct quorum_types {
    static constexpr bool ok = replica_rules<Config, Value>::ok;
    using resolver = std::conditional_t<ok, typename Config::resolver, lww<>>;
    /// What a replica stores per key: the value, or (but for CRDTs) an empty optional for a
    /// deletion: a tombstone, so a stale replica cannot bring a deleted value back.
    using item =
        std::conditional_t<merges_concurrent_writes<resolver>, Value, std::optional<Value>>;
    using state = typename resolver::template state<item>;
    using message = protocol::message<Key, state>;
};
}  // namespace detail

/// One node's share of a replicated key-value map, and the coordinator of the requests made on
/// it, as a deterministic state machine: it is fed client requests, messages and the current
/// time, and it produces messages to send (take_messages), client completions to run
/// (take_completions) and the time it next needs waking (next_deadline). It never reads a clock,
/// touches a socket or starts a thread, so any transport can drive it and a seed reproduces it.
///
/// Placement is all_nodes (the cluster's nodes are 0 .. N-1 and every node holds every key) or
/// hash_ring (nodes 0 .. M-1, replica_options::cluster_size; each key on its N owners, and any
/// node may coordinate a request for any key).
template <class Key, class Value, class Config>
class basic_replica<Key, Value, Config, false>
    : public detail::replica_shell<Key, typename detail::quorum_types<Key, Value, Config>::state,
                                   typename detail::quorum_types<Key, Value, Config>::message,
                                   Config> {
    using types = detail::quorum_types<Key, Value, Config>;
    using shell =
        detail::replica_shell<Key, typename types::state, typename types::message, Config>;

public:
    using key_type = Key;
    using value_type = Value;
    using config = Config;
    using resolver = typename config::resolver;
    using consistency = typename config::consistency;
    static constexpr unsigned n = config::n;
    /// Values are CRDTs that merge (crdt_merge): no tombstones, update() instead of remove().
    static constexpr bool holds_crdt = detail::merges_concurrent_writes<resolver>;
    static constexpr bool abd = consistency::protocol == consistency_protocol::abd;
    /// capkit::sloppy: hints for the replicas a write could not reach.
    static constexpr bool hinted = config::handoff::hinted;
    using placement = typename config::placement;
    /// hash_ring: N owners of each key among M nodes.
    static constexpr bool ringed = placement::spreads_keys;
    /// The largest cluster a replica of this type can be part of.
    using shell::max_nodes;
    using shell::nodes;
    using shell::owns;
    using shell::reachable;

    static_assert(consistency::protocol != consistency_protocol::paxos,
                  "capkit::quorum_replica: capkit::serial runs CASPaxos; use capkit::replica, "
                  "which picks capkit::paxos_replica for it.");
    // The rules that need the value type (crdt_merge's values, hash_ring's resolvers) were
    // checked by detail::quorum_types, before the shell (capkit::replica refuses earlier).

    /// What the run-time rules of replica_options (options_error) need to know of this type.
    static constexpr detail::replica_shape shape() noexcept {
        return {.n = n,
                .max_ring_nodes = ringed ? max_nodes : 0,
                .hinted = hinted,
                .abd = abd,
                .totally_ordered = resolver::totally_ordered,
                .can_anti_entropy = detail::anti_entropy_ready<Key, state>};
    }

    /// What a replica stores per key: the value, or (but for CRDTs) an empty optional for a
    /// deletion: a tombstone (detail::quorum_types).
    using item = typename types::item;
    using state = typename types::state;
    using context = typename resolver::context;
    using message = typename types::message;
    using read_result = capkit::read_result<Value, context>;
    using write_result = capkit::write_result<context>;
    /// What update() completes with: the CRDT as written.
    using update_result = Value;
    template <class T>
    using callback = std::function<void(result<T>)>;

    using typename shell::outgoing;
    using typename shell::table_type;

    using hint_store = detail::hint_store<Key, state, resolver>;

    /// What a replica must find again after a crash for its promises to hold: every key's state
    /// and, under ABD, the last tag it wrote with (or a restarted node could reuse it); and the
    /// hints it keeps for others (capkit::sloppy), or the writes they missed would wait for
    /// anti-entropy.
    struct durable_state {
        table_type table;
        hlc::timestamp last_tag{};
        hint_store hints{};
        /// The highest stamp of a tombstone this node erased: its later writes stamp above it.
        hlc::timestamp purged_floor{};
        /// Made by a run of this node (durable()): with no keys it is an empty store, not a
        /// lost one (catch_up.hpp).
        bool kept = false;
        /// The configuration register's promises and what it learned (docs/membership.md).
        protocol::membership_state members{};
    };

    explicit basic_replica(node_id self, replica_options options = {})
        : basic_replica(self, options, durable_state{}) {}

    /// A node restarted on what its storage had made durable (an empty state: amnesia).
    basic_replica(node_id self, replica_options options, durable_state recovered)
        : shell(self, detail::validated(options, shape()), std::move(recovered.table),
                recovered.kept, std::move(recovered.members)),
          clock_(options.max_clock_offset),
          last_tag_(recovered.last_tag),
          anti_entropy_(self, router_.nodes(), options.anti_entropy, ringed),
          tombstone_gc_(self, options.tombstone_gc),
          purged_floor_(recovered.purged_floor),
          hints_(std::move(recovered.hints)) {
        hint_options bounds = options.hints;
        // A hint of a deleted value must not outlive the tombstones that supersede it.
        if (options.tombstone_gc.grace.count() > 0)
            bounds.max_age = std::min(bounds.max_age, options.tombstone_gc.grace / 2);
        hints_.set_options(bounds);
        recover_records();
        if (anti_entropy_.enabled())
            table_.for_each([&](const Key& k, const state& s) { note_stored(k, s); });
        if constexpr (!holds_crdt) tombstone_gc_.rebuild(table_);
    }

    /// A copy of what a sync would make durable now.
    durable_state durable() const {
        return {table_, last_tag_, hints_, purged_floor_, true, this->members_durable()};
    }

    /// Reads `key` from R replicas (or `R` given here, e.g. get<capkit::one>).
    template <auto R = configured>
    void get(const Key& key, time_point now, callback<read_result> done) {
        static_assert(!detail::is_any_level<R>,
                      "capkit::any counts hints, which a read cannot ask: it is a write level "
                      "only; read with capkit::one or more.");
        constexpr unsigned r = detail::request_level<n, R, config::r>;
        if constexpr (detail::request_level_rules<consistency, n, r, config::w, true>::valid)
            static_assert(detail::quorum_sizes<n, r, config::w>::valid &&
                          detail::quorum_rules<consistency, n, r, config::w>::valid);
        start(operation{.key = key,
                        .kind = op_kind::get,
                        .r = r,
                        .w = config::w,
                        .on_read = std::move(done)},
              now);
    }

    /// Writes `value` over what `ctx` saw, to W replicas (or `W` given here).
    template <auto W = configured>
    void put(const Key& key, Value value, const context& ctx, time_point now,
             callback<write_result> done) {
        write<W>(key, item(std::move(value)), ctx, now, std::move(done));
    }

    /// Deletes `key` (writes a tombstone over what `ctx` saw).
    template <auto W = configured>
    void remove(const Key& key, const context& ctx, time_point now, callback<write_result> done) {
        static_assert(!holds_crdt,
                      "capkit::replica::remove: a CRDT key cannot be deleted (its merge would "
                      "bring it back); remove elements inside the CRDT with update() instead.");
        write<W>(key, item(), ctx, now, std::move(done));
    }

    /// Applies `op(crdt, self)` to this node's copy of the CRDT at `key` and replicates the
    /// result to W replicas; completes with the CRDT as written.
    template <auto W = configured, class Op>
    void update(const Key& key, Op op, time_point now, callback<Value> done) {
        static_assert(holds_crdt,
                      "capkit::replica::update applies an operation to a CRDT value and needs "
                      "capkit::crdt_merge; use put() with other resolvers.");
        constexpr unsigned w = detail::request_level<n, W, config::w>;
        if constexpr (detail::request_level_rules<consistency, n, w, config::r, false>::valid)
            static_assert(detail::quorum_sizes<n, config::r, w>::valid &&
                          detail::quorum_rules<consistency, n, config::r, w>::valid);
        const state* stored = table_.find(key);
        Value updated = stored ? stored->value : Value{};
        op(updated, self_);
        auto written = updated;
        start(operation{.key = key,
                        .kind = op_kind::put,
                        .r = config::r,
                        .w = w,
                        .pending = std::move(updated),
                        .on_write =
                            [done = std::move(done),
                             written = std::move(written)](result<write_result> r) {
                                if (r)
                                    done(written);
                                else
                                    done(r.error());
                            }},
              now);
    }

    /// Takes in a message from `from`.
    void receive(node_id from, message m, time_point now) {
        handle(from, std::move(m), now);
        drain_local(now);
        handle_released(now);
    }

    /// Fails the requests whose deadline has passed; starts an anti-entropy round when due.
    void tick(time_point now) {
        std::vector<std::uint64_t> due;
        for (auto it = deadlines_.begin(); it != deadlines_.end() && it->first <= now; ++it)
            due.push_back(it->second);
        std::ranges::sort(due);  // in request order
        for (auto seq : due) expire(seq);
        this->tick_catch_up(now);
        this->tick_members(now);
        auto reaches = [this](node_id peer) { return reachable(peer); };
        auto send_to = [this](node_id to, auto&& m) { send(to, std::forward<decltype(m)>(m)); };
        anti_entropy_.tick(now, reaches, send_to);
        stats_.anti_entropy_rounds = anti_entropy_.rounds();
        // Not during a membership change: a tombstone must reach the owners after it first.
        if (!router_.joint())
            tombstone_gc_.tick(
                now, [this](const Key& key) { return table_.find(key); },
                [&](const state& s) {
                    // Not a tombstone stamped by a clock far ahead: erasing it would lift every
                    // later write here above its stamp (purged_floor_), past what the clock
                    // refuses.
                    if constexpr (std::is_same_v<typename resolver::stamp, hlc::timestamp>) {
                        return s.stamp.wall <= static_cast<std::uint64_t>(
                                                   (now + options_.max_clock_offset).count());
                    } else {
                        return true;
                    }
                },
                [this](const Key& key) { return router_.of(key); }, reaches, send_to);
        if constexpr (hinted) {
            hints_.tick(now, reaches, send_to);
            count_hints();
        }
        drain_local(now);
        handle_released(now);
    }

    /// When tick() must next be called, if any request is waiting. Asked after every step, so
    /// it reads an index rather than walking the requests (a read stays until its last reply or
    /// its deadline: under load, thousands).
    std::optional<time_point> next_deadline() const {
        std::optional<time_point> first;
        auto earliest = [&](std::optional<time_point> t) {
            if (t && (!first || *t < *first)) first = t;
        };
        if (!deadlines_.empty()) earliest(deadlines_.begin()->first);
        earliest(anti_entropy_.next_round());
        earliest(tombstone_gc_.next_round());
        if constexpr (hinted) earliest(hints_.next_round());
        earliest(this->catch_up_deadline());
        earliest(this->members_deadline());
        return first;
    }

private:
    enum class op_kind { get, put };
    enum class phase { read, write, write_back };

    // One client request coordinated here: a read phase (gets; linearizable puts, to learn the
    // highest tag), then a write phase (puts; linearizable gets write back what they return).
    struct operation {
        Key key;
        op_kind kind;
        unsigned r = 0, w = 0;
        std::optional<item> pending{};  // the value a put writes
        context ctx{};
        callback<read_result> on_read{};
        callback<write_result> on_write{};
        phase ph = phase::read;
        time_point deadline{};
        detail::preference<max_nodes> pref{};              // the key's owners, then its fallbacks
        std::uint64_t epoch = 0;                           // the configuration pref comes from
        std::bitset<max_nodes> targets{};                  // nodes asked (believed reachable)
        std::vector<std::pair<node_id, state>> replies{};  // read phase, one per replica
        state merged{};                                    // join of the replies
        std::bitset<max_nodes> acked{};                    // write phase
        // During a membership change: the key's owners after it (reachable ones), whose write
        // quorum a write needs too (docs/membership.md, "During a change").
        std::bitset<max_nodes> next_targets{};
        unsigned next_owners = 0;
        // Sloppy quorum on a ring: the fallbacks asked to keep a hint, each for one owner.
        std::bitset<max_nodes> fallbacks{};
        std::array<node_id, max_nodes> fallback_for{};
        context written_context{};  // what a put completes with
        bool answered = false;
        // capkit::sloppy: the state a put wrote, for a hint to each target that does not
        // acknowledge it before the deadline (the put stays until all have, or the deadline).
        std::optional<state> hint_state{};
        // capkit::any: a hint kept here acknowledges the write.
        bool any_level = false;
    };

    template <auto W>
    void write(const Key& key, item value, const context& ctx, time_point now,
               callback<write_result> done) {
        constexpr unsigned w = detail::request_level<n, W, config::w>;
        if constexpr (detail::request_level_rules<consistency, n, w, config::r, false>::valid)
            static_assert(detail::quorum_sizes<n, config::r, w>::valid &&
                          detail::quorum_rules<consistency, n, config::r, w>::valid);
        static_assert(!detail::is_any_level<W> || hinted,
                      "capkit::any acknowledges a write that only a hint holds, so it needs "
                      "hinted handoff: add capkit::sloppy to the configuration (eventual only), "
                      "or write with capkit::one.");
        start(operation{.key = key,
                        .kind = op_kind::put,
                        .r = config::r,
                        .w = w,
                        .pending = std::move(value),
                        .ctx = ctx,
                        .on_write = std::move(done),
                        .any_level = detail::is_any_level<W>},
              now);
    }

    // Defined after the class, so a file that declares the type extern (compile_once.hpp)
    // does not compile it for the calls it makes.
    void start(operation op, time_point now);

    // Sloppy quorum on a ring: how many owners away a write can leave with fallbacks.
    unsigned fallbacks_available(const operation& op) const {
        if constexpr (ringed && hinted) {
            unsigned away = op.pref.owners - static_cast<unsigned>(op.targets.count());
            unsigned up = 0;
            for (unsigned i = op.pref.owners; i < op.pref.size; ++i)
                if (reachable(op.pref.nodes[i])) ++up;
            return std::min(away, up);
        } else {
            return 0;
        }
    }

    // The state a non-ABD write stores: the resolver applies it to this node's own copy.
    state local_write(operation& op, time_point now) {
        static const state never_written{};
        const state* stored = table_.find(op.key);
        const state& base = stored ? *stored : never_written;
        typename resolver::stamp stamp{};
        if constexpr (std::is_same_v<typename resolver::stamp, hlc::timestamp>) {
            // A write is stamped after the version its client read and the version stored here,
            // even by a lagging clock or past a peer's runaway one (which the clock itself
            // refuses to follow): otherwise it would lose on arrival and still be acknowledged.
            // Only a concurrent write elsewhere can still win over it.
            stamp = clock_.now(now);
            if constexpr (requires { op.ctx.at; }) {
                stamp = std::max(stamp, hlc::successor(op.ctx.at));
            }
            if (stored) stamp = std::max(stamp, hlc::successor(base.stamp));
            if (purged_floor_ != hlc::timestamp{})
                stamp = std::max(stamp, hlc::successor(purged_floor_));
        }
        return resolver::write(base, op.ctx, self_, stamp, std::move(*op.pending));
    }

    // Sends the write to every target that does not hold it yet and applies it here directly.
    // The caller must not touch `op` afterwards: this node's own ack may complete it.
    void begin_write(std::uint64_t seq, operation& op, state written, time_point now) {
        op.ph = op.kind == op_kind::get ? phase::write_back : phase::write;
        op.written_context = resolver::context_of(written);
        protocol::request_id id = this->request_id(seq, op.epoch);
        bool keep_own_hint = false;
        if constexpr (hinted) {
            // The owners this write cannot reach get it when they are back: through a fallback
            // of the ring that keeps the hint and counts toward W (Dynamo's sloppy quorum), or,
            // with none left, through a hint kept here.
            if (op.kind == op_kind::put) {
                unsigned next_fallback = op.pref.owners;
                for (unsigned i = 0; i < op.pref.owners; ++i) {
                    node_id owner = op.pref.nodes[i];
                    if (op.targets[owner]) continue;
                    while (next_fallback < op.pref.size && !reachable(op.pref.nodes[next_fallback]))
                        ++next_fallback;
                    if (next_fallback < op.pref.size) {
                        node_id fb = op.pref.nodes[next_fallback++];
                        op.targets.set(fb);
                        op.fallbacks.set(fb);
                        op.fallback_for[fb] = owner;
                        if (fb == self_) {
                            hints_.add(owner, op.key, written, now);
                            keep_own_hint = true;
                        } else {
                            send(fb,
                                 protocol::hinted_write<Key, state>{id, op.key, written, owner});
                        }
                    } else {
                        hints_.add(owner, op.key, written, now);
                    }
                }
                count_hints();
                op.hint_state = written;
            }
        }
        for (unsigned i = 0; i < op.pref.owners; ++i) {
            node_id to = op.pref.nodes[i];
            if (op.targets[to] && !op.acked[to] && to != self_)
                send(to, protocol::write_request<Key, state>{id, op.key, written});
        }
        for (node_id to = 0; to < max_nodes; ++to)
            if (op.next_targets[to] && !op.targets[to] && !op.acked[to] && to != self_)
                send(to, protocol::write_request<Key, state>{id, op.key, written});
        if (keep_own_hint) {
            on_write_reply(id, self_);  // this node is a fallback: its hint counts
        } else if ((op.targets[self_] || op.next_targets[self_]) && !op.acked[self_]) {
            store(op.key, std::move(written), now);
            on_write_reply(id, self_);
        } else if (op.any_level && op.targets.none()) {
            succeed_write(seq, op);  // capkit::any: the hints kept here acknowledge it
        }
    }

    // Completes a write as acknowledged (it may stay, to hear from the rest).
    void acknowledge(operation& op) {
        CAPKIT_ASSERT(!op.answered, "a client's request is answered once");
        op.answered = true;
        io_.complete(
            [cb = std::move(op.on_write), ctx = op.written_context] { cb(write_result{ctx}); });
    }

    // Completes a write as acknowledged and forgets it.
    void succeed_write(std::uint64_t seq, operation& op) {
        acknowledge(op);
        forget(seq);
    }

    // Each message goes to the one handler of its type (detail::dispatch): a message type with
    // no on() overload below does not compile.
    void handle(node_id from, message&& m, time_point now) {
        detail::dispatch(
            [this](node_id f, auto&& msg,
                   time_point t) -> decltype(this->on(f, std::move(msg), t)) {
                return this->on(f, std::move(msg), t);
            },
            from, std::move(m), now);
    }

    // As a replica of the key: answer reads and take writes, repairs and handoffs. Catching up
    // after an amnesia, it answers no read and acknowledges no write (catch_up.hpp).
    void on(node_id from, protocol::read_request<Key, state>&& msg, time_point now) {
        if (!this->admit(from, msg, now) || this->catching_up()) return;
        const state* stored = table_.find(msg.key);
        send(from, protocol::read_reply<Key, state>{msg.id, stored ? *stored : state{}});
    }
    void on(node_id from, protocol::write_request<Key, state>&& msg, time_point now) {
        if (!this->admit(from, msg, now)) return;
        store(msg.key, std::move(msg.state), now);
        if (!this->catching_up()) send(from, protocol::write_reply{msg.id});
    }
    void on(node_id, protocol::repair<Key, state>&& msg, time_point now) {
        store(msg.key, std::move(msg.state), now);
    }
    void on(node_id from, protocol::handoff<Key, state>&& msg, time_point now) {
        store(msg.key, std::move(msg.state), now);
        send(from, protocol::handoff_ack{msg.sequence});
    }

    // As the coordinator of a request: the replicas' answers.
    void on(node_id from, protocol::read_reply<Key, state>&& msg, time_point now) {
        on_read_reply(msg.id, from, std::move(msg.state), now);
    }
    void on(node_id from, protocol::write_reply&& msg, time_point) { on_write_reply(msg.id, from); }

    // Sloppy quorums: a fallback keeps a write for an owner away; the owner acknowledges hints.
    void on(node_id from, protocol::hinted_write<Key, state>&& msg, time_point now) {
        if constexpr (hinted) {  // a fallback: keep it for its owner, and say so
            if (!this->admit(from, msg, now)) return;
            if (msg.owner >= max_nodes || msg.owner == self_) return;
            hints_.add(msg.owner, msg.key, msg.state, now);
            count_hints();
            send(from, protocol::write_reply{msg.id});
        }
    }
    void on(node_id from, protocol::handoff_ack&& msg, time_point) {
        hints_.acked(from, msg.sequence);
        count_hints();
    }

    // Anti-entropy.
    void on(node_id from, protocol::tree_probe&& msg, time_point) {
        anti_entropy_.on_probe(from, msg, table_, [this](node_id to, auto&& answer) {
            send(to, std::forward<decltype(answer)>(answer));
        });
    }
    void on(node_id from, protocol::tree_entries<Key, state>&& msg, time_point now) {
        on_tree_entries(from, std::move(msg), now);
    }

    // Catching up after an amnesia: serving a peer's, and taking this node's own pages.
    void on(node_id from, protocol::catch_up_request&& msg, time_point) {
        this->serve_catch_up(from, msg);
    }
    void on(node_id from, protocol::catch_up_page<Key, state>&& msg, time_point now) {
        this->take_catch_up(
            from, std::move(msg),
            [&](const Key& key, state&& s) {
                // Tags above every one seen, as if this node had read them (ABD).
                if constexpr (abd) last_tag_ = std::max(last_tag_, s.stamp);
                store(key, std::move(s), now);
            },
            now);
    }

    // The configuration's register (docs/membership.md).
    void on(node_id from, protocol::membership_message&& msg, time_point now) {
        this->on_members(from, std::move(msg), now);
    }

    // Tombstone collection.
    void on(node_id from, protocol::purge_prepare<Key, state>&& msg, time_point now) {
        // Take the tombstone (a replica that missed the delete takes it now, and stores it as
        // durably as any write), then vote: yes if it is all we hold and have held for the grace
        // period. Ignored where collection is off.
        if (!tombstone_gc_.enabled()) return;
        if (!owns(self_, msg.key)) {  // a ring's non-owner holds no copy to vote on
            send(from, protocol::purge_vote<Key, state>{msg.key, std::move(msg.state), false});
            return;
        }
        store(msg.key, msg.state, now);
        const state* held = table_.find(msg.key);
        bool agree = held && *held == msg.state && tombstone_gc_.ripe(msg.key, now);
        send(from, protocol::purge_vote<Key, state>{msg.key, std::move(msg.state), agree});
    }
    void on(node_id from, protocol::purge_vote<Key, state>&& msg, time_point) {
        tombstone_gc_.on_vote(
            from, msg, [this](node_id to, auto&& m) { send(to, std::move(m)); },
            [this](const Key& key, const state& s) { purge_local(key, s); });
    }
    void on(node_id, protocol::purge<Key, state>&& msg, time_point) {
        purge_local(msg.key, msg.state);
    }

    // Erases `key` if this node's state of it is exactly tombstone `s`: every replica holds it.
    // A key written again afterwards must outrank the tombstone still held where a purge was
    // lost, so this node's next stamps and ABD tags stay above it.
    void purge_local(const Key& key, const state& s) {
        if constexpr (holds_crdt) {
            return;  // a CRDT key is never deleted
        } else {
            const state* held = table_.find(key);
            if (!tombstone_gc_.enabled() || !held || !(*held == s) ||
                !detail::is_tombstone<resolver>(s))
                return;
            if constexpr (std::is_same_v<typename resolver::stamp, hlc::timestamp>) {
                if (s.stamp > purged_floor_) {
                    purged_floor_ = s.stamp;
                    // Durable before the tombstone goes, or a restart could stamp below it.
                    detail::save_meta(table_, purge_floor_record, purged_floor_);
                }
                if constexpr (abd) last_tag_ = std::max(last_tag_, s.stamp);
            }
            wrote();
            table_.erase(key);
            if constexpr (ringed) {
                if (anti_entropy_.enabled()) {
                    auto pref = router_.of(key);
                    anti_entropy_.erased(key, {pref.nodes.data(), pref.owners});
                }
            } else {
                anti_entropy_.erased(key);
            }
            tombstone_gc_.erased(key);
            ++stats_.tombstones_purged;
        }
    }

    void count_hints() {
        stats_.hints_stored = hints_.stored();
        stats_.hints_delivered = hints_.delivered();
        stats_.hints_dropped = hints_.dropped();
        if constexpr (detail::keeps_meta<table_type>) {
            // Hints are records of the table too, one per (replica, key), so a restarted
            // coordinator still hands them off (journaled only on a persistent table).
            for (const auto& where : hints_.take_changed()) {
                wrote();
                std::vector<std::byte> name(hint_prefix.size());
                std::ranges::copy(detail::as_bytes(hint_prefix), name.begin());
                wire::encode(where, name);
                if (const state* s = hints_.find(where.first, where.second))
                    detail::save_meta(table_, detail::as_chars(name), *s);
                else
                    table_.erase_meta(detail::as_chars(name));
            }
        }
    }

    // ---- what a restart must find again beyond the keys (capkit/protocol/durable_meta.hpp) ----

    static constexpr std::string_view purge_floor_record = "capkit.purge_floor";
    static constexpr std::string_view hint_prefix = "capkit.hint.";
    static constexpr std::string_view tag_record = "capkit.abd.tag_ceiling";

    // A restarted ABD coordinator must not reuse a tag for another value. On all_nodes its own
    // copy of the key already carries its last tag; on a hash_ring it may not own the key, so
    // tags are leased: a ceiling one wall tick above the last tag is durable before a tag at or
    // above the old ceiling goes out, and a restart resumes above it. ABD tags count in
    // `logical`, so a lease is written about once per restart.
    void lease_tags() {
        if (last_tag_ < tag_ceiling_ || !detail::persists_meta(table_)) return;
        tag_ceiling_ = hlc::timestamp{last_tag_.wall + 1, 0};
        wrote();
        detail::save_meta(table_, tag_record, tag_ceiling_);
    }
    void recover_records() {
        if (!detail::persists_meta(table_)) return;
        if constexpr (std::is_same_v<typename resolver::stamp, hlc::timestamp>) {
            purged_floor_ = std::max(
                purged_floor_, detail::load_meta(table_, purge_floor_record, hlc::timestamp{}));
            if constexpr (abd) {
                tag_ceiling_ = detail::load_meta(table_, tag_record, hlc::timestamp{});
                last_tag_ = std::max({last_tag_, purged_floor_, tag_ceiling_});
            }
        }
        if constexpr (hinted) {
            if constexpr (detail::keeps_meta<table_type>) {
                // With tombstone collection a hint's age bounds how long it can revive a deleted
                // value, and a restart forgets it: such hints go (anti-entropy and read repair
                // still carry the writes). So do those beyond max_hints.
                const bool ageless_is_unsafe = options_.tombstone_gc.grace.count() > 0;
                std::vector<std::string> gone;
                table_.for_each_meta([&](std::string_view name, std::string_view bytes) {
                    if (!name.starts_with(hint_prefix)) return;
                    auto where = detail::decode_meta<std::pair<node_id, Key>>(
                        name, name.substr(hint_prefix.size()));
                    if (ageless_is_unsafe ||
                        !hints_.restore(where.first, where.second,
                                        detail::decode_meta<state>(name, bytes))) {
                        if (ageless_is_unsafe) hints_.dropped_on_restore();
                        gone.emplace_back(name);
                    }
                });
                for (const auto& name : gone) table_.erase_meta(name);
            }
            hints_.journal();
        }
    }

    // Anti-entropy: a peer's states of the buckets where the trees differ. Joined here, then, if
    // asked, this node's own states of the same buckets go back, so both end with the join.
    void on_tree_entries(node_id from, protocol::tree_entries<Key, state>&& msg, time_point now) {
        if (!anti_entropy_.enabled()) return;
        for (auto& [key, st] : msg.entries) {
            // On a ring, only keys both sides own (a peer's other keys are not ours to hold).
            if constexpr (ringed) {
                auto pref = router_.of(key);
                if (!pref.owns(self_) || !pref.owns(from)) continue;
            }
            if (store(key, std::move(st), now)) ++stats_.anti_entropy_keys;
        }
        if (msg.reply_wanted)
            send(from, anti_entropy_.entries_of(from, msg.buckets, table_, false));
    }

    // Anti-entropy: `key`'s new state, in the tree (on a ring, the trees of its other owners).
    void note_stored(const Key& key, const state& s) {
        if constexpr (ringed) {
            if (!anti_entropy_.enabled()) return;
            auto pref = router_.of(key);
            if (pref.owns(self_)) anti_entropy_.stored(key, s, {pref.nodes.data(), pref.owners});
        } else {
            anti_entropy_.stored(key, s);
        }
    }

    // Joins an incoming state into this node's own, in one lookup and without a copy when the
    // incoming state loses; says whether this node's state changed.
    template <class S>
    bool store(const Key& key, S&& incoming, time_point now) {
        if constexpr (std::is_same_v<typename resolver::stamp, hlc::timestamp> && !abd) {
            // Follow the writer's clock, so later writes coordinated here order after this one.
            if (!clock_.update(incoming.stamp, now)) ++stats_.clock_refusals;
        }
        bool changed = true;
        wrote();
        table_.update(key, [&](state& stored, bool fresh) {
            if (fresh) {
                stored = std::forward<S>(incoming);
            } else {
                changed = join_into<resolver>(stored, std::forward<S>(incoming));
            }
            if (changed) {
                note_stored(key, stored);
                if constexpr (!holds_crdt) tombstone_gc_.stored(key, stored, now);
            }
        });
        return changed;
    }

    operation* find_op(protocol::request_id id) {
        if (id.coordinator != self_) return nullptr;
        auto it = ops_.find(id.sequence);
        return it == ops_.end() ? nullptr : &it->second;
    }

    void on_read_reply(protocol::request_id id, node_id from, state s, time_point now) {
        if (from >= max_nodes) return;
        operation* op = find_op(id);
        if (!op || op->ph != phase::read) return;  // late, or the request moved on
        for (const auto& [who, st] : op->replies)
            if (who == from) return;  // a duplicate counts once
        if constexpr (std::is_same_v<typename resolver::stamp, hlc::timestamp> && !abd) {
            if (!clock_.update(s.stamp, now)) ++stats_.clock_refusals;  // follow what we read
        }
        join_into<resolver>(op->merged, s);
        op->replies.emplace_back(from, std::move(s));
        if (!op->answered && op->replies.size() >= op->r) {
            if constexpr (abd) {
                if (op->kind == op_kind::put) {
                    // ABD: a tag above every tag a read quorum holds, never the local clock;
                    // and above this node's last tag, or two concurrent writes through this
                    // node that read the same quorum would share one.
                    auto tag = hlc::successor(std::max(op->merged.stamp, last_tag_));
                    last_tag_ = tag;
                    lease_tags();
                    begin_write(
                        id.sequence, *op,
                        resolver::write(op->merged, {}, self_, tag, std::move(*op->pending)), now);
                    return;
                }
                // Return only what a write quorum holds: write back unless it already does.
                for (const auto& [who, st] : op->replies)
                    if (st == op->merged) op->acked.set(who);
                if (!write_quorum(*op)) {
                    begin_write(id.sequence, *op, op->merged, now);
                    return;
                }
            }
            answer_read(*op);
        }
        if (op->replies.size() == op->targets.count()) finish(id.sequence);
    }

    void on_write_reply(protocol::request_id id, node_id from) {
        if (from >= max_nodes) return;
        operation* op = find_op(id);
        if (!op || op->ph == phase::read || !(op->targets[from] || op->next_targets[from])) return;
        if (op->acked[from]) return;  // a duplicate counts once
        op->acked.set(from);
        if (op->hint_state) {
            // Hinted put: answered at W, kept until every target has it or the deadline hints
            // the rest (expire).
            if (!op->answered && write_quorum(*op)) acknowledge(*op);
            const auto all = op->targets | op->next_targets;
            if ((op->acked & all) == all) forget(id.sequence);
            return;
        }
        if (!write_quorum(*op)) return;
        if (op->ph == phase::write_back) {
            answer_read(*op);
        } else {
            acknowledge(*op);
        }
        forget(id.sequence);
    }

    // W acknowledgements from the key's owners (and the fallbacks standing in for them) and,
    // during a membership change, W from its owners after the change as well.
    static bool write_quorum(const operation& op) {
        if ((op.acked & op.targets).count() < op.w) return false;
        return op.next_owners == 0 || (op.acked & op.next_targets).count() >= op.w;
    }

    void answer_read(operation& op) {
        CAPKIT_ASSERT(!op.answered, "a client's request is answered once");
        op.answered = true;
        read_result out;
        static const state never_written{};
        // A CRDT never written reads as absent, not as an empty CRDT.
        if (!holds_crdt || !(op.merged == never_written))
            for (const auto& v : resolver::values(op.merged)) {
                if constexpr (holds_crdt) {
                    out.values.push_back(v);
                } else if (v) {
                    out.values.push_back(*v);
                }
            }
        out.context = resolver::context_of(op.merged);
        io_.complete(
            [cb = std::move(op.on_read), out = std::move(out)]() mutable { cb(std::move(out)); });
        repair_stale(op);
    }

    // Read repair: every replica that answered with less than the join gets the join.
    void repair_stale(operation& op) {
        for (auto& [who, st] : op.replies) {
            if (st == op.merged) continue;
            send(who, protocol::repair<Key, state>{op.key, op.merged});
            st = op.merged;
            ++stats_.read_repairs;
        }
    }

    // A read stays after answering to hear from the remaining replicas and repair them.
    void finish(std::uint64_t seq) {
        auto it = ops_.find(seq);
        if (it == ops_.end()) return;
        if (it->second.ph == phase::read) repair_stale(it->second);
        forget(seq);
    }

    // A request ends: it leaves the table and the deadline index.
    void forget(std::uint64_t seq) {
        auto it = ops_.find(seq);
        if (it == ops_.end()) return;
        deadlines_.erase({it->second.deadline, seq});
        ops_.erase(it);
        CAPKIT_ASSERT(deadlines_.size() == ops_.size(),
                      "every pending request has exactly one entry in the deadline index");
    }

    void expire(std::uint64_t seq) {
        auto it = ops_.find(seq);
        if (it == ops_.end()) return;
        operation& op = it->second;
        if (op.hint_state) {
            // A replica believed reachable that did not acknowledge in time (its message or
            // its reply was lost, or it is slow) gets the write as a hint, as one that was
            // unreachable did (Cassandra hints a replica on a write timeout too). Dated when the
            // write started, not now: a hint's age bounds how long after a delete it can bring
            // the value back (max_age <= grace / 2 with tombstone collection).
            const time_point written = op.deadline - options_.request_timeout;
            for (node_id to = 0; to < max_nodes; ++to)
                if (op.targets[to] && !op.acked[to])
                    hints_.add(op.fallbacks[to] ? op.fallback_for[to] : to, op.key, *op.hint_state,
                               written);
            count_hints();
            if (op.any_level && !op.answered) {
                succeed_write(seq, op);  // capkit::any: the hints just kept acknowledge it
                return;
            }
        }
        if (!op.answered) {
            // A read, or an ABD write still in its read phase, had no effect: unavailable. A
            // write that was sent may still take effect: timeout.
            bool sent_write = op.kind == op_kind::put && op.ph == phase::write;
            auto acked = static_cast<unsigned>(op.acked.count());
            if (sent_write) {
                ++stats_.timeouts;
                fail(op, errc::timeout, {true, op.w, acked});
            } else if (op.ph == phase::read) {
                ++stats_.unavailable;
                fail(op, errc::unavailable,
                     {false, op.r, static_cast<unsigned>(op.replies.size())});
            } else {  // an ABD read whose write-back no write quorum confirmed
                ++stats_.unavailable;
                fail(op, errc::unavailable, {true, op.w, acked});
            }
        }
        finish(seq);
    }

    // The shortfall travels with the failure to the callback.
    void fail(operation& op, errc e, quorum_shortfall shortfall) {
        CAPKIT_ASSERT(!op.answered, "a client's request is answered once");
        failure why{e, shortfall};
        if (op.kind == op_kind::get) {
            io_.complete([cb = std::move(op.on_read), why] { cb(why); });
        } else {
            io_.complete([cb = std::move(op.on_write), why] { cb(why); });
        }
        op.answered = true;
    }

    void drain_local(time_point now) {
        io_.drain_local([&](node_id from, message&& m) { handle(from, std::move(m), now); });
    }

    // Hands the requests that waited for a newer configuration to their handlers, once known.
    void handle_released(time_point now) {
        this->release_held([&](node_id from, message&& m) { handle(from, std::move(m), now); });
        drain_local(now);
    }

    // The shell's members (a dependent base's names must be brought in).
    using shell::io_;
    using shell::next_sequence_;
    using shell::options_;
    using shell::router_;
    using shell::self_;
    using shell::send;
    using shell::stats_;
    using shell::table_;
    using shell::wrote;

    hlc clock_;
    hlc::timestamp last_tag_{};     // linearizable: the last ABD tag this node wrote with
    hlc::timestamp tag_ceiling_{};  // tags below it are durably leased (lease_tags)
    boost::unordered_flat_map<std::uint64_t, operation> ops_;   // by sequence number
    std::set<std::pair<time_point, std::uint64_t>> deadlines_;  // (deadline, sequence) of ops_
    detail::anti_entropy_for<Key, state> anti_entropy_;
    detail::tombstone_gc<Key, state, resolver, max_nodes> tombstone_gc_;
    hlc::timestamp purged_floor_{};  // the highest stamp of a tombstone this node erased
    hint_store hints_;
};

template <class Key, class Value, class Config>
void basic_replica<Key, Value, Config, false>::start(operation op, time_point now) {
    ++stats_.requests;
    if (this->catching_up()) {
        ++stats_.recovering;
        fail(op, errc::recovering, {});
        return;
    }
    if (!this->member()) {
        ++stats_.not_a_member;
        fail(op, errc::not_a_member, {});
        return;
    }
    if (ops_.size() >= options_.max_pending) {
        ++stats_.overloaded;
        fail(op, errc::overloaded, {});
        return;
    }
    op.pref = router_.of(op.key);
    op.epoch = this->epoch();
    for (unsigned i = 0; i < op.pref.owners; ++i)
        if (reachable(op.pref.nodes[i])) op.targets.set(op.pref.nodes[i]);
    // ABD's reads write back and its writes read first: both phases need their quorum.
    bool reads = op.kind == op_kind::get || abd;
    bool writes = op.kind == op_kind::put || abd;
    auto reach = op.targets.count();
    // A sloppy write on a ring also counts the fallbacks that stand in for owners away.
    auto write_reach = reach + (op.kind == op_kind::put ? fallbacks_available(op) : 0);
    if (writes && router_.joint()) {
        // During a change a write also needs W of the owners after it (no fallbacks there):
        // reads keep to the owners before it, which hold every write until the change ends.
        auto next = router_.next_of(op.key);
        op.next_owners = next.owners;
        for (unsigned i = 0; i < next.owners; ++i)
            if (reachable(next.nodes[i])) op.next_targets.set(next.nodes[i]);
        write_reach = std::min<std::size_t>(write_reach, op.next_targets.count());
    }
    // Under capkit::any nothing needs reaching: this node can always keep the hints.
    if ((reads && reach < op.r) || (writes && write_reach < op.w && !op.any_level)) {
        ++stats_.unavailable;
        // Nothing was sent: certainly no effect. Where both quorums fall short (ABD), name
        // the one the client asked for: W for a write, R for a read.
        bool read_short = reads && reach < op.r, write_short = writes && write_reach < op.w;
        bool name_w = op.kind == op_kind::put ? write_short : !read_short;
        fail(op, errc::unavailable,
             {name_w, name_w ? op.w : op.r, static_cast<unsigned>(name_w ? write_reach : reach)});
        return;
    }
    op.deadline = now + options_.request_timeout;
    auto seq = next_sequence_++;
    deadlines_.emplace(op.deadline, seq);
    auto& placed = ops_.emplace(seq, std::move(op)).first->second;
    CAPKIT_ASSERT(deadlines_.size() == ops_.size(),
                  "every pending request has exactly one entry in the deadline index");
    protocol::request_id id = this->request_id(seq, placed.epoch);
    if (placed.kind == op_kind::put && !abd) {
        begin_write(seq, placed, local_write(placed, now), now);
    } else {
        const bool own = placed.targets[self_];
        for (unsigned i = 0; i < placed.pref.owners; ++i) {
            node_id to = placed.pref.nodes[i];
            if (placed.targets[to] && to != self_)
                send(to, protocol::read_request<Key, state>{id, placed.key});
        }
        // This node's own answer, if it owns the key, needs no message. Last: it may
        // complete the request.
        if (own) {
            const state* stored = table_.find(placed.key);
            on_read_reply(id, self_, stored ? *stored : state{}, now);
        }
    }
    drain_local(now);
}

/// The quorum replica of `Key`s and `Value`s that `Policies` configure.
template <class Key, class Value, class... Policies>
using quorum_replica = basic_replica<Key, Value, config<Policies...>, false>;

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::paxos_replica, the sans-I/O state machine of serial (CASPaxos) replicas.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/assert.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/error.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/protocol/basic_replica.hpp>
#include <capkit/protocol/dispatch.hpp>
#include <capkit/protocol/durable_meta.hpp>
#include <capkit/protocol/group_commit.hpp>
#include <capkit/protocol/options_rules.hpp>
#include <capkit/protocol/paxos_messages.hpp>
#include <capkit/protocol/replica_io.hpp>
#include <capkit/protocol/replica_machine.hpp>
#include <capkit/protocol/replica_shell.hpp>
#include <capkit/protocol/request_level.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/protocol/routing.hpp>
#include <capkit/resolve/lww.hpp>     // config's default resolver
#include <capkit/storage/memory.hpp>  // and storage
#include <capkit/time.hpp>

namespace capkit {

/// A serial replica: every key is a CASPaxos register (Rystsov, 2018). Every node is both a
/// proposer, which runs the requests made on it, and an acceptor, which keeps its share of every
/// register it owns (all of them under all_nodes). Each operation is one round: prepare (a majority
/// promises to ignore lower ballots and reports what it accepted last), then accept (the proposer
/// applies the operation's change to that value and a majority accepts the result). Reads are
/// rounds too, with the identity change, so a value is returned only once a majority has accepted
/// it.
///
/// On a hash_ring of M nodes a key's register lives on its N owners only, and any node may
/// propose on it: the rounds go to the owners, whose majority decides. An acceptor ignores a
/// round on a key it does not own, so a routing mistake costs availability, never a second set
/// of acceptors deciding the same key.
///
/// Like quorum_replica it is deterministic and sans-I/O: fed requests, messages and time, it
/// produces messages, completions and its next deadline; randomised backoff draws from a seed.
template <class Key, class Value, class Config>
class basic_replica<Key, Value, Config, true>
    : public detail::replica_shell<Key, protocol::paxos_register<Value>,
                                   protocol::paxos_message<Key, Value>, Config> {
    using shell = detail::replica_shell<Key, protocol::paxos_register<Value>,
                                        protocol::paxos_message<Key, Value>, Config>;

public:
    using key_type = Key;
    using value_type = Value;
    using config = Config;
    using consistency = typename config::consistency;
    static constexpr unsigned n = config::n;
    static_assert(consistency::protocol == consistency_protocol::paxos,
                  "capkit::paxos_replica runs capkit::serial; use capkit::replica, which picks "
                  "capkit::quorum_replica for other consistency levels.");
    using placement = typename config::placement;
    /// hash_ring: N owners of each key among M nodes; each key's acceptors are its owners.
    static constexpr bool ringed = placement::spreads_keys;
    /// The largest cluster a replica of this type can be part of.
    using shell::max_nodes;
    using shell::nodes;
    using shell::owns;
    using shell::reachable;

    using ballot = protocol::ballot;

    /// What the run-time rules of replica_options (options_error) need to know of this type.
    /// It runs no anti-entropy (every read is a round), so it has nothing to refuse there.
    static constexpr detail::replica_shape shape() noexcept {
        return {.n = n,
                .max_ring_nodes = ringed ? max_nodes : 0,
                .totally_ordered = true,  // serial requires lww (config's resolver rule)
                .can_anti_entropy = true};
    }
    /// A read's context: the ballot under which the value read was accepted.
    using context = ballot;
    using message = protocol::paxos_message<Key, Value>;
    using read_result = capkit::read_result<Value, context>;
    using write_result = capkit::write_result<context>;
    /// What update() completes with: the value as the change left it (empty: absent).
    using update_result = std::optional<Value>;
    template <class T>
    using callback = std::function<void(result<T>)>;

    /// An acceptor's register for one key.
    using slot = protocol::paxos_register<Value>;
    using state = slot;

    using typename shell::outgoing;
    using typename shell::table_type;

    /// What an acceptor must find again after a crash for its promises to hold: every register,
    /// the erase floor, and the highest ballot counter seen (so its new ballots stay unique).
    struct durable_state {
        table_type table;
        ballot floor{};
        std::uint64_t counter = 0;
        /// Made by a run of this node (durable()): with no registers it is an empty store, not
        /// a lost one (catch_up.hpp).
        bool kept = false;
        /// The configuration register's promises and what it learned (docs/membership.md).
        protocol::membership_state members{};
    };

    explicit basic_replica(node_id self, replica_options options = {})
        : basic_replica(self, options, durable_state{}) {}

    /// A node restarted on what its storage had made durable (an empty state: amnesia, which
    /// voids its promises: Paxos is safe only if acceptors keep them).
    basic_replica(node_id self, replica_options options, durable_state recovered)
        : shell(self, detail::validated(options, shape()), std::move(recovered.table),
                recovered.kept, std::move(recovered.members)),
          rng_(options.seed ^ (0x9e3779b97f4a7c15ULL * (self + 1)) ^
               (std::uint64_t{options_.incarnation} << 32)),
          counter_(recovered.counter),
          floor_(recovered.floor) {
        // On a table with records of its own (rocksdb_storage), what the last run made durable.
        counter_ = std::max(counter_, detail::load_meta(table_, counter_record, std::uint64_t{0}));
        ballot_ceiling_ = counter_;
        floor_ = std::max(floor_, detail::load_meta(table_, floor_record, ballot{}));
    }

    /// A copy of what a sync would make durable now.
    durable_state durable() const {
        return {table_, floor_, counter_, true, this->members_durable()};
    }

    /// Reads `key` linearizably: a full round that accepts the current value again.
    template <auto R = configured>
    void get(const Key& key, time_point now, callback<read_result> done) {
        constexpr unsigned r = checked<R, configured>().first;
        start(operation{.key = key,
                        .kind = op_kind::read,
                        .r = r,
                        .w = config::w,
                        .change =
                            [](const std::optional<Value>& v) {
                                return outcome{v, false};
                            },
                        .done =
                            [done = std::move(done)](result<committed> c) {
                                if (!c) return done(c.error());
                                read_result out;
                                if (c->value) out.values.push_back(*c->value);
                                out.context = c->b;
                                done(std::move(out));
                            }},
              now);
    }

    /// Sets `key` to `value` whatever it held (`ctx` is not needed: rounds order writes).
    template <auto W = configured>
    void put(const Key& key, Value value, const context&, time_point now,
             callback<write_result> done) {
        set<W>(key, std::optional<Value>(std::move(value)), now, std::move(done), op_kind::write);
    }

    /// Deletes `key`, then collects its register by the CASPaxos deletion procedure.
    template <auto W = configured>
    void remove(const Key& key, const context&, time_point now, callback<write_result> done) {
        set<W>(key, std::optional<Value>(), now, std::move(done), op_kind::remove);
    }

    /// Atomically replaces the value of `key` with `fn(current)`, where either may be empty
    /// (absent); completes with the new value.
    template <auto W = configured, class Fn>
    void update(const Key& key, Fn fn, time_point now, callback<update_result> done) {
        constexpr unsigned w = checked<configured, W>().second;
        start(operation{.key = key,
                        .kind = op_kind::update,
                        .r = config::r,
                        .w = w,
                        .change =
                            [fn = std::move(fn)](const std::optional<Value>& v) {
                                return outcome{fn(v), false};
                            },
                        .done =
                            [done = std::move(done)](result<committed> c) {
                                if (!c) return done(c.error());
                                done(std::move(c->value));
                            }},
              now);
    }

    /// Sets `key` to `desired` only if it holds `expected` (empty: absent); otherwise completes
    /// with errc::precondition_failed, and only then: the comparison was made on the value a
    /// majority accepted again in the same round.
    template <auto W = configured>
    void compare_and_set(const Key& key, std::optional<Value> expected,
                         std::optional<Value> desired, time_point now,
                         callback<write_result> done) {
        constexpr unsigned w = checked<configured, W>().second;
        start(operation{.key = key,
                        .kind = op_kind::write,
                        .r = config::r,
                        .w = w,
                        .change =
                            [expected = std::move(expected),
                             desired = std::move(desired)](const std::optional<Value>& v) {
                                if (v == expected) return outcome{desired, false};
                                return outcome{v, true};  // write the current value back
                            },
                        .done = write_done(std::move(done))},
              now);
    }

    /// Takes in a message from `from`.
    void receive(node_id from, message m, time_point now) {
        handle(from, std::move(m), now);
        drain_local(now);
        handle_released(now);
    }

    /// Fails requests past their deadline and restarts those whose backoff is over.
    void tick(time_point now) {
        std::vector<std::uint64_t> due;
        for (const auto& [seq, op] : ops_)
            if (op.deadline <= now || (op.ph == phase::backoff && op.retry_at <= now))
                due.push_back(seq);
        std::sort(due.begin(), due.end());  // by sequence, not the hash map's order
        for (auto seq : due) {
            auto it = ops_.find(seq);
            if (it->second.deadline <= now) {
                fail(seq, it->second.accept_sent ? errc::timeout : errc::unavailable);
            } else {
                begin_round(seq, it->second);
            }
        }
        this->tick_catch_up(now);
        this->tick_members(now);
        drain_local(now);
        handle_released(now);
    }

    /// When tick() must next be called, if anything waits.
    std::optional<time_point> next_deadline() const {
        std::optional<time_point> next;
        for (const auto& [seq, op] : ops_) {
            auto at = op.ph == phase::backoff ? std::min(op.retry_at, op.deadline) : op.deadline;
            if (!next || at < *next) next = at;
        }
        if (auto c = this->catch_up_deadline(); c && (!next || *c < *next)) next = c;
        if (auto c = this->members_deadline(); c && (!next || *c < *next)) next = c;
        return next;
    }

private:
    // read, write (put, compare_and_set), update and remove answer a client; collect is the
    // deletion procedure's own round.
    enum class op_kind { read, write, update, remove, collect };
    enum class phase { prepare, accept, backoff };

    struct outcome {
        std::optional<Value> value;
        bool precondition_failed = false;
    };
    struct committed {
        std::optional<Value> value;
        ballot b;
    };

    struct operation {
        Key key;
        op_kind kind;
        unsigned r = 0, w = 0;
        std::function<outcome(const std::optional<Value>&)> change{};
        std::function<void(result<committed>)> done{};
        phase ph = phase::prepare;
        ballot b{};
        unsigned attempt = 0;
        bool accept_sent = false;  // from then on a failure may still take effect: timeout
        time_point deadline{}, retry_at{};
        std::vector<node_id> targets{};
        std::uint64_t epoch = 0;          // the configuration the targets come from
        std::vector<node_id> answered{};  // this phase, one answer per acceptor
        unsigned oks = 0;
        // During a membership change: the key's acceptors after it (reachable ones), a majority
        // of which every phase needs too (docs/membership.md, "During a change").
        std::vector<node_id> next_targets{};
        bool joint = false;
        unsigned refusals = 0, next_oks = 0, next_refusals = 0;
        ballot best{};                   // highest accepted ballot among the promises
        std::optional<Value> current{};  // its value
        outcome next{};
    };

    template <auto R, auto W>
    static constexpr std::pair<unsigned, unsigned> checked() {
        constexpr unsigned r = detail::request_level<n, R, config::r>;
        constexpr unsigned w = detail::request_level<n, W, config::w>;
        if constexpr (detail::request_level_rules<consistency, n, r, config::w, true>::valid &&
                      detail::request_level_rules<consistency, n, w, config::r, false>::valid)
            static_assert(detail::quorum_sizes<n, r, w>::valid &&
                          detail::quorum_rules<consistency, n, r, w>::valid);
        return {r, w};
    }

    static std::function<void(result<committed>)> write_done(callback<write_result> done) {
        return [done = std::move(done)](result<committed> c) {
            if (!c) return done(c.error());
            done(write_result{c->b});
        };
    }

    template <auto W>
    void set(const Key& key, std::optional<Value> value, time_point now,
             callback<write_result> done, op_kind kind) {
        constexpr unsigned w = checked<configured, W>().second;
        start(operation{.key = key,
                        .kind = kind,
                        .r = config::r,
                        .w = w,
                        .change =
                            [value = std::move(value)](const std::optional<Value>&) {
                                return outcome{value, false};
                            },
                        .done = write_done(std::move(done))},
              now);
    }

    // Defined after the class, so a file that declares the type extern (compile_once.hpp)
    // does not compile it for the calls it makes.
    void start(operation op, time_point now);

    void begin_round(std::uint64_t seq, operation& op) {
        ++op.attempt;
        op.ph = phase::prepare;
        op.b = ballot{++counter_, self_};
        lease_ballots();
        clear_phase(op);
        op.best = {};
        op.current.reset();
        for_each_acceptor(op, [&](node_id to) {
            send(to, protocol::prepare<Key, Value>{this->request_id(seq, op.epoch), op.key, op.b});
        });
    }

    // Lost to a higher ballot. Before any accept was sent, back off for a random time (longer
    // each attempt) and start a new round. After one was sent, never retry: a minority may have
    // accepted this round's value, the next round would then find it and apply the change to it
    // a second time (an increment counted twice). The honest answer is timeout.
    void retry(std::uint64_t seq, operation& op, time_point now) {
        if (op.accept_sent || op.attempt >= options_.max_attempts) {
            fail(seq, op.accept_sent ? errc::timeout : errc::unavailable);
            return;
        }
        ++stats_.retries;
        op.ph = phase::backoff;
        auto window = static_cast<std::uint64_t>(options_.backoff.count()) << (op.attempt - 1);
        op.retry_at =
            now + std::chrono::nanoseconds(1 + rng_.below(std::max<std::uint64_t>(window, 1)));
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

    // As an acceptor of the key.
    void on(node_id from, protocol::prepare<Key, Value>&& p, time_point now) {
        if (this->admit(from, p, now)) on_prepare(from, p);
    }
    void on(node_id from, protocol::accept<Key, Value>&& a, time_point now) {
        if (this->admit(from, a, now)) on_accept(from, std::move(a));
    }
    void on(node_id, protocol::erase<Key, Value>&& e, time_point) { on_erase(e); }
    // Catching up after an amnesia: serving a peer's, and taking this node's own pages.
    void on(node_id from, protocol::catch_up_request&& r, time_point) {
        this->serve_catch_up(from, r);
    }
    void on(node_id from, protocol::catch_up_page<Key, slot>&& page, time_point now) {
        this->take_catch_up(
            from, std::move(page),
            [this](const Key& key, slot&& in) { join_register(key, std::move(in)); }, now);
    }
    // The configuration's register (docs/membership.md).
    void on(node_id from, protocol::membership_message&& m, time_point now) {
        this->on_members(from, std::move(m), now);
    }
    // As the proposer of a round.
    void on(node_id from, protocol::promise<Key, Value>&& p, time_point now) {
        on_promise(from, std::move(p), now);
    }
    void on(node_id from, protocol::accepted<Key, Value>&& a, time_point now) {
        on_accepted(from, a, now);
    }

    // ---- acceptor ----

    // A collected register is gone, so its ballots are too; ballots up to the highest collected
    // tombstone's stay refused for absent keys, or a proposer that raced the deletion could
    // bring the old value back. One number per acceptor, not per key.
    ballot highest_seen(const slot* s) const {
        return s ? std::max(s->promised, s->accepted) : floor_;
    }

    // On a hash_ring only the key's owners are its acceptors (during a change, its owners on
    // either ring). A round reaching another node is a routing mistake (nodes at one epoch build
    // the same rings): ignored, it can cost a timeout, never a second set of acceptors deciding
    // the key.
    // Catching up after an amnesia, it promises and accepts nothing (catch_up.hpp).
    void on_prepare(node_id from, const protocol::prepare<Key, Value>& p) {
        if (!router_.owns_either(self_, p.key) || this->catching_up()) return;
        const slot* s = table_.find(p.key);
        bool refuse = s ? (p.b < s->promised || p.b <= s->accepted) : p.b <= floor_;
        if (refuse) {
            send(from, protocol::promise<Key, Value>{p.id, p.b, false, {}, {}, highest_seen(s)});
            return;
        }
        slot updated = s ? *s : slot{};
        updated.promised = p.b;
        CAPKIT_ASSERT(updated.accepted <= updated.promised,
                      "an acceptor never promises below a ballot it accepted");
        send(from,
             protocol::promise<Key, Value>{p.id, p.b, true, updated.accepted, updated.value, p.b});
        wrote();
        table_.put(p.key, std::move(updated));
    }

    void on_accept(node_id from, protocol::accept<Key, Value>&& a) {
        if (!router_.owns_either(self_, a.key) || this->catching_up()) return;
        const slot* s = table_.find(a.key);
        bool refuse = s ? (a.b < s->promised || a.b < s->accepted) : a.b <= floor_;
        if (refuse) {
            send(from, protocol::accepted<Key, Value>{a.id, a.b, false, highest_seen(s)});
            return;
        }
        wrote();
        table_.put(a.key, slot{a.b, a.b, std::move(a.value)});
        send(from, protocol::accepted<Key, Value>{a.id, a.b, true, a.b});
    }

    // A peer's register of `key`, fetched while catching up: the higher promise, and the value
    // accepted under the higher ballot, as if this acceptor had taken the accept that peer took
    // and then promised, unheard, what it promised. This proposer's ballots go above both.
    void join_register(const Key& key, slot&& in) {
        counter_ = std::max({counter_, in.promised.counter, in.accepted.counter});
        wrote();
        table_.update(key, [&](slot& s, bool fresh) {
            if (fresh) {
                s = std::move(in);
                return;
            }
            s.promised = std::max(s.promised, in.promised);
            if (in.accepted > s.accepted) {
                s.accepted = in.accepted;
                s.value = std::move(in.value);
            }
        });
    }

    void on_erase(const protocol::erase<Key, Value>& e) {
        if (!router_.owns_either(self_, e.key)) return;
        const slot* s = table_.find(e.key);
        if (!s || s->promised != e.b || s->accepted != e.b || s->value) return;  // moved on
        if (e.b > floor_) {
            floor_ = e.b;
            detail::save_meta(table_, floor_record, floor_);  // before the promise it replaces goes
        }
        wrote();
        table_.erase(e.key);
        ++stats_.erased;
    }

    // ---- proposer ----

    operation* current_phase(protocol::request_id id, ballot b, phase ph, node_id from) {
        if (id.coordinator != self_) return nullptr;
        auto it = ops_.find(id.sequence);
        if (it == ops_.end() || it->second.ph != ph || it->second.b != b) return nullptr;
        auto& answered = it->second.answered;
        if (std::ranges::find(answered, from) != answered.end()) return nullptr;  // duplicate
        answered.push_back(from);
        return &it->second;
    }

    // The acceptors a phase asks: the key's owners and, during a change, its owners after it.
    template <class F>
    static void for_each_acceptor(const operation& op, F&& f) {
        for (auto to : op.targets) f(to);
        for (auto to : op.next_targets)
            if (std::ranges::find(op.targets, to) == op.targets.end()) f(to);
    }
    static void clear_phase(operation& op) {
        op.answered.clear();
        op.oks = op.refusals = op.next_oks = op.next_refusals = 0;
    }
    // Counts an answer on each side `from` belongs to; returns `ok`.
    static bool count(operation& op, node_id from, bool ok) {
        if (std::ranges::find(op.targets, from) != op.targets.end()) ++(ok ? op.oks : op.refusals);
        if (std::ranges::find(op.next_targets, from) != op.next_targets.end())
            ++(ok ? op.next_oks : op.next_refusals);
        return ok;
    }
    // `need` acceptances of the owners, and of the owners after a change in progress.
    static bool quorum(const operation& op, unsigned need) {
        return op.oks >= need && (!op.joint || op.next_oks >= need);
    }
    // Too many refusals on a side for `need` acceptances there.
    static bool lost(const operation& op, unsigned need) {
        return op.refusals > op.targets.size() - need ||
               (op.joint && op.next_refusals > op.next_targets.size() - need);
    }

    void on_promise(node_id from, protocol::promise<Key, Value>&& p, time_point now) {
        counter_ = std::max(counter_, p.seen.counter);
        operation* op = current_phase(p.id, p.b, phase::prepare, from);
        if (!op) return;
        if (!count(*op, from, p.ok)) {
            if (lost(*op, op->r)) retry(p.id.sequence, *op, now);
            return;
        }
        if (p.accepted > op->best) {
            op->best = p.accepted;
            op->current = std::move(p.value);
        }
        if (!quorum(*op, op->r)) return;
        op->next = op->change(op->current);
        op->ph = phase::accept;
        op->accept_sent = true;
        clear_phase(*op);
        for_each_acceptor(*op, [&](node_id to) {
            send(to, protocol::accept<Key, Value>{p.id, op->key, op->b, op->next.value});
        });
    }

    void on_accepted(node_id from, const protocol::accepted<Key, Value>& a, time_point now) {
        counter_ = std::max(counter_, a.seen.counter);
        operation* op = current_phase(a.id, a.b, phase::accept, from);
        if (!op) return;
        if (!count(*op, from, a.ok)) {
            if (lost(*op, op->w)) retry(a.id.sequence, *op, now);
            return;
        }
        if (!quorum(*op, op->w)) return;
        commit(a.id.sequence, now);
    }

    void commit(std::uint64_t seq, time_point now) {
        auto node = ops_.extract(seq);
        operation& op = node.mapped();
        if (op.done) {
            if (op.next.precondition_failed) {
                io_.complete([d = std::move(op.done)] { d(errc::precondition_failed); });
            } else {
                io_.complete(
                    [d = std::move(op.done), c = committed{op.next.value, op.b}] { d(c); });
            }
        }
        if (op.kind == op_kind::remove) {
            collect(op.key, now);
        } else if (op.kind == op_kind::collect && !op.next.precondition_failed) {
            // Every owner accepted the tombstone under op.b (W = N: the targets are all of them):
            // each may now drop the register.
            for_each_acceptor(op, [&](node_id to) {
                send(to, protocol::erase<Key, Value>{op.key, op.b});
            });
        }
    }

    // The CASPaxos deletion procedure: after the tombstone is written, accept it again on ALL
    // N acceptors (the identity change with W = N), then tell each to drop the register if it
    // still holds that ballot. If a replica is unreachable, or the key was written again, the
    // tombstone simply stays: safe, if not small. (The paper's proposer-cache step has no
    // counterpart here: capkit's proposers keep no per-key cache.)
    void collect(const Key& key, time_point now) {
        start(operation{.key = key,
                        .kind = op_kind::collect,
                        .r = config::r,
                        .w = n,
                        .change =
                            [](const std::optional<Value>& v) {
                                return outcome{v, v.has_value()};  // rewritten: keep it
                            }},
              now);
    }

    // How far the round got: promises in the prepare phase (and in the backoff after it, which
    // keeps the last round's count), acceptances once accepts were sent.
    void fail(std::uint64_t seq, errc e) {
        auto node = ops_.extract(seq);
        operation& op = node.mapped();
        if (op.kind != op_kind::collect)
            ++(e == errc::timeout ? stats_.timeouts : stats_.unavailable);
        failure why{e, {op.accept_sent, op.accept_sent ? op.w : op.r, op.oks}};
        if (op.done) io_.complete([d = std::move(op.done), why] { d(why); });
    }

    // A restarted proposer must not reuse a ballot (its acceptors would take a second value under
    // it), so counters are leased in blocks: the ceiling is durable before a ballot below it goes
    // out, and a restart starts above it. One record write per ballot_lease ballots.
    void lease_ballots() {
        if (counter_ <= ballot_ceiling_ || !detail::persists_meta(table_)) return;
        ballot_ceiling_ = counter_ + ballot_lease;
        wrote();
        detail::save_meta(table_, counter_record, ballot_ceiling_);
    }

    static constexpr std::string_view counter_record = "capkit.paxos.ballot_ceiling";
    static constexpr std::string_view floor_record = "capkit.paxos.erase_floor";
    static constexpr std::uint64_t ballot_lease = 1024;

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

    detail::rng rng_;
    std::uint64_t counter_ = 0;         // the highest ballot counter seen, so new ballots outbid it
    ballot floor_{};                    // see highest_seen
    std::uint64_t ballot_ceiling_ = 0;  // counters up to it are durably leased (lease_ballots)
    std::map<std::uint64_t, operation> ops_;
};

template <class Key, class Value, class Config>
void basic_replica<Key, Value, Config, true>::start(operation op, time_point now) {
    if (op.kind != op_kind::collect) ++stats_.requests;
    if (this->catching_up()) {
        if (op.kind != op_kind::collect) ++stats_.recovering;
        if (op.done) io_.complete([d = std::move(op.done)] { d(errc::recovering); });
        return;
    }
    if (!this->member()) {
        if (op.kind != op_kind::collect) ++stats_.not_a_member;
        if (op.done) io_.complete([d = std::move(op.done)] { d(errc::not_a_member); });
        return;
    }
    if (op.kind != op_kind::collect && ops_.size() >= options_.max_pending) {
        ++stats_.overloaded;
        if (op.done) io_.complete([d = std::move(op.done)] { d(errc::overloaded); });
        return;
    }
    auto owners = router_.of(op.key);  // the key's acceptors
    op.epoch = this->epoch();
    for (unsigned i = 0; i < owners.owners; ++i)
        if (reachable(owners.nodes[i])) op.targets.push_back(owners.nodes[i]);
    auto reach = static_cast<unsigned>(op.targets.size());
    if (router_.joint()) {
        // During a change every phase needs a quorum of the owners after it too.
        auto next = router_.next_of(op.key);
        op.joint = true;
        for (unsigned i = 0; i < next.owners; ++i)
            if (reachable(next.nodes[i])) op.next_targets.push_back(next.nodes[i]);
        reach = std::min(reach, static_cast<unsigned>(op.next_targets.size()));
    }
    if (reach < std::max(op.r, op.w)) {
        if (op.kind != op_kind::collect) ++stats_.unavailable;
        // Both quorums are majorities: name W for a change, R for a read (or the one short).
        bool name_w = op.kind == op_kind::read ? reach >= op.r : reach < op.w;
        failure why{errc::unavailable, {name_w, name_w ? op.w : op.r, reach}};
        if (op.done) io_.complete([d = std::move(op.done), why] { d(why); });
        return;
    }
    op.deadline = now + options_.request_timeout;
    auto seq = next_sequence_++;
    begin_round(seq, ops_.emplace(seq, std::move(op)).first->second);
    drain_local(now);
}

/// The CASPaxos replica of `Key`s and `Value`s that `Policies` configure.
template <class Key, class Value, class... Policies>
using paxos_replica = basic_replica<Key, Value, config<Policies...>, true>;

}  // namespace capkit

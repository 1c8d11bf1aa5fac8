// SPDX-License-Identifier: MIT
/// @file Defines capkit::check::check_linearizability, a Wing-Gong-Lowe search with Lowe's
/// memoization, run on each independent group of keys.
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_set.hpp>

#include <capkit/check/history.hpp>
#include <capkit/check/models.hpp>
#include <capkit/detail/random.hpp>

namespace capkit::check {

/// The answer of a check.
enum class verdict {
    linearizable,
    not_linearizable,
    unknown,  ///< a bound (time or explored states) ended the search first
};

/// `linearizable`, `not linearizable` or `unknown`.
constexpr const char* name(verdict v) noexcept {
    constexpr const char* names[] = {"linearizable", "not linearizable", "unknown"};
    return names[static_cast<int>(v)];
}

/// Bounds and switches of a check.
struct check_options {
    /// Check each independent group of keys alone (P-compositionality): exact and faster.
    bool partition = true;
    /// Give up with verdict unknown when one group of keys needs more than this many cached
    /// configurations (0: no bound).
    std::size_t max_states = 0;
    /// Give up with verdict unknown after this long (zero: no bound).
    std::chrono::steady_clock::duration time_limit{};
};

/// What a check found. For a history that is not linearizable, the culprit is the first
/// operation that no order of the operations before it can linearize, as Knossos reports it: the
/// search reached its return and never got past it.
struct check_result {
    verdict result = verdict::linearizable;
    std::optional<std::size_t> culprit;   ///< index into history::ops
    std::vector<std::size_t> concurrent;  ///< ops of its keys whose intervals overlap the culprit's
    std::vector<std::string> states;      ///< model states the culprit could have met (some)
    std::size_t explored = 0;             ///< configurations cached, over every partition
    std::size_t partitions = 0;           ///< independent groups of keys checked
    std::string reason;                   ///< why the verdict is unknown
};

namespace detail {

// Ops that constrain nothing and change nothing are left out of the search: reads whose result is
// unknown (info, never completed, or nil in Knossos) and transactions of such reads only.
inline bool inert(const operation& op) {
    if (op.f == op_kind::read) return !op.completed || !op.known;
    if (op.f != op_kind::txn) return false;
    return std::all_of(op.txn.begin(), op.txn.end(), [&](const micro_op& m) {
        return !m.is_write && (!m.known || !op.completed);
    });
}

// Groups of op indices whose keys are connected (a txn joins its keys): the independent
// sub-histories. Without partitioning, one group of every op.
inline std::vector<std::vector<std::size_t>> partition_ops(const history& h, bool split) {
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
        if (!inert(h.ops[i])) live.push_back(i);
    }
    if (!split) return {live};
    std::unordered_map<std::string, std::size_t> key_ids;
    std::vector<std::size_t> parent;
    auto id = [&](const std::string& k) {
        auto [it, fresh] = key_ids.try_emplace(k, parent.size());
        if (fresh) parent.push_back(parent.size());
        return it->second;
    };
    auto root = [&](std::size_t x) {
        while (parent[x] != x) x = parent[x] = parent[parent[x]];
        return x;
    };
    std::vector<std::size_t> first_key(live.size());
    static const std::string single;
    for (std::size_t j = 0; j < live.size(); ++j) {
        const operation& op = h.ops[live[j]];
        if (op.f != op_kind::txn) {
            first_key[j] = id(op.key ? *op.key : single);
            continue;
        }
        first_key[j] = op.txn.empty() ? id(single) : id(op.txn.front().key);
        for (const micro_op& m : op.txn) {
            std::size_t a = root(first_key[j]), b = root(id(m.key));
            if (a != b) parent[b] = a;
        }
    }
    std::unordered_map<std::size_t, std::size_t> group_of_root;
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t j = 0; j < live.size(); ++j) {
        auto [it, fresh] = group_of_root.try_emplace(root(first_key[j]), groups.size());
        if (fresh) groups.emplace_back();
        groups[it->second].push_back(live[j]);
    }
    return groups;
}

inline std::uint64_t mix(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Whether op only observes the state (see the model concept); false if the model does not say.
template <class M>
bool observes(const M& m, const operation& op) {
    if constexpr (requires {
                      { m.observes(op) } -> std::same_as<bool>;
                  }) {
        return m.observes(op);
    } else {
        return false;
    }
}

// Model states interned as numbers, and each op's step from each state computed once: the search
// then copies, compares and hashes 32-bit numbers, whatever the model's state is.
template <class M>
class state_table {
public:
    using state_t = typename M::state;
    static constexpr std::uint32_t illegal = 0xffffffff;

    state_table(const M& m, const history& h, const std::vector<std::size_t>& ids)
        : m_(&m), h_(&h), ids_(&ids), index_(0, hasher{this}, equal{this}) {
        intern(m.init());  // state 0
    }
    state_table(const state_table&) = delete;  // index_'s functors point at this
    state_table& operator=(const state_table&) = delete;

    // The state that op `j` (a position in ids) leads to from state `s`, or illegal.
    std::uint32_t step(std::uint32_t s, std::uint32_t j) {
        if (s < rows_) {
            const std::size_t at = std::size_t{s} * ids_->size() + j;
            if (next_[at] != unknown) return next_[at];
            const std::uint32_t t = compute(s, j);  // may add rows: index again
            next_[at] = t;
            return t;
        }
        return compute(s, j);
    }
    const state_t& operator[](std::uint32_t s) const { return states_[s]; }
    std::size_t size() const { return states_.size(); }

private:
    static constexpr std::uint32_t unknown = 0xfffffffe;
    // The first states found get a row of every op's step (at most this many in all: 256 KiB);
    // the states found after that compute their steps each time: a model with that many states,
    // such as strings under append, seldom steps from one state twice.
    static constexpr std::size_t max_rows = std::size_t{1} << 16;

    struct probe {
        const state_t* state;
        std::size_t hash;
    };
    struct hasher {
        using is_transparent = void;
        const state_table* t;
        std::size_t operator()(std::uint32_t i) const noexcept { return t->hashes_[i]; }
        std::size_t operator()(const probe& p) const noexcept { return p.hash; }
    };
    struct equal {
        using is_transparent = void;
        const state_table* t;
        bool operator()(std::uint32_t a, std::uint32_t b) const noexcept { return a == b; }
        bool operator()(std::uint32_t i, const probe& p) const { return t->states_[i] == *p.state; }
        bool operator()(const probe& p, std::uint32_t i) const { return t->states_[i] == *p.state; }
    };

    std::uint32_t compute(std::uint32_t s, std::uint32_t j) {
        const operation& op = h_->ops[(*ids_)[j]];
        if (observes(*m_, op)) return m_->step(states_[s], op) ? s : illegal;  // no copy
        state_t t = states_[s];
        if (!m_->step(t, op)) return illegal;
        return intern(std::move(t));
    }
    std::uint32_t intern(state_t s) {
        const std::size_t h = M::hash(s);
        if (auto it = index_.find(probe{&s, h}); it != index_.end()) return *it;
        const auto id = static_cast<std::uint32_t>(states_.size());
        states_.push_back(std::move(s));
        hashes_.push_back(h);
        index_.insert(id);
        if (rows_ == id && next_.size() + ids_->size() <= max_rows) {
            next_.resize(next_.size() + ids_->size(), unknown);
            ++rows_;
        }
        return id;
    }

    const M* m_;
    const history* h_;
    const std::vector<std::size_t>* ids_;
    std::vector<state_t> states_;
    std::vector<std::size_t> hashes_;
    boost::unordered_flat_set<std::uint32_t, hasher, equal> index_;
    std::vector<std::uint32_t> next_;  // row s: the step of every op from state s
    std::uint32_t rows_ = 0;
};

// Lowe's cache of configurations seen: (set of linearized ops, state number). Keys live in one
// pool, `words` words of bits then the state. The open-addressed table holds per slot the high
// half of the key's hash, which also places it, and the key's number + 1 (0: empty): one probe
// finds or adds, growing never reads the pool, and a lookup reads the pool only where 32 bits of
// hash agree.
class config_cache {
public:
    explicit config_cache(std::size_t words) : words_(words), slots_(1024, 0), mask_(1023) {}

    // Adds the configuration; false if it was there already.
    bool insert(const std::uint64_t* bits, std::uint32_t state, std::uint64_t hash) {
        if (2 * (size_ + 1) > slots_.size()) grow();
        const auto tag = static_cast<std::uint32_t>(hash >> 32);
        for (std::size_t i = tag & mask_;; i = (i + 1) & mask_) {
            const std::uint64_t slot = slots_[i];
            if (slot == 0) {
                slots_[i] = std::uint64_t{tag} << 32 | (size_ + 1);
                pool_.insert(pool_.end(), bits, bits + words_);
                pool_.push_back(state);
                ++size_;
                return true;
            }
            if (static_cast<std::uint32_t>(slot >> 32) != tag) continue;
            const std::uint64_t* key =
                pool_.data() + (static_cast<std::uint32_t>(slot) - 1) * (words_ + 1);
            if (key[words_] == state && std::equal(bits, bits + words_, key)) return false;
        }
    }
    std::size_t size() const noexcept { return size_; }

private:
    void grow() {
        std::vector<std::uint64_t> old(slots_.size() * 2, 0);
        old.swap(slots_);
        mask_ = slots_.size() - 1;
        for (std::uint64_t slot : old) {
            if (slot == 0) continue;
            std::size_t i = (slot >> 32) & mask_;
            while (slots_[i] != 0) i = (i + 1) & mask_;
            slots_[i] = slot;
        }
    }

    std::size_t words_;
    std::vector<std::uint64_t> slots_;
    std::size_t mask_;
    std::size_t size_ = 0;
    std::vector<std::uint64_t> pool_;
};

// One group's search, paused when it reaches its budget of configurations and resumed by the
// next run with a larger one.
class group_search {
public:
    virtual ~group_search() = default;
    // Searches on until a verdict, or unknown once `budget` configurations are cached (0: no
    // bound) or the deadline passed.
    virtual verdict run(std::size_t budget, const check_options& opt,
                        std::chrono::steady_clock::time_point deadline) = 0;
    virtual std::size_t explored() const = 0;
    // After not_linearizable: the culprit (index into history::ops) and some states it met.
    virtual std::size_t culprit() const = 0;
    virtual std::vector<std::string> states() const = 0;
};

// Whether two ops act alike on every state (their process and times aside).
inline bool same_effect(const operation& a, const operation& b) {
    return a.f == b.f && a.completed == b.completed && a.known == b.known &&
           a.cas_succeeded == b.cas_succeeded && a.key == b.key && a.val == b.val &&
           a.expected == b.expected && a.txn == b.txn;
}

// The WGL search over the ops `ids` of h (sorted by call), as in Lowe's "Testing for
// linearizability" and Porcupine: a doubly linked list of call and return entries in history
// order; linearizing an op lifts both its entries out, reaching a return entry backtracks.
// Three prunings, each exact (it loses no linearization, and no frontier: the culprit stays):
// - an op that only observes (a read) and is legal where it can be linearized is linearized there
//   and nothing else is tried: any order that puts it later can put it first, since it changes
//   nothing and everything it had to follow is already linearized;
// - an open-ended op (info, never returned), which may be linearized anywhere after its call or
//   never, is not linearized where it leaves the state as it is: that configuration reaches
//   nothing that the one without it does not (nothing waits for its return);
// - of open-ended ops that act alike, a later-called one is linearized only after the earlier
//   ones: the earlier one can stand in wherever the later one could.
template <class M>
class wgl_search final : public group_search {
public:
    wgl_search(const history& h, const std::vector<std::size_t>& ids, const M& m)
        : h_(h), m_(m), ids_(ids), table_(m_, h, ids_), n_(ids.size()), cache_((n_ + 63) / 64) {
        // Entries 0..2n-1: 2i is the call of ids[i], 2i+1 its return. Node 2n is the head.
        struct node_pos {
            std::size_t pos, tie;
            std::uint32_t node;
        };
        std::vector<node_pos> order;
        order.reserve(2 * n_);
        for (std::size_t i = 0; i < n_; ++i) {
            const operation& op = h.ops[ids[i]];
            const auto node = static_cast<std::uint32_t>(2 * i);
            order.push_back({op.call, 0, node});
            order.push_back({op.ret, i, node + 1});  // open-ended returns: at the end, by call
        }
        std::sort(order.begin(), order.end(), [](const node_pos& a, const node_pos& b) {
            return a.pos != b.pos ? a.pos < b.pos : a.tie < b.tie;
        });
        next_.resize(2 * n_ + 1);
        prev_.resize(2 * n_ + 1);
        std::uint32_t last = head();
        for (const node_pos& p : order) {
            next_[last] = p.node;
            prev_[p.node] = last;
            last = p.node;
        }
        next_[last] = end();
        entry_ = next_[head()];

        capkit::detail::rng rng(0x6361706b6974ULL + n_);
        zobrist_.resize(n_);
        completed_.resize(n_);
        observer_.resize(n_);
        twin_.assign(n_, none);
        // The open-ended ops so far by a hash of their effect, for twin_.
        std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> open;
        for (std::size_t i = 0; i < n_; ++i) {
            const operation& op = h.ops[ids[i]];
            zobrist_[i] = rng.next();
            completed_[i] = op.completed;
            observer_[i] = observes(m_, op);
            if (op.completed) {
                ++mandatory_;
                continue;
            }
            std::uint64_t e =
                mix(static_cast<std::uint64_t>(op.f) << 2 | op.known << 1 | op.cas_succeeded);
            e = mix(e ^ hash_value(op.val)) ^ hash_value(op.expected) ^ op.txn.size();
            if (op.key) e ^= std::hash<std::string>{}(*op.key);
            auto& alike = open[e];
            for (auto j = alike.rbegin(); j != alike.rend(); ++j) {
                if (same_effect(h.ops[ids[*j]], op)) {
                    twin_[i] = *j;
                    break;
                }
            }
            alike.push_back(static_cast<std::uint32_t>(i));
        }
        bits_.assign((n_ + 63) / 64, 0);
        stack_.reserve(n_);
    }
    wgl_search(const wgl_search&) = delete;  // table_ points at m_ and ids_
    wgl_search& operator=(const wgl_search&) = delete;

    verdict run(std::size_t budget, const check_options& opt,
                std::chrono::steady_clock::time_point deadline) override {
        while (mandatory_ != 0) {
            if ((++steps_ & 0x3fff) == 0 && opt.time_limit.count() != 0 &&
                std::chrono::steady_clock::now() > deadline) {
                return verdict::unknown;
            }
            const std::uint32_t entry = entry_;
            if (entry != end() && entry % 2 == 0) {  // a call: try to linearize it here
                const std::uint32_t i = entry / 2;
                const std::uint32_t t = table_.step(state_, i);
                if (t != state_table<M>::illegal &&
                    (completed_[i] ||
                     (t != state_ && (twin_[i] == none || linearized(twin_[i]))))) {
                    const bool only = observer_[i];  // the only move worth trying here
                    flip(i);
                    const std::uint64_t hb = bits_hash_ ^ zobrist_[i];
                    if (cache_.insert(bits_.data(), t, hb ^ (t + 1) * 0x9e3779b97f4a7c15ULL)) {
                        bits_hash_ = hb;
                        stack_.push_back({entry, state_, only});
                        state_ = t;
                        if (completed_[i]) --mandatory_;
                        unlink(entry);
                        unlink(entry + 1);
                        entry_ = next_[head()];
                        if (budget != 0 && cache_.size() > budget) return verdict::unknown;
                        continue;
                    }
                    flip(i);
                    if (only) {  // seen before, so it fails, and so does this configuration
                        if (!backtrack()) return verdict::not_linearizable;
                        continue;
                    }
                }
                entry_ = next_[entry];
                continue;
            }
            // A return (of an op not yet linearized), or the end: this configuration is stuck.
            if (entry != end()) {
                const std::size_t op = ids_[entry / 2];
                const std::size_t pos = h_.ops[op].ret;
                if (!have_frontier_ || pos > h_.ops[culprit_].ret) {
                    have_frontier_ = true;
                    culprit_ = op;
                    frontier_states_.clear();
                }
                if (pos == h_.ops[culprit_].ret && frontier_states_.size() < 8 &&
                    std::find(frontier_states_.begin(), frontier_states_.end(), state_) ==
                        frontier_states_.end()) {
                    frontier_states_.push_back(state_);
                }
            }
            if (!backtrack()) return verdict::not_linearizable;
        }
        return verdict::linearizable;
    }
    std::size_t explored() const override { return cache_.size(); }

    std::size_t culprit() const override { return culprit_; }
    std::vector<std::string> states() const override {
        std::vector<std::string> out;
        for (std::uint32_t s : frontier_states_) out.push_back(M::describe(table_[s]));
        return out;
    }

private:
    static constexpr std::uint32_t none = 0xffffffff;
    struct frame {
        std::uint32_t node, state;
        bool only;  // nothing else was worth trying where it was linearized
    };

    // Undoes linearizations back to the latest one that leaves other moves to try, and points
    // entry_ at the next; false if there is none.
    bool backtrack() {
        for (;;) {
            if (stack_.empty()) return false;
            const frame f = stack_.back();
            stack_.pop_back();
            const std::uint32_t i = f.node / 2;
            flip(i);
            bits_hash_ ^= zobrist_[i];
            if (completed_[i]) ++mandatory_;
            state_ = f.state;
            relink(f.node + 1);
            relink(f.node);
            entry_ = next_[f.node];
            if (!f.only) return true;
        }
    }

    std::uint32_t head() const noexcept { return static_cast<std::uint32_t>(2 * n_); }
    std::uint32_t end() const noexcept { return static_cast<std::uint32_t>(2 * n_ + 1); }
    void unlink(std::uint32_t x) {
        next_[prev_[x]] = next_[x];
        if (next_[x] != end()) prev_[next_[x]] = prev_[x];
    }
    void relink(std::uint32_t x) {
        next_[prev_[x]] = x;
        if (next_[x] != end()) prev_[next_[x]] = x;
    }
    void flip(std::uint32_t i) { bits_[i / 64] ^= std::uint64_t{1} << (i % 64); }
    bool linearized(std::uint32_t i) const { return (bits_[i / 64] >> (i % 64)) & 1; }

    const history& h_;
    const M m_;
    const std::vector<std::size_t> ids_;
    state_table<M> table_;
    const std::size_t n_;
    config_cache cache_;
    std::vector<std::uint32_t> next_, prev_;
    std::vector<std::uint64_t> zobrist_;
    std::vector<char> completed_, observer_;
    std::vector<std::uint32_t> twin_;  // the previous open-ended op acting alike, or none
    std::vector<std::uint64_t> bits_;
    std::uint64_t bits_hash_ = 0;
    std::vector<frame> stack_;
    std::uint32_t state_ = 0;
    std::uint32_t entry_ = 0;
    std::size_t mandatory_ = 0;
    std::size_t steps_ = 0;
    bool have_frontier_ = false;
    std::size_t culprit_ = 0;
    std::vector<std::uint32_t> frontier_states_;
};

}  // namespace detail

/// Checks that a history is linearizable with respect to model `m`: some total order of its
/// operations respects real time (an op returned before another was called goes first) and is a
/// legal run of the model. Completed ops must appear; open-ended ones (info, never completed) may
/// appear anywhere after their call, or not at all. Keys are checked independently (see
/// check_options::partition). Throws history_error if the model does not support an operation.
template <model M>
check_result check_linearizability(const history& h, const M& m, const check_options& opt = {}) {
    for (const operation& op : h.ops) {
        if (!m.supports(op)) {
            throw history_error(op.call_line, std::string("the ") + std::string(M::name) +
                                                  " model has no " + name(op.f) +
                                                  " operation; choose a model that has it");
        }
    }
    check_result r;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + opt.time_limit;
    // register_model and counter_model ignore keys: keys always name independent registers there.
    auto groups = detail::partition_ops(
        h, opt.partition || std::is_same_v<M, register_model> || std::is_same_v<M, counter_model>);
    r.partitions = groups.size();
    auto make = [&](const std::vector<std::size_t>& ids) -> std::unique_ptr<detail::group_search> {
        if constexpr (std::is_base_of_v<kv_model, M>) {
            // One register at a time is the same check without a map per state.
            bool plain = std::all_of(ids.begin(), ids.end(), [&](std::size_t i) {
                return h.ops[i].f != op_kind::txn && h.ops[i].key == h.ops[ids.front()].key;
            });
            if (plain) {
                return std::make_unique<detail::wgl_search<register_model>>(
                    h, ids, register_model{m.initial});
            }
        }
        return std::make_unique<detail::wgl_search<M>>(h, ids, m);
    };
    // Groups are searched in rounds with a growing budget of configurations, so one hopeless
    // group (an exhaustive search of a bad key) cannot hide a cheap refutation in another: the
    // first group found not linearizable decides. Each round resumes the unfinished searches with
    // four times the budget; a search too large to keep (see kept_states) starts over, which at
    // most adds a third to the work of its last round.
    constexpr std::size_t kept_states = std::size_t{1} << 22;
    std::vector<std::unique_ptr<detail::group_search>> searches(groups.size());
    std::unique_ptr<detail::group_search> failure;
    std::vector<std::size_t> pending(groups.size());
    std::iota(pending.begin(), pending.end(), std::size_t{0});
    std::size_t budget = 1u << 12;
    bool out_of_time = false, out_of_states = false;
    auto drop = [&](std::unique_ptr<detail::group_search>& s) {
        r.explored += s->explored();
        s.reset();
    };
    while (!pending.empty() && !failure && !out_of_time) {
        // A group alone has nothing to hide: it gets the whole bound at once.
        if (pending.size() == 1 || (opt.max_states != 0 && budget >= opt.max_states)) {
            budget = opt.max_states;
        }
        std::vector<std::size_t> unfinished;
        std::size_t kept = 0;
        for (std::size_t g : pending) {
            auto& s = searches[g];
            if (!s) s = make(groups[g]);
            const verdict v = s->run(budget, opt, deadline);
            if (v == verdict::not_linearizable) {
                r.explored += s->explored();
                failure = std::move(s);
                break;
            }
            if (v == verdict::linearizable) {
                drop(s);
                continue;
            }
            unfinished.push_back(g);
            if (kept + s->explored() <= kept_states) {
                kept += s->explored();
            } else {
                drop(s);
            }
            if (opt.time_limit.count() != 0 && std::chrono::steady_clock::now() > deadline) {
                out_of_time = true;
                break;
            }
        }
        pending = std::move(unfinished);
        if (!out_of_time && !pending.empty() &&
            (budget == 0 || (opt.max_states != 0 && budget >= opt.max_states))) {
            out_of_states = true;
            break;
        }
        budget *= 4;
    }
    for (auto& s : searches) {
        if (s) drop(s);
    }
    if (!failure && (out_of_time || out_of_states)) {
        r.result = verdict::unknown;
        r.reason = out_of_time ? "the time limit was reached"
                               : "a key group needed more than " + std::to_string(opt.max_states) +
                                     " states";
    }
    if (failure) {
        r.result = verdict::not_linearizable;
        r.culprit = failure->culprit();
        r.states = failure->states();
        const operation& c = h.ops[*r.culprit];
        auto group = std::find_if(groups.begin(), groups.end(), [&](const auto& g) {
            return std::find(g.begin(), g.end(), *r.culprit) != g.end();
        });
        for (std::size_t i : *group) {
            const operation& op = h.ops[i];
            if (i != *r.culprit && op.call < c.ret && op.ret > c.call) r.concurrent.push_back(i);
        }
        r.reason.clear();
    }
    return r;
}

}  // namespace capkit::check

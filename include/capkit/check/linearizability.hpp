// SPDX-License-Identifier: MIT
/// @file Defines capkit::check::check_linearizability, a Wing-Gong-Lowe search with Lowe's
/// memoization, run on each independent group of keys.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
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

// The outcome of one partition's search.
struct search_outcome {
    verdict result = verdict::linearizable;
    std::size_t culprit = 0;  // index into history::ops
    std::vector<std::string> states;
    std::size_t explored = 0;
};

// Lowe's cache of configurations seen: (set of linearized ops, model state). Bitsets live in one
// pool; the set holds entry numbers and finds them by a precomputed hash.
template <class State>
class config_cache {
public:
    explicit config_cache(std::size_t words) : words_(words), set_(0, hasher{this}, equal{this}) {}

    // Adds the configuration; false if it was there already.
    bool insert(const std::vector<std::uint64_t>& bits, const State& s, std::size_t h) {
        probe p{bits.data(), &s, h};
        if (set_.find(p) != set_.end()) return false;
        pool_.insert(pool_.end(), bits.begin(), bits.end());
        states_.push_back(s);
        hashes_.push_back(h);
        set_.insert(static_cast<std::uint32_t>(hashes_.size() - 1));
        return true;
    }
    std::size_t size() const noexcept { return hashes_.size(); }

private:
    struct probe {
        const std::uint64_t* bits;
        const State* state;
        std::size_t hash;
    };
    struct hasher {
        using is_transparent = void;
        using is_avalanching = void;
        const config_cache* c;
        std::size_t operator()(std::uint32_t i) const noexcept { return c->hashes_[i]; }
        std::size_t operator()(const probe& p) const noexcept { return p.hash; }
    };
    struct equal {
        using is_transparent = void;
        const config_cache* c;
        bool same(std::uint32_t i, const probe& p) const {
            return c->hashes_[i] == p.hash &&
                   std::equal(p.bits, p.bits + c->words_, c->pool_.begin() + i * c->words_) &&
                   c->states_[i] == *p.state;
        }
        bool operator()(std::uint32_t a, std::uint32_t b) const noexcept { return a == b; }
        bool operator()(std::uint32_t i, const probe& p) const { return same(i, p); }
        bool operator()(const probe& p, std::uint32_t i) const { return same(i, p); }
    };

    std::size_t words_;
    std::vector<std::uint64_t> pool_;
    std::vector<State> states_;
    std::vector<std::size_t> hashes_;
    boost::unordered_flat_set<std::uint32_t, hasher, equal> set_;
};

// The WGL search over the ops `ids` of h (sorted by call), as in Lowe's "Testing for
// linearizability" and Porcupine: a doubly linked list of call and return entries in history
// order; linearizing an op lifts both its entries out, reaching a return entry backtracks.
template <class M>
search_outcome search(const history& h, const std::vector<std::size_t>& ids, const M& m,
                      const check_options& opt, std::chrono::steady_clock::time_point deadline,
                      std::size_t state_budget) {
    using state_t = typename M::state;
    search_outcome out;
    const std::size_t n = ids.size();
    if (n == 0) return out;

    // Entries 0..2n-1: 2i is the call of ids[i], 2i+1 its return. Node 2n is the head.
    struct node_pos {
        std::size_t pos, tie, node;
    };
    std::vector<node_pos> order;
    order.reserve(2 * n);
    for (std::size_t i = 0; i < n; ++i) {
        const operation& op = h.ops[ids[i]];
        order.push_back({op.call, 0, 2 * i});
        order.push_back({op.ret, i, 2 * i + 1});  // open-ended returns: at the end, by call
    }
    std::sort(order.begin(), order.end(), [](const node_pos& a, const node_pos& b) {
        return a.pos != b.pos ? a.pos < b.pos : a.tie < b.tie;
    });
    const std::size_t head = 2 * n;
    std::vector<std::size_t> next(2 * n + 1), prev(2 * n + 1);
    std::size_t last = head;
    for (const node_pos& p : order) {
        next[last] = p.node;
        prev[p.node] = last;
        last = p.node;
    }
    const std::size_t end = 2 * n + 1;  // past the last entry
    next[last] = end;

    auto unlink = [&](std::size_t x) {
        next[prev[x]] = next[x];
        if (next[x] != end) prev[next[x]] = prev[x];
    };
    auto relink = [&](std::size_t x) {
        next[prev[x]] = x;
        if (next[x] != end) prev[next[x]] = x;
    };

    std::size_t mandatory = 0;
    std::vector<std::uint64_t> zobrist(n);
    capkit::detail::rng rng(0x6361706b6974ULL + n);
    for (std::size_t i = 0; i < n; ++i) {
        zobrist[i] = rng.next();
        if (h.ops[ids[i]].completed) ++mandatory;
    }

    const std::size_t words = (n + 63) / 64;
    std::vector<std::uint64_t> bits(words, 0);
    std::uint64_t bits_hash = 0;
    config_cache<state_t> cache(words);
    struct frame {
        std::size_t node;
        state_t state;
    };
    std::vector<frame> stack;
    stack.reserve(n);
    state_t s = m.init();
    std::size_t frontier = 0;
    bool have_frontier = false;
    std::size_t steps = 0;

    std::size_t entry = next[head];
    while (mandatory != 0) {
        if ((++steps & 0x3fff) == 0 && opt.time_limit.count() != 0 &&
            std::chrono::steady_clock::now() > deadline) {
            out.result = verdict::unknown;
            out.explored = cache.size();
            return out;
        }
        if (entry != end && entry % 2 == 0) {  // a call: try to linearize it here
            const std::size_t i = entry / 2;
            const operation& op = h.ops[ids[i]];
            state_t t = s;
            if (m.step(t, op)) {
                bits[i / 64] ^= std::uint64_t{1} << (i % 64);
                std::uint64_t hb = bits_hash ^ zobrist[i];
                if (cache.insert(bits, t, mix(hb ^ M::hash(t)))) {
                    if (state_budget != 0 && cache.size() > state_budget) {
                        out.result = verdict::unknown;
                        out.explored = cache.size();
                        return out;
                    }
                    bits_hash = hb;
                    stack.push_back({entry, std::move(s)});
                    s = std::move(t);
                    if (op.completed) --mandatory;
                    unlink(entry);
                    unlink(entry + 1);
                    entry = next[head];
                    continue;
                }
                bits[i / 64] ^= std::uint64_t{1} << (i % 64);
            }
            entry = next[entry];
            continue;
        }
        // A return (of an op not yet linearized), or the end: this configuration is stuck.
        if (entry != end) {
            const std::size_t pos = h.ops[ids[entry / 2]].ret;
            if (!have_frontier || pos > frontier) {
                have_frontier = true;
                frontier = pos;
                out.culprit = ids[entry / 2];
                out.states.clear();
            }
            if (pos == frontier && out.states.size() < 8) {
                std::string d = M::describe(s);
                if (std::find(out.states.begin(), out.states.end(), d) == out.states.end()) {
                    out.states.push_back(std::move(d));
                }
            }
        }
        if (stack.empty()) {
            out.result = verdict::not_linearizable;
            out.explored = cache.size();
            return out;
        }
        frame f = std::move(stack.back());
        stack.pop_back();
        const std::size_t i = f.node / 2;
        bits[i / 64] ^= std::uint64_t{1} << (i % 64);
        bits_hash ^= zobrist[i];
        if (h.ops[ids[i]].completed) ++mandatory;
        s = std::move(f.state);
        relink(f.node + 1);
        relink(f.node);
        entry = next[f.node];
    }
    out.explored = cache.size();
    return out;
}

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
    // register_model ignores keys: keys always name independent registers there.
    auto groups = detail::partition_ops(h, opt.partition || std::is_same_v<M, register_model>);
    r.partitions = groups.size();
    // Groups are searched in rounds with a growing budget of configurations, so one hopeless
    // group (an exhaustive search of a bad key) cannot hide a cheap refutation in another: the
    // first group found not linearizable decides. Each round restarts the unfinished searches
    // with four times the budget, which at most adds a third to the work of the last.
    std::optional<detail::search_outcome> failure;
    std::vector<std::size_t> pending(groups.size());
    std::iota(pending.begin(), pending.end(), std::size_t{0});
    std::size_t budget = 1u << 12;
    bool out_of_time = false, out_of_states = false;
    while (!pending.empty() && !failure && !out_of_time) {
        // A group alone has nothing to hide: it gets the whole bound at once.
        if (pending.size() == 1 || (opt.max_states != 0 && budget >= opt.max_states)) {
            budget = opt.max_states;
        }
        std::vector<std::size_t> unfinished;
        for (std::size_t g : pending) {
            const auto& ids = groups[g];
            detail::search_outcome o;
            bool plain = false;
            if constexpr (std::is_base_of_v<kv_model, M>) {
                // One register at a time is the same check without a map per state.
                plain = std::all_of(ids.begin(), ids.end(), [&](std::size_t i) {
                    return h.ops[i].f != op_kind::txn && h.ops[i].key == h.ops[ids.front()].key;
                });
                if (plain) {
                    o = detail::search(h, ids, register_model{m.initial}, opt, deadline, budget);
                }
            }
            if (!plain) o = detail::search(h, ids, m, opt, deadline, budget);
            r.explored += o.explored;
            if (o.result == verdict::not_linearizable) {
                failure = std::move(o);
                break;
            }
            if (o.result == verdict::unknown) {
                unfinished.push_back(g);
                if (opt.time_limit.count() != 0 && std::chrono::steady_clock::now() > deadline) {
                    out_of_time = true;
                    break;
                }
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
    if (!failure && (out_of_time || out_of_states)) {
        r.result = verdict::unknown;
        r.reason = out_of_time ? "the time limit was reached"
                               : "a key group needed more than " + std::to_string(opt.max_states) +
                                     " states";
    }
    if (failure) {
        r.result = verdict::not_linearizable;
        r.culprit = failure->culprit;
        r.states = std::move(failure->states);
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

// SPDX-License-Identifier: MIT
/// @file Defines the sequential models the linearizability checker replays: register, counter,
/// kv and multi-register.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/check/history.hpp>

namespace capkit::check {

/// A sequential specification: a start state and a step that applies one operation to a state
/// if the operation's outcome is legal there.
/// Laws: step leaves the state untouched when it returns false; an operation that is not
/// completed (info) is legal in every state, so it may be linearized late or never. A model may
/// also say which operations only observe (`m.observes(op)`: step leaves every state exactly as
/// it is, as a read); the checker then steps them on its own copy of the state, and linearizes
/// such an op as soon as it is legal, trying nothing else.
/// Models: register_model, counter_model, kv_model, multi_register_model.
template <class M>
concept model = std::regular<typename M::state> &&
    requires(const M& m, typename M::state& s, const operation& op) {
    { m.init() } -> std::same_as<typename M::state>;
    { m.step(s, op) } -> std::same_as<bool>;
    { M::hash(s) } -> std::same_as<std::size_t>;
    { M::describe(s) } -> std::convertible_to<std::string>;
    { m.supports(op) } -> std::same_as<bool>;
};

namespace detail {
inline std::size_t hash_value(const value& v) noexcept {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
        return static_cast<std::size_t>(static_cast<std::uint64_t>(*i) * 0x9e3779b97f4a7c15ULL);
    }
    if (const auto* s = std::get_if<std::string>(&v)) return std::hash<std::string>{}(*s) ^ 1;
    return 0x51ed27f1;
}

// Whether step_register leaves every state as it is for op: a read, a cas that returned false,
// a cas to the value it expects.
inline bool observes_register(const operation& op) {
    return op.f == op_kind::read ||
           (op.f == op_kind::cas && op.completed && (!op.cas_succeeded || op.expected == op.val));
}

// One register under read, write, cas, append and add; the shared step of every model.
inline bool step_register(value& s, const operation& op) {
    switch (op.f) {
        case op_kind::read:
            return !op.known || !op.completed || s == op.val;
        case op_kind::write:
            s = op.val;
            return true;
        case op_kind::cas:
            if (!op.completed) {  // unknown outcome: applies if it matches, else had no effect
                if (s == op.expected) s = op.val;
                return true;
            }
            if (!op.cas_succeeded) return s != op.expected;
            if (s != op.expected) return false;
            s = op.val;
            return true;
        case op_kind::append: {
            const auto* arg = std::get_if<std::string>(&op.val);
            if (!arg) return !op.completed;  // appends only strings
            if (std::holds_alternative<std::monostate>(s)) {
                s = *arg;
                return true;
            }
            auto* str = std::get_if<std::string>(&s);
            if (!str) return !op.completed;
            *str += *arg;
            return true;
        }
        case op_kind::add: {
            const auto* delta = std::get_if<std::int64_t>(&op.val);
            if (!delta) return !op.completed;  // adds only integers
            if (std::holds_alternative<std::monostate>(s)) {
                s = *delta;  // absent counts as 0
                return true;
            }
            auto* sum = std::get_if<std::int64_t>(&s);
            if (!sum) return !op.completed;
            // Wraps around as the database's 64-bit counter would, without undefined behaviour.
            *sum = static_cast<std::int64_t>(static_cast<std::uint64_t>(*sum) +
                                             static_cast<std::uint64_t>(*delta));
            return true;
        }
        case op_kind::txn:
            return false;
    }
    return false;
}
}  // namespace detail

/// One register: read (must see the current value; nil is absent), write, compare-and-set,
/// append for strings and add for integers (absent counts as 0). Keys are independent registers:
/// the checker splits a history by key.
struct register_model {
    static constexpr std::string_view name = "register";
    using state = value;
    value initial{};  ///< absent by default

    state init() const { return initial; }
    bool supports(const operation& op) const { return op.f != op_kind::txn; }
    bool observes(const operation& op) const { return detail::observes_register(op); }
    bool step(state& s, const operation& op) const { return detail::step_register(s, op); }
    static std::size_t hash(const state& s) noexcept { return detail::hash_value(s); }
    static std::string describe(const state& s) { return to_string(s); }
};
static_assert(model<register_model>);

/// Jepsen's counter workload: one integer per key, starting at `initial` (0), under add (an
/// integer delta, which may be negative) and read (must see the sum of the adds linearized
/// before it). An add that returned info may have counted or not. Keys are independent counters.
struct counter_model {
    static constexpr std::string_view name = "counter";
    using state = value;
    value initial{std::int64_t{0}};

    state init() const { return initial; }
    bool supports(const operation& op) const {
        return op.f == op_kind::read || op.f == op_kind::add;
    }
    bool observes(const operation& op) const { return op.f == op_kind::read; }
    bool step(state& s, const operation& op) const { return detail::step_register(s, op); }
    static std::size_t hash(const state& s) noexcept { return detail::hash_value(s); }
    static std::string describe(const state& s) { return to_string(s); }
};
static_assert(model<counter_model>);

/// A map of registers, every key starting at `initial`: the register operations on one key
/// (read, write, cas, append, add), and txn, a list of reads and writes applied atomically. Checked
/// whole, it needs no partition; the checker still splits it into independent groups of keys, which
/// is exact (linearizability is local) and much faster.
struct kv_model {
    static constexpr std::string_view name = "kv";
    /// Sorted by key; keys that hold `initial` (never written, or written back) are absent.
    using state = std::vector<std::pair<std::string, value>>;
    value initial{};

    state init() const { return {}; }
    bool supports(const operation&) const { return true; }
    bool observes(const operation& op) const {
        if (op.f != op_kind::txn) return detail::observes_register(op);
        return std::none_of(op.txn.begin(), op.txn.end(),
                            [](const micro_op& m) { return m.is_write; });
    }
    bool step(state& s, const operation& op) const {
        if (op.f != op_kind::txn) {
            const std::string& k = op.key ? *op.key : empty_key();
            auto it = find(s, k);
            value v = (it != s.end() && it->first == k) ? it->second : initial;
            if (!detail::step_register(v, op)) return false;
            if (!detail::observes_register(op)) store(s, it, k, std::move(v));
            return true;
        }
        // Reads are checked against the state as the txn's earlier writes left it.
        state next = s;
        for (const micro_op& m : op.txn) {
            auto it = find(next, m.key);
            bool present = it != next.end() && it->first == m.key;
            if (m.is_write) {
                store(next, it, m.key, m.val);
            } else if (m.known && op.completed && (present ? it->second : initial) != m.val) {
                return false;
            }
        }
        s = std::move(next);
        return true;
    }
    static std::size_t hash(const state& s) noexcept {
        std::size_t h = s.size();
        for (const auto& [k, v] : s) {
            h = h * 31 + (std::hash<std::string>{}(k) ^ (detail::hash_value(v) << 1));
        }
        return h;
    }
    static std::string describe(const state& s) {
        std::string out = "{";
        for (const auto& [k, v] : s) {
            if (out.size() > 1) out += ", ";
            out += k + " " + to_string(v);
        }
        return out + "}";
    }

private:
    static const std::string& empty_key() {
        static const std::string empty;
        return empty;
    }
    static state::iterator find(state& s, const std::string& k) {
        return std::lower_bound(
            s.begin(), s.end(), k,
            [](const auto& entry, const std::string& key) { return entry.first < key; });
    }
    // Keys that hold `initial` are left out, so that equal maps are equal states.
    void store(state& s, state::iterator it, const std::string& k, value v) const {
        const bool present = it != s.end() && it->first == k;
        if (v == initial) {
            if (present) s.erase(it);
        } else if (present) {
            it->second = std::move(v);
        } else {
            s.emplace(it, k, std::move(v));
        }
    }
};
static_assert(model<kv_model>);

/// Knossos's multi-register: registers named by key (every one starting at `initial`), read and
/// written together by txn operations applied atomically.
struct multi_register_model : kv_model {
    static constexpr std::string_view name = "multi-register";
    bool supports(const operation& op) const {
        return op.f != op_kind::append && op.f != op_kind::add;
    }
};
static_assert(model<multi_register_model>);

}  // namespace capkit::check

// SPDX-License-Identifier: MIT
/// @file Defines capkit::check's history: events, the operations they pair into, and values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace capkit::check {

/// What a register holds or an operation carries: absent (nil), an integer or a string.
using value = std::variant<std::monostate, std::int64_t, std::string>;

/// A value as EDN prints it: nil, 5, "abc".
inline std::string to_string(const value& v) {
    if (std::holds_alternative<std::monostate>(v)) return "nil";
    if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    std::string out = "\"";
    for (char c : std::get<std::string>(v)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + '"';
}

/// Jepsen's event types: a call, then one completion that says whether it took effect.
enum class event_type {
    invoke,  ///< the call
    ok,      ///< it happened
    fail,    ///< it certainly did not happen
    info,    ///< unknown: it may take effect at any time after its call, or never
};

/// The operations the models know. `add` adds an integer delta to a counter (Jepsen's counter
/// workload); an absent value counts as 0.
enum class op_kind { read, write, cas, append, txn, add };

/// The keyword of an event type (`ok`) or an operation (`cas`).
constexpr const char* name(event_type t) noexcept {
    constexpr const char* names[] = {"invoke", "ok", "fail", "info"};
    return names[static_cast<int>(t)];
}
constexpr const char* name(op_kind f) noexcept {
    constexpr const char* names[] = {"read", "write", "cas", "append", "txn", "add"};
    return names[static_cast<int>(f)];
}

/// One step of a transaction: a read of `key` (which saw `val`, or anything if not `known`) or a
/// write of `val` to `key`. The steps of a txn apply atomically, in order.
struct micro_op {
    bool is_write = false;
    std::string key;
    value val;
    bool known = true;
    friend bool operator==(const micro_op&, const micro_op&) = default;
};

/// One line of a history, as recorded by a client or a nemesis.
struct event {
    std::optional<std::int64_t> process;  ///< empty for the nemesis and other non-clients
    event_type type = event_type::invoke;
    op_kind f = op_kind::read;
    std::optional<std::string> key;  ///< empty: the single register
    /// read: what was read; write, append and add: the argument; cas: the new value.
    value val;
    value expected;         ///< cas: the value it compares with
    bool known = true;      ///< false: the value is unknown (a read of nil in Knossos, :timed-out)
    bool has_value = true;  ///< false: the event carries no value (a completion may omit it)
    bool cas_succeeded = true;         ///< false: an ok cas that returned false (state != expected)
    std::vector<micro_op> txn;         ///< txn: the micro-operations
    std::optional<std::int64_t> time;  ///< nanoseconds, if recorded
    std::size_t line = 0;              ///< 1-based line of the source, 0 if none
};

/// Position of the return of an operation that never returned (info, or no completion).
inline constexpr std::size_t never = std::numeric_limits<std::size_t>::max();

/// An invocation paired with its completion: the unit the checker linearizes.
struct operation {
    std::int64_t process = 0;
    op_kind f = op_kind::read;
    std::optional<std::string> key;
    value val;       ///< as in event, taken from the ok completion
    value expected;  ///< cas
    bool known = true;
    bool cas_succeeded = true;
    std::vector<micro_op> txn;
    /// False for info and never-completed calls: they may take effect at any time after their
    /// call, or never; their return is at +infinity.
    bool completed = true;
    std::size_t call = 0;     ///< 0-based position of the invoke in the file's events
    std::size_t ret = never;  ///< 0-based position of the completion; never if open-ended
    std::size_t call_line = 0, ret_line = 0;
    std::optional<std::int64_t> call_time, ret_time;
};

/// The operations of a history, in the order of their calls.
struct history {
    std::vector<operation> ops;
    std::size_t events = 0;  ///< events read, nemesis included
};

/// A malformed history or input line; says which line and what is wrong.
class history_error : public std::runtime_error {
public:
    history_error(std::size_t line, const std::string& what)
        : std::runtime_error(what), line_(line) {}
    /// 1-based line of the input, 0 if unknown.
    std::size_t line() const noexcept { return line_; }

private:
    std::size_t line_;
};

/// Pairs each invoke with the next completion of the same process. An ok completion's value
/// replaces the invocation's (reads invoke with nil) unless it carries none; a fail drops both (it
/// did not happen); an info, or no completion at all, leaves the operation open-ended. Events of
/// non-integer processes (the nemesis) and info events with no open call are ignored. Throws
/// history_error for an ok or fail with no open call, a second call of a busy process, or a
/// completion of another operation than the one called.
inline history pair_events(const std::vector<event>& events) {
    history h;
    h.events = events.size();
    std::unordered_map<std::int64_t, std::size_t> open;  // process -> index in h.ops
    std::vector<bool> dropped;
    for (std::size_t i = 0; i < events.size(); ++i) {
        const event& e = events[i];
        if (!e.process) continue;
        auto it = open.find(*e.process);
        if (e.type == event_type::invoke) {
            if (it != open.end()) {
                throw history_error(e.line, "process " + std::to_string(*e.process) +
                                                " invokes again while its call on line " +
                                                std::to_string(h.ops[it->second].call_line) +
                                                " is still open; complete it first (ok, fail "
                                                "or info)");
            }
            operation op;
            op.process = *e.process;
            op.f = e.f;
            op.key = e.key;
            op.val = e.val;
            op.expected = e.expected;
            op.known = e.f != op_kind::read;  // a call has not read anything yet
            op.txn = e.txn;
            op.completed = false;
            op.call = i;
            op.call_line = e.line;
            op.call_time = e.time;
            open.emplace(*e.process, h.ops.size());
            h.ops.push_back(std::move(op));
            dropped.push_back(false);
            continue;
        }
        if (it == open.end()) {
            if (e.type == event_type::info) continue;  // a crash report with nothing open
            throw history_error(e.line, std::string("process ") + std::to_string(*e.process) +
                                            " completes (" + name(e.type) +
                                            ") an operation it never invoked; every ok or fail "
                                            "follows an invoke of the same process");
        }
        std::size_t index = it->second;
        open.erase(it);
        operation& op = h.ops[index];
        if (e.f != op.f) {
            throw history_error(e.line, std::string("process ") + std::to_string(*e.process) +
                                            " completes a " + name(e.f) + " but invoked a " +
                                            name(op.f) + " on line " +
                                            std::to_string(op.call_line));
        }
        if (e.type == event_type::fail) {
            dropped[index] = true;
            continue;
        }
        op.ret_line = e.line;
        op.ret_time = e.time;
        if (e.type == event_type::info) continue;  // open-ended: ret stays never
        op.completed = true;
        op.ret = i;
        op.cas_succeeded = e.cas_succeeded;
        if (op.f == op_kind::read) {
            op.val = e.val;
            op.known = e.known && e.has_value;
        } else if (op.f == op_kind::txn) {
            if (!e.txn.empty()) op.txn = e.txn;
        } else if (e.has_value && e.known) {
            op.val = e.val;
            op.expected = e.expected;
        }
        if (e.key) op.key = e.key;
    }
    std::vector<operation> kept;
    kept.reserve(h.ops.size());
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
        if (!dropped[i]) kept.push_back(std::move(h.ops[i]));
    }
    h.ops = std::move(kept);
    return h;
}

/// An operation as Knossos prints its completion: `{:process 1, :type :ok, :f :read, :value 3}`.
inline std::string describe(const operation& op) {
    std::string out = "{:process " + std::to_string(op.process) + ", :type " +
                      (op.completed ? ":ok" : ":info") + ", :f :" + name(op.f);
    if (op.key) out += ", :key " + to_string(value(*op.key));
    out += ", :value ";
    switch (op.f) {
        case op_kind::read:
            out += op.known ? to_string(op.val) : "nil";
            break;
        case op_kind::cas:
            out += "[" + to_string(op.expected) + " " + to_string(op.val) + "]";
            if (op.completed && !op.cas_succeeded) out += ", :result false";
            break;
        case op_kind::txn: {
            out += "[";
            for (std::size_t i = 0; i < op.txn.size(); ++i) {
                const micro_op& m = op.txn[i];
                if (i) out += " ";
                out += std::string(m.is_write ? "[:w " : "[:r ") + to_string(value(m.key)) + " " +
                       (m.known ? to_string(m.val) : "nil") + "]";
            }
            out += "]";
            break;
        }
        default:
            out += to_string(op.val);
    }
    return out + "}";
}

}  // namespace capkit::check

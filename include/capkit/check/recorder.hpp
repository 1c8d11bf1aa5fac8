// SPDX-License-Identifier: MIT
/// @file Defines capkit::check::recorder, which writes client operations down as Jepsen-style
/// events, and write_jsonl, which prints them in the format of docs/history-format.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/check/history.hpp>

namespace capkit::check {

/// Records a history as clients make it: each call is an invoke event; its completion is ok (it
/// happened), fail (it certainly did not) or info (unknown: it may take effect at any time after
/// its call, or never). A process has one call open at a time, as in Jepsen.
class recorder {
public:
    /// Records the call of `f` on `key` by `process` at `time` (nanoseconds) with its argument:
    /// the value written or added, the new value of a cas (with `expected`), nil for a read.
    void invoke(std::int64_t process, op_kind f, std::string key, value arg, std::int64_t time,
                value expected = {}) {
        event e;
        e.process = process;
        e.type = event_type::invoke;
        e.f = f;
        e.key = std::move(key);
        e.val = std::move(arg);
        e.expected = std::move(expected);
        e.time = time;
        open_.insert_or_assign(process, events_.size());
        events_.push_back(std::move(e));
    }

    /// Records that the open call of `process` completed as `type`; a read's ok carries what it
    /// read (`result`; nil for absent), other completions repeat the call's argument.
    void complete(std::int64_t process, event_type type, std::int64_t time,
                  std::optional<value> result = std::nullopt) {
        auto it = open_.find(process);
        if (it == open_.end()) return;  // nothing open: nothing to complete
        event e = events_[it->second];
        open_.erase(it);
        e.type = type;
        e.time = time;
        if (result) e.val = std::move(*result);
        events_.push_back(std::move(e));
    }

    /// True while `process` has a call with no completion.
    bool busy(std::int64_t process) const { return open_.contains(process); }

    const std::vector<event>& events() const noexcept { return events_; }
    std::vector<event> take() {
        open_.clear();
        return std::exchange(events_, {});
    }

private:
    std::vector<event> events_;
    std::unordered_map<std::int64_t, std::size_t> open_;  // process -> its invoke
};

namespace detail {
inline void write_json_string(std::ostream& out, const std::string& s) {
    out << '"';
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out << "\\\"";
                break;
            case '\\':
                out << "\\\\";
                break;
            case '\n':
                out << "\\n";
                break;
            case '\t':
                out << "\\t";
                break;
            default:
                if (c < 0x20) {
                    constexpr char hex[] = "0123456789abcdef";
                    out << "\\u00" << hex[c >> 4] << hex[c & 15];
                } else {
                    out << static_cast<char>(c);
                }
        }
    }
    out << '"';
}

inline void write_json_value(std::ostream& out, const value& v) {
    if (std::holds_alternative<std::monostate>(v)) {
        out << "null";
    } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
        out << *i;
    } else {
        write_json_string(out, std::get<std::string>(v));
    }
}
}  // namespace detail

/// Prints `events` as JSON lines, one event per line, as docs/history-format.md describes and
/// read_jsonl reads back.
inline void write_jsonl(std::ostream& out, const std::vector<event>& events) {
    for (const event& e : events) {
        out << "{\"process\": ";
        if (e.process) {
            out << *e.process;
        } else {
            out << "\"nemesis\"";
        }
        out << ", \"type\": \"" << name(e.type) << "\", \"f\": \"" << name(e.f) << '"';
        if (e.key) {
            out << ", \"key\": ";
            detail::write_json_string(out, *e.key);
        }
        out << ", \"value\": ";
        if (e.f == op_kind::cas) {
            out << '[';
            detail::write_json_value(out, e.expected);
            out << ", ";
            detail::write_json_value(out, e.val);
            out << ']';
        } else if (e.f == op_kind::read && e.type != event_type::ok) {
            out << "null";
        } else {
            detail::write_json_value(out, e.val);
        }
        if (e.time) out << ", \"time\": " << *e.time;
        out << "}\n";
    }
}

}  // namespace capkit::check

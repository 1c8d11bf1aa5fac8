// SPDX-License-Identifier: MIT
/// @file Defines the readers of Jepsen EDN histories and Jepsen log lines, and format detection.
/// JSON lines are read by capkit/check/json_history.hpp, which needs Boost.JSON.
#pragma once

#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <capkit/check/history.hpp>

namespace capkit::check {

/// The three history formats capkit-check reads.
enum class format { jsonl, edn, jepsen_log };

/// `jsonl`, `edn` or `jepsen-log`.
constexpr const char* name(format f) noexcept {
    constexpr const char* names[] = {"jsonl", "edn", "jepsen-log"};
    return names[static_cast<int>(f)];
}

/// How a reader turns values into events.
struct read_options {
    /// A completed read of nil means "unknown, any value" (Knossos) instead of "absent".
    bool nil_read_unknown = false;
    /// A failed cas returned false: it happened where the state differed from the expected value
    /// (Porcupine's etcd model), instead of not happening at all (Jepsen, Knossos).
    bool failed_cas_mismatch = false;
};

/// The defaults each format's origin uses: Knossos EDN reads nil as unknown; Porcupine's etcd
/// logs take a failed cas as a compare that did not match; JSON lines follow Jepsen plainly.
inline read_options default_read_options(format f) {
    read_options o;
    o.nil_read_unknown = f == format::edn;
    o.failed_cas_mismatch = f == format::jepsen_log;
    return o;
}

/// A parsed EDN (or JSON) value: only what histories use.
struct datum {
    enum class kind { nil, boolean, integer, string, keyword, symbol, vector, map };
    kind k = kind::nil;
    bool b = false;
    std::int64_t i = 0;
    std::string s;             ///< string text, or keyword/symbol name without the colon
    std::vector<datum> items;  ///< vector or list elements; map keys and values alternating
    std::size_t line = 0;

    /// The map value under keyword or string `key`, or nullptr.
    const datum* get(std::string_view key) const {
        if (k != kind::map) return nullptr;
        for (std::size_t j = 0; j + 1 < items.size(); j += 2) {
            const datum& key_datum = items[j];
            if ((key_datum.k == kind::keyword || key_datum.k == kind::string) &&
                key_datum.s == key) {
                return &items[j + 1];
            }
        }
        return nullptr;
    }
    bool is_text() const { return k == kind::keyword || k == kind::string || k == kind::symbol; }
};

/// Reads EDN forms one after another: maps, vectors, lists, keywords, strings, integers, nil,
/// true and false; `;` comments and commas are whitespace. Throws history_error.
class edn_reader {
public:
    explicit edn_reader(std::string_view text, std::size_t first_line = 1)
        : text_(text), line_(first_line) {}

    /// The next form, or nothing at the end of the text.
    std::optional<datum> next() {
        skip();
        if (pos_ >= text_.size()) return std::nullopt;
        return read();
    }
    /// The line the reader is on.
    std::size_t line() const noexcept { return line_; }

private:
    // The C locale's isspace, without a call.
    static constexpr bool space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
    }
    void skip() {
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '\n') {
                ++line_;
                ++pos_;
            } else if (c == ';') {
                while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
            } else if (c == ',' || space(c)) {
                ++pos_;
            } else {
                break;
            }
        }
    }
    [[noreturn]] void fail(const std::string& what) const { throw history_error(line_, what); }
    static bool delimiter(char c) {
        return space(c) || c == ',' || c == ';' || c == '(' || c == ')' || c == '[' || c == ']' ||
               c == '{' || c == '}' || c == '"';
    }
    datum read() {
        skip();
        if (pos_ >= text_.size()) fail("the input ends inside a form; a bracket is not closed");
        datum d;
        d.line = line_;
        char c = text_[pos_];
        if (c == '{' || c == '[' || c == '(') {
            char close = c == '{' ? '}' : c == '[' ? ']' : ')';
            d.k = c == '{' ? datum::kind::map : datum::kind::vector;
            ++pos_;
            for (;;) {
                skip();
                if (pos_ >= text_.size()) {
                    throw history_error(
                        d.line, std::string("this '") + c + "' is never closed by '" + close + "'");
                }
                if (text_[pos_] == close) {
                    ++pos_;
                    break;
                }
                if (text_[pos_] == ')' || text_[pos_] == ']' || text_[pos_] == '}') {
                    fail(std::string("unexpected '") + text_[pos_] + "'; expected '" + close + "'");
                }
                d.items.push_back(read());
            }
            if (d.k == datum::kind::map && d.items.size() % 2 != 0) {
                throw history_error(d.line, "a map has a key without a value");
            }
            return d;
        }
        if (c == '"') {
            d.k = datum::kind::string;
            ++pos_;
            for (;;) {
                if (pos_ >= text_.size()) throw history_error(d.line, "a string is not closed");
                char x = text_[pos_++];
                if (x == '"') break;
                if (x == '\n') ++line_;
                if (x == '\\' && pos_ < text_.size()) {
                    char e = text_[pos_++];
                    d.s += e == 'n' ? '\n' : e == 't' ? '\t' : e;
                } else {
                    d.s += x;
                }
            }
            return d;
        }
        if (c == ')' || c == ']' || c == '}') fail(std::string("unexpected '") + c + "'");
        std::size_t begin = pos_;
        while (pos_ < text_.size() && !delimiter(text_[pos_])) ++pos_;
        std::string_view token = text_.substr(begin, pos_ - begin);
        if (token.front() == ':') {
            if (token.size() == 1) fail("a lone ':' is not a keyword");
            d.k = datum::kind::keyword;
            d.s = token.substr(1);
            return d;
        }
        if (token == "nil") return d;
        if (token == "true" || token == "false") {
            d.k = datum::kind::boolean;
            d.b = token == "true";
            return d;
        }
        bool numeric = std::isdigit(static_cast<unsigned char>(token.front())) ||
                       ((token.front() == '-' || token.front() == '+') && token.size() > 1 &&
                        std::isdigit(static_cast<unsigned char>(token[1])));
        if (numeric) {
            std::string_view digits = token.front() == '+' ? token.substr(1) : token;
            if (!digits.empty() && digits.back() == 'N') digits.remove_suffix(1);  // bigint
            auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), d.i);
            if (ec != std::errc{} || p != digits.data() + digits.size()) {
                fail("'" + std::string(token) + "' is not an integer (only integers are values)");
            }
            d.k = datum::kind::integer;
            return d;
        }
        d.k = datum::kind::symbol;
        d.s = token;
        return d;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    std::size_t line_;
};

namespace detail {

inline std::string show(const datum& d) {
    switch (d.k) {
        case datum::kind::nil:
            return "nil";
        case datum::kind::boolean:
            return d.b ? "true" : "false";
        case datum::kind::integer:
            return std::to_string(d.i);
        case datum::kind::string:
            return '"' + d.s + '"';
        case datum::kind::keyword:
            return ':' + d.s;
        case datum::kind::symbol:
            return d.s;
        default:
            return d.k == datum::kind::map ? "a map" : "a list";
    }
}

// A scalar value; keywords such as :timed-out say the value is unknown (nullopt).
inline std::optional<value> scalar(const datum& d, std::string_view what) {
    switch (d.k) {
        case datum::kind::nil:
            return value{};
        case datum::kind::integer:
            return value{d.i};
        case datum::kind::string:
            return value{d.s};
        case datum::kind::keyword:
            return std::nullopt;
        default:
            throw history_error(d.line, std::string(what) +
                                            " must be nil, an integer or a "
                                            "string, not " +
                                            show(d));
    }
}

inline std::optional<op_kind> op_of(std::string_view f) {
    if (f == "read" || f == "get" || f == "r") return op_kind::read;
    if (f == "write" || f == "put" || f == "w") return op_kind::write;
    if (f == "cas" || f == "compare-and-set") return op_kind::cas;
    if (f == "append") return op_kind::append;
    if (f == "txn") return op_kind::txn;
    if (f == "add") return op_kind::add;
    return std::nullopt;
}

inline std::optional<event_type> type_of(std::string_view t) {
    if (t == "invoke") return event_type::invoke;
    if (t == "ok") return event_type::ok;
    if (t == "fail") return event_type::fail;
    if (t == "info") return event_type::info;
    return std::nullopt;
}

inline void set_value(event& e, const datum* v, const read_options& opt, std::size_t line) {
    if (!v) {
        e.has_value = false;
        return;
    }
    switch (e.f) {
        case op_kind::read: {
            auto s = scalar(*v, "a read's value");
            e.known = s.has_value() && !(opt.nil_read_unknown && v->k == datum::kind::nil);
            if (s) e.val = *s;
            return;
        }
        case op_kind::write:
        case op_kind::append: {
            auto s = scalar(*v, "a write's value");
            e.known = s.has_value();
            if (s) e.val = *s;
            return;
        }
        case op_kind::add: {
            if (v->k == datum::kind::keyword) {  // :timed-out and the like: keep the call's delta
                e.known = false;
                return;
            }
            if (v->k != datum::kind::integer) {
                throw history_error(line,
                                    "an add's value must be an integer delta, not " + show(*v));
            }
            e.val = v->i;
            return;
        }
        case op_kind::cas: {
            if (v->k == datum::kind::keyword || v->k == datum::kind::nil) {
                e.known = false;  // :timed-out and the like: keep the call's arguments
                return;
            }
            if (v->k != datum::kind::vector || v->items.size() != 2) {
                throw history_error(line, "a cas value must be [expected new], not " + show(*v));
            }
            auto a = scalar(v->items[0], "a cas's expected value");
            auto b = scalar(v->items[1], "a cas's new value");
            if (!a || !b)
                throw history_error(line, "a cas's values must be nil, integers or strings");
            e.expected = *a;
            e.val = *b;
            return;
        }
        case op_kind::txn: {
            if (v->k == datum::kind::keyword || v->k == datum::kind::nil) {
                e.known = false;
                return;
            }
            if (v->k != datum::kind::vector) {
                throw history_error(line,
                                    "a txn value must be a list of [f key value], not " + show(*v));
            }
            for (const datum& m : v->items) {
                if (m.k != datum::kind::vector || m.items.size() != 3 || !m.items[0].is_text() ||
                    !m.items[1].is_text()) {
                    throw history_error(
                        m.line ? m.line : line,
                        "a txn micro-op must be [\"r\"|\"w\" key value], not " + show(m));
                }
                auto f = op_of(m.items[0].s);
                if (f != op_kind::read && f != op_kind::write) {
                    throw history_error(line, "a txn micro-op is a read (r) or a write (w), not " +
                                                  show(m.items[0]));
                }
                micro_op op;
                op.is_write = f == op_kind::write;
                op.key = m.items[1].s;
                auto s = scalar(m.items[2], "a micro-op's value");
                op.known = s.has_value() && (op.is_write || m.items[2].k != datum::kind::nil);
                if (s) op.val = *s;
                e.txn.push_back(std::move(op));
            }
            return;
        }
    }
}

}  // namespace detail

namespace detail {

// The fields of one op, wherever they were read from (an op map, a log line); null if absent.
struct op_fields {
    const datum* process = nullptr;
    const datum* type = nullptr;
    const datum* f = nullptr;
    const datum* key = nullptr;
    const datum* value = nullptr;
    const datum* time = nullptr;
};

inline event event_from_fields(const op_fields& d, std::size_t line, const read_options& opt) {
    event e;
    e.line = line;
    if (!d.type || !d.type->is_text() || !type_of(d.type->s)) {
        throw history_error(line, "an op needs :type, one of invoke, ok, fail or info");
    }
    e.type = *type_of(d.type->s);
    if (d.time && d.time->k == datum::kind::integer) e.time = d.time->i;
    if (!d.process) throw history_error(line, "an op needs :process (an integer, or :nemesis)");
    if (d.process->k != datum::kind::integer) return e;  // the nemesis: ignored
    e.process = d.process->i;
    if (!d.f || !d.f->is_text() || !op_of(d.f->s)) {
        throw history_error(line,
                            "an op needs :f, one of read (get), write (put), cas, append, add "
                            "or txn; found " +
                                (d.f ? show(*d.f) : std::string("none")));
    }
    e.f = *op_of(d.f->s);
    if (const datum* k = d.key; k && k->k != datum::kind::nil) {
        if (k->k == datum::kind::integer) {
            e.key = std::to_string(k->i);
        } else if (k->is_text()) {
            e.key = k->s;
        } else {
            throw history_error(line, ":key must be a string, keyword or integer");
        }
    }
    set_value(e, d.value, opt, line);
    if (e.f == op_kind::cas && e.type == event_type::fail && opt.failed_cas_mismatch) {
        e.type = event_type::ok;
        e.cas_succeeded = false;
    }
    return e;
}

}  // namespace detail

/// Turns one op map (`{:process 3, :type :ok, :f :read, :value 5}`, or its JSON twin) into an
/// event. Throws history_error for a missing or malformed field.
inline event event_from_map(const datum& m, const read_options& opt = {}) {
    if (m.k != datum::kind::map) {
        throw history_error(m.line,
                            "expected an op map such as {:process 0, :type :invoke, "
                            ":f :read, :value nil}, not " +
                                detail::show(m));
    }
    detail::op_fields fields;
    for (std::size_t j = 0; j + 1 < m.items.size(); j += 2) {
        const datum& key = m.items[j];
        if (key.k != datum::kind::keyword && key.k != datum::kind::string) continue;
        const datum* value = &m.items[j + 1];
        const std::string& k = key.s;
        // The first of a repeated key counts, as datum::get finds it.
        const datum** slot = k == "process" ? &fields.process
                             : k == "type"  ? &fields.type
                             : k == "f"     ? &fields.f
                             : k == "key"   ? &fields.key
                             : k == "value" ? &fields.value
                             : k == "time"  ? &fields.time
                                            : nullptr;
        if (slot && !*slot) *slot = value;
    }
    return detail::event_from_fields(fields, m.line, opt);
}

/// Reads a Jepsen EDN history: op maps one per line, or one vector or list of them (maps may
/// span lines). Throws history_error naming the line.
inline std::vector<event> read_edn(std::string_view text, const read_options& opt = {}) {
    std::vector<event> events;
    edn_reader reader(text);
    while (auto form = reader.next()) {
        if (form->k == datum::kind::vector) {
            for (const datum& m : form->items) events.push_back(event_from_map(m, opt));
        } else {
            events.push_back(event_from_map(*form, opt));
        }
    }
    return events;
}

/// Calls `f(line, number)` for each line of `text` (numbered from 1, without its newline).
template <class F>
void for_each_line(std::string_view text, F&& f) {
    std::size_t number = 0;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos) eol = text.size();
        f(text.substr(pos, eol - pos), ++number);
        pos = eol + 1;
    }
}

/// Reads Jepsen log lines (`INFO  jepsen.util - 4	:ok	:read	3`, tabs or spaces): the
/// text after ` - ` is process, type, f and value in EDN. Lines without `jepsen.util - ` are
/// skipped (other log output). Throws history_error naming the line.
inline std::vector<event> read_jepsen_log(std::string_view text, const read_options& opt = {}) {
    std::vector<event> events;
    std::vector<datum> parts;
    for_each_line(text, [&](std::string_view l, std::size_t line) {
        std::size_t at = l.find("jepsen.util - ");
        if (at == std::string_view::npos) return;
        edn_reader reader(l.substr(at + 14), line);
        parts.clear();
        while (auto d = reader.next()) parts.push_back(std::move(*d));
        if (parts.size() < 3 || parts.size() > 4 || !parts[1].is_text() || !parts[2].is_text()) {
            throw history_error(line,
                                "expected '<process> :<type> :<f> <value>' after "
                                "'jepsen.util - '");
        }
        detail::op_fields fields;
        fields.process = &parts[0];
        fields.type = &parts[1];
        fields.f = &parts[2];
        if (parts.size() == 4) fields.value = &parts[3];
        events.push_back(detail::event_from_fields(fields, line, opt));
    });
    if (events.empty() && !text.empty()) {
        throw history_error(1, "no 'jepsen.util - ' line: this is not a Jepsen log");
    }
    return events;
}

/// Guesses the format from the first form: `{"` opens JSON lines, `{:`, `[` or `(` EDN, and a
/// line with `jepsen.util - ` a Jepsen log. Nothing if none fits.
inline std::optional<format> detect_format(std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        char c = text[pos];
        if (c == ';') {
            while (pos < text.size() && text[pos] != '\n') ++pos;
        } else if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            ++pos;
        } else {
            break;
        }
    }
    if (pos >= text.size()) return std::nullopt;
    std::size_t eol = text.find('\n', pos);
    std::string_view first = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    if (first.find("jepsen.util - ") != std::string_view::npos) return format::jepsen_log;
    if (first.front() == '[' || first.front() == '(') return format::edn;
    if (first.front() == '{') {
        std::size_t q = first.find_first_not_of(" \t", 1);
        if (q != std::string_view::npos && first[q] == '"') return format::jsonl;
        return format::edn;
    }
    return std::nullopt;
}

}  // namespace capkit::check

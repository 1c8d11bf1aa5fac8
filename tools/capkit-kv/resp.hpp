// SPDX-License-Identifier: MIT
/// @file Defines capkit::kv::resp: an incremental RESP2 request parser and a reply encoder, with
/// no I/O, for capkit-kv's Redis-speaking clients.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace capkit::kv::resp {

/// One client command: its name and arguments, as byte strings.
using command = std::vector<std::string>;

/// Redis's string2ll: an optional '-', then digits with no leading zero ("0" is one, "-0" and
/// "007" are not), nothing else; empty when `s` is not such a number or does not fit `Int`.
template <class Int = long long>
std::optional<Int> to_integer(std::string_view s) {
    bool negative = !s.empty() && s.front() == '-';
    std::string_view digits = negative ? s.substr(1) : s;
    if (digits.empty() || (digits.front() == '0' && (negative || digits.size() > 1)))
        return std::nullopt;
    Int v{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

/// The value of a hexadecimal digit, or -1.
inline int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/// How much one command may make the parser hold. With them, the parser never holds more than
/// `max_arguments` arguments of at most `max_bulk_length` bytes (and `max_command_bytes` in all),
/// plus one line of at most `max_inline_length` bytes.
struct limits {
    /// Longest bulk string (Redis's proto-max-bulk-len defaults to 512 MiB; a key-value server
    /// for tests and demos needs far less).
    std::size_t max_bulk_length = std::size_t{32} << 20;
    /// Most arguments in one multibulk command, its name included.
    std::size_t max_arguments = std::size_t{1} << 16;
    /// Longest inline command line, and longest count line (Redis's PROTO_INLINE_MAX_SIZE).
    std::size_t max_inline_length = std::size_t{64} << 10;
    /// Most bytes of arguments one command may hold in all.
    std::size_t max_command_bytes = std::size_t{64} << 20;
};

/// What parser::parse found.
enum class status {
    need_more,  ///< every byte given was consumed and no command is complete yet
    command,    ///< a command is complete: take it with parser::take
    error,      ///< the input is malformed: reply `-ERR ` + parser::error() and close
};

/// Reads RESP2 requests from a byte stream split anywhere: multibulk arrays of bulk strings
/// (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) and inline commands (`GET k\r\n`, or ended by `\n`
/// alone, with Redis's quoting: "double quotes with \n \r \t \b \a \\ \" \xHH escapes" and
/// 'single quotes with \' only'). Bytes are consumed as they come: it keeps only the command
/// being read, so its memory stays within `limits`. After an error it consumes nothing more.
class parser {
public:
    explicit parser(limits l = {}) : limits_(l) {}

    /// Consumes bytes from the front of `in` until a command is complete, an error is found, or
    /// `in` is empty. Call again with the rest of `in` after taking a command: pipelined commands
    /// come out one per call, in order.
    status parse(std::string_view& in) {
        if (failed()) return status::error;
        while (!in.empty()) {
            switch (state_) {
                case state::start:
                    state_ = in.front() == '*' ? state::array_count : state::inline_line;
                    if (state_ == state::array_count) in.remove_prefix(1);
                    break;
                case state::inline_line:
                    if (auto s = read_inline(in); s != status::need_more) return s;
                    break;
                case state::array_count:
                    if (auto s = read_array_count(in); s != status::need_more) return s;
                    break;
                case state::bulk_dollar:
                    if (in.front() != '$')
                        return fail(std::string("Protocol error: expected '$', got '") +
                                    printable(in.front()) + "'");
                    in.remove_prefix(1);
                    state_ = state::bulk_length;
                    break;
                case state::bulk_length:
                    if (auto s = read_bulk_length(in); s != status::need_more) return s;
                    break;
                case state::bulk_data: {
                    auto& arg = args_.back();
                    std::size_t n = std::min(in.size(), bulk_left_);
                    arg.append(in.data(), n);
                    in.remove_prefix(n);
                    bulk_left_ -= n;
                    if (bulk_left_ == 0) state_ = state::bulk_cr;
                    break;
                }
                case state::bulk_cr:
                case state::bulk_lf: {
                    char want = state_ == state::bulk_cr ? '\r' : '\n';
                    if (in.front() != want)
                        return fail("Protocol error: expected '\\r\\n' after bulk string data");
                    in.remove_prefix(1);
                    if (state_ == state::bulk_cr) {
                        state_ = state::bulk_lf;
                    } else if (args_.size() == expected_args_) {
                        return complete();
                    } else {
                        state_ = state::bulk_dollar;
                    }
                    break;
                }
            }
        }
        return status::need_more;
    }

    /// Parses all of `bytes`, calling `on_command(command&&)` for each complete command in
    /// order; false on malformed input (see error()), after the commands before it.
    template <class OnCommand>
    bool feed(std::string_view bytes, OnCommand&& on_command) {
        for (;;) {
            switch (parse(bytes)) {
                case status::command:
                    on_command(take());
                    break;
                case status::need_more:
                    return true;
                case status::error:
                    return false;
            }
        }
    }

    /// The command parse() just completed; the parser starts on the next.
    command take() { return std::exchange(args_, {}); }

    /// Whether the input was malformed; nothing more will be parsed.
    bool failed() const noexcept { return !error_.empty(); }
    /// Why the input was malformed, as Redis says it ("Protocol error: ...").
    const std::string& error() const noexcept { return error_; }

    /// True between commands: nothing of a next command has been read.
    bool idle() const noexcept { return state_ == state::start && !failed(); }

    /// Bytes the parser holds for the command being read (its line and its arguments' capacity).
    std::size_t buffered_bytes() const noexcept {
        std::size_t n = line_.capacity();
        for (const auto& a : args_) n += a.capacity();
        return n;
    }

    const limits& bounds() const noexcept { return limits_; }

private:
    enum class state {
        start,
        inline_line,
        array_count,
        bulk_dollar,
        bulk_length,
        bulk_data,
        bulk_cr,
        bulk_lf
    };

    // A count line ("*3", "$5") needs no more than a sign, 20 digits and the CR.
    static constexpr std::size_t max_count_line = 32;

    static std::string printable(char c) {
        if (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
            return std::string(1, c);
        static constexpr char hex[] = "0123456789abcdef";
        auto u = static_cast<unsigned char>(c);
        return std::string("\\x") + hex[u >> 4] + hex[u & 15];
    }

    status fail(std::string why) {
        error_ = std::move(why);
        args_.clear();
        line_.clear();
        return status::error;
    }

    status complete() {
        state_ = state::start;
        command_bytes_ = 0;
        return status::command;
    }

    // Appends to line_ up to and including '\n'; true once the line is whole (without its '\n').
    // `max` bounds the line: false with `too_long` set when it would grow past it.
    bool take_line(std::string_view& in, std::size_t max, bool& too_long) {
        auto nl = in.find('\n');
        std::size_t n = nl == std::string_view::npos ? in.size() : nl;
        // One byte more is allowed if it is a CR, which the LF may follow: no part of the line.
        bool cr_last = n > 0 ? in[n - 1] == '\r' : !line_.empty() && line_.back() == '\r';
        if (line_.size() + n > max + (cr_last ? 1 : 0)) {
            too_long = true;
            return false;
        }
        // Grow as a string would, but never past the bound.
        if (line_.size() + n > line_.capacity())
            line_.reserve(std::min(max + 1, std::max(2 * line_.capacity(), line_.size() + n)));
        line_.insert(line_.end(), in.data(), in.data() + n);
        in.remove_prefix(nl == std::string_view::npos ? n : n + 1);
        return nl != std::string_view::npos;
    }

    // A count line ends with CR LF; what comes before the CR must be the number.
    std::optional<std::optional<long long>> read_count(std::string_view& in, bool& too_long) {
        if (!take_line(in, max_count_line, too_long)) return std::nullopt;
        std::string_view body(line_.data(), line_.size());
        std::optional<long long> v;
        if (!body.empty() && body.back() == '\r') v = to_integer(body.substr(0, body.size() - 1));
        line_.clear();
        return v;
    }

    status read_array_count(std::string_view& in) {
        bool too_long = false;
        auto count = read_count(in, too_long);
        if (too_long) return fail("Protocol error: too big mbulk count string");
        if (!count) return status::need_more;
        if (!*count || **count > static_cast<long long>(limits_.max_arguments))
            return fail("Protocol error: invalid multibulk length");
        if (**count <= 0) {  // as Redis: "*0" and "*-1" are no command at all
            state_ = state::start;
            return status::need_more;
        }
        expected_args_ = static_cast<std::size_t>(**count);
        args_.reserve(expected_args_);
        state_ = state::bulk_dollar;
        return status::need_more;
    }

    status read_bulk_length(std::string_view& in) {
        bool too_long = false;
        auto length = read_count(in, too_long);
        if (too_long) return fail("Protocol error: too big bulk count string");
        if (!length) return status::need_more;
        if (!*length || **length < 0 ||
            static_cast<unsigned long long>(**length) > limits_.max_bulk_length)
            return fail("Protocol error: invalid bulk length");
        auto n = static_cast<std::size_t>(**length);
        if (n > limits_.max_command_bytes - command_bytes_)
            return fail("Protocol error: command too big (more than " +
                        std::to_string(limits_.max_command_bytes) + " bytes of arguments)");
        command_bytes_ += n;
        args_.emplace_back().reserve(n);  // exactly what was announced, never more
        bulk_left_ = n;
        state_ = n == 0 ? state::bulk_cr : state::bulk_data;
        return status::need_more;
    }

    status read_inline(std::string_view& in) {
        bool too_long = false;
        if (!take_line(in, limits_.max_inline_length, too_long)) {
            if (too_long) return fail("Protocol error: too big inline request");
            return status::need_more;
        }
        if (!line_.empty() && line_.back() == '\r') line_.pop_back();
        if (line_.size() > limits_.max_inline_length)
            return fail("Protocol error: too big inline request");
        auto words = split_args(std::string_view(line_.data(), line_.size()));
        line_.clear();
        if (line_.capacity() > 4096) line_ = {};  // a long line's buffer is not kept
        if (!words) return fail("Protocol error: unbalanced quotes in request");
        state_ = state::start;
        if (words->empty()) return status::need_more;  // an empty line is no command
        if (words->size() > limits_.max_arguments)
            return fail("Protocol error: invalid multibulk length");
        args_ = std::move(*words);
        return complete();
    }

    static bool is_space(char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
    }
    // What ends an unquoted word (sdssplitargs: fewer characters than skip between words).
    static bool ends_word(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

public:
    /// Splits an inline command line into words as Redis's sdssplitargs does; empty on
    /// unbalanced quotes, or on a closing quote not followed by a space.
    static std::optional<command> split_args(std::string_view line) {
        command out;
        std::size_t i = 0, n = line.size();
        for (;;) {
            while (i < n && is_space(line[i])) ++i;
            if (i == n) return out;
            std::string word;
            bool in_double = false, in_single = false, done = false;
            while (!done) {
                if (in_double) {
                    if (i == n) return std::nullopt;
                    char c = line[i];
                    if (c == '\\' && i + 3 < n && line[i + 1] == 'x' &&
                        hex_digit(line[i + 2]) >= 0 && hex_digit(line[i + 3]) >= 0) {
                        word.push_back(static_cast<char>(hex_digit(line[i + 2]) * 16 +
                                                         hex_digit(line[i + 3])));
                        i += 4;
                    } else if (c == '\\' && i + 1 < n) {
                        char e = line[i + 1];
                        word.push_back(e == 'n'   ? '\n'
                                       : e == 'r' ? '\r'
                                       : e == 't' ? '\t'
                                       : e == 'b' ? '\b'
                                       : e == 'a' ? '\a'
                                                  : e);
                        i += 2;
                    } else if (c == '"') {
                        // The closing quote must end the word.
                        if (i + 1 < n && !is_space(line[i + 1])) return std::nullopt;
                        ++i;
                        done = true;
                    } else {
                        word.push_back(c);
                        ++i;
                    }
                } else if (in_single) {
                    if (i == n) return std::nullopt;
                    char c = line[i];
                    if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
                        word.push_back('\'');
                        i += 2;
                    } else if (c == '\'') {
                        if (i + 1 < n && !is_space(line[i + 1])) return std::nullopt;
                        ++i;
                        done = true;
                    } else {
                        word.push_back(c);
                        ++i;
                    }
                } else if (i == n || ends_word(line[i])) {
                    done = true;
                } else if (line[i] == '"') {
                    in_double = true;
                    ++i;
                } else if (line[i] == '\'') {
                    in_single = true;
                    ++i;
                } else {
                    word.push_back(line[i++]);
                }
            }
            out.push_back(std::move(word));
        }
    }

private:
    limits limits_;
    state state_ = state::start;
    std::vector<char> line_;  // a vector reserves exactly what it is asked, a string may double
    command args_;
    std::size_t expected_args_ = 0;
    std::size_t bulk_left_ = 0;
    std::size_t command_bytes_ = 0;
    std::string error_;
};

/// Appends RESP2 replies to one output buffer, so many replies leave in one write.
class encoder {
public:
    explicit encoder(std::string& out) : out_(&out) {}

    /// `+OK`: a simple string (CR and LF, which it cannot hold, become spaces).
    encoder& simple_string(std::string_view s) { return line('+', s); }
    /// `-ERR message`: an error; `s` starts with its code word (ERR, UNAVAILABLE, ...).
    encoder& error(std::string_view s) { return line('-', s); }
    /// `:42`
    encoder& integer(std::int64_t v) {
        out_->push_back(':');
        number(v);
        out_->append("\r\n");
        return *this;
    }
    /// `$5\r\nhello`: any bytes.
    encoder& bulk_string(std::string_view s) {
        out_->push_back('$');
        number(static_cast<std::int64_t>(s.size()));
        out_->append("\r\n");
        out_->append(s);
        out_->append("\r\n");
        return *this;
    }
    /// `$-1`: the null bulk string (an absent value).
    encoder& null_bulk() {
        out_->append("$-1\r\n");
        return *this;
    }
    /// `*-1`: the null array.
    encoder& null_array() {
        out_->append("*-1\r\n");
        return *this;
    }
    /// `*n`: an array header; the next n replies encoded are its elements (arrays nest).
    encoder& array(std::size_t n) {
        out_->push_back('*');
        number(static_cast<std::int64_t>(n));
        out_->append("\r\n");
        return *this;
    }

    std::string& buffer() noexcept { return *out_; }

private:
    encoder& line(char type, std::string_view s) {
        out_->push_back(type);
        auto start = out_->size();
        out_->append(s);
        std::replace_if(
            out_->begin() + static_cast<std::ptrdiff_t>(start), out_->end(),
            [](char c) { return c == '\r' || c == '\n'; }, ' ');
        out_->append("\r\n");
        return *this;
    }
    void number(std::int64_t v) {
        char buf[24];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
        // (pointer, count), not append(first, last): g++ 12 at -O3 sees a false overlap in the
        // iterator overload's replace path (-Wrestrict, GCC bug 105329).
        out_->append(buf, static_cast<std::size_t>(end - buf));
    }

    std::string* out_;
};

}  // namespace capkit::kv::resp

// SPDX-License-Identifier: MIT
// capkit-kv's RESP2 parser and encoder: requests split anywhere, inline quoting, every malformed
// input with its sentence, limits honoured without growing buffers, and the reply encoding.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <capkit/detail/text.hpp>

#include <capkit-kv/resp.hpp>

namespace {

namespace resp = capkit::kv::resp;
using namespace std::string_literals;
using commands = std::vector<resp::command>;

// Feeds `pieces` in order; the commands parsed, and the error if the input was malformed.
struct outcome {
    commands parsed;
    std::string error;
};
outcome parse_pieces(const std::vector<std::string>& pieces, resp::limits l = {}) {
    resp::parser p(l);
    outcome out;
    for (const auto& piece : pieces)
        if (!p.feed(piece, [&](resp::command&& c) { out.parsed.push_back(std::move(c)); })) break;
    out.error = p.error();
    return out;
}
outcome parse_all(std::string_view bytes, resp::limits l = {}) {
    return parse_pieces({std::string(bytes)}, l);
}
outcome parse_bytewise(std::string_view bytes, resp::limits l = {}) {
    std::vector<std::string> pieces;
    for (char c : bytes) pieces.emplace_back(1, c);
    return parse_pieces(pieces, l);
}

// A request as redis-cli sends it: an array of bulk strings.
std::string multibulk(const resp::command& c) {
    std::string out;
    resp::encoder e(out);
    e.array(c.size());
    for (const auto& a : c) e.bulk_string(a);
    return out;
}

// A request as typed on one line, every argument double-quoted with \xHH for each byte.
std::string quoted_inline(const resp::command& c) {
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (const auto& a : c) {
        out += out.empty() ? "\"" : " \"";
        for (char ch : a) {
            auto u = static_cast<unsigned char>(ch);
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
        out += '"';
    }
    return out + "\r\n";
}

}  // namespace

TEST_CASE("a multibulk request parses whole, byte by byte, and pipelined", "[kv][resp]") {
    std::string get = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    std::string set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\0x\r\n"s;
    const commands expected{{"GET", "k"}, {"SET", "k", "v\r\n\0x"s}, {"GET", "k"}};
    const std::string stream = get + set + get;

    auto whole = parse_all(stream);
    CHECK(whole.error.empty());
    CHECK(whole.parsed == expected);
    auto bytewise = parse_bytewise(stream);
    CHECK(bytewise.error.empty());
    CHECK(bytewise.parsed == expected);

    SECTION("the pull interface hands out one command per call and consumes only it") {
        resp::parser p;
        std::string_view in = stream;
        REQUIRE(p.parse(in) == resp::status::command);
        CHECK(in.size() == stream.size() - get.size());
        CHECK(p.take() == expected[0]);
        CHECK(p.idle());
        REQUIRE(p.parse(in) == resp::status::command);
        CHECK(p.take() == expected[1]);
        REQUIRE(p.parse(in) == resp::status::command);
        CHECK(p.take() == expected[2]);
        CHECK(in.empty());
        CHECK(p.parse(in) == resp::status::need_more);
        CHECK(p.idle());
    }
    SECTION("a command is complete only with its last CR LF") {
        resp::parser p;
        std::string_view in = std::string_view(get).substr(0, get.size() - 1);
        CHECK(p.parse(in) == resp::status::need_more);
        CHECK(in.empty());
        CHECK(!p.idle());
        std::string_view rest = "\n";
        CHECK(p.parse(rest) == resp::status::command);
        CHECK(p.take() == expected[0]);
    }
}

TEST_CASE("to_integer reads numbers as Redis's string2ll does", "[kv][resp]") {
    CHECK(resp::to_integer("0") == 0);
    CHECK(resp::to_integer("-42") == -42);
    CHECK(resp::to_integer<std::uint8_t>("255") == std::uint8_t{255});
    for (std::string_view bad : {"", "-", "-0", "007", "+1", " 1", "1 ", "1x"}) {
        CAPTURE(bad);
        CHECK_FALSE(resp::to_integer(bad).has_value());
    }
    CHECK_FALSE(resp::to_integer<std::uint8_t>("256").has_value());
    CHECK_FALSE(resp::to_integer<std::uint8_t>("-1").has_value());
    CHECK(resp::hex_digit('f') == 15);
    CHECK(resp::hex_digit('A') == 10);
    CHECK(resp::hex_digit('g') == -1);
}

TEST_CASE("empty arrays are no command, as in Redis; empty bulk strings are arguments",
          "[kv][resp]") {
    auto r = parse_all("*0\r\n*-1\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n");
    CHECK(r.error.empty());
    CHECK(r.parsed == commands{{"ECHO", ""}});
}

TEST_CASE("any split of a valid pipelined stream gives the same commands", "[kv][resp]") {
    rc::prop("multibulk and quoted inline requests survive every split",
             [](const std::vector<std::vector<std::string>>& raw,
                const std::vector<bool>& as_inline, const std::vector<unsigned char>& cuts) {
                 commands sent;
                 std::string stream;
                 for (std::size_t i = 0; i < raw.size(); ++i) {
                     if (raw[i].empty()) continue;  // a command has at least its name
                     sent.push_back(raw[i]);
                     bool inl = i < as_inline.size() && as_inline[i];
                     stream += inl ? quoted_inline(raw[i]) : multibulk(raw[i]);
                 }
                 std::vector<std::string> pieces;
                 std::size_t at = 0;
                 for (auto cut : cuts) {
                     if (at >= stream.size()) break;
                     std::size_t n = std::min<std::size_t>(cut, stream.size() - at);
                     pieces.push_back(stream.substr(at, n));
                     at += n;
                 }
                 pieces.push_back(stream.substr(std::min(at, stream.size())));
                 auto r = parse_pieces(pieces);
                 RC_ASSERT(r.error.empty());
                 RC_ASSERT(r.parsed == sent);
             });
}

TEST_CASE("inline commands follow Redis's quoting rules", "[kv][resp]") {
    auto one = [](std::string_view line) {
        auto r = parse_all(line);
        REQUIRE(r.error.empty());
        REQUIRE(r.parsed.size() == 1);
        return r.parsed.front();
    };
    CHECK(one("PING\r\n") == resp::command{"PING"});
    CHECK(one("PING\n") == resp::command{"PING"});  // LF alone ends a line too
    CHECK(one("  SET \t k   v  \r\n") == resp::command{"SET", "k", "v"});
    CHECK(one("SET \"a b\" 'c d'\r\n") == resp::command{"SET", "a b", "c d"});
    CHECK(one("ECHO \"\\x41\\x7a\\n\\r\\t\\b\\a\\\\\\\"\\q\"\n") ==
          resp::command{"ECHO", "Az\n\r\t\b\a\\\"q"});
    CHECK(one("ECHO 'it\\'s \\n literal'\n") == resp::command{"ECHO", "it's \\n literal"});
    CHECK(one("ECHO \"\" ''\n") == resp::command{"ECHO", "", ""});
    CHECK(one("ECHO \"\\x4\"\n") == resp::command{"ECHO", "x4"});  // not two hex digits
    CHECK(one("ECHO foo\"bar baz\"\n") == resp::command{"ECHO", "foobar baz"});
    CHECK(one("\r\n\n   \r\nPING\r\n") == resp::command{"PING"});  // empty lines are skipped

    for (std::string_view bad :
         {"ECHO \"abc\r\n", "ECHO 'abc\n", "ECHO \"a\"b\n", "ECHO 'a'b\n", "ECHO \"abc\\\"\n"}) {
        CAPTURE(bad);
        auto r = parse_all(bad);
        CHECK(r.parsed.empty());
        CHECK(r.error == "Protocol error: unbalanced quotes in request");
    }
}

TEST_CASE("malformed requests fail with Redis's sentences, whole or byte by byte", "[kv][resp]") {
    resp::limits small;
    small.max_bulk_length = 8;
    small.max_arguments = 3;
    small.max_inline_length = 16;
    small.max_command_bytes = 12;
    struct bad_case {
        std::string input;
        std::string sentence;
    };
    const std::vector<bad_case> cases{
        {"*x\r\n", "Protocol error: invalid multibulk length"},
        {"*\r\n", "Protocol error: invalid multibulk length"},
        {"*01\r\n", "Protocol error: invalid multibulk length"},
        {"*+1\r\n", "Protocol error: invalid multibulk length"},
        {"*1\n", "Protocol error: invalid multibulk length"},
        {"*4\r\n", "Protocol error: invalid multibulk length"},  // above max_arguments
        {capkit::detail::cat("*", std::string(40, '1'), "\r\n"),
         "Protocol error: too big mbulk count string"},
        {"*1\r\nx", "Protocol error: expected '$', got 'x'"},
        {"*1\r\n\x01", "Protocol error: expected '$', got '\\x01'"},
        {"*2\r\n$1\r\na\r\n:1\r\n", "Protocol error: expected '$', got ':'"},
        {"*1\r\n$x\r\n", "Protocol error: invalid bulk length"},
        {"*1\r\n$-1\r\n", "Protocol error: invalid bulk length"},
        {"*1\r\n$-0\r\n", "Protocol error: invalid bulk length"},  // string2ll refuses -0
        {"*1\r\n$9\r\n", "Protocol error: invalid bulk length"},   // above max_bulk_length
        {"*1\r\n$" + std::string(40, '1') + "\r\n", "Protocol error: too big bulk count string"},
        {"*1\r\n$3\r\nabcX", "Protocol error: expected '\\r\\n' after bulk string data"},
        {"*1\r\n$3\r\nabc\rX", "Protocol error: expected '\\r\\n' after bulk string data"},
        {"*2\r\n$8\r\n12345678\r\n$5\r\n",
         "Protocol error: command too big (more than 12 bytes of arguments)"},
        {std::string(17, 'a'), "Protocol error: too big inline request"},
        {std::string(17, 'a') + "\r\n", "Protocol error: too big inline request"},
        {"a b c d\r\n", "Protocol error: invalid multibulk length"},  // above max_arguments
    };
    for (const auto& c : cases) {
        CAPTURE(c.input);
        auto whole = parse_all(c.input, small);
        CHECK(whole.parsed.empty());
        CHECK(whole.error == c.sentence);
        auto bytewise = parse_bytewise(c.input, small);
        CHECK(bytewise.parsed.empty());
        CHECK(bytewise.error == c.sentence);
    }

    SECTION("limits themselves are allowed") {
        auto r = parse_all("*3\r\n$8\r\n12345678\r\n$4\r\nabcd\r\n$0\r\n\r\n", small);
        CHECK(r.error.empty());
        CHECK(r.parsed == commands{{"12345678", "abcd", ""}});
        auto l = parse_all(std::string(16, 'a') + "\r\n", small);
        CHECK(l.error.empty());
        CHECK(l.parsed == commands{{std::string(16, 'a')}});
    }
    SECTION("commands before the error come out; nothing after it is read") {
        resp::parser p(small);
        commands got;
        std::string_view in = "PING\r\n*1\r\nx*1\r\n$4\r\nPING\r\n";
        CHECK_FALSE(p.feed(in, [&](resp::command&& c) { got.push_back(std::move(c)); }));
        CHECK(got == commands{{"PING"}});
        CHECK(p.failed());
        std::string_view more = "PING\r\n";
        CHECK(p.parse(more) == resp::status::error);
        CHECK(more.size() == 6);
        CHECK_FALSE(p.idle());
    }
}

TEST_CASE("the parser holds no more than its limits allow", "[kv][resp]") {
    resp::limits l;
    l.max_bulk_length = 4096;
    l.max_arguments = 4;
    l.max_inline_length = 1024;
    l.max_command_bytes = 4 * 4096;

    SECTION("a bulk string fed byte by byte reserves what it announced, once") {
        resp::parser p(l);
        std::string request = multibulk({"SET", "k", std::string(4096, 'v')});
        std::size_t most = 0;
        for (std::size_t i = 0; i + 1 < request.size(); ++i) {
            std::string_view one(&request[i], 1);
            REQUIRE(p.parse(one) == resp::status::need_more);
            most = std::max(most, p.buffered_bytes());
        }
        // Three arguments' bytes and the longest count line: nothing doubled on the way.
        CHECK(most <= 4096 + 2 * 32 + 64);
        std::string_view last(&request.back(), 1);
        REQUIRE(p.parse(last) == resp::status::command);
        CHECK(p.take().at(2).size() == 4096);
    }
    SECTION("an announced length above the limit is refused before anything is reserved") {
        resp::parser p(l);
        std::string_view in = "*1\r\n$4097\r\n";
        CHECK(p.parse(in) == resp::status::error);
        CHECK(p.buffered_bytes() <= 64);
    }
    SECTION("an inline line grows to its limit and no further") {
        resp::parser p(l);
        std::string line(1024, 'x');
        std::size_t most = 0;
        for (char c : line) {
            std::string_view one(&c, 1);
            REQUIRE(p.parse(one) == resp::status::need_more);
            most = std::max(most, p.buffered_bytes());
        }
        CHECK(most <= 1025);
        std::string_view cr = "\r";
        CHECK(p.parse(cr) == resp::status::need_more);  // the CR before the LF is no part of it
        std::string_view more = "z";
        CHECK(p.parse(more) == resp::status::error);
        CHECK(p.error() == "Protocol error: too big inline request");
        CHECK(p.buffered_bytes() <= 1025);
    }
    SECTION("a count line longer than a number can be is refused at once") {
        resp::parser p(l);
        std::string digits(33, '1');
        std::string_view in = digits;
        std::string_view star = "*";
        REQUIRE(p.parse(star) == resp::status::need_more);
        CHECK(p.parse(in) == resp::status::error);
        CHECK(p.error() == "Protocol error: too big mbulk count string");
    }
}

TEST_CASE("the encoder writes every RESP2 reply type into one buffer", "[kv][resp]") {
    std::string out;
    resp::encoder e(out);
    e.simple_string("OK")
        .error("ERR no\r\nnewlines")
        .integer(-42)
        .integer(0)
        .bulk_string(std::string_view("a\0b", 3))
        .bulk_string("")
        .null_bulk()
        .null_array()
        .array(0)
        .array(2)
        .array(1)
        .integer(1)
        .bulk_string("x");
    CHECK(out ==
          "+OK\r\n-ERR no  newlines\r\n:-42\r\n:0\r\n$3\r\na\0b\r\n$0\r\n\r\n"
          "$-1\r\n*-1\r\n*0\r\n*2\r\n*1\r\n:1\r\n$1\r\nx\r\n"s);
    CHECK(&e.buffer() == &out);
}

// SPDX-License-Identifier: MIT
// The one translation unit of the test binary that compiles Boost.JSON.
#include <boost/json/src.hpp>

#include <capkit/check/json_history.hpp>
#include <capkit/check/linearizability.hpp>

#include <catch2/catch.hpp>

namespace ck = capkit::check;

TEST_CASE("JSON lines: one event per line", "[check][parse][json]") {
    auto events = ck::read_jsonl(
        R"({"process": 3, "type": "invoke", "f": "write", "key": "x", "value": 5, "time": 120}

{"process": 3, "type": "ok", "f": "write", "key": "x", "value": 5, "time": 180}
{"process": "nemesis", "type": "info", "f": "partition", "value": null}
{"process": 1, "type": "invoke", "f": "cas", "value": [1, 2]}
{"process": 2, "type": "invoke", "f": "txn", "value": [["r", "x", null], ["w", "y", 3]]}
{"process": 4, "type": "ok", "f": "read", "value": null})");
    REQUIRE(events.size() == 6);
    CHECK(events[0].key == "x");
    CHECK(events[0].time == 120);
    CHECK(events[1].line == 3);
    CHECK_FALSE(events[2].process.has_value());
    CHECK(events[3].expected == ck::value{std::int64_t{1}});
    REQUIRE(events[4].txn.size() == 2);
    CHECK(events[4].txn[1].is_write);
    CHECK(events[5].known);  // null is absent in JSON lines
    CHECK(events[5].val == ck::value{});
}

TEST_CASE("JSON lines: errors name the line", "[check][parse][json]") {
    auto line_of = [](std::string_view text) -> std::size_t {
        try {
            ck::read_jsonl(text);
        } catch (const ck::history_error& e) {
            return e.line();
        }
        return 0;
    };
    CHECK(line_of("{\"process\": 0, \"type\": \"invoke\", \"f\": \"read\"}\n{\"process\": 0,") ==
          2);
    CHECK(line_of("[1, 2]") == 1);
    CHECK(line_of(R"({"process": 0, "type": "invoke", "f": "write", "value": 1.5})") == 1);
    CHECK(line_of(R"({"process": 0, "type": "begin", "f": "write", "value": 1})") == 1);
}

TEST_CASE("JSON lines: a counter's adds and reads", "[check][parse][json]") {
    auto h = ck::read_history(R"({"process": 0, "type": "invoke", "f": "add", "value": 2}
{"process": 1, "type": "invoke", "f": "add", "value": 5}
{"process": 0, "type": "ok", "f": "add", "value": 2}
{"process": 2, "type": "invoke", "f": "read", "value": null}
{"process": 2, "type": "ok", "f": "read", "value": 7}
{"process": 1, "type": "info", "f": "add", "value": 5})");
    REQUIRE(h.ops.size() == 3);
    CHECK(h.ops[0].f == ck::op_kind::add);
    CHECK_FALSE(h.ops[1].completed);
    CHECK(ck::check_linearizability(h, ck::counter_model{}).result == ck::verdict::linearizable);
}

TEST_CASE("read_history detects the format and pairs", "[check][parse][json]") {
    auto h = ck::read_history(R"({"process": 0, "type": "invoke", "f": "write", "value": 1}
{"process": 1, "type": "invoke", "f": "read", "value": null}
{"process": 0, "type": "ok", "f": "write", "value": 1}
{"process": 1, "type": "ok", "f": "read", "value": null}
{"process": 1, "type": "invoke", "f": "read", "value": null}
{"process": 1, "type": "ok", "f": "read", "value": null})");
    REQUIRE(h.ops.size() == 3);
    auto r = ck::check_linearizability(h, ck::register_model{});
    CHECK(r.result == ck::verdict::not_linearizable);  // absent after the write returned
    REQUIRE(r.culprit.has_value());
    CHECK(*r.culprit == 2);
    CHECK_THROWS_AS(ck::read_history("hello"), ck::history_error);
}

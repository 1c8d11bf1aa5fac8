// SPDX-License-Identifier: MIT
#include <capkit/check/parse.hpp>

#include <catch2/catch.hpp>

namespace ck = capkit::check;

namespace {
std::size_t error_line(auto&& f) {
    try {
        f();
    } catch (const ck::history_error& e) {
        return e.line();
    }
    return 0;
}
}  // namespace

TEST_CASE("the EDN reader reads what histories use", "[check][parse]") {
    ck::edn_reader r(R"(; a comment
{:a 1, :b "two\"", :c [nil true false -3], :d (:e :f)} 42N)");
    auto m = r.next();
    REQUIRE(m.has_value());
    CHECK(m->k == ck::datum::kind::map);
    CHECK(m->line == 2);
    REQUIRE(m->get("a"));
    CHECK(m->get("a")->i == 1);
    CHECK(m->get("b")->s == "two\"");
    const auto* c = m->get("c");
    REQUIRE(c);
    REQUIRE(c->items.size() == 4);
    CHECK(c->items[0].k == ck::datum::kind::nil);
    CHECK(c->items[1].b);
    CHECK(c->items[3].i == -3);
    CHECK(m->get("d")->items[1].s == "f");
    auto n = r.next();
    REQUIRE(n.has_value());
    CHECK(n->i == 42);
    CHECK_FALSE(r.next().has_value());

    CHECK(error_line([] { ck::edn_reader("[{:a 1}\n{:b 2]").next(); }) == 2);
    CHECK(error_line([] { ck::edn_reader("\n\n[{:a 1}").next(); }) == 3);
    CHECK(error_line([] { ck::edn_reader("{:a 1.5}").next(); }) == 1);
}

TEST_CASE("EDN histories: one map per line, or a vector or list across lines", "[check][parse]") {
    auto opt = ck::default_read_options(ck::format::edn);
    auto lines = ck::read_edn(R"({:process 0, :type :invoke, :f :append, :key "4", :value "x 0 1 y"}
{:process 0, :type :ok, :f :append, :key "4", :value "x 0 1 y"})",
                              opt);
    REQUIRE(lines.size() == 2);
    CHECK(lines[1].key == "4");
    CHECK(lines[1].val == ck::value{std::string("x 0 1 y")});
    CHECK(lines[1].line == 2);
    auto list = ck::read_edn(R"(; header
({:type :invoke,
  :f :txn, :value [[:read :x nil] [:write :y 2]], :process 3, :time 7686455705}
 {:process :nemesis, :type :info, :f :kill}))",
                             opt);
    REQUIRE(list.size() == 2);
    CHECK(list[0].line == 2);
    CHECK(list[0].time == 7686455705);
    REQUIRE(list[0].txn.size() == 2);
    CHECK_FALSE(list[0].txn[0].known);
    CHECK(list[0].txn[1].is_write);
    CHECK(list[0].txn[1].key == "y");
    CHECK_FALSE(list[1].process.has_value());
    CHECK(error_line([&] {
              ck::read_edn("{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok}", opt);
          }) == 2);
    CHECK(error_line([&] { ck::read_edn("{:process 0, :type :invoke, :f :frob}", opt); }) == 1);
}

TEST_CASE("Jepsen log lines, with tabs or spaces", "[check][parse]") {
    auto opt = ck::default_read_options(ck::format::jepsen_log);
    auto events = ck::read_jepsen_log(
        "INFO  jepsen.util - 4\t:invoke\t:cas\t[1 2]\n"
        "some other log line\n"
        "INFO  jepsen.util - 4 :fail :cas [1 2]\n"
        "INFO  jepsen.util - 3\t:info\t:write\t:timed-out\n"
        "INFO  jepsen.util - 0\t:ok\t:read\tnil\n",
        opt);
    REQUIRE(events.size() == 4);
    CHECK(events[0].process == 4);
    CHECK(events[0].expected == ck::value{std::int64_t{1}});
    CHECK(events[0].val == ck::value{std::int64_t{2}});
    CHECK(events[1].line == 3);
    CHECK(events[1].type == ck::event_type::ok);  // Porcupine: the cas returned false
    CHECK_FALSE(events[1].cas_succeeded);
    CHECK(events[2].type == ck::event_type::info);
    CHECK_FALSE(events[2].known);
    CHECK(events[3].known);  // nil is "absent" here
    CHECK(events[3].val == ck::value{});
    CHECK(error_line([&] { ck::read_jepsen_log("INFO  jepsen.util - 4 :ok\n", opt); }) == 1);
    CHECK(error_line([&] { ck::read_jepsen_log("hello\n", opt); }) == 1);
}

TEST_CASE("formats are told apart by their first form", "[check][parse]") {
    CHECK(ck::detect_format(R"({"process": 0, "type": "invoke"})") == ck::format::jsonl);
    CHECK(ck::detect_format("{:process 0, :type :invoke}") == ck::format::edn);
    CHECK(ck::detect_format("; c\n[{:process 0}]") == ck::format::edn);
    CHECK(ck::detect_format("({:process 0})") == ck::format::edn);
    CHECK(ck::detect_format("INFO  jepsen.util - 0\t:invoke\t:read\tnil") ==
          ck::format::jepsen_log);
    CHECK_FALSE(ck::detect_format("hello").has_value());
    CHECK_FALSE(ck::detect_format("  \n").has_value());
}

TEST_CASE("Jepsen's counter workload: add with an integer delta", "[check][parse]") {
    auto opt = ck::default_read_options(ck::format::edn);
    auto events = ck::read_edn(R"([{:process 0, :type :invoke, :f :add, :value 3}
                                    {:process 0, :type :info, :f :add, :value :timed-out}
                                    {:process 1, :type :invoke, :f :add, :key 7, :value -1}
                                    {:process 1, :type :ok, :f :add, :key 7, :value -1}])",
                               opt);
    REQUIRE(events.size() == 4);
    CHECK(events[0].f == ck::op_kind::add);
    CHECK(events[0].val == ck::value{std::int64_t{3}});
    CHECK_FALSE(events[1].known);
    CHECK(events[3].val == ck::value{std::int64_t{-1}});
    CHECK(events[3].key == "7");
    auto h = ck::pair_events(events);
    REQUIRE(h.ops.size() == 2);
    CHECK_FALSE(h.ops[0].completed);
    CHECK(h.ops[0].val == ck::value{std::int64_t{3}});  // the info keeps the call's delta
    CHECK(ck::describe(h.ops[1]) == "{:process 1, :type :ok, :f :add, :key \"7\", :value -1}");
    CHECK(error_line([&] {
              ck::read_edn("{:process 0, :type :invoke, :f :add, :value \"x\"}", opt);
          }) == 1);
}

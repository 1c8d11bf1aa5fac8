// SPDX-License-Identifier: MIT
#include <capkit/check/history.hpp>
#include <capkit/check/parse.hpp>

#include <catch2/catch.hpp>

namespace ck = capkit::check;

namespace {
ck::history edn(std::string_view text) {
    return ck::pair_events(ck::read_edn(text, ck::default_read_options(ck::format::edn)));
}
}  // namespace

TEST_CASE("pairing: an invoke meets the next completion of its process", "[check][history]") {
    auto h = edn(R"([{:process 0, :type :invoke, :f :write, :value 1}
                    {:process 1, :type :invoke, :f :read, :value nil}
                    {:process 0, :type :ok, :f :write, :value 1}
                    {:process 1, :type :ok, :f :read, :value 1}])");
    REQUIRE(h.events == 4);
    REQUIRE(h.ops.size() == 2);
    CHECK(h.ops[0].f == ck::op_kind::write);
    CHECK(h.ops[0].call == 0);
    CHECK(h.ops[0].ret == 2);
    CHECK(h.ops[0].completed);
    CHECK(h.ops[1].f == ck::op_kind::read);
    CHECK(h.ops[1].call == 1);
    CHECK(h.ops[1].ret == 3);
    CHECK(h.ops[1].known);
    CHECK(h.ops[1].val == ck::value{std::int64_t{1}});  // the ok's value replaces the call's
    CHECK(h.ops[1].call_line == 2);
    CHECK(h.ops[1].ret_line == 4);
}

TEST_CASE("pairing: a fail did not happen, so both events go", "[check][history]") {
    auto h = edn(R"({:process 0, :type :invoke, :f :write, :value 1}
                    {:process 0, :type :fail, :f :write, :value 1}
                    {:process 0, :type :invoke, :f :read, :value nil}
                    {:process 0, :type :ok, :f :read, :value nil})");
    REQUIRE(h.ops.size() == 1);
    CHECK(h.ops[0].f == ck::op_kind::read);
    CHECK(h.ops[0].call == 2);    // positions still count every event
    CHECK_FALSE(h.ops[0].known);  // Knossos: a read of nil is unknown
}

TEST_CASE("pairing: info and a missing completion are open-ended", "[check][history]") {
    auto h = edn(R"([{:process 0, :type :invoke, :f :cas, :value [1 2]}
                    {:process 1, :type :invoke, :f :write, :value 3}
                    {:process 0, :type :info, :f :cas, :value :timed-out}
                    {:process :nemesis, :type :info, :f :start, :value nil}
                    {:process 2, :type :info, :f :read, :value nil}])");
    REQUIRE(h.ops.size() == 2);
    CHECK_FALSE(h.ops[0].completed);
    CHECK(h.ops[0].ret == ck::never);
    CHECK(h.ops[0].expected == ck::value{std::int64_t{1}});  // the call's arguments stay
    CHECK(h.ops[0].val == ck::value{std::int64_t{2}});
    CHECK_FALSE(h.ops[1].completed);
    CHECK(h.ops[1].ret == ck::never);
}

TEST_CASE("pairing: malformed histories name the line", "[check][history]") {
    auto line_of = [](std::string_view text) -> std::size_t {
        try {
            edn(text);
        } catch (const ck::history_error& e) {
            return e.line();
        }
        return 0;
    };
    CHECK(line_of("{:process 0, :type :invoke, :f :read, :value nil}\n"
                  "{:process 0, :type :invoke, :f :read, :value nil}") == 2);
    CHECK(line_of("{:process 0, :type :ok, :f :read, :value nil}") == 1);
    CHECK(line_of("{:process 0, :type :invoke, :f :read, :value nil}\n\n"
                  "{:process 0, :type :ok, :f :write, :value 1}") == 3);
}

TEST_CASE("describe prints an operation as Knossos does", "[check][history]") {
    auto h = edn(R"([{:process 1, :type :invoke, :f :read, :value nil}
                    {:process 1, :type :ok, :f :read, :value 3}])");
    REQUIRE(h.ops.size() == 1);
    CHECK(ck::describe(h.ops[0]) == "{:process 1, :type :ok, :f :read, :value 3}");
}

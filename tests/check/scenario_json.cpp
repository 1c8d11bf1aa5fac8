// SPDX-License-Identifier: MIT
// Scenario files: every shipped one parses; every malformed one fails with the field's name.
// (Boost.JSON is compiled once for the test binary, in json_history.cpp.)
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <capkit/check/scenario_json.hpp>

#include <catch2/catch.hpp>

namespace lab = capkit::lab;
namespace fs = std::filesystem;

namespace {

// tests/check/scenario_json.cpp -> <repo>/examples/scenarios
fs::path scenarios_dir() {
    return (fs::path(__FILE__).parent_path() / ".." / ".." / "examples" / "scenarios")
        .lexically_normal();
}

}  // namespace

TEST_CASE("every shipped scenario parses", "[check][lab][scenario]") {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(scenarios_dir())) {
        if (e.path().extension() == ".json") files.push_back(e.path());
    }
    REQUIRE(files.size() >= 5);
    for (const auto& f : files) {
        INFO(f.string());
        lab::scenario s;
        REQUIRE_NOTHROW(s = lab::load_scenario(f));
        CHECK(s.name == f.stem().string());
        CHECK_FALSE(s.description.empty());
        CHECK(s.seeds >= 200);
        CHECK_FALSE(s.nemesis.empty());
        // The N=3 presets can run every one written for any N; one written for more nodes is
        // for the hash_ring presets (M nodes), and its faults fit them.
        if (s.nodes <= 3) {
            CHECK(lab::min_nodes(s) <= 3);
        } else {
            CHECK(lab::min_nodes(s) <= s.nodes);
        }
    }
}

TEST_CASE("the split scenario reads as written", "[check][lab][scenario]") {
    lab::scenario s = lab::load_scenario(scenarios_dir() / "split.json");
    CHECK(s.nodes == 0);
    CHECK(s.clients == 6);
    CHECK(s.load.keys == 8);
    CHECK(s.load.rate == 20);
    CHECK(s.load.duration == lab::milliseconds(10000));
    REQUIRE(s.nemesis.size() == 2);
    CHECK(s.nemesis[0].what == lab::fault::kind::partition);
    CHECK(s.nemesis[0].at == lab::milliseconds(2000));
    CHECK(s.nemesis[0].minority == 0);
    CHECK(s.nemesis[0].groups.empty());
    CHECK(s.nemesis[1].what == lab::fault::kind::heal);
    CHECK(s.nemesis[1].at == lab::milliseconds(7000));
    CHECK(s.seeds == 200);
}

TEST_CASE("scenario: every field and every fault kind", "[check][lab][scenario]") {
    lab::scenario s = lab::parse_scenario(R"({
        "name": "all", "description": "d", "nodes": 5, "clients": 7,
        "workload": {"keys": 3, "read": 1, "write": 2, "cas": 0.5, "update": 0.25,
                     "zipfian": true, "zipf_s": 1.2, "rate": 7.5, "duration_ms": 4000},
        "latency": {"shape": "long_tailed", "min_ms": 2, "max_ms": 90, "tail": 0.3},
        "drop": 0.01, "duplicate": 0.02, "reorder": 0.03, "reorder_window_ms": 15,
        "nemesis": [
            {"at_ms": 0, "clock_skew": {"node": 4, "ms": -250}},
            {"at_ms": 100, "partition": [[0, 1], [2, 3, 4]]},
            {"at_ms": 100, "partition": {"minority": 2}},
            {"at_ms": 200, "isolate": 3},
            {"at_ms": 300, "bridge": 2},
            {"at_ms": 400, "cut_one_way": {"from": 0, "to": 1}},
            {"at_ms": 500, "heal": true},
            {"at_ms": 600, "crash": 1},
            {"at_ms": 700, "restart": 1},
            {"at_ms": 800, "crash": 1},
            {"at_ms": 900, "amnesia": 1},
            {"at_ms": 1000, "drop": 0.2}
        ],
        "quiet_ms": 1500, "anti_entropy_ms": 250, "storage": {"sync": "interval", "interval_ms": 50},
        "perfect_failure_detector": false, "request_timeout_ms": 250,
        "seeds": 10, "first_seed": 18446744073709551606
    })");
    CHECK(s.name == "all");
    CHECK(s.nodes == 5);
    CHECK(s.clients == 7);
    CHECK(s.load.keys == 3);
    CHECK(s.load.write == 2);
    CHECK(s.load.update == 0.25);
    CHECK(s.load.zipfian);
    CHECK(s.load.zipf_s == 1.2);
    CHECK(s.latency.kind == lab::latency_spec::shape::long_tailed);
    CHECK(s.latency.max == lab::milliseconds(90));
    CHECK(s.latency.tail == 0.3);
    CHECK(s.reorder_window == lab::milliseconds(15));
    CHECK(s.anti_entropy == lab::milliseconds(250));
    REQUIRE(s.nemesis.size() == 12);
    using k = lab::fault::kind;
    CHECK(s.nemesis[0].what == k::clock_skew);
    CHECK(s.nemesis[0].node == 4);
    CHECK(s.nemesis[0].skew == lab::milliseconds(-250));
    CHECK(s.nemesis[1].groups == std::vector<std::vector<capkit::node_id>>{{0, 1}, {2, 3, 4}});
    CHECK(s.nemesis[2].minority == 2);
    CHECK(s.nemesis[3].what == k::isolate);
    CHECK(s.nemesis[4].what == k::bridge);
    CHECK(s.nemesis[4].node == 2);
    CHECK(s.nemesis[5].what == k::cut_one_way);
    CHECK(s.nemesis[5].to == 1);
    CHECK(s.nemesis[6].what == k::heal);
    CHECK(s.nemesis[7].what == k::crash);
    CHECK(s.nemesis[8].what == k::restart);
    CHECK(s.nemesis[10].what == k::amnesia);
    CHECK(s.nemesis[11].what == k::drop);
    CHECK(s.nemesis[11].probability == 0.2);
    CHECK(s.quiet == lab::milliseconds(1500));
    CHECK(s.storage.policy == lab::durability::sync::interval);
    CHECK(s.storage.interval == lab::milliseconds(50));
    CHECK_FALSE(s.perfect_failure_detector);
    CHECK(s.request_timeout == lab::milliseconds(250));
    CHECK(s.seeds == 10);
    CHECK(s.first_seed == 18446744073709551606u);
    CHECK(lab::min_nodes(s) == 5);
}

TEST_CASE("an empty object is the default scenario", "[check][lab][scenario]") {
    lab::scenario s = lab::parse_scenario("{}");
    lab::scenario d;
    CHECK(s.clients == d.clients);
    CHECK(s.load.read == d.load.read);
    CHECK(s.nemesis.empty());
    CHECK(s.seeds == d.seeds);
    CHECK(lab::min_nodes(s) == 1);

    lab::scenario f = lab::parse_scenario(R"({"latency": {"shape": "fixed", "ms": 7}})");
    CHECK(f.latency.kind == lab::latency_spec::shape::fixed);
    CHECK(f.latency.min == lab::milliseconds(7));
    CHECK(f.latency.max == lab::milliseconds(7));
}

TEST_CASE("scenario: group commit takes its window from interval_ms", "[check][lab][scenario]") {
    auto s = lab::parse_scenario(R"({"storage": {"sync": "group", "interval_ms": 5}})");
    CHECK(s.storage.policy == lab::durability::sync::group);
    CHECK(s.storage.interval == lab::milliseconds(5));
}

TEST_CASE("malformed scenarios: the message names the field and what is wrong",
          "[check][lab][scenario]") {
    // Each input, then words its message must contain: the field first.
    const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
        {R"({"nodes": 3,})", {"the scenario is not valid JSON", "line 1, column 13"}},
        {"{\n  \"nodes\": 3\n  \"clients\": 2\n}", {"the scenario is not valid JSON", "line 3"}},
        {R"([1, 2])", {"the scenario", "must be an object"}},
        {R"({"nodez": 3})", {"nodez", "unknown field", "did you mean \"nodes\""}},
        {R"({"workload": {"keys": 8, "raed": 0.5}})", {"workload.raed", "did you mean \"read\""}},
        {R"({"colour": "blue"})", {"colour", "unknown field", "the fields here are"}},
        {R"({"nodes": -1})", {"nodes", "out of range"}},
        {R"({"nodes": "three"})", {"nodes", "integer", "a string"}},
        {R"({"clients": 0})", {"clients", "at least 1"}},
        {R"({"seeds": 2.5})", {"seeds", "integer"}},
        {R"({"first_seed": -3})", {"first_seed", "negative"}},
        {R"({"first_seed": 18446744073709551615, "seeds": 2})", {"first_seed", "overflows"}},
        {R"({"drop": 1.5})", {"drop", "not a probability"}},
        {R"({"duplicate": -0.1})", {"duplicate", "not a probability"}},
        {R"({"reorder": "often"})", {"reorder", "must be a number"}},
        {R"({"quiet_ms": 1.5})", {"quiet_ms", "integer number of milliseconds"}},
        {R"({"request_timeout_ms": 0})", {"request_timeout_ms", "at least 1"}},
        {R"({"perfect_failure_detector": 1})", {"perfect_failure_detector", "true or false"}},
        {R"({"workload": {"read": 0, "write": 0}})", {"workload", "zero total weight"}},
        {R"({"workload": {"write": -1}})", {"workload.write", "negative"}},
        {R"({"workload": {"rate": 0}})", {"workload.rate", "positive"}},
        {R"({"workload": {"keys": 0}})", {"workload.keys", "at least 1"}},
        {R"({"workload": {"duration_ms": 0}})", {"workload.duration_ms", "at least 1"}},
        {R"({"workload": {"zipf_s": 1.1}})", {"workload.zipf_s", "zipfian"}},
        {R"({"workload": []})", {"workload", "must be an object"}},
        {R"({"latency": {"shape": "gaussian"}})", {"latency.shape", "fixed"}},
        {R"({"latency": {"min_ms": 10}})", {"latency.min_ms", "above max_ms"}},
        {R"({"latency": {"ms": 3}})", {"latency.ms", "fixed"}},
        {R"({"latency": {"shape": "uniform", "tail": 0.5}})", {"latency.tail", "long_tailed"}},
        {R"({"latency": {"shape": "long_tailed", "tail": 2}})", {"latency.tail", "probability"}},
        {R"({"storage": {"sync": "sometimes"}})", {"storage.sync", "always", "group"}},
        {R"({"storage": {"interval_ms": 10}})", {"storage.interval_ms", "interval"}},
        {R"({"nemesis": {"at_ms": 1, "heal": true}})", {"nemesis", "must be an array"}},
        {R"({"nemesis": [{"heal": true}]})", {"nemesis[0].at_ms", "missing"}},
        {R"({"nemesis": [{"at_ms": -5, "heal": true}]})", {"nemesis[0].at_ms", "out of range"}},
        {R"({"nemesis": [{"at_ms": 5}]})", {"nemesis[0]", "nothing happens"}},
        {R"({"nemesis": [{"at_ms": 5, "crash": 1, "heal": true}]})",
         {"nemesis[0]", "both \"heal\" and \"crash\""}},
        {R"({"nemesis": [{"at_ms": 5, "partiton": "majority"}]})",
         {"nemesis[0].partiton", "did you mean \"partition\""}},
        {R"({"nemesis": [{"at_ms": 2000, "heal": true}, {"at_ms": 1000, "heal": true}]})",
         {"nemesis[1].at_ms", "before the previous fault", "2000"}},
        {R"({"nemesis": [{"at_ms": 1, "partition": "half"}]})",
         {"nemesis[0].partition", "majority"}},
        {R"({"nemesis": [{"at_ms": 1, "partition": [[0, 1], [1, 2]]}]})",
         {"nemesis[0].partition[1][0]", "node 1 is named twice"}},
        {R"({"nodes": 3, "nemesis": [{"at_ms": 1, "partition": [[0], [1, 3]]}]})",
         {"nemesis[0].partition[1][1]", "beyond the cluster", "0 to 2"}},
        {R"({"nemesis": [{"at_ms": 1, "partition": [[0, 1, 2]]}]})",
         {"nemesis[0].partition", "at least two groups"}},
        {R"({"nemesis": [{"at_ms": 1, "partition": [[0], []]}]})",
         {"nemesis[0].partition[1]", "empty"}},
        {R"({"nemesis": [{"at_ms": 1, "partition": [[0], 1]}]})",
         {"nemesis[0].partition[1]", "array of node ids"}},
        {R"({"nodes": 3, "nemesis": [{"at_ms": 1, "partition": {"minority": 2}}]})",
         {"nemesis[0].partition.minority", "not a minority of 3"}},
        {R"({"nemesis": [{"at_ms": 1, "partition": {"minorty": 1}}]})",
         {"nemesis[0].partition.minorty", "unknown field"}},
        {R"({"nemesis": [{"at_ms": 1, "heal": false}]})", {"nemesis[0].heal", "true"}},
        {R"({"nemesis": [{"at_ms": 1, "drop": 1.2}]})", {"nemesis[0].drop", "probability"}},
        {R"({"nodes": 3, "nemesis": [{"at_ms": 1, "crash": 3}]})",
         {"nemesis[0].crash", "beyond the cluster"}},
        {R"({"nemesis": [{"at_ms": 1, "crash": "one"}]})", {"nemesis[0].crash", "integer"}},
        {R"({"nemesis": [{"at_ms": 1, "restart": 1}]})", {"nemesis[0].restart", "not down"}},
        {R"({"nemesis": [{"at_ms": 1, "crash": 1}, {"at_ms": 2, "crash": 1}]})",
         {"nemesis[1].crash", "already down"}},
        {R"({"nemesis": [{"at_ms": 1, "crash": 1}, {"at_ms": 2, "amnesia": 1},
                         {"at_ms": 3, "amnesia": 1}]})",
         {"nemesis[2].amnesia", "not down"}},
        {R"({"nemesis": [{"at_ms": 1, "cut_one_way": {"from": 1, "to": 1}}]})",
         {"nemesis[0].cut_one_way", "same node"}},
        {R"({"nemesis": [{"at_ms": 1, "cut_one_way": {"from": 1}}]})",
         {"nemesis[0].cut_one_way.to", "missing"}},
        {R"({"nemesis": [{"at_ms": 1, "clock_skew": {"node": 1, "ms": 0.5}}]})",
         {"nemesis[0].clock_skew.ms", "integer"}},
        {R"({"nemesis": [{"at_ms": 1, "clock_skew": {"node": 1}}]})",
         {"nemesis[0].clock_skew.ms", "missing"}},
        {R"({"nodes": 2, "nemesis": [{"at_ms": 1, "bridge": 0}]})",
         {"nemesis[0].bridge", "at least 3 nodes"}},
    };
    for (const auto& [text, words] : bad) {
        INFO(text);
        try {
            lab::parse_scenario(text);
            FAIL("no error");
        } catch (const lab::scenario_error& e) {
            std::string what = e.what();
            INFO(what);
            CHECK(what.rfind(words.front(), 0) == 0);  // the message starts with the field
            for (const auto& w : words) CHECK(what.find(w) != std::string::npos);
        }
    }
}

TEST_CASE("an unreadable scenario file is a scenario_error", "[check][lab][scenario]") {
    CHECK_THROWS_AS(lab::load_scenario(scenarios_dir() / "no-such-file.json"), lab::scenario_error);
}

// SPDX-License-Identifier: MIT
// The lab end to end on a majority/minority split: CP presets refuse the minority and stay
// linearizable; AP presets answer everywhere and read stale on the minority side; siblings and
// CRDTs lose no acknowledged write. And one seed replays byte for byte.
#include <capkit/check/json_history.hpp>
#include <capkit/check/lab.hpp>
#include <capkit/check/recorder.hpp>
#include <capkit/presets.hpp>

#include "support/compiled_presets.hpp"

#include <chrono>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace {

namespace lab = capkit::lab;
using namespace std::chrono_literals;

lab::scenario split(unsigned seeds) {
    lab::scenario sc;
    sc.name = "split";
    sc.nodes = 3;
    sc.seeds = seeds;
    sc.load.duration = 6s;
    lab::fault cut;
    cut.what = lab::fault::kind::partition;
    cut.at = 1500ms;
    lab::fault heal;
    heal.what = lab::fault::kind::heal;
    heal.at = 4500ms;
    sc.nemesis = {cut, heal};
    sc.quiet = 1s;
    return sc;
}

template <class F>
lab::report run_preset(std::string_view name, const lab::scenario& sc, F&& more_checks) {
    lab::report out;
    bool found = lab::with_preset(name, [&](auto t) {
        using replica = typename decltype(t)::type;
        out = lab::run<replica>(sc, {}, std::string(name));
    });
    REQUIRE(found);
    INFO(name << ": first failing seed "
              << (out.failing_seeds.empty() ? 0 : out.failing_seeds.front()));
    more_checks(out);
    return out;
}

}  // namespace

TEST_CASE("lab: CP presets refuse the minority and stay linearizable", "[lab]") {
    auto sc = split(24);
    for (auto name : {"cp-serial", "cp-linearizable"}) {
        run_preset(name, sc, [](const lab::report& r) {
            CHECK(r.seeds == 24);
            CHECK(r.linearizable_seeds == r.seeds);
            CHECK(r.lost_writes == 0);
            CHECK(r.stale_reads == 0);
            CHECK(r.availability_minority == 0.0);
            CHECK(r.availability_majority >= 0.95);
            CHECK(r.converged == 1.0);
        });
    }
}

TEST_CASE("lab: AP presets stay available and read stale on the minority side", "[lab]") {
    auto sc = split(24);
    run_preset("ap-lww", sc, [](const lab::report& r) {
        CHECK(r.availability_partitioned >= 0.99);
        CHECK(r.stale_minority_seeds * 2 >= r.seeds);
        CHECK(r.linearizable_seeds < r.seeds);
        CHECK(r.converged == 1.0);
    });
    for (auto name : {"ap-dvv", "ap-crdt-counter"}) {
        run_preset(name, sc, [](const lab::report& r) {
            CHECK(r.availability_partitioned >= 0.99);
            CHECK(r.lost_writes == 0);
            CHECK(r.converged == 1.0);
        });
    }
    run_preset("ap-dvv", sc, [](const lab::report& r) { CHECK(r.max_siblings > 1); });
}

TEST_CASE("lab: a seed replays byte for byte", "[lab]") {
    auto sc = split(1);
    auto text = [&](std::uint64_t seed) {
        std::ostringstream out;
        lab::with_preset("cp-serial", [&](auto t) {
            capkit::check::write_jsonl(out, lab::record<typename decltype(t)::type>(sc, seed));
        });
        return out.str();
    };
    auto first = text(7);
    CHECK(first.size() > 1000);
    CHECK(text(7) == first);
    CHECK(text(8) != first);

    SECTION("and reads back as the same history") {
        auto h = capkit::check::read_history(first);
        CHECK(capkit::check::check_linearizability(h, capkit::check::kv_model{}).result ==
              capkit::check::verdict::linearizable);
    }
}

TEST_CASE("lab: a scenario for another cluster size is refused with the reason", "[lab]") {
    auto sc = split(1);
    bool refused = false;
    lab::with_preset("n5-linearizable", [&](auto t) {
        using replica = typename decltype(t)::type;
        auto why = lab::refuses<replica>(sc);
        REQUIRE(why.has_value());
        CHECK(why->find("N=5") != std::string::npos);
        CHECK_THROWS_AS(lab::run<replica>(sc), std::invalid_argument);
        refused = true;
    });
    CHECK(refused);
}

TEST_CASE("lab: a scenario whose faults need more nodes than N is refused with the reason",
          "[lab]") {
    auto sc = split(1);
    sc.nodes = 0;                // any cluster size ...
    sc.nemesis[0].minority = 2;  // ... but cutting off two nodes needs a majority of three
    lab::with_preset("cp-serial", [&](auto t) {
        using replica = typename decltype(t)::type;
        auto why = lab::refuses<replica>(sc);
        REQUIRE(why.has_value());
        CHECK(why->find("needs at least 5 nodes") != std::string::npos);
    });
    lab::with_preset("n5-serial", [&](auto t) {
        CHECK_FALSE(lab::refuses<typename decltype(t)::type>(sc).has_value());
    });
}

// One node of six down for long, then back (examples/scenarios/ring_node_down.json, shortened):
// each key on its three owners of the ring.
static lab::scenario ring_node_down(unsigned seeds, std::chrono::milliseconds anti_entropy) {
    lab::scenario sc;
    sc.name = "ring_node_down";
    sc.nodes = 6;
    sc.seeds = seeds;
    sc.load.keys = 64;
    sc.clients = 5;  // through nodes 0 .. 4: none through the node that goes down
    sc.load.duration = 6s;
    lab::fault crash;
    crash.what = lab::fault::kind::crash;
    crash.node = 5;
    crash.at = 1s;
    lab::fault restart = crash;
    restart.what = lab::fault::kind::restart;
    restart.at = 5s;
    sc.nemesis = {crash, restart};
    sc.anti_entropy = anti_entropy;
    sc.quiet = 1s;
    return sc;
}

TEST_CASE(
    "lab: hash_ring presets on six nodes converge on the keys a node missed, by anti-entropy "
    "among owners or by hints",
    "[lab][ring]") {
    auto on = ring_node_down(12, 200ms);
    for (auto name : {"ring-strong", "ring-ap-hinted"}) {
        run_preset(name, on, [](const lab::report& r) {
            CHECK(r.seeds == 12);
            CHECK(r.converged_unread == 1.0);
            CHECK(r.converged == 1.0);
            CHECK(r.lost_writes == 0);
        });
    }
    for (auto name : {"ring-strong", "ring-serial"}) {
        run_preset(name, on, [](const lab::report& r) {
            CHECK(r.seeds == 12);
            CHECK(r.linearizable_seeds == r.seeds);  // 2 of 3 owners: none waits for node 5
            CHECK(r.lost_writes == 0);
            CHECK(r.converged == 1.0);
            CHECK(r.availability >= 0.99);
        });
    }
    // Anti-entropy off: the owners of node 5's keys stay apart until the final reads repair
    // them (the control), unless fallbacks kept hints for it.
    auto off = ring_node_down(12, 0ms);
    run_preset("ring-strong", off, [](const lab::report& r) {
        CHECK(r.converged_unread <= 0.5);
        CHECK(r.converged == 1.0);
    });
    run_preset("ring-ap-hinted", off,
               [](const lab::report& r) { CHECK(r.converged_unread == 1.0); });
}

TEST_CASE("lab: a hash_ring preset runs on the scenario's nodes, from N to 64", "[lab][ring]") {
    auto sc = ring_node_down(1, 200ms);
    lab::with_preset("ring-strong", [&](auto t) {
        using replica = typename decltype(t)::type;
        CHECK(lab::cluster_nodes<replica>(sc) == 6);
        CHECK_FALSE(lab::refuses<replica>(sc).has_value());
        sc.nodes = 2;
        auto why = lab::refuses<replica>(sc);
        REQUIRE(why.has_value());
        CHECK(why->find("hash_ring of 3 to 64 nodes") != std::string::npos);
        sc.nodes = 0;  // the fewest its faults fit: node 5 needs six
        CHECK(lab::cluster_nodes<replica>(sc) == 6);
    });
    lab::with_preset("cp-linearizable", [&](auto t) {
        auto why = lab::refuses<typename decltype(t)::type>(sc);  // nodes 6: not for N=3
        REQUIRE(why.has_value());
        CHECK(why->find("N=3") != std::string::npos);
    });
}

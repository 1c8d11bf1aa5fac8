// SPDX-License-Identifier: MIT
// capkit::options_error: every run-time rule of replica_options in one place, asked before a
// replica is built, and the sentence each replica's constructor throws.
#include <capkit/capkit.hpp>
#include <capkit/protocol/options_rules.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using strong_lww =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::strong>;
using ap_dvv =
    capkit::replica<std::string, std::int64_t, capkit::quorum<3, capkit::one, capkit::one>,
                    capkit::eventual, capkit::dvv>;
using serial =
    capkit::replica<std::string, std::int64_t,
                    capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>;
using ring_linearizable = capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>,
                                          capkit::linearizable, capkit::hash_ring<>>;

// The sentence options_error gives, and checks that constructing the replica throws it too.
template <class Replica>
std::string refused(const capkit::replica_options& o) {
    auto why = capkit::options_error<Replica>(o);
    REQUIRE(why);
    try {
        Replica r(0, o);
        FAIL("the replica was built on options options_error refuses");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()) == *why);
    }
    return *why;
}

}  // namespace

TEST_CASE("options_error: legal options pass, for every kind of replica", "[options]") {
    capkit::replica_options o;
    CHECK_FALSE(capkit::options_error<strong_lww>(o));
    CHECK_FALSE(capkit::options_error<ap_dvv>(o));
    CHECK_FALSE(capkit::options_error<serial>(o));
    o.cluster_size = 6;
    CHECK_FALSE(capkit::options_error<ring_linearizable>(o));
    o.group_commit.window = 250ms;  // a quarter of the 1 s request_timeout: the most
    o.anti_entropy.interval = 1s;
    CHECK_FALSE(capkit::options_error<ring_linearizable>(o));
}

TEST_CASE("options_error: each rule broken is named in its sentence", "[options]") {
    capkit::replica_options o;
    o.cluster_size = 5;
    CHECK_THAT(refused<strong_lww>(o), Catch::Contains("with capkit::all_nodes"));
    o.cluster_size = 2;
    CHECK_THAT(refused<ring_linearizable>(o), Catch::Contains("at least N = 3"));

    o = {};
    o.max_pending = 0;
    CHECK_THAT(refused<serial>(o), Catch::Contains("max_pending is 0"));

    o = {};
    o.group_commit.window = 300ms;
    CHECK_THAT(refused<strong_lww>(o), Catch::Contains("a quarter of request_timeout"));
    CHECK_THAT(refused<serial>(o), Catch::Contains("group_commit.window"));

    o = {};
    o.anti_entropy.interval = 1s;
    o.anti_entropy.tree_depth = 25;
    CHECK_THAT(refused<strong_lww>(o), Catch::Contains("tree_depth above 24"));

    o = {};
    o.tombstone_gc.grace = 1s;
    CHECK_THAT(refused<ap_dvv>(o), Catch::Contains("totally ordered resolver"));
    CHECK_FALSE(capkit::options_error<strong_lww>(o));
    o.cluster_size = 6;
    CHECK_THAT(refused<ring_linearizable>(o), Catch::Contains("capkit::all_nodes"));
}

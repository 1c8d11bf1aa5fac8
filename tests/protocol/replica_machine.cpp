// SPDX-License-Identifier: MIT
// Both replicas model capkit::replica_machine, in every kind of configuration; something that
// lacks a member a driver calls does not.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <capkit/capkit.hpp>
#include <capkit/presets.hpp>

namespace {
struct not_a_machine {
    using message = int;
    using config = capkit::config<>;
    capkit::node_id id() const { return 0; }
    // no receive, tick, take_messages...
};
}  // namespace

TEST_CASE("every preset's replica and a plain one model replica_machine", "[protocol]") {
    boost::hana::for_each(capkit::lab::presets, [](const auto& p) {
        using replica = typename std::decay_t<decltype(p)>::replica;
        STATIC_REQUIRE(capkit::replica_machine<replica>);
    });
    STATIC_REQUIRE(capkit::replica_machine<capkit::replica<std::string, std::string>>);
    STATIC_REQUIRE_FALSE(capkit::replica_machine<not_a_machine>);
}

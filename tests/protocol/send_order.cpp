// SPDX-License-Identifier: MIT
// Messages leave in an order fixed by what happened, not by a hash map's layout: hints are handed
// off in the order they came, whatever their keys hash to, so a simulated run sends the same
// messages in the same order on every standard library and Boost version.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include <capkit/capkit.hpp>
#include <capkit/protocol/hints.hpp>

using namespace std::chrono_literals;

namespace {
using resolver = capkit::lww<>;
using state = resolver::state<std::string>;
using store = capkit::detail::hint_store<std::string, state, resolver>;

std::vector<std::string> handed_off(store& hints, capkit::time_point now) {
    std::vector<std::string> keys;
    hints.tick(
        now, [](capkit::node_id) { return true; },
        [&](capkit::node_id, const auto& handoff) { keys.push_back(handoff.key); });
    return keys;
}
}  // namespace

TEST_CASE("hints are handed off in the order they came, whatever their keys", "[hints]") {
    // Many keys, so that a hash map's order would differ from this one.
    std::vector<std::string> added;
    for (int i = 0; i < 200; ++i) added.push_back(std::to_string((i * 7919) % 1000));
    store hints;
    for (const auto& key : added) REQUIRE(hints.add(1, key, state{}, capkit::time_point{0}));
    CHECK(handed_off(hints, capkit::time_point{1s}) == added);
    // Unanswered, they go again after `retry`, in the same order.
    CHECK(handed_off(hints, capkit::time_point{2s}) == added);
}

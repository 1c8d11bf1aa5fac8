// SPDX-License-Identifier: MIT
// capkit::failure_detector: a peer is up once heard, down once silent for the timeout, and the
// changes come in order of peer id on the time it is given.
#include <capkit/protocol/failure_detector.hpp>

#include <chrono>
#include <vector>

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using capkit::failure_detector;
using capkit::time_point;
using change = failure_detector::change;

TEST_CASE("failure_detector: heard is up, silent for the timeout is down", "[failure_detector]") {
    failure_detector d(100ms);
    d.watch(2);
    d.watch(1);
    CHECK_FALSE(d.up(1));
    CHECK(d.next_deadline() == time_point::max());
    CHECK(d.heard(1, time_point(10ms)) == change{1, true});
    CHECK(d.heard(1, time_point(20ms)) == std::nullopt);  // already up: no change
    CHECK(d.heard(2, time_point(50ms)) == change{2, true});
    CHECK(d.heard(7, time_point(50ms)) == std::nullopt);  // not watched
    CHECK(d.up_count() == 2);
    CHECK(d.next_deadline() == time_point(120ms));
    CHECK(d.tick(time_point(119ms)).empty());
    CHECK(d.tick(time_point(120ms)) == std::vector<change>{{1, false, 100ms}});
    CHECK(d.next_deadline() == time_point(150ms));
    // Both silent: reported in order of id, each once.
    d.heard(1, time_point(130ms));
    CHECK(d.tick(time_point(500ms)) == std::vector<change>{{1, false, 370ms}, {2, false, 450ms}});
    CHECK(d.tick(time_point(600ms)).empty());
    CHECK(d.up_count() == 0);
    d.forget(2);
    CHECK(d.heard(2, time_point(700ms)) == std::nullopt);
}

// SPDX-License-Identifier: MIT
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <vector>

#include <capkit/version/hlc.hpp>

using namespace std::chrono_literals;
using capkit::hlc;
using ts = hlc::timestamp;

TEST_CASE("hlc follows physical time when it moves forward", "[version][hlc]") {
    hlc c;
    CHECK(c.now(100ns) == ts{100, 0});
    CHECK(c.now(250ns) == ts{250, 0});
    CHECK(c.now(250ns) == ts{250, 1});  // same physical instant: the logical part orders them
    CHECK(c.now(300ns) == ts{300, 0});
}

TEST_CASE("hlc never goes backwards when physical time jumps back", "[version][hlc]") {
    hlc c;
    auto before = c.now(1'000'000ns);
    auto after_jump = c.now(10ns);  // e.g. NTP stepped the clock back
    CHECK(after_jump > before);
    CHECK(after_jump == ts{1'000'000, 1});
    CHECK(c.last() == after_jump);
}

TEST_CASE("a receive is ordered after the send, even from a clock running ahead",
          "[version][hlc]") {
    hlc fast, slow;
    auto sent = fast.now(5'000ns);
    auto received = slow.update(sent, 1'000ns);  // slow's physical clock lags by 4 us
    REQUIRE(received.has_value());
    CHECK(*received > sent);
    CHECK(*received == ts{5'000, 1});
    // Later local events on the slow node stay after the receive though its clock lags.
    CHECK(slow.now(2'000ns) > *received);
}

TEST_CASE("update takes the largest logical part when walls agree", "[version][hlc]") {
    hlc c;
    (void)c.now(700ns);
    (void)c.now(700ns);  // {700, 1}
    auto r = c.update(ts{700, 9}, 600ns);
    REQUIRE(r.has_value());
    CHECK(*r == ts{700, 10});
    auto local_ahead = c.update(ts{650, 3}, 600ns);
    REQUIRE(local_ahead.has_value());
    CHECK(*local_ahead == ts{700, 11});
    auto physical_ahead = c.update(ts{650, 3}, 900ns);
    REQUIRE(physical_ahead.has_value());
    CHECK(*physical_ahead == ts{900, 0});
}

TEST_CASE("a remote timestamp beyond the maximum offset is refused", "[version][hlc]") {
    hlc c{std::chrono::nanoseconds(1ms)};
    auto mine = c.now(10ms);
    auto refused = c.update(ts{static_cast<std::uint64_t>((10ms + 1ms + 1ns).count()), 0}, 10ms);
    REQUIRE(refused.has_error());
    CHECK(refused.error() == capkit::errc::clock_offset_exceeded);
    CHECK(c.last() == mine);  // the clock was not dragged forward
    auto at_limit = c.update(ts{static_cast<std::uint64_t>((11ms).count()), 0}, 10ms);
    CHECK(at_limit.has_value());
}

TEST_CASE("the logical counter's overflow moves the wall on instead of wrapping",
          "[version][hlc]") {
    hlc c;
    auto r = c.update(ts{100, std::numeric_limits<std::uint32_t>::max()}, 50ns);
    REQUIRE(r.has_value());
    CHECK(*r == ts{101, 0});
    CHECK(c.now(50ns) == ts{101, 1});
}

TEST_CASE("hlc timestamps strictly increase under any physical clock", "[version][hlc][laws]") {
    rc::prop(
        "every timestamp given out is greater than the last, and after what it received",
        [](const std::vector<std::pair<bool, std::uint32_t>>& events) {
            hlc c{std::chrono::nanoseconds(1'000)};
            ts last{};
            for (auto [is_receive, raw] : events) {
                auto pt = std::chrono::nanoseconds(raw % 100'000);
                if (is_receive) {
                    ts remote{static_cast<std::uint64_t>(raw % 101'000), raw % 7};
                    auto r = c.update(remote, pt);
                    if (r.has_error()) {
                        RC_ASSERT(remote.wall > static_cast<std::uint64_t>(pt.count()) + 1'000);
                        RC_ASSERT(c.last() == last);
                        continue;
                    }
                    RC_ASSERT(remote.wall <= static_cast<std::uint64_t>(pt.count()) + 1'000);
                    RC_ASSERT(*r > remote);
                    RC_ASSERT(*r > last);
                    last = *r;
                } else {
                    auto t = c.now(pt);
                    RC_ASSERT(t > last);
                    RC_ASSERT(t.wall >= static_cast<std::uint64_t>(pt.count()));
                    last = t;
                }
            }
        });
}

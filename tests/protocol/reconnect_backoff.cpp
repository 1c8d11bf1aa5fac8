// SPDX-License-Identifier: MIT
// capkit::reconnect_backoff on given time: the waits double from min up to max with at most a
// quarter of jitter, a reset starts again from min, and a link that heals is dialled again
// within max and its jitter, however long it was cut.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include <capkit/protocol/reconnect_backoff.hpp>

using capkit::reconnect_backoff;
using ms = std::chrono::milliseconds;

TEST_CASE("reconnect waits double from min to max, each with at most a quarter of jitter",
          "[backoff]") {
    capkit::detail::rng jitter(7);
    reconnect_backoff b(ms(20), ms(1000));
    ms expected(20);
    for (int attempt = 0; attempt < 12; ++attempt) {
        INFO("attempt " << attempt);
        REQUIRE(b.current() == expected);
        const auto wait = b.after_failure(jitter);
        CHECK(wait >= expected);
        CHECK(wait <= expected + expected / 4);
        expected = std::min(expected * 2, ms(1000));
    }
    CHECK(b.current() == ms(1000));  // capped
    b.reset();
    CHECK(b.current() == ms(20));
}

TEST_CASE("the same jitter seed gives the same waits, and nodes' seeds spread them", "[backoff]") {
    auto waits = [](std::uint64_t seed) {
        capkit::detail::rng jitter(seed);
        reconnect_backoff b(ms(400), ms(400));
        std::vector<ms> out;
        for (int i = 0; i < 8; ++i) out.push_back(b.after_failure(jitter));
        return out;
    };
    CHECK(waits(1) == waits(1));
    CHECK(waits(1) != waits(2));  // two nodes cut off together do not redial in lockstep
}

TEST_CASE("a healed link is dialled again within max and its jitter", "[backoff]") {
    rc::prop("any cut, any bounds", [](std::uint16_t min_raw, std::uint16_t extra,
                                       std::uint32_t cut_raw, std::uint64_t seed) {
        const ms min(1 + min_raw % 500), max = min + ms(extra % 5000);
        const ms cut(cut_raw % 600'000);  // the link is down over [0, cut)
        capkit::detail::rng jitter(seed);
        reconnect_backoff b(min, max);
        ms now(0);
        while (now < cut) now += b.after_failure(jitter);  // every attempt in the cut fails
        RC_ASSERT(now >= cut);
        RC_ASSERT(now - cut <= max + max / 4 + ms(1));
    });
}

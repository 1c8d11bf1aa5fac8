// SPDX-License-Identifier: MIT
// CAPKIT_ASSERT is on in the tests: an invariant broken on purpose throws invariant_violation,
// whose message names the invariant and where it is written.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <string>

#include <capkit/assert.hpp>
#include <capkit/protocol/failure_detector.hpp>
#include <capkit/wire/frame_reader.hpp>

TEST_CASE("CAPKIT_ASSERT throws invariant_violation when its condition fails", "[assert]") {
    int checked = 0;
    CHECK_NOTHROW(CAPKIT_ASSERT(++checked == 1, "counts once"));
    CHECK(checked == 1);  // evaluated when assertions are on
    try {
        CAPKIT_ASSERT(checked == 2, "checked is two");
        FAIL("CAPKIT_ASSERT did not throw");
    } catch (const capkit::invariant_violation& e) {
        const std::string what = e.what();
        CHECK(what.find("checked is two") != std::string::npos);
        CHECK(what.find("checked == 2") != std::string::npos);
        CHECK(what.find("assert.cpp:") != std::string::npos);
    }
}

TEST_CASE("a frame reader given more bytes than the space it lent breaks its invariant",
          "[assert][wire]") {
    capkit::wire::frame_reader reader;
    const auto space = reader.space(16);
    CHECK_THROWS_WITH(reader.commit(space.size() + 1),
                      Catch::Contains("commit(n) takes at most the bytes space() gave"));
}

TEST_CASE("a failure detector with no timeout breaks its precondition", "[assert][protocol]") {
    CHECK_THROWS_AS(capkit::failure_detector(std::chrono::nanoseconds(0)),
                    capkit::invariant_violation);
}

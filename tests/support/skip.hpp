// SPDX-License-Identifier: MIT
// Skipping a test case that lacks what it needs (Catch2 v2 has no skip): it passes in a run of
// many test cases, with its reason printed, and a run in which every test case skipped (as when
// CTest runs one discovered test case alone) exits with skip_exit_code, which CTest reports as
// skipped (SKIP_RETURN_CODE, set in tests/CMakeLists.txt). main.cpp counts the test cases run.
#pragma once

#include <cstddef>
#include <iostream>
#include <string>

namespace capkit::test {

/// The exit code of a run whose every test case skipped.
inline constexpr int skip_exit_code = 77;

/// Test cases started and skipped in this run.
struct skip_counts {
    std::size_t started = 0;
    std::size_t skipped = 0;
    std::size_t last_skipped = 0;  // the number of the test case that skipped last
};
inline skip_counts& skips() {
    static skip_counts counts;
    return counts;
}

/// Marks the running test case skipped and prints why; return from it right after.
inline void skip(const std::string& why) {
    skip_counts& c = skips();
    if (c.last_skipped != c.started) {
        ++c.skipped;
        c.last_skipped = c.started;
    }
    std::cout << "SKIPPED: " << why << std::endl;
}

}  // namespace capkit::test

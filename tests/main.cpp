// SPDX-License-Identifier: MIT
// The one Catch2 main of the test binary.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include "support/skip.hpp"

namespace {
// Counts the test cases run, so that a run in which all of them skipped can say so.
struct count_test_cases : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    void testCaseStarting(const Catch::TestCaseInfo& info) override {
        ++capkit::test::skips().started;
        TestEventListenerBase::testCaseStarting(info);
    }
};
}  // namespace
CATCH_REGISTER_LISTENER(count_test_cases)

int main(int argc, char* argv[]) {
    // Every property law runs at least 1000 cases unless RC_PARAMS names another count;
    // rapidcheck reads RC_PARAMS on first use, so setting it here is early enough.
    std::string params = std::getenv("RC_PARAMS") ? std::getenv("RC_PARAMS") : "";
    if (params.find("max_success") == std::string::npos) {
        params += params.empty() ? "max_success=1000" : " max_success=1000";
        ::setenv("RC_PARAMS", params.c_str(), 1);
    }
    const int result = Catch::Session().run(argc, argv);
    const capkit::test::skip_counts& c = capkit::test::skips();
    if (result == 0 && c.started != 0 && c.skipped == c.started) {
        return capkit::test::skip_exit_code;
    }
    return result;
}

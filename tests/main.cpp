// SPDX-License-Identifier: MIT
// The one Catch2 main of the test binary.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

int main(int argc, char* argv[]) {
    // Every property law runs at least 1000 cases unless RC_PARAMS names another count;
    // rapidcheck reads RC_PARAMS on first use, so setting it here is early enough.
    std::string params = std::getenv("RC_PARAMS") ? std::getenv("RC_PARAMS") : "";
    if (params.find("max_success") == std::string::npos) {
        params += params.empty() ? "max_success=1000" : " max_success=1000";
        ::setenv("RC_PARAMS", params.c_str(), 1);
    }
    return Catch::Session().run(argc, argv);
}

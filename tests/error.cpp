// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <capkit/error.hpp>

TEST_CASE("capkit's errors name their effect on the data", "[error]") {
    boost::system::error_code unavailable = capkit::errc::unavailable;
    boost::system::error_code timeout = capkit::errc::timeout;
    CHECK(unavailable.category().name() == std::string("capkit"));
    CHECK(unavailable.message().find("took no effect") != std::string::npos);
    CHECK(timeout.message().find("may still take effect") != std::string::npos);
    CHECK(unavailable != timeout);
    CHECK(unavailable == capkit::errc::unavailable);
}

TEST_CASE("capkit::result carries a value or a capkit error", "[error]") {
    capkit::result<int> ok = 4;
    capkit::result<int> refused = capkit::errc::precondition_failed;
    CHECK(ok.value() == 4);
    REQUIRE(refused.has_error());
    CHECK(refused.error() == capkit::errc::precondition_failed);
}

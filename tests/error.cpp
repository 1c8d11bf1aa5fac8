// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <capkit/error.hpp>

#include <sstream>
#include <string>

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

TEST_CASE("membership refusals say nothing changed; a failure prints its message", "[error]") {
    for (auto e : {capkit::errc::change_in_progress, capkit::errc::invalid_change,
                   capkit::errc::too_few_members, capkit::errc::data_moving,
                   capkit::errc::fixed_membership}) {
        boost::system::error_code code = e;
        INFO(code.message());
        CHECK(code.message().find("nothing changed") != std::string::npos);
    }
    std::ostringstream out;
    out << capkit::failure(capkit::errc::unavailable, {true, 2, 1});
    CHECK(out.str() == capkit::failure(capkit::errc::unavailable, {true, 2, 1}).message());
    CHECK(out.str().find("(need W=2, reached 1)") != std::string::npos);
}

// SPDX-License-Identifier: MIT
#include <catch2/catch.hpp>

#include <capkit/policy/describe.hpp>
#include <capkit/resolve/crdt_merge.hpp>

using namespace capkit;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

// Aliased so that the template arguments' commas stay out of Catch's macros.
using cp_3_2_2 = config<quorum<3, 2, 2>, linearizable>;
using strong_5_2_4 = config<quorum<5, 2, 4>, strong>;
using strong_3_2_2 = config<quorum<3, 2, 2>, strong>;
using ap_lww = config<quorum<3, one, one>>;
using ap_crdt = config<quorum<3, one, one>, crdt_merge>;
using lin_5_1_5 = config<quorum<5, 1, 5>, linearizable>;
using serial_5_3_4 = config<quorum<5, 3, 4>, serial>;

TEST_CASE("describe states sizes, tolerance and the read guarantee", "[policy][describe]") {
    CHECK(describe<cp_3_2_2>() ==
          "N=3 R=2 W=2 linearizable lww<hlc>: tolerates 1 failed replica for reads and writes; "
          "reads see the latest acknowledged write");
}

TEST_CASE("eventual and strong tolerate N-R for reads and N-W for writes", "[policy][describe]") {
    CHECK_THAT(describe<strong_5_2_4>(),
               StartsWith("N=5 R=2 W=4 strong lww<hlc>: tolerates 3 failed replicas for reads "
                          "and 1 for writes"));
    CHECK_THAT(describe<ap_lww>(), Contains("tolerates 2 failed replicas for reads and writes"));
}

TEST_CASE("two-phase levels tolerate min(N-R, N-W) for both", "[policy][describe]") {
    // ABD's write reads first, and its read writes back: both need R and W replicas.
    CHECK_THAT(describe<lin_5_1_5>(), Contains("tolerates 0 failed replicas for reads and writes"));
    CHECK_THAT(describe<serial_5_3_4>(),
               Contains("tolerates 1 failed replica for reads and writes"));
}

TEST_CASE("strong with lww admits the lagging-clock loss", "[policy][describe]") {
    CHECK_THAT(describe<strong_3_2_2>(), Contains("lagging clock can still lose"));
    CHECK_THAT(describe<strong_3_2_2>(), Contains("capkit::linearizable prevents this"));
    CHECK_THAT(describe<cp_3_2_2>(), !Contains("lagging"));
}

TEST_CASE("eventual says what happens to concurrent writes", "[policy][describe]") {
    CHECK_THAT(describe<ap_lww>(), Contains("reads may miss acknowledged"));
    CHECK_THAT(describe<ap_lww>(), Contains("the others are lost"));
    CHECK_THAT(describe<ap_crdt>(), Contains("none is lost"));
    CHECK_THAT(describe<config<serial>>(), Contains("compare-and-set is atomic"));
}

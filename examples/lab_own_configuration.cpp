// SPDX-License-Identifier: MIT
// Your own configuration in the CAP lab: five replicas that write to four and read from two
// (R + W > N, so reads see acknowledged writes), keeping concurrent writes as siblings. The
// scenario is built in code: one node isolated for three seconds. Prints the lab's table and
// checks what the configuration promises: no read missed an acknowledged write, no acknowledged
// write was lost; and what it cannot promise: writes on the isolated node's side are refused.
#include <capkit/capkit.hpp>
#include <capkit/check/lab.hpp>
#include <capkit/check/report_format.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>

using namespace std::chrono_literals;

using my_replica = capkit::replica<std::uint64_t, std::int64_t, capkit::quorum<5, 2, 4>,
                                   capkit::strong, capkit::dvv>;

int main() {
    capkit::lab::scenario sc;
    sc.name = "isolate-one";
    sc.clients = 10;
    sc.load.duration = 6s;
    sc.seeds = 20;
    capkit::lab::fault isolate{.what = capkit::lab::fault::kind::isolate, .at = 1s, .node = 4};
    capkit::lab::fault heal{.what = capkit::lab::fault::kind::heal, .at = 4s};
    sc.nemesis = {isolate, heal};

    auto report = capkit::lab::run<my_replica>(sc, {}, "mine: N=5 R=2 W=4 strong dvv");
    capkit::lab::print_table(std::cout, {report});

    bool ok = true;
    auto claim = [&ok](bool holds, const char* what) {
        std::cout << (holds ? "ok    " : "FAILED") << "  " << what << "\n";
        ok = ok && holds;
    };
    claim(report.stale_reads == 0, "no read missed a write acknowledged before it began");
    claim(report.lost_writes == 0, "no acknowledged write was lost");
    claim(report.availability_minority < 1.0,
          "the isolated node's clients had writes refused (W=4 needs four of five)");
    claim(report.converged == 1.0, "every seed converged after the heal");
    return ok ? 0 : 1;
}

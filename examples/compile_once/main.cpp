// SPDX-License-Identifier: MIT
// A file of the codebase that uses the replica types: with CAPKIT_EXTERN_CLUSTER in
// replicas.hpp it compiles its own calls and none of the replicas' code (see
// bench/compile_time.sh for what that saves).
#include "replicas.hpp"

#include <iostream>

int main() {
    capkit::cluster<shop::orders> orders;
    auto placed = orders.at(0).compare_and_set("order-1", std::nullopt, "placed");
    orders.partition({{0}, {1, 2}});
    auto refused = orders.at(0).compare_and_set("order-1", "placed", "paid");  // minority side

    capkit::cluster<shop::sessions> sessions;
    sessions.partition({{0}, {1, 2}});
    auto kept = sessions.at(0).put("alice", "cart=3");  // either side takes writes

    std::cout << "order placed: " << (placed ? "yes" : "no")
              << "; paid on the minority side: " << (refused ? "yes" : "no")
              << "; session written on the minority side: " << (kept ? "yes" : "no") << '\n';
    return placed && !refused && kept ? 0 : 1;
}

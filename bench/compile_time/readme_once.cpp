// SPDX-License-Identifier: MIT
// The README's example as the files of a codebase compile it once the replica type's code is
// compiled elsewhere: CAPKIT_EXTERN_CLUSTER (docs/compile-time.md). bench/compile_time.sh
// compiles it; examples/compile_once/ is the whole pattern, built and run.
#include <capkit/capkit.hpp>
#include <iostream>

using cp = capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>;
CAPKIT_EXTERN_CLUSTER(cp);  // compiled once, in the file that says CAPKIT_INSTANTIATE_CLUSTER(cp)

int main() {
    std::cout << capkit::describe<cp::config>() << '\n';
    capkit::cluster<cp> cluster;
    cluster.at(0).put("greeting", "hello");
    cluster.settle();
    cluster.partition({{0}, {1, 2}});
    auto refused = cluster.at(0).get("greeting");
    auto served = cluster.at(1).get("greeting");
    return refused || !served ? 1 : 0;
}

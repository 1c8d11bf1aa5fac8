// SPDX-License-Identifier: MIT
// Last writer wins loses a write: two clients write the same key concurrently (neither saw the
// other's write) on two replicas; when the replicas merge, one write is silently gone, though
// both were acknowledged.
#include <capkit/resolve/lww.hpp>
#include <capkit/version/hlc.hpp>

#include <chrono>
#include <cstdio>
#include <string>

int main() {
    using namespace std::chrono_literals;
    using lww = capkit::lww<>;
    using state = lww::state<std::string>;

    // Each replica stamps writes with its own hybrid logical clock; replica 2's runs 3 ms behind.
    capkit::hlc clock1, clock2;
    state replica1, replica2;

    // Alice writes through replica 1, then Bob, a millisecond later in real time, through
    // replica 2.
    replica1 = lww::write(replica1, {}, 1, clock1.now(1000ms), std::string("alice's cart"));
    replica2 = lww::write(replica2, {}, 2, clock2.now(1001ms - 3ms), std::string("bob's cart"));
    std::printf("acknowledged: \"%s\" on replica 1, \"%s\" on replica 2\n", replica1.value->c_str(),
                replica2.value->c_str());

    // Anti-entropy: each replica merges the other's state. Both converge on one value.
    auto merged1 = lww::merge(replica1, replica2);
    auto merged2 = lww::merge(replica2, replica1);
    if (merged1 != merged2) {
        std::puts("FAILED: the replicas did not converge");
        return 1;
    }
    auto values = lww::values(merged1);
    if (values.size() != 1) {
        std::printf("FAILED: expected one value after the merge, got %zu\n", values.size());
        return 1;
    }
    const auto& kept = values.front();
    const auto& lost = kept == *replica1.value ? *replica2.value : *replica1.value;
    std::printf("after merge both replicas hold \"%s\"; \"%s\" is silently gone\n", kept.c_str(),
                lost.c_str());
    // Bob wrote last in real time, but replica 2's clock was behind: his later write is the one
    // lost.
    if (lost != "bob's cart") {
        std::printf(
            "FAILED: expected bob's later write to lose to clock skew, but \"%s\" was lost\n",
            lost.c_str());
        return 1;
    }
    std::puts(
        "no error was reported to anyone: use capkit::vector_clocks or capkit::dvv to keep both");
    return 0;
}

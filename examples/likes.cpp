// SPDX-License-Identifier: MIT
// Likes counted as a grow-only counter (crdt_merge over g_counter) on three nodes with R = W = 1.
// A partition splits the cluster; likes keep coming on both sides; after the heal every like is
// counted exactly once. Exits 1, saying why, if the total is wrong.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <cstdint>
#include <cstdio>

using replica = capkit::replica<std::string, capkit::g_counter, capkit::crdt_merge,
                                capkit::quorum<3, capkit::one, capkit::one>>;

int main() {
    capkit::cluster<replica> c;
    auto like = [&c](capkit::node_id via, int times) {
        for (int i = 0; i < times; ++i)
            if (!c.at(via).update("post", [](capkit::g_counter& likes, capkit::node_id self) {
                    likes.increment(self);
                }))
                return false;
        return true;
    };
    auto count = [&c](capkit::node_id via) -> std::uint64_t {
        auto got = c.at(via).get("post");
        return got ? got->values.at(0).value() : 0;
    };

    bool ok = like(0, 2) && like(2, 1);  // 3 likes before the split
    c.settle();
    c.partition({{0}, {1, 2}});
    ok = ok && like(0, 4) && like(1, 5) && like(2, 6);  // 15 during it, on both sides
    c.settle();
    std::printf("during the split: the left side counts %llu, the right side %llu\n",
                static_cast<unsigned long long>(count(0)),
                static_cast<unsigned long long>(count(1)));

    c.heal();
    auto healed = c.at(1).get<capkit::all>("post");
    c.settle();
    std::uint64_t total = healed ? healed->values.at(0).value() : 0;
    std::printf("after the heal: %llu likes (3 before, 15 during)\n",
                static_cast<unsigned long long>(total));
    if (!ok || total != 18) {
        std::printf("FAILED: expected 18 likes, every request acknowledged\n");
        return 1;
    }
    for (capkit::node_id i = 0; i < 3; ++i)
        if (count(i) != 18) {
            std::printf("FAILED: node %u reads %llu likes\n", unsigned(i),
                        static_cast<unsigned long long>(count(i)));
            return 1;
        }
    std::printf("every like counted once, on every node\n");
    return 0;
}

// SPDX-License-Identifier: MIT
// A shopping cart replicated on three nodes as an add-wins set (crdt_merge over or_set). The
// network splits one node off; shoppers on both sides keep adding items; after the heal no item
// anyone added is lost. Exits 1, saying why, if that claim fails.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <cstdio>
#include <string>
#include <vector>

using cart = capkit::or_set<std::string>;
using replica = capkit::replica<std::string, cart, capkit::crdt_merge, capkit::eventual,
                                capkit::quorum<3, capkit::one, capkit::one>>;

int main() {
    capkit::cluster<replica> c;
    auto add = [&c](capkit::node_id via, std::string item) {
        return c.at(via).update(
            "cart", [&item](cart& items, capkit::node_id self) { items.add(self, item); });
    };
    auto print = [](const char* when, const cart& items) {
        std::printf("%-26s", when);
        for (const auto& item : items.value()) std::printf(" %s", item.c_str());
        std::printf("\n");
    };

    bool ok = add(0, "milk") && add(1, "bread");
    c.settle();
    c.partition({{0}, {1, 2}});                     // node 0 on its own; 1 and 2 together
    ok = ok && add(0, "eggs") && add(0, "coffee");  // W = 1: each side keeps taking writes
    ok = ok && add(1, "apples") && add(2, "tea");
    c.settle();
    print("left side during the split:", c.at(0).get("cart")->values.at(0));
    print("right side during the split:", c.at(2).get("cart")->values.at(0));

    c.heal();
    auto healed = c.at(0).get<capkit::all>("cart");  // reads every replica and repairs them
    c.settle();
    if (!ok || !healed) {
        std::printf("FAILED: a request failed under R = W = 1\n");
        return 1;
    }
    const cart& items = healed->values.at(0);
    print("after the heal:", items);
    for (const char* item : {"milk", "bread", "eggs", "coffee", "apples", "tea"})
        if (!items.contains(item)) {
            std::printf("FAILED: %s was added but is lost\n", item);
            return 1;
        }
    for (capkit::node_id i = 0; i < 3; ++i)
        if (!(c.replica(i).find("cart")->value == items)) {
            std::printf("FAILED: replica %u did not converge\n", unsigned(i));
            return 1;
        }
    std::printf("no item lost; all three replicas hold the same cart\n");
    return 0;
}

// SPDX-License-Identifier: MIT
// A shopping cart as an add-wins set on two replicas, a phone and a laptop, that a partition
// splits. While apart, the phone removes milk and the laptop adds milk again; once they merge,
// milk is in the cart (add wins), nothing anyone added is lost, and a remove nobody contested
// sticks.
#include <iostream>
#include <string>

#include <capkit/crdt/or_set.hpp>

int main() {
    using cart = capkit::or_set<std::string>;
    constexpr capkit::node_id phone = 1, laptop = 2;

    cart on_phone;
    on_phone.add(phone, "milk");
    on_phone.add(phone, "bread");
    cart on_laptop = on_phone;  // replicated before the partition

    // The partition: each side goes on alone.
    on_phone.remove("milk");  // "we still have milk"
    on_phone.add(phone, "eggs");
    on_laptop.add(laptop, "milk");  // "no, we're out": added again, concurrently
    on_laptop.add(laptop, "coffee");
    on_laptop.remove("bread");

    // The heal: each side merges the other's state.
    cart phone_view = on_phone, laptop_view = on_laptop;
    on_phone.merge(laptop_view);
    on_laptop.merge(phone_view);

    std::cout << "cart after heal:";
    for (const auto& item : on_phone.value()) std::cout << ' ' << item;
    std::cout << '\n';

    int failed = 0;
    auto claim = [&](bool holds, const char* what) {
        if (holds) return;
        std::cout << "claim failed: " << what << '\n';
        ++failed;
    };
    claim(on_phone == on_laptop, "both replicas hold the same cart");
    claim(on_phone.contains("milk"), "milk is in the cart: the concurrent add wins");
    claim(on_phone.contains("eggs") && on_phone.contains("coffee"),
          "nothing added during the partition is lost");
    claim(!on_phone.contains("bread"), "bread stays removed: no one added it again");
    return failed == 0 ? 0 : 1;
}

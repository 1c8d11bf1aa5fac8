// SPDX-License-Identifier: MIT
// A bank on capkit::serial. CASPaxos orders operations per key, so the whole ledger lives in one
// key and a transfer is one atomic update. During a partition the minority side refuses, and
// money is neither created nor lost. Exits 1 if a check fails.
#include <capkit/capkit.hpp>

#include <cstdio>
#include <map>
#include <optional>
#include <string>

using ledger = std::map<std::string, int>;
using bank =
    capkit::cluster<capkit::replica<std::string, ledger, capkit::quorum<3>, capkit::serial>>;

namespace {

int total(const ledger& l) {
    int sum = 0;
    for (const auto& [who, amount] : l) sum += amount;
    return sum;
}

// Moves `amount` from one account to another if it is covered; the ledger is unchanged if not.
auto transfer(std::string from, std::string to, int amount) {
    return [=](const std::optional<ledger>& current) -> std::optional<ledger> {
        ledger l = current.value_or(ledger{});
        if (l[from] < amount) return l;
        l[from] -= amount;
        l[to] += amount;
        return l;
    };
}

void show(const char* side, capkit::node_id via, const capkit::result<std::optional<ledger>>& r) {
    if (r) {
        std::printf("  via node %u (%s): ok, alice %d bob %d carol %d\n", via, side,
                    (**r).at("alice"), (**r).at("bob"), (**r).at("carol"));
    } else {
        std::printf("  via node %u (%s): %s\n", via, side, r.error().message().c_str());
    }
}

}  // namespace

int main() {
    bank b;
    const ledger opening{{"alice", 100}, {"bob", 100}, {"carol", 100}};
    if (!b.at(0).put("ledger", opening)) return 1;

    std::printf("Transfers with the network whole:\n");
    show("whole", 0, b.at(0).update("ledger", transfer("alice", "bob", 30)));
    show("whole", 2, b.at(2).update("ledger", transfer("bob", "carol", 50)));

    std::printf("Node 0 cut off from nodes 1 and 2:\n");
    b.partition({{0}, {1, 2}});
    auto refused = b.at(0).update("ledger", transfer("carol", "alice", 20));
    show("minority", 0, refused);
    show("majority", 1, b.at(1).update("ledger", transfer("carol", "alice", 20)));
    show("majority", 2, b.at(2).update("ledger", transfer("alice", "bob", 500)));  // not covered

    b.heal();
    std::printf("Healed:\n");
    auto after = b.at(0).get("ledger");
    bool ok = after && after->found() && total(after->values.front()) == total(opening) &&
              !refused && refused.error() == capkit::errc::unavailable;
    if (after && after->found()) {
        const ledger& l = after->values.front();
        std::printf("  alice %d bob %d carol %d: total %d, opened with %d\n", l.at("alice"),
                    l.at("bob"), l.at("carol"), total(l), total(opening));
    }
    std::printf("%s\n", ok ? "no money created or lost; the minority refused"
                           : "CHECK FAILED: the ledger does not add up");
    return ok ? 0 : 1;
}

// SPDX-License-Identifier: MIT
// k clients do stale read-modify-writes through one coordinator. Each passes back the context it
// got with its own previous write, so every write is concurrent with the others' writes since.
// vector_clocks cannot tell which siblings a client saw and keeps them all (sibling explosion);
// dvv supersedes exactly what each client saw. Neither may lose an acknowledged write.
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/vector_clocks.hpp>

#include <cstddef>
#include <iterator>
#include <ranges>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

constexpr capkit::node_id coordinator = 0;

struct trace {
    std::vector<std::size_t> siblings;  ///< the sibling count after each write
    std::set<std::string> acked;        ///< every acknowledged value
    std::set<std::string> superseded;   ///< values some later writer had seen
    std::set<std::string> last;         ///< the siblings after the last write
};

template <class R>
std::set<std::string> values_of(const typename R::template state<std::string>& s) {
    std::set<std::string> out;
    for (const auto& v : R::values(s)) out.insert(v);
    return out;
}

// Runs `rounds` rounds of k clients writing in turn. After every write, every acknowledged value
// must still be a sibling unless a later writer saw it (its context covered it).
template <class R>
trace stale_writers(int k, int rounds) {
    typename R::template state<std::string> stored;
    // Each client starts by reading the empty key: its context and the values it saw.
    std::vector<typename R::context> context(k, R::context_of(stored));
    std::vector<std::set<std::string>> saw(k);
    trace t;
    for (int round = 0; round < rounds; ++round) {
        for (int c = 0; c < k; ++c) {
            auto v = "client" + std::to_string(c) + "/round" + std::to_string(round);
            stored = R::write(stored, context[c], coordinator, {}, v);
            t.acked.insert(v);
            t.superseded.insert(saw[c].begin(), saw[c].end());
            // The write's reply hands back the new context and, with it, the siblings it covers.
            auto now = values_of<R>(stored);
            context[c] = R::context_of(stored);
            saw[c] = now;
            t.siblings.push_back(
                static_cast<std::size_t>(std::ranges::distance(R::values(stored))));
            std::vector<std::string> lost;
            for (const auto& a : t.acked) {
                if (!now.contains(a) && !t.superseded.contains(a)) lost.push_back(a);
            }
            INFO(R::name << ": client " << c << ", round " << round);
            REQUIRE(lost == std::vector<std::string>{});
        }
    }
    t.last = values_of<R>(stored);
    return t;
}

}  // namespace

TEMPLATE_TEST_CASE("no acknowledged write is lost to stale writers", "[resolver][siblings]",
                   capkit::vector_clocks, capkit::dvv) {
    for (int k : {2, 3, 5}) {
        auto t = stale_writers<TestType>(k, 20);
        CHECK(t.acked.size() == static_cast<std::size_t>(20 * k));
        for (const auto& v : t.last) CHECK(t.acked.contains(v));
    }
}

TEST_CASE("vector_clocks siblings grow without bound under stale writers", "[resolver][siblings]") {
    for (int k : {2, 3, 5}) {
        INFO("k = " << k);
        auto t = stale_writers<capkit::vector_clocks>(k, 100);
        auto after_50_rounds = t.siblings[static_cast<std::size_t>(50 * k) - 1];
        CHECK(after_50_rounds > static_cast<std::size_t>(10 * k));
        // Still rising: from the second write on, every write adds a sibling and removes none.
        for (std::size_t i = 1; i < t.siblings.size(); ++i)
            REQUIRE(t.siblings[i] > t.siblings[i - 1]);
        CHECK(t.siblings.back() == static_cast<std::size_t>(100 * k));
        // Most of them are false siblings: values their own writer's successor had already seen.
        CHECK(t.last.size() > t.acked.size() - t.superseded.size());
    }
}

TEST_CASE("dvv keeps at most one sibling per stale writer", "[resolver][siblings]") {
    for (int k : {2, 3, 5}) {
        INFO("k = " << k);
        auto t = stale_writers<capkit::dvv>(k, 100);
        for (auto n : t.siblings) REQUIRE(n <= static_cast<std::size_t>(k));
        CHECK(t.siblings.back() == static_cast<std::size_t>(k));
        // Exactly the writes no one has superseded: no false siblings and no lost ones.
        std::set<std::string> live;
        std::ranges::set_difference(t.acked, t.superseded, std::inserter(live, live.end()));
        CHECK(t.last == live);
    }
}

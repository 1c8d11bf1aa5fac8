// SPDX-License-Identifier: MIT
// The resolver laws, checked on states a real cluster could reach: one random history of client
// reads, writes through random coordinators and replica-to-replica merges at 3 replicas, replayed
// under each resolver. Every state a replica ever held is a sample.
#include <capkit/detail/text.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/resolve/vector_clocks.hpp>
#include <capkit/version/dvvset.hpp>
#include <capkit/version/hlc.hpp>
#include <capkit/version/vector_clock.hpp>

#include <array>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

namespace {

constexpr int replicas = 3;
constexpr int clients = 3;

/// One event of a history, the same for every resolver.
struct step {
    enum kind_t { read, write, sync } kind = read;
    int client = 0;            ///< read, write: which client
    capkit::node_id at = 0;    ///< read: the replica read; write: the coordinator; sync: receiver
    capkit::node_id from = 0;  ///< sync: the replica whose state is sent
    std::int64_t skew = 0;     ///< write: the coordinator's physical clock error, in ns
};

std::ostream& operator<<(std::ostream& os, const step& s) {
    switch (s.kind) {
        case step::read:
            return os << "client " << s.client << " reads replica " << s.at;
        case step::write:
            return os << "client " << s.client << " writes via " << s.at << " (skew " << s.skew
                      << ")";
        case step::sync:
            return os << "replica " << s.from << " -> " << s.at;
    }
    return os;
}

rc::Gen<step> gen_step() {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::element(step::read, step::write, step::write, step::sync),
                       rc::gen::inRange(0, clients), rc::gen::inRange(0, replicas),
                       rc::gen::inRange(0, replicas), rc::gen::inRange(-3000, 3000)),
        [](std::tuple<step::kind_t, int, int, int, int> t) {
            auto [kind, client, at, from, skew] = t;
            return step{kind, client, static_cast<capkit::node_id>(at),
                        static_cast<capkit::node_id>(from), skew};
        });
}

// Up to 200 steps: long enough for siblings to pile up and clocks to interleave.
rc::Gen<std::vector<step>> gen_history() {
    return rc::gen::scale(2.0, rc::gen::container<std::vector<step>>(gen_step()));
}

/// What a history leaves behind under resolver R.
template <class R>
struct replayed {
    using state = typename R::template state<std::string>;
    std::vector<state> states;                    ///< every state a replica held
    std::vector<std::pair<state, state>> writes;  ///< each write: (stored, written)
};

// lww stamps come from the coordinator's hlc, so a (stamp, origin) pair never names two values.
template <class R>
typename R::stamp stamp_at(capkit::hlc& clock, std::chrono::nanoseconds pt) {
    if constexpr (std::same_as<typename R::stamp, capkit::hlc::timestamp>) {
        return clock.now(pt);
    } else {
        return {};
    }
}

template <class R>
replayed<R> replay(const std::vector<step>& history) {
    using state = typename R::template state<std::string>;
    std::array<state, replicas> replica{};
    std::array<capkit::hlc, replicas> clock;
    std::array<typename R::context, clients> context{};  // what each client last read
    replayed<R> out;
    out.states.push_back(state{});
    for (std::size_t i = 0; i < history.size(); ++i) {
        const auto& s = history[i];
        auto& here = replica[s.at];
        switch (s.kind) {
            case step::read:
                context[s.client] = R::context_of(here);
                break;
            case step::write: {
                auto pt = std::chrono::nanoseconds(static_cast<std::int64_t>(i) * 1000 + s.skew);
                auto written = R::write(here, context[s.client], s.at, stamp_at<R>(clock[s.at], pt),
                                        capkit::detail::cat("w", std::to_string(i)));
                out.writes.emplace_back(here, written);
                here = std::move(written);
                break;
            }
            case step::sync:
                here = R::merge(here, replica[s.from]);
                break;
        }
        if (s.kind != step::read && here != state{}) out.states.push_back(here);
    }
    return out;
}

template <class State>
const State& pick(const std::vector<State>& states) {
    return states[*rc::gen::inRange<std::size_t>(0, states.size())];
}

using resolvers = std::tuple<capkit::lww<>, capkit::vector_clocks, capkit::dvv>;

}  // namespace

TEMPLATE_LIST_TEST_CASE("merge is a join on reachable states", "[resolver][laws]", resolvers) {
    using R = TestType;
    STATIC_REQUIRE(capkit::resolver<R, std::string>);
    rc::prop("commutative, associative, idempotent", [] {
        auto run = replay<R>(*gen_history());
        const auto& a = pick(run.states);
        const auto& b = pick(run.states);
        const auto& c = pick(run.states);
        RC_ASSERT(R::merge(a, b) == R::merge(b, a));
        RC_ASSERT(R::merge(R::merge(a, b), c) == R::merge(a, R::merge(b, c)));
        RC_ASSERT(R::merge(a, a) == a);
    });
    rc::prop("a write descends the state it was written on", [] {
        auto run = replay<R>(*gen_history());
        for (const auto& [stored, written] : run.writes) {
            RC_ASSERT(R::merge(stored, written) == written);
            RC_ASSERT(R::merge(written, stored) == written);
        }
    });
}

TEST_CASE("lww orders writes totally", "[resolver][laws][lww]") {
    using R = capkit::lww<>;
    rc::prop("a stamp and origin name one value", [] {
        auto run = replay<R>(*gen_history());
        std::map<std::pair<capkit::hlc::timestamp, capkit::node_id>, std::string> named;
        for (const auto& [stored, written] : run.writes) {
            (void)stored;
            RC_ASSERT(written.value.has_value());
            auto [it, fresh] = named.try_emplace({written.stamp, written.origin}, *written.value);
            RC_ASSERT(it->second == *written.value);
        }
    });
    rc::prop("of two distinct writes exactly one wins, transitively", [] {
        auto run = replay<R>(*gen_history());
        std::vector<R::state<std::string>> written;
        for (const auto& w : run.writes) written.push_back(w.second);
        RC_PRE(!written.empty());
        const auto& a = pick(written);
        const auto& b = pick(written);
        const auto& c = pick(written);
        if (a == b) {
            RC_ASSERT(!R::wins(a, b));
        } else {
            RC_ASSERT(R::wins(a, b) != R::wins(b, a));
            RC_ASSERT(R::merge(a, b) == (R::wins(a, b) ? a : b));
        }
        if (R::wins(a, b) && R::wins(b, c)) RC_ASSERT(R::wins(a, c));
    });
}

TEST_CASE("vector clock compare is a partial order", "[vector_clock][laws]") {
    using capkit::causal_order;
    auto converse = [](causal_order o) {
        return o == causal_order::before  ? causal_order::after
               : o == causal_order::after ? causal_order::before
                                          : o;
    };
    auto leq = [](const capkit::vector_clock& x, const capkit::vector_clock& y) {
        auto o = compare(x, y);
        return o == causal_order::before || o == causal_order::equal;
    };
    rc::prop("reflexive, antisymmetric, transitive; merge is the least upper bound", [&] {
        auto run = replay<capkit::vector_clocks>(*gen_history());
        const auto& a = pick(run.states).clock;
        const auto& b = pick(run.states).clock;
        const auto& c = pick(run.states).clock;
        RC_ASSERT(compare(a, a) == causal_order::equal);
        RC_ASSERT(compare(b, a) == converse(compare(a, b)));
        RC_ASSERT((compare(a, b) == causal_order::equal) == (a == b));
        RC_ASSERT(leq(a, b) == b.descends(a));
        if (leq(a, b) && leq(b, c)) RC_ASSERT(leq(a, c));
        auto m = a;
        m.merge(b);
        RC_ASSERT(leq(a, m));
        RC_ASSERT(leq(b, m));
        if (leq(a, c) && leq(b, c)) RC_ASSERT(leq(m, c));
    });
}

namespace {

// The live (dot, value) pairs of a dvvset: values[i] of a node's entry holds dot counter - i.
std::map<std::pair<capkit::node_id, std::uint64_t>, std::string> dots_of(
    const capkit::dvvset<std::string>& s) {
    std::map<std::pair<capkit::node_id, std::uint64_t>, std::string> out;
    for (const auto& e : s.entries()) {
        for (std::size_t i = 0; i < e.values.size(); ++i)
            out[{e.node, e.counter - i}] = e.values[i];
    }
    return out;
}

}  // namespace

TEST_CASE("dvvset sync is a join", "[dvvset][laws]") {
    rc::prop("history is the union; a value survives unless the other side superseded it", [] {
        auto run = replay<capkit::dvv>(*gen_history());
        const auto& a = pick(run.states);
        const auto& b = pick(run.states);
        auto m = sync(a, b);
        auto history = join(a);
        history.merge(join(b));
        RC_ASSERT(join(m) == history);
        // Exactly the dots live on both sides, or live on one and never seen by the other.
        auto da = dots_of(a), db = dots_of(b);
        auto seen = [](const capkit::version_vector& v, const auto& dot) {
            return v.get(dot.first) >= dot.second;
        };
        std::map<std::pair<capkit::node_id, std::uint64_t>, std::string> expect;
        for (const auto& [d, v] : da) {
            if (db.contains(d) || !seen(join(b), d)) expect[d] = v;
        }
        for (const auto& [d, v] : db) {
            if (da.contains(d)) RC_ASSERT(da.at(d) == v);  // a dot names one value
            if (da.contains(d) || !seen(join(a), d)) expect[d] = v;
        }
        RC_ASSERT(dots_of(m) == expect);
        RC_ASSERT(m.size() == expect.size());
        RC_ASSERT(sync(m, a) == m);
        RC_ASSERT(sync(b, m) == m);
    });
}

// SPDX-License-Identifier: MIT
// The capkit::crdt laws, for every model, on states that arise as they would in a cluster: three
// replicas run a random history of local updates and merges, and the laws are checked on their
// states, latest or stale.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <capkit/crdt/crdt.hpp>
#include <capkit/crdt/g_counter.hpp>
#include <capkit/crdt/lww_register.hpp>
#include <capkit/crdt/mv_register.hpp>
#include <capkit/crdt/or_set.hpp>
#include <capkit/crdt/pn_counter.hpp>
#include <capkit/version/hlc.hpp>

namespace {

using capkit::node_id;

constexpr std::size_t replica_count = 3;
// Extreme ids too: 0 is also what an unwritten lww_register holds as its origin.
constexpr std::array<node_id, replica_count> ids{0, 7, std::numeric_limits<node_id>::max()};

// A few elements, so that replicas often add, remove and assign the same ones.
rc::Gen<std::string> small_string() {
    return rc::gen::element<std::string>("a", "b", "c", "d");
}

struct no_clock {};

// How the laws drive one CRDT: `op` is a random local update, `apply` performs it at a replica,
// whose `clock` is any state of its own the update needs.
template <class C>
struct driver;

template <>
struct driver<capkit::g_counter> {
    using clock = no_clock;
    struct op {
        std::uint64_t by;
        friend std::ostream& operator<<(std::ostream& os, const op& o) {
            return os << "increment " << o.by;
        }
    };
    static rc::Gen<op> gen() {
        return rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 4),
                            [](std::uint64_t by) { return op{by}; });
    }
    static void apply(capkit::g_counter& c, clock&, node_id self, const op& o) {
        c.increment(self, o.by);
    }
};

template <>
struct driver<capkit::pn_counter> {
    using clock = no_clock;
    struct op {
        bool up;
        std::uint64_t by;
        friend std::ostream& operator<<(std::ostream& os, const op& o) {
            return os << (o.up ? "increment " : "decrement ") << o.by;
        }
    };
    static rc::Gen<op> gen() {
        return rc::gen::apply(
            [](bool up, std::uint64_t by) {
                return op{up, by};
            },
            rc::gen::arbitrary<bool>(), rc::gen::inRange<std::uint64_t>(0, 4));
    }
    static void apply(capkit::pn_counter& c, clock&, node_id self, const op& o) {
        o.up ? c.increment(self, o.by) : c.decrement(self, o.by);
    }
};

template <>
struct driver<capkit::or_set<std::string>> {
    using clock = no_clock;
    struct op {
        bool add;
        std::string element;
        friend std::ostream& operator<<(std::ostream& os, const op& o) {
            return os << (o.add ? "add " : "remove ") << o.element;
        }
    };
    static rc::Gen<op> gen() {
        return rc::gen::apply(
            [](bool add, std::string e) {
                return op{add, std::move(e)};
            },
            rc::gen::arbitrary<bool>(), small_string());
    }
    static void apply(capkit::or_set<std::string>& s, clock&, node_id self, const op& o) {
        o.add ? s.add(self, o.element) : void(s.remove(o.element));
    }
};

template <>
struct driver<capkit::mv_register<std::string>> {
    using clock = no_clock;
    struct op {
        std::string v;
        friend std::ostream& operator<<(std::ostream& os, const op& o) {
            return os << "assign " << o.v;
        }
    };
    static rc::Gen<op> gen() {
        return rc::gen::map(small_string(), [](std::string v) { return op{std::move(v)}; });
    }
    static void apply(capkit::mv_register<std::string>& r, clock&, node_id self, const op& o) {
        r.assign(self, o.v);
    }
};

// Every replica stamps its writes with its own hlc, so a (stamp, origin) pair never names two
// values; physical times are few and go back and forth, as skewed clocks do.
template <>
struct driver<capkit::lww_register<std::string>> {
    using clock = capkit::hlc;
    struct op {
        std::string v;
        std::int64_t physical;
        friend std::ostream& operator<<(std::ostream& os, const op& o) {
            return os << "assign " << o.v << " at " << o.physical << "ns";
        }
    };
    static rc::Gen<op> gen() {
        return rc::gen::apply(
            [](std::string v, std::int64_t pt) {
                return op{std::move(v), pt};
            },
            small_string(), rc::gen::inRange<std::int64_t>(0, 8));
    }
    static void apply(capkit::lww_register<std::string>& r, clock& c, node_id self, const op& o) {
        r.assign(o.v, c.now(std::chrono::nanoseconds(o.physical)), self);
    }
};

template <class C>
struct replica {
    C state{};
    typename driver<C>::clock clock{};
};

// One step of a history: replica `at` applies `op`, or merges the state of replica `from`.
template <class C>
struct step {
    bool merge;
    std::size_t at;
    std::size_t from;
    typename driver<C>::op op;
    friend std::ostream& operator<<(std::ostream& os, const step& s) {
        if (s.merge) return os << "r" << s.at << " merges r" << s.from;
        return os << "r" << s.at << ": " << s.op;
    }
};

template <class C>
rc::Gen<step<C>> gen_step() {
    using op = typename driver<C>::op;
    return rc::gen::apply(
        [](bool merge, std::size_t at, std::size_t from, op o) {
            return step<C>{merge, at, from, std::move(o)};
        },
        rc::gen::arbitrary<bool>(), rc::gen::inRange<std::size_t>(0, replica_count),
        rc::gen::inRange<std::size_t>(0, replica_count), driver<C>::gen());
}

template <class C>
struct history {
    std::array<replica<C>, replica_count> replicas{};
    std::vector<C> past{C{}};  // every state a replica went through, the latest ones too
};

// Draws a random history and runs it.
template <class C>
history<C> run_history() {
    auto steps = *rc::gen::container<std::vector<step<C>>>(gen_step<C>());
    history<C> h;
    for (const auto& s : steps) {
        auto& r = h.replicas[s.at];
        if (s.merge) {
            r.state.merge(h.replicas[s.from].state);
        } else {
            driver<C>::apply(r.state, r.clock, ids[s.at], s.op);
        }
        h.past.push_back(r.state);
    }
    return h;
}

// Mostly a replica's latest state; sometimes an earlier one, as a late message carries.
template <class C>
const C& pick(const history<C>& h) {
    if (*rc::gen::inRange(0, 4) == 0)
        return h.past[*rc::gen::inRange<std::size_t>(0, h.past.size())];
    return h.replicas[*rc::gen::inRange<std::size_t>(0, replica_count)].state;
}

template <class C>
C join(C a, const C& b) {
    a.merge(b);
    return a;
}

template <class C>
void check_crdt_laws() {
    rc::prop("merge is commutative", [] {
        auto h = run_history<C>();
        const auto &a = pick(h), &b = pick(h);
        RC_ASSERT(join(a, b) == join(b, a));
    });
    rc::prop("merge is associative", [] {
        auto h = run_history<C>();
        const auto &a = pick(h), &b = pick(h), &c = pick(h);
        RC_ASSERT(join(join(a, b), c) == join(a, join(b, c)));
    });
    rc::prop("merge is idempotent", [] {
        auto h = run_history<C>();
        const auto& a = pick(h);
        RC_ASSERT(join(a, a) == a);
    });
    rc::prop("an update is an inflation: merge(old, new) == new", [] {
        auto h = run_history<C>();
        auto& r = h.replicas[*rc::gen::inRange<std::size_t>(0, replica_count)];
        auto self = ids[static_cast<std::size_t>(&r - h.replicas.data())];
        C old = r.state;
        driver<C>::apply(r.state, r.clock, self, *driver<C>::gen());
        RC_ASSERT(join(old, r.state) == r.state);
        RC_ASSERT(join(r.state, old) == r.state);
    });
}

}  // namespace

TEMPLATE_TEST_CASE("crdt laws", "[crdt][laws]", capkit::g_counter, capkit::pn_counter,
                   capkit::or_set<std::string>, capkit::lww_register<std::string>,
                   capkit::mv_register<std::string>) {
    STATIC_REQUIRE(capkit::crdt<TestType>);
    check_crdt_laws<TestType>();
}

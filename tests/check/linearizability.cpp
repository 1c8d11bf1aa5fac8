// SPDX-License-Identifier: MIT
#include <capkit/check/linearizability.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <capkit/check/history.hpp>
#include <capkit/check/models.hpp>
#include <capkit/check/parse.hpp>
#include <capkit/detail/random.hpp>

#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

namespace ck = capkit::check;

namespace {
ck::history edn(std::string_view text) {
    return ck::pair_events(ck::read_edn(text, ck::default_read_options(ck::format::edn)));
}
ck::check_result check(std::string_view text, ck::value initial = std::int64_t{0}) {
    return ck::check_linearizability(edn(text), ck::register_model{std::move(initial)});
}
}  // namespace

TEST_CASE("sequential and overlapping histories that are linearizable",
          "[check][linearizability]") {
    CHECK(check("").result == ck::verdict::linearizable);
    CHECK(check(R"([{:process 0, :type :invoke, :f :write, :value 1}
                    {:process 0, :type :ok, :f :write, :value 1}
                    {:process 0, :type :invoke, :f :read, :value nil}
                    {:process 0, :type :ok, :f :read, :value 1}])")
              .result == ck::verdict::linearizable);
    // The read overlaps the write: it may see the old value or the new.
    for (int seen : {0, 1}) {
        auto text = R"([{:process 0, :type :invoke, :f :write, :value 1}
                        {:process 1, :type :invoke, :f :read, :value nil}
                        {:process 1, :type :ok, :f :read, :value )" +
                    std::to_string(seen) + R"(}
                        {:process 0, :type :ok, :f :write, :value 1}])";
        CHECK(check(text).result == ck::verdict::linearizable);
    }
    // Two reads inside one write: 1 then 0 would need the write undone.
    CHECK(check(R"([{:process 0, :type :invoke, :f :write, :value 1}
                    {:process 1, :type :invoke, :f :read, :value nil}
                    {:process 1, :type :ok, :f :read, :value 1}
                    {:process 2, :type :invoke, :f :read, :value nil}
                    {:process 2, :type :ok, :f :read, :value 0}
                    {:process 0, :type :ok, :f :write, :value 1}])")
              .result == ck::verdict::not_linearizable);
}

TEST_CASE("a stale read is not linearizable; the culprit is the read", "[check][linearizability]") {
    auto h = edn(R"([{:process 0, :type :invoke, :f :write, :value 1}
                     {:process 0, :type :ok, :f :write, :value 1}
                     {:process 0, :type :invoke, :f :write, :value 2}
                     {:process 1, :type :invoke, :f :read, :value nil}
                     {:process 0, :type :ok, :f :write, :value 2}
                     {:process 2, :type :invoke, :f :read, :value nil}
                     {:process 2, :type :ok, :f :read, :value 1}
                     {:process 1, :type :ok, :f :read, :value 2}])");
    auto r = ck::check_linearizability(h, ck::register_model{});
    REQUIRE(r.result == ck::verdict::not_linearizable);
    REQUIRE(r.culprit.has_value());
    const auto& c = h.ops[*r.culprit];
    CHECK(c.process == 2);
    CHECK(c.ret == 6);
    REQUIRE(r.concurrent.size() == 1);
    CHECK(h.ops[r.concurrent[0]].process == 1);  // the read still open when it returned
    CHECK(r.states == std::vector<std::string>{"2"});
}

TEST_CASE("info operations may take effect late or never", "[check][linearizability]") {
    // The write crashed: a read long after may see it, or not.
    for (int seen : {0, 1}) {
        auto text = R"([{:process 0, :type :invoke, :f :write, :value 1}
                        {:process 0, :type :info, :f :write, :value 1}
                        {:process 1, :type :invoke, :f :read, :value nil}
                        {:process 1, :type :ok, :f :read, :value 0}
                        {:process 1, :type :invoke, :f :read, :value nil}
                        {:process 1, :type :ok, :f :read, :value )" +
                    std::to_string(seen) + "}]";
        CHECK(check(text).result == ck::verdict::linearizable);
    }
    // But once seen it stays: 1 then 0 is a lie.
    CHECK(check(R"([{:process 0, :type :invoke, :f :write, :value 1}
                    {:process 1, :type :invoke, :f :read, :value nil}
                    {:process 1, :type :ok, :f :read, :value 1}
                    {:process 1, :type :invoke, :f :read, :value nil}
                    {:process 1, :type :ok, :f :read, :value 0}])")
              .result == ck::verdict::not_linearizable);
    // A failed write never happened.
    CHECK(check(R"([{:process 0, :type :invoke, :f :write, :value 1}
                    {:process 0, :type :fail, :f :write, :value 1}
                    {:process 1, :type :invoke, :f :read, :value nil}
                    {:process 1, :type :ok, :f :read, :value 1}])")
              .result == ck::verdict::not_linearizable);
}

TEST_CASE("keys are checked independently and together alike", "[check][linearizability]") {
    auto h = edn(R"([{:process 0, :type :invoke, :f :put, :key "a", :value "x"}
                     {:process 1, :type :invoke, :f :append, :key "b", :value "y"}
                     {:process 0, :type :ok, :f :put, :key "a", :value "x"}
                     {:process 1, :type :ok, :f :append, :key "b", :value "y"}
                     {:process 0, :type :invoke, :f :get, :key "b", :value nil}
                     {:process 0, :type :ok, :f :get, :key "b", :value "y"}
                     {:process 0, :type :invoke, :f :get, :key "a", :value nil}
                     {:process 0, :type :ok, :f :get, :key "a", :value "y"}])");
    ck::kv_model m{ck::value{std::string{}}};
    auto split = ck::check_linearizability(h, m);
    CHECK(split.result == ck::verdict::not_linearizable);
    CHECK(split.partitions == 2);
    REQUIRE(split.culprit.has_value());
    CHECK(h.ops[*split.culprit].ret == 7);
    ck::check_options whole;
    whole.partition = false;
    auto together = ck::check_linearizability(h, m, whole);
    CHECK(together.result == ck::verdict::not_linearizable);
    CHECK(together.partitions == 1);
    CHECK(together.culprit == split.culprit);
}

TEST_CASE("multi-register txns", "[check][linearizability]") {
    auto txn = [](std::string reads) {
        return R"([{:process 0, :type :invoke, :f :txn, :value [[:write :x 1] [:write :y 1]]}
                   {:process 1, :type :invoke, :f :txn, :value [[:read :x nil] [:read :y nil]]}
                   {:process 1, :type :ok, :f :txn, :value )" +
               reads + R"(}
                   {:process 0, :type :ok, :f :txn, :value [[:write :x 1] [:write :y 1]]}])";
    };
    ck::multi_register_model m;
    m.initial = std::int64_t{0};
    CHECK(ck::check_linearizability(edn(txn("[[:read :x 0] [:read :y 0]]")), m).result ==
          ck::verdict::linearizable);
    CHECK(ck::check_linearizability(edn(txn("[[:read :x 1] [:read :y 1]]")), m).result ==
          ck::verdict::linearizable);
    auto torn = ck::check_linearizability(edn(txn("[[:read :x 1] [:read :y 0]]")), m);
    CHECK(torn.result == ck::verdict::not_linearizable);
    CHECK(torn.partitions == 1);  // the txns join x and y
}

TEST_CASE("an unsupported operation is refused with a sentence", "[check][linearizability]") {
    auto h = edn(R"({:process 0, :type :invoke, :f :append, :value "x"})");
    ck::multi_register_model m;
    CHECK_THROWS_WITH(ck::check_linearizability(h, m),
                      Catch::Contains("multi-register model has no append"));
}

TEST_CASE("a bound ends a hopeless search with unknown", "[check][linearizability]") {
    // Many concurrent writes of distinct values and a final impossible read: every order of the
    // writes is explored before the answer, far more than the bound.
    std::vector<ck::event> events;
    const int writers = 14;
    for (int p = 0; p < writers; ++p) {
        ck::event e;
        e.process = p;
        e.f = ck::op_kind::write;
        e.val = std::int64_t{p};
        events.push_back(e);
    }
    for (int p = 0; p < writers; ++p) {
        ck::event e;
        e.process = writers + p;
        e.f = ck::op_kind::read;
        events.push_back(e);
        e.type = ck::event_type::ok;
        e.val = std::int64_t{p};
        events.push_back(e);
    }
    for (int p = 0; p < writers; ++p) {
        ck::event e;
        e.process = p;
        e.type = ck::event_type::ok;
        e.f = ck::op_kind::write;
        e.val = std::int64_t{p};
        events.push_back(e);
    }
    ck::event r;
    r.process = 100;
    r.f = ck::op_kind::read;
    events.push_back(r);
    r.type = ck::event_type::ok;
    r.val = std::int64_t{99};
    events.push_back(r);
    auto h = ck::pair_events(events);
    ck::check_options bounded;
    bounded.max_states = 1000;
    auto res = ck::check_linearizability(h, ck::register_model{}, bounded);
    CHECK(res.result == ck::verdict::unknown);
    CHECK_THAT(res.reason, Catch::Contains("1000 states"));
    ck::check_options timed;
    timed.time_limit = std::chrono::milliseconds(1);
    CHECK(ck::check_linearizability(h, ck::register_model{}, timed).result == ck::verdict::unknown);
}

namespace {
// A random history of a register with true linearization points at 100, 200, ...; every op's
// interval is built around its point, so the history is linearizable by construction. Values are
// unique, and two writes that do not overlap open it, so a read of the first one at the end is
// stale for certain.
struct generated {
    std::vector<ck::event> events;
    std::int64_t first_value = 0;
};
generated generate(std::uint64_t seed, int n) {
    capkit::detail::rng rng(seed);
    struct timed {
        std::int64_t time;
        ck::event e;
    };
    std::vector<timed> out;
    ck::value state{};
    std::int64_t next_value = 1;
    std::int64_t lin = 0;
    for (int i = 0; i < n + 2; ++i) {
        lin += 100;
        bool opening = i < 2;
        std::int64_t call = lin - 1 - (opening ? 0 : static_cast<std::int64_t>(rng.below(250)));
        std::int64_t ret = lin + 1 + (opening ? 0 : static_cast<std::int64_t>(rng.below(250)));
        ck::event inv;
        inv.process = i;
        ck::event done;
        done.process = i;
        done.type = ck::event_type::ok;
        std::uint64_t kind = opening ? 0 : rng.below(3);
        if (kind == 0) {  // write
            inv.f = done.f = ck::op_kind::write;
            inv.val = done.val = next_value++;
            if (!opening && rng.chance(0.2)) {
                done.type = ck::event_type::info;
                if (rng.chance(0.5)) state = inv.val;  // it took effect, or not
            } else {
                state = inv.val;
            }
        } else if (kind == 1) {  // read
            inv.f = done.f = ck::op_kind::read;
            done.val = state;
        } else {  // cas
            inv.f = done.f = ck::op_kind::cas;
            bool match = rng.chance(0.5);
            inv.expected = done.expected =
                match ? state : ck::value{static_cast<std::int64_t>(rng.below(next_value + 1))};
            inv.val = done.val = next_value++;
            if (inv.expected == state) {
                state = inv.val;
            } else {
                done.type = ck::event_type::fail;
            }
        }
        out.push_back({call, inv});
        out.push_back({ret, done});
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const timed& a, const timed& b) { return a.time < b.time; });
    generated g;
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i].e.line = i + 1;
        g.events.push_back(out[i].e);
    }
    g.first_value = 1;
    return g;
}
}  // namespace

TEST_CASE("generated register histories", "[check][linearizability][property]") {
    rc::prop("histories built around true linearization points are linearizable",
             [](std::uint64_t seed) {
                 const int n = *rc::gen::inRange(0, 40);
                 auto g = generate(seed, n);
                 auto r =
                     ck::check_linearizability(ck::pair_events(g.events), ck::register_model{});
                 RC_ASSERT(r.result == ck::verdict::linearizable);
             });
    rc::prop("one stale read makes them not linearizable", [](std::uint64_t seed) {
        const int n = *rc::gen::inRange(0, 40);
        auto g = generate(seed, n);
        // After every op returned, a read sees the first write, which the second (called after
        // the first returned) overwrote; no other op writes that value.
        ck::event inv;
        inv.process = 1000;
        inv.f = ck::op_kind::read;
        ck::event done = inv;
        done.type = ck::event_type::ok;
        done.val = g.first_value;
        g.events.push_back(inv);
        g.events.push_back(done);
        auto h = ck::pair_events(g.events);
        auto r = ck::check_linearizability(h, ck::register_model{});
        RC_ASSERT(r.result == ck::verdict::not_linearizable);
        RC_ASSERT(r.culprit.has_value());
        RC_ASSERT(h.ops[*r.culprit].process == 1000);
    });
}

namespace {
// An independent oracle: every order of the ops that respects real time, with Lowe's memo but
// none of the checker's prunings; open-ended ops may be left out.
template <class M>
bool brute_force(const ck::history& h, const M& m) {
    const std::size_t n = h.ops.size();
    std::set<std::pair<std::uint32_t, std::string>> failed;
    std::uint32_t mandatory = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (h.ops[i].completed) mandatory |= std::uint32_t{1} << i;
    }
    std::function<bool(std::uint32_t, const typename M::state&)> go = [&](std::uint32_t done,
                                                                          const auto& s) {
        if ((done & mandatory) == mandatory) return true;
        if (failed.contains({done, M::describe(s)})) return false;
        for (std::size_t i = 0; i < n; ++i) {
            if (done >> i & 1) continue;
            bool blocked = false;  // an op not yet placed returned before this one was called
            for (std::size_t j = 0; j < n; ++j) {
                blocked = blocked || (!(done >> j & 1) && h.ops[j].ret < h.ops[i].call);
            }
            auto t = s;
            if (blocked || !m.step(t, h.ops[i])) continue;
            if (go(done | std::uint32_t{1} << i, t)) return true;
        }
        failed.insert({done, M::describe(s)});
        return false;
    };
    return go(0, m.init());
}

// A random history of at most 11 ops on one register or counter with few distinct values, so
// that ops act alike often (the checker's prunings then apply), some returning info or never.
std::vector<ck::event> random_history(std::uint64_t seed, bool counter) {
    capkit::detail::rng rng(seed);
    struct timed {
        std::uint64_t time;
        int order;
        ck::event e;
    };
    std::vector<timed> out;
    const int n = 1 + static_cast<int>(rng.below(11));
    auto small = [&]() -> ck::value {
        std::uint64_t v = rng.below(counter ? 5 : 4);
        if (!counter && v == 3) return {};
        return static_cast<std::int64_t>(v);
    };
    for (int i = 0; i < n; ++i) {
        ck::event inv;
        inv.process = i;
        const std::uint64_t kind = rng.below(3);
        if (counter) {
            inv.f = kind == 0 ? ck::op_kind::read : ck::op_kind::add;
            if (inv.f == ck::op_kind::add) inv.val = std::int64_t{1} + (rng.chance(0.3) ? 1 : 0);
        } else {
            inv.f = kind == 0   ? ck::op_kind::read
                    : kind == 1 ? ck::op_kind::write
                                : ck::op_kind::cas;
            if (inv.f != ck::op_kind::read) inv.val = small();
            if (inv.f == ck::op_kind::cas) inv.expected = small();
        }
        ck::event done = inv;
        done.type = ck::event_type::ok;
        if (inv.f == ck::op_kind::read) done.val = small();
        if (inv.f == ck::op_kind::cas && rng.chance(0.3)) done.cas_succeeded = false;
        const std::uint64_t call = rng.below(30);
        out.push_back({call, 0, inv});
        if (inv.f != ck::op_kind::read && rng.chance(0.3)) {
            if (rng.chance(0.5)) continue;  // never completed
            done.type = ck::event_type::info;
        }
        out.push_back({call + 1 + rng.below(12), 1, done});
    }
    std::stable_sort(out.begin(), out.end(), [](const timed& a, const timed& b) {
        return std::tie(a.time, a.order) < std::tie(b.time, b.order);
    });
    std::vector<ck::event> events;
    for (const auto& t : out) events.push_back(t.e);
    return events;
}
}  // namespace

TEST_CASE("the checker agrees with an exhaustive search", "[check][linearizability][property]") {
    rc::prop("registers: same verdict as every order tried", [](std::uint64_t seed) {
        auto h = ck::pair_events(random_history(seed, false));
        ck::register_model m{std::int64_t{0}};
        auto r = ck::check_linearizability(h, m);
        RC_ASSERT((r.result == ck::verdict::linearizable) == brute_force(h, m));
    });
    rc::prop("counters: same verdict as every order tried", [](std::uint64_t seed) {
        auto h = ck::pair_events(random_history(seed, true));
        ck::counter_model m;
        auto r = ck::check_linearizability(h, m);
        RC_ASSERT((r.result == ck::verdict::linearizable) == brute_force(h, m));
    });
}

TEST_CASE("counters: reads see the sum of the adds before them", "[check][linearizability]") {
    auto counter = [](std::string_view text) {
        return ck::check_linearizability(edn(text), ck::counter_model{}).result;
    };
    // Two concurrent adds; a read inside both may see 0, 1, 2 or 3, a read after both only 3.
    auto history = [](int inside, int after) {
        return R"([{:process 0, :type :invoke, :f :add, :value 1}
                   {:process 1, :type :invoke, :f :add, :value 2}
                   {:process 2, :type :invoke, :f :read, :value nil}
                   {:process 2, :type :ok, :f :read, :value )" +
               std::to_string(inside) + R"(}
                   {:process 0, :type :ok, :f :add, :value 1}
                   {:process 1, :type :ok, :f :add, :value 2}
                   {:process 2, :type :invoke, :f :read, :value nil}
                   {:process 2, :type :ok, :f :read, :value )" +
               std::to_string(after) + "}]";
    };
    for (int inside : {0, 1, 2, 3}) {
        CHECK(counter(history(inside, 3)) == ck::verdict::linearizable);
    }
    CHECK(counter(history(4, 3)) == ck::verdict::not_linearizable);  // above every add invoked
    CHECK(counter(history(3, 2)) == ck::verdict::not_linearizable);  // below the acknowledged
    CHECK(counter(history(-1, 3)) == ck::verdict::not_linearizable);

    // An add that returned info may have counted, at any time after its call, or never; but a
    // read that saw it binds the reads after it.
    auto info = [](int first, int second) {
        return R"([{:process 0, :type :invoke, :f :add, :value 5}
                   {:process 0, :type :info, :f :add, :value 5}
                   {:process 1, :type :invoke, :f :add, :value 1}
                   {:process 1, :type :ok, :f :add, :value 1}
                   {:process 2, :type :invoke, :f :read, :value nil}
                   {:process 2, :type :ok, :f :read, :value )" +
               std::to_string(first) + R"(}
                   {:process 2, :type :invoke, :f :read, :value nil}
                   {:process 2, :type :ok, :f :read, :value )" +
               std::to_string(second) + "}]";
    };
    CHECK(counter(info(1, 1)) == ck::verdict::linearizable);  // it never counted
    CHECK(counter(info(6, 6)) == ck::verdict::linearizable);  // it counted before the reads
    CHECK(counter(info(1, 6)) == ck::verdict::linearizable);  // it counted between them
    CHECK(counter(info(6, 1)) == ck::verdict::not_linearizable);
    CHECK(counter(info(0, 1)) == ck::verdict::not_linearizable);  // the ok add is missing
    CHECK(counter(info(7, 7)) == ck::verdict::not_linearizable);

    // Keys are independent counters; a failed add never happened.
    auto keyed = edn(R"([{:process 0, :type :invoke, :f :add, :key "a", :value 2}
                         {:process 0, :type :ok, :f :add, :key "a", :value 2}
                         {:process 0, :type :invoke, :f :add, :key "b", :value 3}
                         {:process 0, :type :fail, :f :add, :key "b", :value 3}
                         {:process 0, :type :invoke, :f :read, :key "b", :value nil}
                         {:process 0, :type :ok, :f :read, :key "b", :value 0}
                         {:process 0, :type :invoke, :f :read, :key "a", :value nil}
                         {:process 0, :type :ok, :f :read, :key "a", :value 2}])");
    auto r = ck::check_linearizability(keyed, ck::counter_model{});
    CHECK(r.result == ck::verdict::linearizable);
    CHECK(r.partitions == 2);
    // In the kv model an absent key counts as 0 for add, and reads as nil before any add.
    ck::kv_model kv;
    CHECK(ck::check_linearizability(keyed, kv).result == ck::verdict::not_linearizable);
    ck::read_options nil_absent;  // a read of nil means absent here, not unknown
    auto from_absent = ck::pair_events(ck::read_edn(R"([
        {:process 0, :type :invoke, :f :read, :key "a"}
        {:process 0, :type :ok, :f :read, :key "a", :value nil}
        {:process 0, :type :invoke, :f :add, :key "a", :value 2}
        {:process 0, :type :ok, :f :add, :key "a", :value 2}
        {:process 0, :type :invoke, :f :read, :key "a"}
        {:process 0, :type :ok, :f :read, :key "a", :value 2}])",
                                                    nil_absent));
    CHECK(ck::check_linearizability(from_absent, kv).result == ck::verdict::linearizable);
}

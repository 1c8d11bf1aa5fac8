// SPDX-License-Identifier: MIT
// The contract every replica configuration keeps, checked over the in-memory cluster: reads see
// acknowledged writes (R + W > N), deletes stay deleted, siblings only where the resolver keeps
// them, a write with a read's context supersedes what that read saw, and CRDT updates all count.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include <support/protocol_helpers.hpp>

namespace {

using namespace capkit::test;

using capkit::node_id;
using capkit::replica;

// Every configuration here has R + W > N, so a read sees every write acknowledged before it.
using n1_eventual_lww = replica<str, str, capkit::quorum<1, 1, 1>>;
using n1_linearizable = replica<str, str, capkit::linearizable, capkit::quorum<1, 1, 1>>;
using n1_strong_dvv =
    replica<str, str, capkit::dvv, capkit::quorum<1, capkit::one, capkit::one>, capkit::strong>;
using n3_strong_lww = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::lww<>>;
using n3_linearizable = replica<str, str, capkit::quorum<3, 2, 2>, capkit::linearizable>;
using n3_strong_vector_clocks =
    replica<str, str, capkit::vector_clocks, capkit::quorum<3, capkit::one, capkit::all>,
            capkit::strong>;
using n3_eventual_dvv = replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>,
                                capkit::eventual, capkit::dvv>;
using n3_eventual_lww_read_all =
    replica<str, str, capkit::quorum<3, capkit::all, capkit::one>, capkit::eventual>;
using n5_linearizable =
    replica<str, str, capkit::quorum<5, 3, 3>, capkit::linearizable, capkit::lww<>>;
using n5_strong_dvv = replica<str, str, capkit::strong, capkit::dvv,
                              capkit::quorum<5, capkit::majority, capkit::majority>>;
using n5_eventual_vector_clocks =
    replica<str, str, capkit::quorum<5, capkit::all, capkit::one>, capkit::vector_clocks>;
using n5_strong_lww_read_two = replica<str, str, capkit::quorum<5, 2, 4>, capkit::strong>;

using configs =
    std::tuple<n1_eventual_lww, n1_linearizable, n1_strong_dvv, n3_strong_lww, n3_linearizable,
               n3_strong_vector_clocks, n3_eventual_dvv, n3_eventual_lww_read_all, n5_linearizable,
               n5_strong_dvv, n5_eventual_vector_clocks, n5_strong_lww_read_two>;

// R = W = 1 under eventual: both sides of a partition keep writing.
using always_writable = std::tuple<
    replica<str, str, capkit::quorum<3, capkit::one, capkit::one>>,
    replica<str, str, capkit::quorum<3, capkit::one, capkit::one>, capkit::vector_clocks>,
    replica<str, str, capkit::dvv, capkit::quorum<3, capkit::one, capkit::one>>,
    replica<str, str, capkit::quorum<5, capkit::one, capkit::one>, capkit::dvv>>;

using counters = std::tuple<
    replica<str, capkit::g_counter, capkit::crdt_merge, capkit::quorum<1, 1, 1>>,
    replica<str, capkit::g_counter, capkit::crdt_merge, capkit::quorum<3, 2, 2>, capkit::strong>,
    replica<str, capkit::g_counter, capkit::quorum<3, capkit::one, capkit::one>,
            capkit::crdt_merge>,
    replica<str, capkit::g_counter, capkit::crdt_merge,
            capkit::quorum<5, capkit::majority, capkit::majority>>>;

template <class R>
constexpr bool keeps_siblings = !R::resolver::totally_ordered;

}  // namespace

TEMPLATE_LIST_TEST_CASE("a read after an acknowledged write returns it, through any node",
                        "[protocol][contract]", configs) {
    constexpr unsigned n = TestType::n;
    capkit::cluster<TestType> c;
    CHECK(read(c, 0).empty());
    SECTION("read-modify-write through each node in turn") {
        for (node_id w = 0; w < n; ++w) {
            auto seen = c.at(w).get("k");
            REQUIRE(seen.has_value());
            str v = "by " + std::to_string(w);
            REQUIRE(c.at(w).put("k", v, seen->context).has_value());
            for (node_id r = 0; r < n; ++r) {
                INFO("written through " << w << ", read through " << r);
                CHECK(read(c, r) == strings{v});
            }
        }
    }
    SECTION("blind writes (no context) through each node in turn") {
        for (node_id w = 0; w < n; ++w) {
            str v = "blind " + std::to_string(w);
            REQUIRE(c.at(w).put("k", v).has_value());
            for (node_id r = 0; r < n; ++r) {
                INFO("written through " << w << ", read through " << r);
                auto got = read(c, r);
                // A blind write saw nothing, so under siblings it joins what is there.
                if constexpr (keeps_siblings<TestType>) {
                    CHECK(std::ranges::count(got, v) == 1);
                } else {
                    CHECK(got == strings{v});
                }
            }
        }
    }
    SECTION("many keys") {
        for (int i = 0; i < 20; ++i)
            REQUIRE(
                c.at(node_id(i) % n).put("key" + std::to_string(i), std::to_string(i)).has_value());
        for (int i = 0; i < 20; ++i)
            CHECK(read(c, node_id(i + 1) % n, "key" + std::to_string(i)) ==
                  strings{std::to_string(i)});
    }
}

TEMPLATE_LIST_TEST_CASE("a delete stays deleted, also once a stale replica is back",
                        "[protocol][contract]", configs) {
    constexpr unsigned n = TestType::n;
    capkit::cluster<TestType> c;
    REQUIRE(c.at(0).put("k", "doomed").has_value());
    c.settle();
    for (node_id i = 0; i < n; ++i) CHECK(stored(c.replica(i)) == strings{"doomed"});
    auto seen = c.at(0).get("k");
    REQUIRE(seen.has_value());

    if constexpr (n == 1) {
        REQUIRE(c.at(0).remove("k", seen->context).has_value());
        CHECK(read(c, 0).empty());
        REQUIRE(c.replica(0).find("k") != nullptr);  // a tombstone, not nothing
        CHECK(stored(c.replica(0)).empty());
    } else {
        // The last node misses the delete: its links are cut and nobody is told.
        const node_id stale = n - 1;
        for (node_id i = 0; i < stale; ++i) c.network().cut(i, stale);
        auto removed = c.at(0).remove("k", seen->context);
        bool acknowledged = TestType::config::w < n;
        if (acknowledged) {
            REQUIRE(removed.has_value());
        } else {
            // W = N cannot be confirmed without the stale node; the delete may still take effect.
            CHECK(failed_with(removed, capkit::errc::timeout));
        }
        CHECK(stored(c.replica(stale)) == strings{"doomed"});
        CHECK(stored(c.replica(0)).empty());

        c.heal();
        if (acknowledged) {
            // R + W > N: every read quorum holds the tombstone, the stale node's included.
            for (node_id r = n; r-- > 0;) {
                INFO("read through " << r);
                CHECK(read(c, r).empty());
            }
        }
        // A read of all replicas through the stale node repairs it, and the value stays dead.
        CHECK(read<TestType, capkit::all>(c, stale).empty());
        c.settle();
        for (node_id i = 0; i < n; ++i) {
            INFO("replica " << i);
            REQUIRE(c.replica(i).find("k") != nullptr);
            CHECK(stored(c.replica(i)).empty());
            CHECK(read(c, i).empty());
        }
        std::uint64_t repairs = 0;
        for (node_id i = 0; i < n; ++i) repairs += c.replica(i).stats().read_repairs;
        CHECK(repairs > 0);
    }
    SECTION("and a later write brings the key back") {
        auto now = c.at(0).get("k");
        REQUIRE(now.has_value());
        REQUIRE(c.at(0).put("k", "reborn", now->context).has_value());
        for (node_id r = 0; r < n; ++r) CHECK(read(c, r) == strings{"reborn"});
    }
}

TEMPLATE_LIST_TEST_CASE("concurrent writes leave siblings only under vector_clocks and dvv",
                        "[protocol][contract]", configs) {
    using cl = capkit::cluster<TestType>;
    constexpr unsigned n = TestType::n;
    cl c;
    REQUIRE(c.at(0).put("k", "base").has_value());
    auto seen = c.at(0).get("k");
    REQUIRE(seen.has_value());

    // Two clients read "base" and write over it at once, through two coordinators.
    std::vector<capkit::result<typename cl::write_result>> acks;
    auto ack = [&acks](capkit::result<typename cl::write_result> r) { acks.push_back(r); };
    c.node_at(0).async_put("k", "left", seen->context, ack);
    c.node_at(n - 1).async_put("k", "right", seen->context, ack);
    c.settle();
    REQUIRE(acks.size() == 2);
    REQUIRE(acks[0].has_value());
    REQUIRE(acks[1].has_value());

    auto after = c.at(0).get("k");
    REQUIRE(after.has_value());
    if constexpr (keeps_siblings<TestType>) {
        CHECK(sorted(after->values) == strings{"left", "right"});
    } else {
        REQUIRE(after->values.size() == 1);
        CHECK((after->values[0] == "left" || after->values[0] == "right"));
    }
    for (node_id r = 0; r < n; ++r) CHECK(read(c, r) == sorted(after->values));

    SECTION("a write with the read's context supersedes every sibling it saw") {
        REQUIRE(c.at(n - 1).put("k", "resolved", after->context).has_value());
        for (node_id r = 0; r < n; ++r) CHECK(read(c, r) == strings{"resolved"});
        c.settle();
        for (node_id i = 0; i < n; ++i) CHECK(stored(c.replica(i)) == strings{"resolved"});
    }
    SECTION("a write with an older context supersedes only what that context saw") {
        REQUIRE(c.at(0).put("k", "late", seen->context).has_value());
        auto got = read(c, n - 1);
        if constexpr (keeps_siblings<TestType>) {
            CHECK(std::ranges::count(got, "late") == 1);
            CHECK(got.size() >= 2);  // it never saw left or right, so one survives at least
        } else {
            CHECK(got.size() == 1);
        }
    }
}

TEMPLATE_LIST_TEST_CASE("writes on both sides of a partition meet as siblings or one winner",
                        "[protocol][contract]", always_writable) {
    constexpr unsigned n = TestType::n;
    capkit::cluster<TestType> c;
    REQUIRE(c.at(0).put("k", "before").has_value());
    c.settle();
    auto seen = c.at(0).template get<capkit::all>("k");
    REQUIRE(seen.has_value());

    std::vector<node_id> majority;
    for (node_id i = 1; i < n; ++i) majority.push_back(i);
    c.partition({{0}, majority});
    REQUIRE(c.at(0).put("k", "left", seen->context).has_value());
    REQUIRE(c.at(1).put("k", "right", seen->context).has_value());
    c.settle();
    CHECK(read(c, 0) == strings{"left"});
    CHECK(read(c, n - 1) == strings{"right"});

    c.heal();
    auto healed = c.at(0).template get<capkit::all>("k");
    REQUIRE(healed.has_value());
    if constexpr (keeps_siblings<TestType>) {
        CHECK(sorted(healed->values) == strings{"left", "right"});
    } else {
        CHECK(healed->values.size() == 1);
    }
    c.settle();
    for (node_id i = 1; i < n; ++i) {
        INFO("replica " << i);
        REQUIRE(c.replica(i).find("k") != nullptr);
        CHECK(*c.replica(i).find("k") == *c.replica(0).find("k"));
    }

    REQUIRE(c.at(1).put("k", "resolved", healed->context).has_value());
    c.settle();
    for (node_id i = 0; i < n; ++i) CHECK(stored(c.replica(i)) == strings{"resolved"});
}

TEMPLATE_LIST_TEST_CASE("crdt_merge: updates from every node all count", "[protocol][contract]",
                        counters) {
    constexpr unsigned n = TestType::n;
    capkit::cluster<TestType> c;
    auto like = [](capkit::g_counter& counter, node_id self) { counter.increment(self); };
    std::uint64_t total = 0;
    for (node_id i = 0; i < n; ++i)
        for (node_id k = 0; k <= i; ++k) {
            auto written = c.at(i).update("likes", like);
            REQUIRE(written.has_value());
            CHECK(written->counts().get(i) == k + 1);  // the node's own count, as written
            ++total;
        }
    for (node_id r = 0; r < n; ++r) {
        auto got = c.at(r).template get<capkit::all>("likes");
        REQUIRE(got.has_value());
        REQUIRE(got->values.size() == 1);
        CHECK(got->values[0].value() == total);
    }

    SECTION("concurrent updates through every node") {
        int acked = 0;
        for (int round = 0; round < 3; ++round)
            for (node_id i = 0; i < n; ++i)
                c.node_at(i).async_update("likes", like, [&acked](auto r) { acked += r ? 1 : 0; });
        c.settle();
        CHECK(acked == int(3 * n));
        total += 3 * n;
        for (node_id r = 0; r < n; ++r) {
            auto got = c.at(r).template get<capkit::all>("likes");
            REQUIRE(got.has_value());
            CHECK(got->values.at(0).value() == total);
        }
        for (node_id i = 0; i < n; ++i) {
            REQUIRE(c.replica(i).find("likes") != nullptr);
            CHECK(c.replica(i).find("likes")->value.value() == total);
        }
    }
}

// Found while writing this suite: lww ignores the context a write hands back, so a
// read-modify-write through a coordinator whose clock lags (here: it was partitioned away while
// the others wrote) is stamped below the version the client read, acknowledged, and lost.
TEST_CASE("lww: a write with a read's context supersedes what that read returned",
          "[protocol][contract][lww]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>;
    capkit::cluster<R> c;
    c.partition({{0, 1}, {2}});
    for (int i = 0; i < 3; ++i) REQUIRE(c.at(0).put("k", "old " + std::to_string(i)).has_value());
    c.heal();

    auto seen = c.at(0).get("k");
    REQUIRE(seen.has_value());
    REQUIRE(seen->values == strings{"old 2"});
    auto put = c.at(2).put("k", "new", seen->context);
    REQUIRE(put.has_value());
    using lww_version = R::context;
    lww_version read_version = seen->context, written_version = put->context;
    auto show = [](const lww_version& v) {
        return std::to_string(v.at.wall) + "." + std::to_string(v.at.logical) + "@" +
               std::to_string(v.origin);
    };
    INFO("read version " << show(read_version) << ", written version " << show(written_version));
    CHECK(written_version > read_version);
    CHECK(read(c, 0) == strings{"new"});
    CHECK(read(c, 1) == strings{"new"});
}

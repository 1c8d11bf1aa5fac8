// SPDX-License-Identifier: MIT
// The lab's measures on hand-made runs: which reads are stale, which writes are lost, discarded or
// superseded, and which reads probe the staleness profile.
#include <capkit/check/analysis.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using capkit::lab::op_record;
using namespace std::chrono_literals;

capkit::time_point ms(long long v) {
    return std::chrono::milliseconds(v);
}

op_record written(std::int64_t value, long long call, long long ret,
                  op_record::outcome how = op_record::outcome::ok) {
    op_record op;
    op.what = op_record::kind::write;
    op.result = how;
    op.value = value;
    op.call = ms(call);
    op.ret = how == op_record::outcome::unknown ? capkit::time_point::max() : ms(ret);
    return op;
}

op_record seen_read(std::vector<std::int64_t> seen, long long call, long long ret,
                    op_record::side at = op_record::side::whole) {
    op_record op;
    op.what = op_record::kind::read;
    op.result = op_record::outcome::ok;
    op.seen = std::move(seen);
    op.call = ms(call);
    op.ret = ms(ret);
    op.at = at;
    return op;
}

op_record added(std::int64_t by, long long call, long long ret) {
    op_record op = written(by, call, ret);
    op.what = op_record::kind::add;
    return op;
}

}  // namespace

TEST_CASE("a read is stale when it returns what a write acknowledged before it began replaced",
          "[lab][analysis]") {
    std::vector<op_record> base{written(1, 0, 10), written(2, 20, 30)};
    auto stale = [&](op_record r) {
        auto ops = base;
        ops.push_back(r);
        return capkit::lab::count_stale_reads(ops, false);
    };
    CHECK(stale(seen_read({1}, 40, 50)) == 1);  // 2 was acknowledged before the read began
    CHECK(stale(seen_read({2}, 40, 50)) == 0);
    CHECK(stale(seen_read({}, 40, 50)) == 1);      // absent after two acknowledged writes
    CHECK(stale(seen_read({1}, 25, 35)) == 0);     // 2 was not yet acknowledged when it began
    CHECK(stale(seen_read({99}, 40, 50)) == 1);    // a value nobody wrote
    CHECK(stale(seen_read({1, 2}, 40, 50)) == 0);  // siblings that include the latest

    SECTION("a write concurrent with the newest one may be read after it") {
        std::vector<op_record> ops{written(1, 0, 30), written(2, 10, 20), seen_read({1}, 40, 50)};
        CHECK(capkit::lab::count_stale_reads(ops, false) == 0);
    }
    SECTION("a write of unknown outcome may still take effect, so reading it is never stale") {
        std::vector<op_record> ops{written(2, 20, 30),
                                   written(1, 0, 0, op_record::outcome::unknown),
                                   seen_read({1}, 40, 50)};
        CHECK(capkit::lab::count_stale_reads(ops, false) == 0);
    }
    SECTION("minority-side stale reads are counted apart") {
        std::vector<op_record> ops = base;
        ops.push_back(seen_read({1}, 40, 50, op_record::side::minority));
        ops.push_back(seen_read({1}, 40, 50, op_record::side::majority));
        std::size_t minority = 0;
        CHECK(capkit::lab::count_stale_reads(ops, false, &minority) == 2);
        CHECK(minority == 1);
    }
}

TEST_CASE("a counter read is stale below the increments acknowledged before it began",
          "[lab][analysis]") {
    std::vector<op_record> ops{added(1, 0, 10), added(1, 5, 15), added(1, 30, 60)};
    ops.push_back(seen_read({1}, 20, 25));  // 2 acknowledged before
    ops.push_back(seen_read({2}, 20, 25));
    ops.push_back(seen_read({2}, 40, 45));  // the third is still running: 2 or 3 are fine
    CHECK(capkit::lab::count_stale_reads(ops, true) == 1);
}

TEST_CASE("acknowledged writes absent at the end are lost, discarded or superseded",
          "[lab][analysis]") {
    using finals = std::map<std::uint32_t, std::set<std::int64_t>>;
    SECTION("sequential: the later one must survive") {
        std::vector<op_record> ops{written(1, 0, 10), written(2, 20, 30)};
        auto lost = capkit::lab::write_fates(ops, finals{{0, {1}}}, false);
        CHECK(lost.lost == 1);  // 2 vanished although nothing could follow it
        CHECK(lost.discarded == 0);
        auto kept = capkit::lab::write_fates(ops, finals{{0, {2}}}, false);
        CHECK(kept.lost == 0);  // 1 was superseded by a later write
        CHECK(kept.discarded == 0);
        CHECK(capkit::lab::write_fates(ops, finals{}, false).lost == 1);  // 1 was superseded
    }
    SECTION("concurrent: last-write-wins may keep either") {
        std::vector<op_record> ops{written(1, 0, 30), written(2, 10, 20)};
        auto fate = capkit::lab::write_fates(ops, finals{{0, {2}}}, false);
        CHECK(fate.lost == 0);
        CHECK(fate.discarded == 1);
        CHECK(capkit::lab::write_fates(ops, finals{{0, {1, 2}}}, false).discarded == 0);
    }
    SECTION("a failed write cannot supersede") {
        std::vector<op_record> ops{written(1, 0, 10), written(2, 20, 30, op_record::outcome::fail)};
        CHECK(capkit::lab::write_fates(ops, finals{}, false).lost == 1);
    }
    SECTION("counters: every acknowledged increment must be counted") {
        std::vector<op_record> ops{added(1, 0, 10), added(1, 0, 10), added(1, 0, 10)};
        CHECK(capkit::lab::write_fates(ops, finals{{0, {1}}}, true).lost == 2);
        CHECK(capkit::lab::write_fates(ops, finals{{0, {3}}}, true).lost == 0);
    }
}

TEST_CASE("staleness profile: probe reads by time since the acknowledgement", "[lab][analysis]") {
    std::vector<op_record> ops{written(1, 0, 10),
                               seen_read({1}, 16, 17),     // 6 ms after: fresh
                               seen_read({}, 13, 14),      // 3 ms after: stale
                               seen_read({1}, 5, 12),      // began before the ack: no probe
                               written(2, 100, 110),       //
                               seen_read({1}, 105, 106),   // a newer write was called: no probe
                               seen_read({2}, 150, 151)};  // 40 ms after 2: fresh
    std::vector<capkit::lab::staleness_point> profile;
    capkit::lab::add_staleness(profile, ops);
    std::size_t reads = 0, fresh = 0;
    for (const auto& p : profile) {
        reads += p.reads;
        fresh += p.fresh;
        if (p.from_ms == 2) CHECK((p.reads == 1 && p.fresh == 0));
        if (p.from_ms == 5) CHECK((p.reads == 1 && p.fresh == 1));
        if (p.from_ms == 20) CHECK((p.reads == 1 && p.fresh == 1));
    }
    CHECK(reads == 3);
    CHECK(fresh == 2);
}

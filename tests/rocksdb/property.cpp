// SPDX-License-Identifier: MIT
// The rocksdb table is capkit::memory's table that survives a reopen: after any sequence of puts,
// updates, erases and reopens, it holds what a memory table given the same sequence holds.
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <rocksdb/env.h>

#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/storage/memory.hpp>
#include <capkit/storage/rocksdb.hpp>

namespace {

using str = std::string;
using R = capkit::dvv;
using state = capkit::quorum_replica<str, str, R>::state;

struct op {
    enum kind_t { put, update, erase, reopen } kind = put;
    str key;
    str value;                 ///< put, update: the value written
    capkit::node_id node = 0;  ///< put, update: the writing node
    bool saw_stored = false;   ///< update: the write supersedes what was stored (else a sibling)
};

std::ostream& operator<<(std::ostream& os, const op& o) {
    switch (o.kind) {
        case op::put:
            return os << "put " << o.key << " = " << o.value << " by " << o.node;
        case op::update:
            return os << "update " << o.key << " with " << o.value << " by " << o.node
                      << (o.saw_stored ? " over the stored" : " as a sibling");
        case op::erase:
            return os << "erase " << o.key;
        case op::reopen:
            return os << "reopen";
    }
    return os;
}

rc::Gen<op> gen_op() {
    return rc::gen::map(
        rc::gen::tuple(rc::gen::weightedElement<op::kind_t>(
                           {{3, op::put}, {4, op::update}, {2, op::erase}, {1, op::reopen}}),
                       rc::gen::element<str>("a", "b", "c", "d", ""),
                       rc::gen::element<str>("x", "y", "", str("\0\xff", 2)),
                       rc::gen::inRange<capkit::node_id>(0, 3), rc::gen::arbitrary<bool>()),
        [](std::tuple<op::kind_t, str, str, capkit::node_id, bool> t) {
            auto [kind, key, value, node, saw] = std::move(t);
            return op{kind, std::move(key), std::move(value), node, saw};
        });
}

// A write by `o.node` of `o.value` over `stored`, seeing all of it or none of it.
state written(const state& stored, const op& o) {
    const R::context ctx = o.saw_stored ? R::context_of(stored) : R::context{};
    return R::write(stored, ctx, o.node, {}, std::optional<str>(o.value));
}

template <class Table>
std::map<str, state> contents(const Table& t) {
    std::map<str, state> out;
    t.for_each([&](const str& k, const state& s) { out.emplace(k, s); });
    return out;
}

}  // namespace

TEST_CASE("a rocksdb table reopened holds what a memory table holds", "[rocksdb][laws]") {
    rc::prop("after any puts, updates, erases and reopens", [] {
        const auto ops = *rc::gen::container<std::vector<op>>(gen_op());
        using table = capkit::rocksdb_storage::table<str, state>;
        // Files in memory (RocksDB's own MemEnv), as fsyncs on a disk would make a thousand
        // cases take minutes; the disk itself is exercised by tests/rocksdb/table.cpp.
        const std::unique_ptr<::rocksdb::Env> env(::rocksdb::NewMemEnv(::rocksdb::Env::Default()));
        capkit::rocksdb_storage::options opt;
        opt.tune = [&](::rocksdb::Options& o) {
            o.env = env.get();
            // A reopen costs a quarter of what it does by default: no 16 new threads to open
            // table files, no WAL turned into a table file at each close and open, no info log
            // (tests/rocksdb/table.cpp reopens with the defaults).
            o.max_file_opening_threads = 1;
            o.avoid_flush_during_recovery = true;
            o.avoid_flush_during_shutdown = true;
            o.info_log_level = ::rocksdb::HEADER_LEVEL;
        };
        auto reopen = [&] {
            auto t = table::open("/capkit-property", opt);
            RC_ASSERT(t.has_value());
            return std::move(*t);
        };
        capkit::memory::table<str, state> model;
        table stored = reopen();
        for (const op& o : ops) {
            switch (o.kind) {
                case op::put: {
                    const state* s = model.find(o.key);
                    const state w = written(s ? *s : state{}, o);
                    model.put(o.key, w);
                    stored.put(o.key, w);
                    break;
                }
                case op::update: {
                    bool model_fresh = false, stored_fresh = false;
                    model.update(o.key, [&](state& s, bool fresh) {
                        model_fresh = fresh;
                        s = written(s, o);
                    });
                    stored.update(o.key, [&](state& s, bool fresh) {
                        stored_fresh = fresh;
                        s = written(s, o);
                    });
                    RC_ASSERT(model_fresh == stored_fresh);
                    break;
                }
                case op::erase:
                    RC_ASSERT(model.erase(o.key) == stored.erase(o.key));
                    break;
                case op::reopen:
                    stored = table();  // closes the directory before it is opened again
                    stored = reopen();
                    RC_ASSERT(contents(stored) == contents(model));
                    break;
            }
        }
        stored = table();
        stored = reopen();
        RC_ASSERT(stored.size() == model.size());
        RC_ASSERT(contents(stored) == contents(model));
    });
}

// SPDX-License-Identifier: MIT
// Replicas over capkit::rocksdb_storage: a whole cluster is written through, destroyed, and
// rebuilt from its directories, and it reads back what was acknowledged: values, tombstones,
// siblings and CRDTs.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <capkit/capkit.hpp>
#include <capkit/storage/rocksdb.hpp>

#include "rocksdb/temp_dir.hpp"
#include "support/protocol_helpers.hpp"

namespace {

using capkit::node_id;
using capkit::test::sorted;
using capkit::test::str;
using capkit::test::strings;
using capkit::test::temp_dir;

// Nodes 0 .. N-1 over one in-memory transport, each on its own directory under `dir`; a
// cluster built again on the same directories is the same cluster restarted.
template <class Replica>
class durable_cluster {
public:
    using transport = capkit::in_memory<typename Replica::message>;
    using node_type = capkit::node<Replica, transport>;

    durable_cluster(const temp_dir& dir, std::uint32_t incarnation) {
        capkit::replica_options options;
        options.incarnation = incarnation;
        for (node_id i = 0; i < Replica::n; ++i) {
            auto t = Replica::table_type::open(dir / ("node" + std::to_string(i)));
            if (!t) FAIL(t.error().message);
            nodes_.push_back(std::make_unique<node_type>(
                i, net_, options, typename Replica::durable_state{.table = std::move(*t)}));
        }
    }

    Replica& replica(node_id i) { return nodes_.at(i)->replica(); }

    bool put(node_id via, const str& key, str value, const typename Replica::context& ctx = {}) {
        return wait<typename Replica::write_result>(
                   [&](auto done) { nodes_.at(via)->async_put(key, std::move(value), ctx, done); })
            .has_value();
    }
    bool remove(node_id via, const str& key, const typename Replica::context& ctx = {}) {
        return wait<typename Replica::write_result>(
                   [&](auto done) { nodes_.at(via)->async_remove(key, ctx, done); })
            .has_value();
    }
    template <class Op>
    bool update(node_id via, const str& key, Op op) {
        return wait<typename Replica::update_result>(
                   [&](auto done) { nodes_.at(via)->async_update(key, std::move(op), done); })
            .has_value();
    }
    capkit::result<typename Replica::read_result> get(node_id via, const str& key) {
        return wait<typename Replica::read_result>(
            [&](auto done) { nodes_.at(via)->async_get(key, done); });
    }

private:
    // Runs the network until the request completes, then until nothing is left in flight, so
    // every replica has stored the write before the cluster is torn down.
    template <class T, class Start>
    capkit::result<T> wait(Start start) {
        std::optional<capkit::result<T>> out;
        start([&out](capkit::result<T> r) { out = std::move(r); });
        net_.run_until([&] { return out.has_value(); });
        REQUIRE(out.has_value());
        net_.run();
        return std::move(*out);
    }

    transport net_;
    std::vector<std::unique_ptr<node_type>> nodes_;
};

}  // namespace

TEST_CASE("a strong lww cluster on rocksdb reads back its writes and deletes after a restart",
          "[rocksdb][replica]") {
    using replica =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::rocksdb_storage>;
    STATIC_REQUIRE(std::is_same_v<replica::config::storage, capkit::rocksdb_storage>);
    temp_dir dir;
    {
        durable_cluster<replica> c(dir, 0);
        REQUIRE(c.put(0, "a", "1"));
        REQUIRE(c.put(1, "b", "2"));
        REQUIRE(c.put(2, "a", "3"));
        REQUIRE(c.remove(0, "b"));
    }
    durable_cluster<replica> c(dir, 1);
    for (node_id i = 0; i < replica::n; ++i) {
        CHECK(c.replica(i).stored_keys() == 2);  // "b" is a tombstone
        CHECK(capkit::test::stored(c.replica(i), "a") == strings{"3"});
        CHECK(capkit::test::stored(c.replica(i), "b").empty());
    }
    auto a = c.get(1, "a");
    REQUIRE(a.has_value());
    CHECK(a->values == strings{"3"});
    auto b = c.get(2, "b");
    REQUIRE(b.has_value());
    CHECK_FALSE(b->found());
    REQUIRE(c.put(0, "a", "4"));  // the restarted cluster goes on writing
    CHECK(c.get(2, "a")->values == strings{"4"});
}

TEST_CASE("a dvv cluster on rocksdb keeps its siblings and their context through a restart",
          "[rocksdb][replica]") {
    using replica =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::dvv, capkit::rocksdb_storage>;
    temp_dir dir;
    {
        durable_cluster<replica> c(dir, 0);
        REQUIRE(c.put(0, "k", "x"));
        REQUIRE(c.put(1, "k", "y"));  // saw nothing: a sibling of x
    }
    {
        durable_cluster<replica> c(dir, 1);
        auto read = c.get(2, "k");
        REQUIRE(read.has_value());
        CHECK(sorted(read->values) == strings{"x", "y"});
        // The context read after the restart still supersedes both siblings.
        REQUIRE(c.put(0, "k", "z", read->context));
    }
    durable_cluster<replica> c(dir, 2);
    CHECK(c.get(1, "k")->values == strings{"z"});
}

TEST_CASE("a crdt cluster on rocksdb keeps every replica's additions through a restart",
          "[rocksdb][replica]") {
    using set = capkit::or_set<str>;
    using replica = capkit::replica<str, set, capkit::quorum<3, 2, 2>, capkit::crdt_merge,
                                    capkit::rocksdb_storage>;
    temp_dir dir;
    {
        durable_cluster<replica> c(dir, 0);
        REQUIRE(c.update(0, "s", [](set& s, node_id self) { s.add(self, "x"); }));
        REQUIRE(c.update(1, "s", [](set& s, node_id self) { s.add(self, "y"); }));
        REQUIRE(c.update(2, "s", [](set& s, node_id) { s.remove("x"); }));
    }
    durable_cluster<replica> c(dir, 1);
    auto read = c.get(0, "s");
    REQUIRE(read.has_value());
    REQUIRE(read->values.size() == 1);
    CHECK(sorted(read->values.front().value()) == strings{"y"});
}

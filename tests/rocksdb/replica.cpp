// SPDX-License-Identifier: MIT
// Replicas over capkit::rocksdb_storage: a whole cluster is written through, destroyed, and
// rebuilt from its directories, and it reads back what was acknowledged: values, tombstones,
// siblings and CRDTs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/capkit.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/storage/rocksdb.hpp>

#include <rocksdb/statistics.h>

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

    durable_cluster(const temp_dir& dir, std::uint32_t incarnation,
                    capkit::replica_options options = {},
                    const capkit::rocksdb_storage::options& open_options = {}) {
        options.incarnation = incarnation;
        const unsigned nodes = options.cluster_size == 0 ? Replica::n : options.cluster_size;
        for (node_id i = 0; i < nodes; ++i) {
            auto t = Replica::table_type::open(dir / ("node" + std::to_string(i)), open_options);
            if (!t) FAIL(t.error().message);
            nodes_.push_back(std::make_unique<node_type>(
                i, net_, options, typename Replica::durable_state{.table = std::move(*t)}));
        }
    }

    Replica& replica(node_id i) { return nodes_.at(i)->replica(); }
    node_type& node(node_id i) { return *nodes_.at(i); }
    transport& net() { return net_; }

    // Cuts `alone` off from the others (both ways), and tells every node.
    void isolate(node_id alone) {
        std::vector<node_id> others;
        for (node_id i = 0; i < Replica::n; ++i)
            if (i != alone) others.push_back(i);
        net_.partition({{alone}, others});
        for (node_id a = 0; a < Replica::n; ++a)
            for (node_id b = 0; b < Replica::n; ++b)
                replica(a).set_reachable(b, net_.linked(a, b) && net_.linked(b, a));
    }

    // Runs the network, wake-ups included, for `d` of virtual time.
    void run_for(std::chrono::nanoseconds d) {
        auto until = net_.now() + d;
        net_.run_until([&] { return net_.now() >= until; });
        net_.advance(until > net_.now() ? until - net_.now() : std::chrono::nanoseconds{0});
    }

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
        // Delivers what is in flight, but no wake-up: a node with hints or tombstones to collect
        // wakes for ever.
        while (net_.in_flight() > 0) net_.step();
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

TEST_CASE("a serial proposer restarted on rocksdb outbids every ballot it used before",
          "[rocksdb][replica]") {
    // A proposer that reused a ballot after a restart could have acceptors take a second value
    // under it. Its counter is leased in blocks, the lease durable before a ballot goes out.
    using replica = capkit::replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>,
                                    capkit::serial, capkit::rocksdb_storage>;
    temp_dir dir;
    std::uint64_t used = 0;
    {
        durable_cluster<replica> c(dir, 0);
        for (int i = 0; i < 5; ++i) REQUIRE(c.put(0, "a", std::to_string(i)));
        const auto* slot = c.replica(0).find("a");
        REQUIRE(slot != nullptr);
        used = slot->promised.counter;
        REQUIRE(slot->promised.proposer == 0);
        REQUIRE(used >= 5);
    }
    durable_cluster<replica> c(dir, 1);
    REQUIRE(c.put(0, "fresh", "x"));  // a key no acceptor has seen: nothing to outbid but itself
    const auto* slot = c.replica(0).find("fresh");
    REQUIRE(slot != nullptr);
    CHECK(slot->promised.proposer == 0);
    CHECK(slot->promised.counter > used);
}

TEST_CASE("a serial acceptor restarted on rocksdb still refuses ballots up to a register it erased",
          "[rocksdb][replica]") {
    // A deleted register is erased once every acceptor holds its tombstone; a proposer that
    // raced the deletion may still come with an older ballot and the old value. Absent keys
    // refuse ballots up to the highest erased one (the erase floor), which must survive a
    // restart, or the old value comes back.
    using replica = capkit::replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>,
                                    capkit::serial, capkit::rocksdb_storage>;
    namespace proto = capkit::protocol;
    temp_dir dir;
    std::optional<replica> acceptor;
    auto start = [&] {
        acceptor.reset();
        auto t = replica::table_type::open(dir / "node1");
        if (!t) FAIL(t.error().message);
        acceptor.emplace(1, capkit::replica_options{},
                         replica::durable_state{.table = std::move(*t)});
    };
    const capkit::time_point now{};
    const proto::ballot deleted_at{7, 0};
    start();
    acceptor->receive(0, proto::prepare<str, str>{{0, 1, 1}, "k", deleted_at}, now);
    acceptor->receive(0, proto::accept<str, str>{{0, 1, 1}, "k", deleted_at, std::nullopt}, now);
    acceptor->receive(0, proto::erase<str, str>{"k", deleted_at}, now);
    REQUIRE(acceptor->find("k") == nullptr);
    REQUIRE(acceptor->stats().erased == 1);

    start();                          // the same directory
    const proto::ballot raced{5, 2};  // below the deletion's
    acceptor->receive(2, proto::accept<str, str>{{2, 1, 1}, "k", raced, str("old")}, now);
    auto out = acceptor->take_messages();
    REQUIRE(out.size() == 1);
    const auto* answer = std::get_if<proto::accepted<str, str>>(&out.front().m);
    REQUIRE(answer != nullptr);
    CHECK_FALSE(answer->ok);
    CHECK(answer->seen == deleted_at);
    CHECK(acceptor->find("k") == nullptr);
}

TEST_CASE(
    "a replica on rocksdb keeps its configuration promise and what it learned through a "
    "restart",
    "[rocksdb][replica]") {
    // The configuration register's acceptor (docs/membership.md) keeps its promises as any
    // Paxos acceptor must: a restart that forgot them could join two majorities.
    using replica =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::rocksdb_storage>;
    namespace proto = capkit::protocol;
    temp_dir dir;
    std::optional<replica> r;
    auto start = [&] {
        r.reset();
        auto t = replica::table_type::open(dir / "node1");
        if (!t) FAIL(t.error().message);
        r.emplace(1, capkit::replica_options{}, replica::durable_state{.table = std::move(*t)});
    };
    auto prepare = [&](proto::ballot b) {
        r->receive(0, replica::message{proto::membership_message{proto::membership_prepare{b}}},
                   capkit::time_point{});
        auto out = r->take_messages();
        REQUIRE(out.size() == 1);
        const auto& m = std::get<proto::membership_message>(out.front().m);
        return std::get<proto::membership_promise>(m).ok;
    };
    capkit::membership joint = capkit::membership::first(3);
    joint.epoch = 2;
    joint.next = {{0, {}}, {1, {}}, {2, {}}, {3, {}}};
    start();
    CHECK(r->configuration().epoch == 1);
    CHECK(prepare({5, 0}));
    r->receive(0, replica::message{proto::membership_message{proto::membership_learn{joint}}},
               capkit::time_point{});
    start();  // the same directory
    CHECK(r->configuration() == joint);
    CHECK_FALSE(prepare({4, 2}));  // below the promise it kept
    CHECK(prepare({6, 2}));
}

TEST_CASE("a hint kept on rocksdb is handed off by its holder after a restart",
          "[rocksdb][replica]") {
    using replica = capkit::replica<str, str, capkit::quorum<3, capkit::one, capkit::one>,
                                    capkit::eventual, capkit::sloppy, capkit::rocksdb_storage>;
    temp_dir dir;
    {
        durable_cluster<replica> c(dir, 0);
        c.isolate(2);
        REQUIRE(c.put(0, "a", "1"));
        REQUIRE(c.put(0, "b", "2"));
        REQUIRE(c.put(0, "a", "3"));  // joined into the hint for (2, "a")
        c.run_for(std::chrono::seconds(1));
        CHECK(c.replica(0).stats().hints_stored == 2);
        CHECK(c.replica(2).stored_keys() == 0);
    }  // every node stops: node 0's hints live only in its directory now
    {
        durable_cluster<replica> c(dir, 1);
        CHECK(c.replica(2).stored_keys() == 0);
        // No read, no anti-entropy: only node 0's hints can bring node 2 the keys.
        c.run_for(std::chrono::seconds(1));
        CHECK(c.replica(0).stats().hints_delivered == 2);
        CHECK(capkit::test::stored(c.replica(2), "a") == strings{"3"});
        CHECK(capkit::test::stored(c.replica(2), "b") == strings{"2"});
    }
    // Delivered hints are gone from the directory too: a further restart hands off nothing.
    durable_cluster<replica> again(dir, 2);
    again.run_for(std::chrono::seconds(1));
    CHECK(again.replica(0).stats().hints_stored == 0);
    CHECK(again.replica(0).stats().hints_delivered == 0);
}

TEST_CASE("the purge floor on rocksdb keeps a restarted node's writes above collected tombstones",
          "[rocksdb][replica]") {
    // After every replica erased k's tombstone T, a node restarted with its clock behind T's
    // stamp (here: virtual time restarts at 0) must still stamp a new write of k above T, or a
    // straggler still holding T would delete the new value.
    using replica =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::rocksdb_storage>;
    capkit::replica_options options;
    options.tombstone_gc.grace = std::chrono::seconds(1);
    temp_dir dir;
    capkit::hlc::timestamp tombstone{};
    {
        durable_cluster<replica> c(dir, 0, options);
        c.net().advance(std::chrono::seconds(5));
        REQUIRE(c.put(0, "k", "v"));
        REQUIRE(c.remove(0, "k"));
        const auto* t = c.replica(0).find("k");
        REQUIRE(t != nullptr);
        tombstone = t->stamp;
        c.run_for(std::chrono::seconds(5));
        for (node_id i = 0; i < replica::n; ++i) REQUIRE(c.replica(i).find("k") == nullptr);
    }
    durable_cluster<replica> c(dir, 1, options);  // virtual time starts again at 0
    REQUIRE(c.put(1, "k", "again"));
    const auto* written = c.replica(1).find("k");
    REQUIRE(written != nullptr);
    CHECK(written->stamp > tombstone);
}

TEST_CASE("group commit on rocksdb: one WAL fsync per window serves many acknowledged writes",
          "[rocksdb][replica]") {
    // The table syncs nothing by itself (none); the replicas' group commit fsyncs it, and their
    // replies wait for that, so every acknowledged write is on disk.
    using replica =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::rocksdb_storage>;
    auto stats = ::rocksdb::CreateDBStatistics();
    capkit::rocksdb_storage::options open_options;
    open_options.sync = capkit::rocksdb_storage::none{};
    open_options.tune = [&](::rocksdb::Options& o) { o.statistics = stats; };
    capkit::replica_options options;
    options.group_commit.window = std::chrono::milliseconds(10);
    temp_dir dir;
    constexpr int writes = 100;
    {
        durable_cluster<replica> c(dir, 0, options, open_options);
        const auto before = stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED);
        int acked = 0;
        for (int k = 0; k < writes; ++k)
            c.node(0).async_put(capkit::detail::cat("k", std::to_string(k)), std::to_string(k), {},
                                [&](const auto& r) { acked += r.has_value() ? 1 : 0; });
        c.run_for(std::chrono::milliseconds(100));
        REQUIRE(acked == writes);
        const auto syncs = stats->getTickerCount(::rocksdb::WAL_FILE_SYNCED) - before;
        INFO(syncs << " WAL fsyncs for " << writes << " writes on 3 nodes");
        CHECK(syncs >= 3);
        CHECK(syncs <= 12);  // a few windows per node, not one per write
        for (node_id i = 0; i < replica::n; ++i) CHECK(c.replica(i).stats().group_syncs >= 1);
    }
    durable_cluster<replica> c(dir, 1);
    for (int k = 0; k < writes; ++k)
        CHECK(capkit::test::stored(c.replica(1), capkit::detail::cat("k", std::to_string(k))) ==
              strings{std::to_string(k)});
}

TEST_CASE("an ABD coordinator that owns no copy of the key never reuses a tag after a restart",
          "[rocksdb][replica][ring]") {
    // On a hash_ring the coordinator may not own the key, so its own disk holds no copy with its
    // last tag: the tag lease is what keeps a restarted coordinator above it. Here a write
    // through node 0 reaches only one owner (tag T, value 9) and times out; after a restart of
    // every node, a write of 3 through node 0 that reads the other owners first must not take
    // tag T again (the owner holding 9 under T would keep it: two values under one tag).
    using replica = capkit::replica<str, str, capkit::quorum<3, 1, 3>, capkit::linearizable,
                                    capkit::hash_ring<>, capkit::rocksdb_storage>;
    capkit::replica_options options;
    options.cluster_size = 4;
    options.request_timeout = std::chrono::milliseconds(100);
    capkit::hash_ring<> ring({0, 1, 2, 3}, 3);
    std::string key;
    for (int i = 0; key.empty(); ++i) {
        auto owners = ring.owners("k" + std::to_string(i));
        if (std::ranges::find(owners, node_id{0}) == owners.end()) key = "k" + std::to_string(i);
    }
    const auto owners = ring.owners(key);
    temp_dir dir;
    {
        durable_cluster<replica> c(dir, 0, options);
        REQUIRE(c.put(0, key, "1"));
        c.net().cut_one_way(0, owners[0]);
        c.net().cut_one_way(0, owners[1]);
        CHECK_FALSE(c.put(0, key, "9"));  // its read reached owners[2] only, and so did its write
        REQUIRE(capkit::test::stored(c.replica(owners[2]), key) == strings{"9"});
    }
    durable_cluster<replica> c(dir, 1, options);
    REQUIRE(c.put(0, key, "3"));  // W = 3: acknowledged once every owner stored it
    for (auto o : owners) {
        INFO("owner " << o);
        CHECK(capkit::test::stored(c.replica(o), key) == strings{"3"});
    }
}

TEST_CASE("a replica on rocksdb starts each run as a higher incarnation, counted by its table",
          "[rocksdb][replica][restart]") {
    // An application that restarts nodes without counting (options.incarnation 0 every time)
    // must still not reuse a crashed run's request ids: the table records the incarnation.
    using strong =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::rocksdb_storage>;
    using serial = capkit::replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>,
                                   capkit::serial, capkit::rocksdb_storage>;
    auto runs = [](auto tag, std::uint32_t given) {
        using replica = typename decltype(tag)::type;
        temp_dir dir;
        std::vector<std::uint32_t> seen;
        for (int run = 0; run < 3; ++run) {
            durable_cluster<replica> c(dir, given);
            // Incarnation 7 on a new directory says: a restart that lost its store. The nodes
            // catch up from each other first (protocol/catch_up.hpp), finding nothing.
            c.net().run_until([&] {
                return !c.replica(0).catching_up() && !c.replica(1).catching_up() &&
                       !c.replica(2).catching_up();
            });
            REQUIRE(c.put(0, "k", std::to_string(run)));
            seen.push_back(c.replica(0).incarnation());
        }
        return seen;
    };
    using v = std::vector<std::uint32_t>;
    CHECK(runs(std::type_identity<strong>{}, 0) == v{0, 1, 2});
    CHECK(runs(std::type_identity<serial>{}, 0) == v{0, 1, 2});
    // A count the application keeps wins when it is higher.
    CHECK(runs(std::type_identity<strong>{}, 7) == v{7, 8, 9});
}

TEST_CASE("capkit::cluster on rocksdb: restart reopens the node's directory",
          "[rocksdb][cluster]") {
    using replica =
        capkit::replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::rocksdb_storage>;
    temp_dir dir;
    auto open = [&](node_id i) {
        auto t = replica::table_type::open(dir / ("node" + std::to_string(i)), {});
        if (!t) FAIL(t.error().message);
        return replica::durable_state{.table = std::move(*t)};
    };
    capkit::cluster<replica> c(open, {});
    REQUIRE(c.at(0).put("k", "v").has_value());
    c.settle();
    c.restart(1);  // closes node 1's store, then opens it again
    CHECK(c.incarnation(1) == 1);
    CHECK(capkit::test::stored(c.replica(1), "k") == strings{"v"});
    c.partition({{1, 2}, {0}});
    auto got = c.at(1).get("k");
    REQUIRE(got.has_value());
    CHECK(got->values == strings{"v"});
    // Without an opener, a store that cannot be copied cannot be kept: refused in a sentence.
    capkit::cluster<replica> unopened;
    CHECK_THROWS_WITH(unopened.restart(0), Catch::Contains("construct the cluster with an opener"));
}

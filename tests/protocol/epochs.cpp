// SPDX-License-Identifier: MIT
// The configuration on the data path (docs/membership.md, "Epochs on the data path"): every
// replica starts on nodes 0 .. M-1 at epoch 1 and follows what the members agree; every request
// carries the epoch its coordinator routed it by. A replica refuses a request from an older
// configuration and tells the coordinator the newer one (so a write routed by a stale ring is not
// acknowledged by a node that no longer owns the key, and goes to the new owners once retried);
// it holds a request from a newer configuration until it has learned it; a removed node is
// refused by the members and refuses its own clients. Over the seeded simulator, on a ring of six
// nodes with N = 3, for a quorum (strong) and a CASPaxos (serial) replica.
#include <capkit/capkit.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/sim_cluster.hpp>

#include <support/sim_harness.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::errc;
using capkit::membership;
using capkit::membership_change;
using capkit::node_id;

constexpr unsigned cluster_nodes = 6;

template <class... P>
using ring_replica = capkit::replica<std::string, std::int64_t, capkit::hash_ring<>, P...>;
using strong = ring_replica<capkit::quorum<3, 2, 2>, capkit::strong>;
using serial = ring_replica<capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>;
// No catch-up of its data: only the configuration's acceptor guards its promises.
using eventual = ring_replica<capkit::quorum<3, 1, 1>, capkit::eventual>;

capkit::replica_options on_ring() {
    capkit::replica_options o;
    o.cluster_size = cluster_nodes;
    o.request_timeout = 200ms;
    return o;
}

std::vector<node_id> ids(const std::vector<capkit::member>& members) {
    std::vector<node_id> out;
    for (const auto& m : members) out.push_back(m.id);
    return out;
}

// The first owners of `key` on a ring of `nodes`, as every replica computes them.
std::vector<node_id> owners(const std::string& key, const std::vector<node_id>& nodes) {
    capkit::hash_ring<> ring(nodes, 3);
    auto all = ring.preference_list(key, nodes.size());
    all.resize(3);
    std::ranges::sort(all);
    return all;
}

template <class Replica>
struct epoch_harness : capkit::test::sim_harness<Replica> {
    using base = capkit::test::sim_harness<Replica>;
    using base::cluster;
    using base::net;
    explicit epoch_harness(std::uint64_t seed = 5) : base(seed, on_ring()) {}

    // Runs a membership call at node `via` to its completion.
    template <class Call>
    capkit::result<membership> members(Call&& call) {
        std::optional<capkit::result<membership>> out;
        call([&](capkit::result<membership> r) { out = std::move(r); });
        net.run_until([&] { return out.has_value(); });
        REQUIRE(out.has_value());
        return *out;
    }
    // Node `via` begins `c`: the joint configuration.
    membership begin(node_id via, membership_change c) {
        auto joint = members(
            [&](auto done) { cluster.node_at(via).async_change_members(std::move(c), done); });
        REQUIRE(joint.has_value());
        CHECK(joint->joint());
        return *joint;
    }
    // Node `via` makes change `c`: begun, then ended by the members after it once each has
    // fetched what it gains (one agreed step each, the last one ends it).
    membership change(node_id via, membership_change c) {
        const auto joint = begin(via, std::move(c));
        net.run_until([&] { return !cluster.replica(via).configuration().joint(); });
        settle();  // the learns of the last step reach every node that can be reached
        const auto& stable = cluster.replica(via).configuration();
        CHECK(!stable.joint());
        CHECK(stable.epoch == joint.epoch + joint.next.size());
        return stable;
    }
    // Node `via` takes node 4 out of the ring.
    membership leave_4(node_id via) {
        auto stable = change(via, membership_change::leave(4));
        CHECK(ids(stable.members) == std::vector<node_id>{0, 1, 2, 3, 5});
        return stable;
    }
    void settle() {
        net.run_until([] { return false; });
    }
    // A write through `via`, to its completion.
    capkit::failure put(node_id via, const std::string& key, std::int64_t value) {
        std::optional<capkit::failure> out;
        auto done = [&](const auto& r) { out = r ? capkit::failure{} : r.error(); };
        if constexpr (Replica::consistency::protocol == capkit::consistency_protocol::paxos) {
            cluster.node_at(via).async_compare_and_set(key, std::nullopt, value, done);
        } else {
            cluster.node_at(via).async_put(key, value, {}, done);
        }
        net.run_until([&] { return out.has_value(); });
        REQUIRE(out.has_value());
        return *out;
    }
    // A read through `via`, to its completion (empty: absent).
    std::optional<std::int64_t> get(node_id via, const std::string& key) {
        bool done = false;
        std::optional<std::int64_t> out;
        cluster.node_at(via).async_get(key, [&](const auto& r) {
            REQUIRE(r.has_value());
            if constexpr (requires { r->found(); }) {
                if (r->found()) out = r->values.front();
            } else {
                out = r->value;
            }
            done = true;
        });
        net.run_until([&] { return done; });
        REQUIRE(done);
        return out;
    }
    // The nodes that store `key`.
    std::vector<node_id> holders(const std::string& key) {
        std::vector<node_id> out;
        for (node_id i = 0; i < cluster.nodes(); ++i)
            if (cluster.up(i) && cluster.replica(i).find(key)) out.push_back(i);
        return out;
    }
    // A key that node 4 owns on the ring of all six, and node 5 instead on the ring without 4.
    static std::string key_moved_to_5() {
        for (int i = 0;; ++i) {
            auto key = capkit::detail::cat("k", std::to_string(i));
            auto with_4 = owners(key, {0, 1, 2, 3, 4, 5});
            auto without_4 = owners(key, {0, 1, 2, 3, 5});
            if (std::ranges::count(with_4, 4) && !std::ranges::count(with_4, 5) &&
                std::ranges::count(without_4, 5))
                return key;
        }
    }
};

}  // namespace

TEMPLATE_TEST_CASE("every replica starts on nodes 0 .. M-1 at epoch 1", "[epochs]", strong,
                   serial) {
    epoch_harness<TestType> h;
    for (node_id i = 0; i < cluster_nodes; ++i) {
        const auto& c = h.cluster.replica(i).configuration();
        CHECK(c.epoch == 1);
        CHECK(ids(c.members) == std::vector<node_id>{0, 1, 2, 3, 4, 5});
        CHECK(h.cluster.replica(i).member());
    }
    // A static cluster's requests never meet another epoch.
    CHECK(h.put(0, "a", 1) == capkit::failure{});
    for (node_id i = 0; i < cluster_nodes; ++i) {
        CHECK(h.cluster.replica(i).stats().epoch_refusals == 0);
        CHECK(h.cluster.replica(i).stats().epoch_waits == 0);
    }
}

TEMPLATE_TEST_CASE(
    "a write routed by an older epoch is refused, and goes to the new owners once "
    "the coordinator has learned the newer one",
    "[epochs]", strong, serial) {
    epoch_harness<TestType> h;
    const auto key = h.key_moved_to_5();
    INFO("key " << key);
    const auto stable = h.leave_4(0);
    for (node_id i = 0; i < cluster_nodes; ++i)
        CHECK(h.cluster.replica(i).configuration() == stable);
    // Node 5 is away while the others begin to take node 4 back: it misses the joint epoch.
    h.isolate(5);
    const auto joint = h.begin(0, membership_change::join(4));
    h.heal();
    CHECK(h.cluster.replica(5).configuration().epoch == stable.epoch);
    // Node 5 routes by the ring without node 4; the owners that know the change refuse that.
    auto first = h.put(5, key, 7);
    CHECK(first != capkit::failure{});
    CHECK(h.cluster.replica(5).configuration().epoch >= joint.epoch);
    std::uint64_t refusals = 0;
    for (node_id i = 0; i < cluster_nodes; ++i)
        refusals += h.cluster.replica(i).stats().epoch_refusals;
    CHECK(refusals >= 1);
    // Again, now routed by the change: its owners before and after it (node 4 among them) take
    // it, and once the change has ended every owner on the ring of six holds it.
    CHECK(h.put(5, key, 8) == capkit::failure{});
    h.net.run_until([&] { return !h.cluster.replica(0).configuration().joint(); });
    h.settle();
    for (node_id o : owners(key, {0, 1, 2, 3, 4, 5})) {
        INFO("owner " << o);
        CHECK(h.cluster.replica(o).find(key));
    }
    CHECK(h.get(4, key) == 8);
}

TEMPLATE_TEST_CASE("a request from a newer epoch waits until the replica has learned it",
                   "[epochs]", strong, serial) {
    epoch_harness<TestType> h;
    const auto key = h.key_moved_to_5();
    const auto stable = h.leave_4(0);
    h.isolate(5);
    h.begin(0, membership_change::join(4));
    h.heal();
    CHECK(h.cluster.replica(5).configuration().epoch == stable.epoch);
    // Node 0 routes by the change: node 5, an owner before it, gets a request from a newer epoch.
    // It holds it, asks node 0 for its configuration, learns it, then acts.
    CHECK(h.put(0, key, 7) == capkit::failure{});
    h.settle();
    CHECK(h.cluster.replica(5).configuration().epoch > stable.epoch);
    CHECK(h.cluster.replica(5).stats().epoch_waits >= 1);
    CHECK(h.cluster.replica(5).find(key));
}

TEMPLATE_TEST_CASE("a removed node refuses its clients and is refused by the members", "[epochs]",
                   strong, serial) {
    epoch_harness<TestType> h;
    const auto stable = h.leave_4(1);
    // The learn of the last step reached the node that left: it knows it is out.
    auto& gone = h.cluster.replica(4);
    CHECK(gone.configuration() == stable);
    CHECK(!gone.member());
    CHECK(h.put(4, "x", 1) == errc::not_a_member);
    CHECK(gone.stats().not_a_member == 1);
    // A request from it, even at the current epoch, is refused by identity: node 0, an owner
    // of the key on the ring without node 4, keeps nothing of it.
    std::string key;
    for (int i = 0; key.empty(); ++i) {
        auto k = capkit::detail::cat("x", std::to_string(i));
        if (std::ranges::count(owners(k, {0, 1, 2, 3, 5}), 0)) key = k;
    }
    using message = typename TestType::message;
    auto forged = [&](node_id from) {
        capkit::protocol::request_id id{from, 1, stable.epoch};
        if constexpr (TestType::consistency::protocol == capkit::consistency_protocol::paxos)
            return message{
                capkit::protocol::prepare<std::string, std::int64_t>{id, key, {1, from}}};
        else
            return message{capkit::protocol::write_request<std::string, typename TestType::state>{
                id, key, {}}};
    };
    const auto refused = h.cluster.replica(0).stats().epoch_refusals;
    h.cluster.replica(0).receive(4, forged(4), h.net.now());
    CHECK(h.cluster.replica(0).stats().epoch_refusals == refused + 1);
    CHECK(!h.cluster.replica(0).find(key));
    // The control: the same request from a member is taken.
    h.cluster.replica(0).receive(1, forged(1), h.net.now());
    CHECK(h.cluster.replica(0).find(key));
}

TEMPLATE_TEST_CASE("a restart keeps the configuration the node learned", "[epochs]", strong,
                   serial) {
    epoch_harness<TestType> h;
    const auto stable = h.leave_4(0);
    h.cluster.crash(2);
    h.cluster.restart(2);
    CHECK(h.cluster.replica(2).configuration() == stable);
    // Membership messages travel inside the replica's messages, through the wire codec.
    using message = typename TestType::message;
    message m{capkit::protocol::membership_message{
        capkit::protocol::membership_learn{h.cluster.replica(2).configuration()}}};
    std::vector<std::byte> bytes;
    capkit::wire::encode(m, bytes);
    auto back = capkit::wire::decode<message>(bytes);
    REQUIRE(back.has_value());
    CHECK(*back == m);
}

TEMPLATE_TEST_CASE("a node back without its data after a change catches up from the members",
                   "[epochs]", strong, serial) {
    epoch_harness<TestType> h;
    const auto key = h.key_moved_to_5();
    const auto stable = h.leave_4(0);
    CHECK(h.put(0, key, 7) == capkit::failure{});
    h.settle();
    // Node 5 comes back empty, on the first configuration: it must fetch from the members of the
    // current one (nodes 0 1 2 3 5, not 0 .. 4), learn it on the way, and serve again.
    h.cluster.amnesia(5);
    CHECK(h.cluster.replica(5).configuration().epoch == 1);
    h.caught_up();
    CHECK(!h.cluster.replica(5).catching_up());
    CHECK(h.cluster.replica(5).configuration() == stable);
    CHECK(h.cluster.replica(5).find(key));
}

TEMPLATE_TEST_CASE(
    "a change moves the data: every acknowledged write is read back through "
    "every node, and each key's new owners hold it",
    "[epochs]", strong, serial) {
    epoch_harness<TestType> h;
    constexpr int before = 60, during = 30;
    std::vector<std::string> acked;
    for (int i = 0; i < before; ++i) {
        auto key = capkit::detail::cat("d", std::to_string(i));
        if (h.put(i % cluster_nodes, key, i) == capkit::failure{}) acked.push_back(key);
    }
    REQUIRE(acked.size() == before);
    // Writes go on while node 4 leaves: each is counted on the owners before and after it.
    // (They start once every node knows the change: a request routed before keys move is
    // refused where they have moved, and times out; docs/membership.md.)
    h.begin(0, membership_change::leave(4));
    h.net.run_for(2ms);
    REQUIRE(h.cluster.replica(3).configuration().joint());
    int done = 0;
    for (int i = before; i < before + during; ++i) {
        auto key = capkit::detail::cat("d", std::to_string(i));
        auto on_done = [&, key](const auto& r) {
            if (r) acked.push_back(key);
            ++done;
        };
        if constexpr (TestType::consistency::protocol == capkit::consistency_protocol::paxos)
            h.cluster.node_at(i % 4).async_compare_and_set(key, std::nullopt, std::int64_t{i},
                                                           on_done);
        else
            h.cluster.node_at(i % 4).async_put(key, std::int64_t{i}, {}, on_done);
    }
    h.net.run_until([&] { return done == during; });
    h.net.run_until([&] { return !h.cluster.replica(0).configuration().joint(); });
    h.settle();
    CHECK(acked.size() == before + during);
    std::uint64_t streamed = 0;
    for (node_id i = 0; i < cluster_nodes; ++i)
        streamed += h.cluster.replica(i).stats().stream_keys;
    CHECK(streamed > 0);
    for (const auto& key : acked) {
        INFO("key " << key);
        const auto value = std::stoll(key.substr(1));
        for (node_id via : {0, 1, 2, 3, 5}) CHECK(h.get(via, key) == value);
        // Each owner that gained the key has it (whatever quorum the write had).
        auto before_4 = owners(key, {0, 1, 2, 3, 4, 5});
        for (node_id o : owners(key, {0, 1, 2, 3, 5}))
            if (!std::ranges::count(before_4, o)) CHECK(h.cluster.replica(o).find(key));
    }
}

TEMPLATE_TEST_CASE("during a change a write needs a quorum of the owners before and after it",
                   "[epochs]", strong, serial) {
    epoch_harness<TestType> h;
    const auto key = h.key_moved_to_5();
    h.leave_4(0);
    // The key's owners: {a, b, 5} on the ring without node 4, {a, b, 4} with it.
    const auto with_4 = owners(key, {0, 1, 2, 3, 4, 5});
    node_id a = with_4[0] == 4 ? with_4[1] : with_4[0];
    h.begin(0, membership_change::join(4));
    // Node 4 and one owner kept by the change go down: the owners before it still have two up
    // (a write quorum), the owners after it one. (The change cannot end without node 4.)
    h.cluster.crash(4);
    h.cluster.crash(a);
    h.net.run_for(50ms);  // every node learns the change
    node_id via = 0;
    while (via == a || via == 4) ++via;
    auto refused = h.put(via, key, 1);
    CHECK(refused == errc::unavailable);
    CHECK(refused.shortfall.needed == 2);
    CHECK(refused.shortfall.reached == 1);
}

TEST_CASE("a configuration promise leaves only once it is durable, under group commit",
          "[epochs]") {
    auto o = on_ring();
    o.group_commit.window = 10ms;
    strong r(2, o);
    capkit::protocol::membership_message prepare{capkit::protocol::membership_prepare{{5, 1}}};
    r.receive(1, strong::message{prepare}, capkit::time_point{});
    CHECK(r.take_messages().empty());
    CHECK(r.must_persist());
    auto ticket = r.begin_persist();
    REQUIRE(ticket);
    CHECK(r.durable().members.promised == capkit::protocol::ballot{5, 1});
    r.persisted(*ticket);
    auto out = r.take_messages();
    REQUIRE(out.size() == 1);
    CHECK(out[0].to == 1);
    using promise = capkit::protocol::membership_promise;
    const auto* m = std::get_if<capkit::protocol::membership_message>(&out[0].m);
    REQUIRE(m);
    REQUIRE(std::holds_alternative<promise>(*m));
    CHECK(std::get<promise>(*m).ok);
}

TEST_CASE("a node restarted empty answers no configuration round until the old ones are over",
          "[epochs]") {
    auto o = on_ring();
    o.incarnation = 1;  // a restart: it may have promised something it no longer knows
    eventual r(2, o);
    capkit::protocol::membership_message prepare{capkit::protocol::membership_prepare{{5, 1}}};
    const capkit::time_point start{};
    r.tick(start);
    r.receive(1, eventual::message{prepare}, start + 100ms);
    CHECK(r.take_messages().empty());
    // After a request timeout (every round from before the crash is over) it answers.
    r.receive(1, eventual::message{prepare}, start + o.request_timeout + 1ms);
    auto out = r.take_messages();
    REQUIRE(out.size() == 1);
    CHECK(std::holds_alternative<capkit::protocol::membership_message>(out[0].m));
    // The control: a first start (nothing to forget) answers at once.
    o.incarnation = 0;
    eventual fresh(2, o);
    fresh.receive(1, eventual::message{prepare}, start);
    CHECK(fresh.take_messages().size() == 1);
}

TEMPLATE_TEST_CASE("during a change a write is acknowledged only once the owners after it have it",
                   "[epochs]", strong, serial) {
    epoch_harness<TestType> h;
    const auto key = h.key_moved_to_5();
    // Owners on the ring of six {x, y, 4}; on the ring without node 4 {x, y, 5}.
    auto with_4 = owners(key, {0, 1, 2, 3, 4, 5});
    std::erase(with_4, node_id{4});
    const node_id x = with_4[0], y = with_4[1];
    h.begin(x, membership_change::leave(4));
    h.net.run_for(2ms);
    // Node x's messages to y and 5 are lost (its failure detector does not know): node 4 and x
    // make a write quorum of the owners before the change, but x alone none after it.
    h.net.cut_one_way(x, y);
    h.net.cut_one_way(x, 5);
    auto lost = h.put(x, key, 1);
    CHECK(lost != capkit::failure{});
    // The control: with the links back, the same write is acknowledged.
    h.net.heal();
    CHECK(h.put(x, capkit::detail::cat(key, "-again"), 2) == capkit::failure{});
}

TEST_CASE("all_nodes refuses a membership change: its N nodes are part of its type", "[epochs]") {
    using all_nodes =
        capkit::replica<std::string, std::int64_t, capkit::quorum<3, 2, 2>, capkit::strong>;
    capkit::test::sim_harness<all_nodes> h(3, {});
    std::optional<capkit::result<membership>> out;
    h.cluster.node_at(0).async_change_members(membership_change::join(3),
                                              [&](auto r) { out = std::move(r); });
    h.net.run_until([&] { return out.has_value(); });
    REQUIRE(out.has_value());
    REQUIRE(!out->has_value());
    CHECK(out->error() == errc::fixed_membership);
    CHECK(h.cluster.replica(0).configuration().epoch == 1);
}

// SPDX-License-Identifier: MIT
// The cluster's configuration as data (protocol/membership.hpp) and how the members agree on it
// (protocol/membership_register.hpp): the rules a change keeps, a grow from three nodes to four
// in its two agreed steps, a minority that cannot change anything, and operators changing the
// configuration at once from different nodes, under message loss, reordering and partitions,
// seed by seed: every epoch has one configuration, and each follows from the one before.
#include <capkit/protocol/membership.hpp>
#include <capkit/protocol/membership_register.hpp>
#include <capkit/wire/encoding.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <cstddef>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
using capkit::errc;
using capkit::membership;
using capkit::membership_change;
using capkit::membership_register;
using capkit::node_id;
using capkit::time_point;

std::vector<node_id> ids(const std::vector<capkit::member>& list) {
    std::vector<node_id> out;
    for (const auto& m : list) out.push_back(m.id);
    return out;
}

// Nodes' registers over a seeded network that reorders, may drop, and may cut links; virtual
// time moves 1 ms per delivery and jumps to the next deadline when nothing is in flight.
struct network {
    struct flight {
        node_id from, to;
        membership_register::message m;
    };
    std::map<node_id, membership_register> nodes;
    std::vector<flight> wire;
    std::mt19937_64 rng;
    double loss = 0;
    std::set<node_id> cut;  // nodes cut off from every other node
    time_point now{};
    // Every configuration an operation returned or a node learned, by epoch.
    std::map<std::uint64_t, std::vector<membership>> seen;

    explicit network(std::uint64_t seed) : rng(seed) {}

    void add(node_id id, membership known, unsigned min_members = 3) {
        nodes.emplace(id, membership_register(id, std::move(known), min_members, 1s));
    }
    membership_register& at(node_id id) { return nodes.at(id); }
    bool linked(node_id a, node_id b) const { return a == b || (!cut.count(a) && !cut.count(b)); }

    std::map<node_id, std::uint64_t> noted;  // the epoch each node's configuration was noted at

    void note(const membership& m) { seen[m.epoch].push_back(m); }
    void collect() {
        for (auto& [id, n] : nodes) {
            // A node learns only later epochs, so its configuration changed when its epoch did.
            auto [at, fresh] = noted.try_emplace(id, n.current().epoch);
            if (fresh || at->second != n.current().epoch) note(n.current());
            at->second = n.current().epoch;
            for (auto& [to, m] : n.take_messages()) wire.push_back({id, to, std::move(m)});
        }
    }
    // Delivers one message, or moves time on to the next deadline; false when nothing is left.
    bool step() {
        collect();
        if (!wire.empty()) {
            std::uniform_int_distribution<std::size_t> pick(0, wire.size() - 1);
            auto i = pick(rng);
            flight f = std::move(wire[i]);
            wire.erase(wire.begin() + static_cast<std::ptrdiff_t>(i));
            now += 1ms;
            std::bernoulli_distribution lost(loss);
            if (linked(f.from, f.to) && nodes.count(f.to) && !lost(rng))
                nodes.at(f.to).receive(f.from, std::move(f.m), now);
            for (auto& [id, n] : nodes) n.tick(now);
            return true;
        }
        std::optional<time_point> next;
        for (auto& [id, n] : nodes)
            if (auto d = n.next_deadline()) next = next ? std::min(*next, *d) : *d;
        if (!next) return false;
        now = std::max(now, *next);
        for (auto& [id, n] : nodes) n.tick(now);
        return true;
    }
    void run(int max_steps = 100000) {
        while (max_steps-- > 0 && step()) {
        }
        collect();
    }

    // Starts an operation and keeps its outcome.
    std::function<void(capkit::result<membership>)> into(
        std::optional<capkit::result<membership>>& out) {
        return [this, &out](capkit::result<membership> r) {
            if (r) note(*r);
            out = std::move(r);
        };
    }
};

// Each epoch has exactly one configuration, and each follows from the one before it by a begin
// or a finish of one change.
void check_one_history(const network& net) {
    const membership* before = nullptr;
    for (const auto& [epoch, list] : net.seen) {
        if (epoch == 0) continue;
        for (const auto& m : list)
            if (!(m == list.front()))
                FAIL("epoch " << epoch << " forked: " << m << " and " << list.front());
        const membership& m = list.front();
        if (before && before->epoch + 1 == epoch) {
            if (m.joint()) {
                CHECK(!before->joint());
                CHECK(m.members == before->members);
            } else {
                CHECK(before->joint());
                CHECK(m.members == before->next);
                CHECK(m.previous == before->members);
            }
        }
        before = &m;
    }
}

}  // namespace

TEST_CASE("a change names members that exist and leaves at least N", "[membership]") {
    auto m = membership::first(3);
    REQUIRE(m.epoch == 1);
    REQUIRE(m.voters() == std::vector<node_id>{0, 1, 2});

    CHECK(capkit::begin_change(m, membership_change::join(1), 3).error() == errc::invalid_change);
    CHECK(capkit::begin_change(m, membership_change::leave(7), 3).error() == errc::invalid_change);
    CHECK(capkit::begin_change(m, membership_change::replace(5, 6), 3).error() ==
          errc::invalid_change);
    CHECK(capkit::begin_change(m, membership_change::replace(1, 2), 3).error() ==
          errc::invalid_change);
    CHECK(capkit::begin_change(m, membership_change::remove(2), 3).error() ==
          errc::too_few_members);
    CHECK(capkit::finish_change(m).error() == errc::no_change_in_progress);

    auto joint = capkit::begin_change(m, membership_change::join(3, "10.0.0.4:7000"), 3);
    REQUIRE(joint);
    CHECK(joint->epoch == 2);
    CHECK(joint->joint());
    CHECK(ids(joint->members) == std::vector<node_id>{0, 1, 2});
    CHECK(ids(joint->next) == std::vector<node_id>{0, 1, 2, 3});
    CHECK(joint->next.back().address == "10.0.0.4:7000");
    CHECK(joint->joining() == std::vector<node_id>{3});
    CHECK(joint->leaving().empty());
    CHECK(joint->voters() == std::vector<node_id>{0, 1, 2, 3});
    CHECK(joint->base() == m);

    // One change at a time; asking again for the one in progress is an answer, not a refusal.
    CHECK(capkit::begin_change(*joint, membership_change::join(4), 3).error() ==
          errc::change_in_progress);
    CHECK(capkit::begin_change(*joint, membership_change::join(3, "10.0.0.4:7000"), 3).value() ==
          *joint);

    // A joint configuration decides with a majority of the members before and after it.
    CHECK(joint->is_quorum({0, 1, 3}));
    CHECK_FALSE(joint->is_quorum({0, 1}));  // 2 of 3 before, 2 of 4 after
    CHECK_FALSE(joint->is_quorum({2, 3}));  // 1 of 3 before

    auto grown = capkit::finish_change(*joint);
    REQUIRE(grown);
    CHECK(grown->epoch == 3);
    CHECK(!grown->joint());
    CHECK(ids(grown->members) == std::vector<node_id>{0, 1, 2, 3});
    CHECK(ids(grown->previous) == std::vector<node_id>{0, 1, 2});
    CHECK(grown->base().members == joint->members);
    CHECK(grown->base().next == joint->next);

    auto replaced = capkit::begin_change(*grown, membership_change::replace(1, 9), 3);
    REQUIRE(replaced);
    CHECK(replaced->joining() == std::vector<node_id>{9});
    CHECK(replaced->leaving() == std::vector<node_id>{1});
}

TEST_CASE("a node joins in two agreed steps and every node learns them", "[membership]") {
    network net(1);
    for (node_id i = 0; i < 3; ++i) net.add(i, membership::first(3));
    net.add(3, {});  // the new node knows nothing yet

    std::optional<capkit::result<membership>> begun, finished;
    net.at(0).change(membership_change::join(3), net.now, net.into(begun));
    net.run();
    REQUIRE(begun);
    REQUIRE(begun->has_value());
    CHECK((*begun)->epoch == 2);
    CHECK((*begun)->joining() == std::vector<node_id>{3});

    // Another node ends the change (whoever finished moving the data).
    net.at(2).finish(net.now, net.into(finished));
    net.run();
    REQUIRE(finished);
    REQUIRE(finished->has_value());
    CHECK((*finished)->epoch == 3);
    CHECK(ids((*finished)->members) == std::vector<node_id>{0, 1, 2, 3});
    for (node_id i = 0; i < 4; ++i) {
        INFO("node " << i);
        CHECK(net.at(i).current() == **finished);
    }
    check_one_history(net);
}

TEST_CASE("a minority cannot change the configuration; the majority can", "[membership]") {
    network net(2);
    for (node_id i = 0; i < 3; ++i) net.add(i, membership::first(3));
    net.add(3, {});
    net.cut = {0};

    std::optional<capkit::result<membership>> minority, majority;
    net.at(0).change(membership_change::join(3), net.now, net.into(minority));
    net.at(1).change(membership_change::replace(2, 3), net.now, net.into(majority));
    net.run();
    REQUIRE(minority);
    REQUIRE(minority->has_error());
    CHECK(minority->error() == errc::unavailable);
    CHECK(minority->error().shortfall.needed == 2);
    CHECK(minority->error().shortfall.reached == 1);
    REQUIRE(majority);
    REQUIRE(majority->has_value());
    CHECK((*majority)->joining() == std::vector<node_id>{3});

    // Healed, the node that was cut off reads what the majority agreed, and its own change is
    // refused while the other one is in progress.
    net.cut.clear();
    std::optional<capkit::result<membership>> read, again;
    net.at(0).read(net.now, net.into(read));
    net.run();
    REQUIRE(read);
    REQUIRE(read->has_value());
    CHECK(**read == **majority);
    net.at(0).change(membership_change::join(4), net.now, net.into(again));
    net.run();
    REQUIRE(again);
    CHECK(again->error() == errc::change_in_progress);
    check_one_history(net);
}

TEST_CASE("a node that missed epochs catches up before it changes anything", "[membership]") {
    network net(3);
    for (node_id i = 0; i < 3; ++i) net.add(i, membership::first(3));
    net.add(3, {});
    net.add(4, {});
    net.cut = {2};
    // Node 2 misses: 3 joins (epochs 2, 3), then 0 is replaced by 4 (epochs 4, 5).
    std::optional<capkit::result<membership>> a, b, c, d, late;
    net.at(0).change(membership_change::join(3), net.now, net.into(a));
    net.run();
    net.at(1).finish(net.now, net.into(b));
    net.run();
    net.at(1).change(membership_change::replace(0, 4), net.now, net.into(c));
    net.run();
    net.at(3).finish(net.now, net.into(d));
    net.run();
    REQUIRE(d);
    REQUIRE(d->has_value());
    REQUIRE((*d)->epoch == 5);
    REQUIRE(net.at(2).current().epoch == 1);

    // Healed, node 2 still believes in epoch 1; its change applies to epoch 5's members.
    net.cut.clear();
    net.at(2).change(membership_change::leave(1), net.now, net.into(late));
    net.run();
    REQUIRE(late);
    REQUIRE(late->has_value());
    CHECK((*late)->epoch == 6);
    CHECK(ids((*late)->members) == std::vector<node_id>{1, 2, 3, 4});
    CHECK(ids((*late)->next) == std::vector<node_id>{2, 3, 4});
    check_one_history(net);
}

TEST_CASE("the register's messages and durable state survive the wire", "[membership]") {
    using namespace capkit::protocol;
    auto joint = capkit::begin_change(membership::first({{0, "a:1"}, {1, "b:1"}, {2, "c:1"}}),
                                      membership_change::replace(1, 7, "d:1"), 3)
                     .value();
    auto stable = capkit::finish_change(joint).value();
    const std::vector<membership_register::message> messages{
        membership_prepare{{3, 1}},        membership_promise{{3, 1}, true, {2, 0}, joint, {3, 1}},
        membership_accept{{3, 1}, stable}, membership_accepted{{3, 1}, false, {4, 2}},
        membership_learn{stable},
    };
    for (const auto& m : messages) {
        std::vector<std::byte> bytes;
        capkit::wire::encode(m, bytes);
        auto back = capkit::wire::decode<membership_register::message>(bytes);
        REQUIRE(back.has_value());
        CHECK(*back == m);
    }
    membership_state state{{5, 1}, {4, 2}, joint, stable};
    std::vector<std::byte> bytes;
    capkit::wire::encode(state, bytes);
    auto back = capkit::wire::decode<membership_state>(bytes);
    REQUIRE(back.has_value());
    CHECK(*back == state);
    // A restart on the stored state keeps the promise and what was learned.
    auto r = membership_register::from_state(1, *back, 3, 1s);
    CHECK(r.current() == stable);
    CHECK(r.durable() == state);
}

TEST_CASE("an acceptor never goes back to an earlier configuration", "[membership]") {
    using namespace capkit::protocol;
    membership_register r(0, membership::first(3), 3);
    auto later = capkit::begin_change(membership::first(3), membership_change::join(3), 3).value();
    r.receive(1, membership_accept{{5, 1}, later}, {});
    r.receive(2, membership_accept{{6, 2}, membership::first(3)}, {});
    auto out = r.take_messages();
    REQUIRE(out.size() == 2);
    CHECK(std::get<membership_accepted>(out[1].second).ok);
    CHECK(r.durable().value == later);
    CHECK(r.durable().promised == ballot{6, 2});
}

TEST_CASE("a round takes the latest epoch it finds, not the highest ballot", "[membership]") {
    // Epoch 4 (3 leaving) was agreed by nodes 1, 2 and 3 under ballot 5; later a slow proposer
    // finishing epoch 3 got node 0 to accept epoch 3 again under ballot 9. Node 0, cut off from
    // node 3, asks for a change: among its quorum's answers the highest ballot holds epoch 3,
    // but epoch 4 is the agreed one, and a change begun on epoch 3 would fork epoch 4.
    using namespace capkit::protocol;
    const auto s3 =
        capkit::finish_change(
            capkit::begin_change(membership::first(3), membership_change::join(3), 3).value())
            .value();
    const auto j4 = capkit::begin_change(s3, membership_change::leave(3), 3).value();
    network net(5);
    for (node_id i = 0; i < 4; ++i) net.add(i, s3);
    net.add(4, {});
    for (node_id i = 1; i < 4; ++i) net.at(i).receive(1, membership_accept{{5, 1}, j4}, net.now);
    net.at(0).receive(2, membership_accept{{9, 2}, s3}, net.now);
    net.wire.clear();
    for (auto& [id, n] : net.nodes) n.take_messages();
    net.cut = {3};

    std::optional<capkit::result<membership>> asked;
    net.at(0).change(membership_change::join(4), net.now, net.into(asked));
    net.run();
    REQUIRE(asked);
    REQUIRE(asked->has_error());
    CHECK(asked->error() == errc::change_in_progress);  // epoch 4's change, finished first
    CHECK(net.at(0).current() == j4);
    net.seen[4].push_back(j4);
    check_one_history(net);
}

TEST_CASE("operators changing the configuration at once never fork it", "[membership]") {
    // Every seed: six nodes, three of them members at first; operators at random nodes ask for
    // random changes, finishes and reads, a few at a time, while messages are lost and
    // reordered and up to two nodes at a time are cut off. Whatever succeeds or fails, each
    // epoch has one configuration, each follows from the one before, and once the network heals
    // every member reads the same latest one.
    const std::uint64_t seeds = 300;
    std::uint64_t agreed = 0;  // epochs agreed after the first, over all seeds
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        INFO("seed " << seed << " (the network's order, loss and cuts, and the operators' asks)");
        network net(seed);
        const node_id nodes = 6;
        for (node_id i = 0; i < nodes; ++i) net.add(i, i < 3 ? membership::first(3) : membership{});
        net.loss = 0.15;
        std::mt19937_64 chooser(seed * 7919);
        auto below = [&](std::uint64_t n) { return chooser() % n; };

        std::vector<std::optional<capkit::result<membership>>> outcomes(24);
        for (auto& outcome : outcomes) {
            // Operators ask nodes that know a configuration (maybe a stale one); the others
            // could only answer unavailable.
            std::vector<node_id> knowing;
            for (auto& [id, n] : net.nodes)
                if (n.current().epoch > 0) knowing.push_back(id);
            auto at = knowing[below(knowing.size())];
            auto a = static_cast<node_id>(below(nodes)), b = static_cast<node_id>(below(nodes));
            switch (below(6)) {
                case 0:
                case 1:
                    net.at(at).change(membership_change::join(a), net.now, net.into(outcome));
                    break;
                case 2:
                    net.at(at).change(membership_change::leave(a), net.now, net.into(outcome));
                    break;
                case 3:
                    net.at(at).change(membership_change::replace(a, b), net.now, net.into(outcome));
                    break;
                case 4:
                    net.at(at).finish(net.now, net.into(outcome));
                    break;
                default:
                    net.at(at).read(net.now, net.into(outcome));
                    break;
            }
            if (below(3) == 0) {
                net.cut.clear();
                for (auto k = below(3); k > 0; --k)
                    net.cut.insert(static_cast<node_id>(below(nodes)));
            }
            for (auto k = below(400); k > 0; --k) net.step();
        }
        net.cut.clear();
        net.run();
        for (const auto& o : outcomes) {
            REQUIRE(o);  // every operation answered
            if (o->has_error()) {
                auto e = o->error().code;
                CHECK((e == errc::unavailable || e == errc::timeout ||
                       e == errc::change_in_progress || e == errc::no_change_in_progress ||
                       e == errc::invalid_change || e == errc::too_few_members));
            }
        }
        check_one_history(net);

        // Healed and lossless: a read from every member agrees on the latest epoch.
        net.loss = 0;
        std::map<node_id, std::optional<capkit::result<membership>>> reads;
        for (auto& [id, n] : net.nodes)
            if (n.current().epoch > 0 && n.current().has(id)) n.read(net.now, net.into(reads[id]));
        net.run();
        std::optional<membership> latest;
        for (auto& [id, r] : reads) {
            INFO("node " << id);
            REQUIRE(r);
            REQUIRE(r->has_value());
            if (!latest) latest = **r;
            CHECK(**r == *latest);
        }
        REQUIRE(latest);
        CHECK(latest->epoch == net.seen.rbegin()->first);
        check_one_history(net);
        agreed += latest->epoch - 1;
    }
    // The asks did change the configuration, often: the rules above were tested on changes.
    CHECK(agreed > seeds * 3);
}

// SPDX-License-Identifier: MIT
// What each side of a partition can do, how requests end when links fail unannounced, how read
// repair converges replicas after a heal, and that duplicated messages count once.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

#include <support/protocol_helpers.hpp>

namespace {

using namespace capkit::test;

using namespace std::chrono_literals;
using capkit::node_id;
using capkit::replica;

using quorum_configs =
    std::tuple<replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>,
               replica<str, str, capkit::quorum<3, 2, 2>, capkit::linearizable>,
               replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::dvv>,
               replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>,
                       capkit::eventual, capkit::vector_clocks>>;

using one_configs =
    std::tuple<replica<str, str, capkit::quorum<3, capkit::one, capkit::one>>,
               replica<str, str, capkit::quorum<3, capkit::one, capkit::one>, capkit::dvv>>;

// Everything the network has seen so far: a refused request must change none of it.
template <class Net>
struct traffic {
    explicit traffic(const Net& net)
        : delivered(net.delivered()),
          dropped(net.dropped()),
          in_flight(net.in_flight()),
          now(net.now()) {}
    std::size_t delivered, dropped, in_flight;
    capkit::time_point now;
    friend bool operator==(const traffic&, const traffic&) = default;
};

}  // namespace

TEMPLATE_LIST_TEST_CASE("a minority is refused at once; the majority keeps working",
                        "[protocol][partition]", quorum_configs) {
    using net_type = typename capkit::cluster<TestType>::transport_type;
    capkit::cluster<TestType> c;
    REQUIRE(c.at(0).put("k", "v0").has_value());
    c.settle();
    auto seen = c.at(0).get("k");
    REQUIRE(seen.has_value());
    c.settle();  // the read stays to hear from the last replica; let it finish

    c.partition({{0}, {1, 2}});
    const traffic<net_type> before(c.network());
    const auto stats = c.replica(0).stats();

    auto got = c.at(0).get("k");
    CHECK(failed_with(got, capkit::errc::unavailable));
    auto put = c.at(0).put("k", "refused", seen->context);
    CHECK(failed_with(put, capkit::errc::unavailable));
    auto removed = c.at(0).remove("k", seen->context);
    CHECK(failed_with(removed, capkit::errc::unavailable));

    // Nothing was sent, no time passed, and the refused writes left no trace, not even locally.
    CHECK(traffic<net_type>(c.network()) == before);
    CHECK(c.replica(0).stats().unavailable == stats.unavailable + 3);
    CHECK(c.replica(0).stats().requests == stats.requests + 3);
    CHECK(c.replica(0).stats().timeouts == stats.timeouts);
    CHECK(stored(c.replica(0)) == strings{"v0"});
    CHECK_FALSE(c.replica(0).next_deadline().has_value());

    // Under eventual, a per-request level the minority can meet is served: one replica is itself.
    if constexpr (std::is_same_v<typename TestType::consistency, capkit::eventual>) {
        CHECK(read<TestType, capkit::one>(c, 0) == strings{"v0"});
    }

    // The majority reads and writes as usual.
    auto from_majority = c.at(1).get("k");
    REQUIRE(from_majority.has_value());
    REQUIRE(c.at(1).put("k", "v1", from_majority->context).has_value());
    CHECK(read(c, 2) == strings{"v1"});
    CHECK(read(c, 1) == strings{"v1"});
    CHECK(stored(c.replica(0)) == strings{"v0"});

    SECTION("after heal, read repair brings the minority up to date") {
        c.heal();
        CHECK_FALSE(*c.replica(0).find("k") == *c.replica(1).find("k"));
        auto repairs = c.replica(0).stats().read_repairs;
        CHECK(read(c, 0) == strings{"v1"});  // R + W > N: the quorum holds v1
        c.settle();
        CHECK(c.replica(0).stats().read_repairs > repairs);
        for (node_id i = 0; i < 3; ++i) {
            INFO("replica " << i);
            CHECK(stored(c.replica(i)) == strings{"v1"});
            CHECK(*c.replica(i).find("k") == *c.replica(1).find("k"));
        }
    }
}

TEMPLATE_LIST_TEST_CASE("with R = W = 1 both sides of a partition keep working",
                        "[protocol][partition]", one_configs) {
    capkit::cluster<TestType> c;
    REQUIRE(c.at(0).put("k", "before").has_value());
    c.settle();
    c.partition({{0}, {1, 2}});

    REQUIRE(c.at(0).put("left", "l").has_value());
    REQUIRE(c.at(1).put("right", "r").has_value());
    auto seen = c.at(2).get("k");
    REQUIRE(seen.has_value());
    REQUIRE(c.at(2).put("k", "changed on the right", seen->context).has_value());
    c.settle();
    CHECK(read(c, 0, "left") == strings{"l"});
    CHECK(read(c, 0, "right").empty());
    CHECK(read(c, 0) == strings{"before"});
    CHECK(read(c, 2, "right") == strings{"r"});
    CHECK(read(c, 1, "left").empty());
    CHECK(read(c, 1) == strings{"changed on the right"});
    CHECK(c.replica(0).stats().unavailable == 0);
    CHECK(c.replica(1).stats().unavailable == 0);

    c.heal();
    CHECK(c.replica(1).find("left") == nullptr);
    // A read of every replica repairs the ones behind; settle() lets stragglers arrive.
    for (const char* key : {"left", "right", "k"}) {
        INFO(key);
        CHECK_FALSE(read<TestType, capkit::all>(c, 1, key).empty());
    }
    c.settle();
    CHECK(read(c, 1, "left") == strings{"l"});
    CHECK(read(c, 0, "right") == strings{"r"});
    CHECK(read(c, 0) == strings{"changed on the right"});
    for (const char* key : {"left", "right", "k"})
        for (node_id i = 0; i < 3; ++i) {
            INFO(key << " on replica " << i);
            REQUIRE(c.replica(i).find(key) != nullptr);
            CHECK(*c.replica(i).find(key) == *c.replica(0).find(key));
        }
}

TEST_CASE("a CRDT update on the minority side is refused and changes nothing",
          "[protocol][partition]") {
    using R = replica<str, capkit::g_counter, capkit::crdt_merge, capkit::quorum<3, 2, 2>>;
    capkit::cluster<R> c;
    auto like = [](capkit::g_counter& counter, node_id self) { counter.increment(self); };
    REQUIRE(c.at(0).update("likes", like).has_value());
    c.settle();
    c.partition({{0}, {1, 2}});
    CHECK(failed_with(c.at(0).update("likes", like), capkit::errc::unavailable));
    CHECK(c.replica(0).find("likes")->value.value() == 1);
    REQUIRE(c.at(1).update("likes", like).has_value());
    c.heal();
    auto got = c.at(0).get<capkit::all>("likes");
    REQUIRE(got.has_value());
    CHECK(got->values.at(0).value() == 2);
}

TEST_CASE("links cut without telling the nodes: reads fail unavailable, writes time out",
          "[protocol][partition]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>;
    capkit::replica_options options;
    options.request_timeout = 250ms;
    capkit::cluster<R> c(options);
    REQUIRE(c.at(0).put("k", "v0").has_value());
    c.settle();
    c.network().cut(0, 1);
    c.network().cut(0, 2);
    REQUIRE(c.replica(0).reachable(1));  // nobody told node 0

    auto start = c.network().now();
    auto dropped = c.network().dropped();
    auto stats = c.replica(0).stats();

    SECTION("a quorum read waits for its deadline and took no effect") {
        auto got = c.at(0).get("k");
        CHECK(failed_with(got, capkit::errc::unavailable));
        CHECK(c.network().now() - start >= 250ms);
        CHECK(c.network().dropped() == dropped + 2);  // the two read requests
        CHECK(c.replica(0).stats().unavailable == stats.unavailable + 1);
        CHECK(c.replica(0).stats().timeouts == stats.timeouts);
        for (node_id i = 0; i < 3; ++i) CHECK(stored(c.replica(i)) == strings{"v0"});
    }
    SECTION("a write whose quorum is not confirmed times out, and may take effect") {
        auto put = c.at(0).put("k", "maybe");
        CHECK(failed_with(put, capkit::errc::timeout));
        CHECK(c.network().now() - start >= 250ms);
        CHECK(c.replica(0).stats().timeouts == stats.timeouts + 1);
        CHECK(c.replica(0).stats().unavailable == stats.unavailable);
        // Applied where it could be: locally.
        CHECK(stored(c.replica(0)) == strings{"maybe"});
        CHECK(stored(c.replica(1)) == strings{"v0"});
        // Once the links are back, it does take effect.
        c.heal();
        CHECK(read<R, capkit::all>(c, 1) == strings{"maybe"});
        c.settle();
        for (node_id i = 0; i < 3; ++i) CHECK(stored(c.replica(i)) == strings{"maybe"});
    }
    SECTION("the majority, whose links to each other hold, still works") {
        REQUIRE(c.at(1).put("k", "v1").has_value());
        CHECK(read(c, 2) == strings{"v1"});
    }
}

TEST_CASE("links cut unannounced: an ABD write stuck in its read phase is unavailable",
          "[protocol][partition]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::linearizable>;
    capkit::cluster<R> c;
    REQUIRE(c.at(0).put("k", "v0").has_value());
    c.settle();
    c.network().cut(0, 1);
    c.network().cut(0, 2);
    auto stats = c.replica(0).stats();
    // ABD learns the highest tag before it writes: no quorum answered, nothing was written.
    CHECK(failed_with(c.at(0).put("k", "never"), capkit::errc::unavailable));
    CHECK(failed_with(c.at(0).get("k"), capkit::errc::unavailable));
    CHECK(c.replica(0).stats().unavailable == stats.unavailable + 2);
    CHECK(c.replica(0).stats().timeouts == stats.timeouts);
    for (node_id i = 0; i < 3; ++i) CHECK(stored(c.replica(i)) == strings{"v0"});
}

TEST_CASE("links cut one way: requests still go out, replies are lost", "[protocol][partition]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>;
    capkit::cluster<R> c;
    c.network().cut_one_way(1, 0);
    c.network().cut_one_way(2, 0);
    // The write reaches every replica, but no acknowledgement comes back.
    CHECK(failed_with(c.at(0).put("k", "sent"), capkit::errc::timeout));
    for (node_id i = 0; i < 3; ++i) CHECK(stored(c.replica(i)) == strings{"sent"});
    CHECK(failed_with(c.at(0).get("k"), capkit::errc::unavailable));
    CHECK(read(c, 1) == strings{"sent"});
}

// Replicas driven by hand: every message passes through the test, which can deliver it twice.
namespace {

template <class R>
struct hand_cluster {
    static constexpr unsigned n = R::n;
    hand_cluster() {
        for (node_id i = 0; i < n; ++i) replicas.emplace_back(i);
    }
    // Messages each replica produced since the last call, as (from, outgoing).
    std::vector<std::pair<node_id, typename R::outgoing>> take(node_id from) {
        std::vector<std::pair<node_id, typename R::outgoing>> out;
        for (auto& m : replicas[from].take_messages()) out.emplace_back(from, std::move(m));
        return out;
    }
    void deliver(const std::pair<node_id, typename R::outgoing>& envelope) {
        replicas[envelope.second.to].receive(envelope.first, envelope.second.m, now);
    }
    // Runs the completions a replica produced; returns how many.
    std::size_t complete(node_id i) {
        auto done = replicas[i].take_completions();
        for (auto& f : done) f();
        return done.size();
    }
    std::vector<R> replicas;
    capkit::time_point now{};
};

template <class M, class Envelopes>
std::size_t count_of(const Envelopes& envelopes) {
    return std::ranges::count_if(
        envelopes, [](const auto& e) { return std::holds_alternative<M>(e.second.m); });
}

template <class Envelopes>
auto to(const Envelopes& envelopes, node_id dest) {
    auto it =
        std::ranges::find_if(envelopes, [dest](const auto& e) { return e.second.to == dest; });
    REQUIRE(it != envelopes.end());
    return *it;
}

}  // namespace

TEST_CASE("a duplicated write acknowledgement counts once", "[protocol][duplicates]") {
    // W = N = 3: the coordinator acknowledges itself, so two acknowledgements from one peer
    // must not make the third.
    using R = replica<str, str, capkit::quorum<3, capkit::one, capkit::all>, capkit::strong>;
    using write_request = capkit::protocol::write_request<str, R::state>;
    using write_reply = capkit::protocol::write_reply;
    hand_cluster<R> h;
    int completions = 0;
    std::optional<capkit::result<R::write_result>> outcome;
    h.replicas[0].put("k", "v", {}, h.now, [&](capkit::result<R::write_result> r) {
        ++completions;
        outcome = r;
    });
    auto requests = h.take(0);
    REQUIRE(requests.size() == 2);
    CHECK(count_of<write_request>(requests) == 2);

    // Node 1 gets the request twice: merging is idempotent, and it acknowledges twice.
    auto to1 = to(requests, 1);
    h.deliver(to1);
    auto state_once = *h.replicas[1].find("k");
    h.deliver(to1);
    CHECK(*h.replicas[1].find("k") == state_once);
    auto acks = h.take(1);
    REQUIRE(acks.size() == 2);
    CHECK(count_of<write_reply>(acks) == 2);
    CHECK(acks[0].second.m == acks[1].second.m);

    h.deliver(acks[0]);
    h.deliver(acks[1]);
    h.deliver(acks[0]);
    CHECK(h.complete(0) == 0);
    CHECK(completions == 0);
    CHECK(h.replicas[0].next_deadline().has_value());  // still waiting for node 2

    h.deliver(to(requests, 2));
    auto ack2 = h.take(2);
    REQUIRE(ack2.size() == 1);
    h.deliver(ack2[0]);
    CHECK(h.complete(0) == 1);
    CHECK(completions == 1);
    REQUIRE(outcome);
    CHECK((*outcome).has_value());

    // Late duplicates of any acknowledgement complete nothing a second time.
    h.deliver(ack2[0]);
    h.deliver(acks[1]);
    CHECK(h.complete(0) == 0);
    CHECK(completions == 1);
    CHECK(h.take(0).empty());
    CHECK_FALSE(h.replicas[0].next_deadline().has_value());
}

TEST_CASE("W = 2 of 3: a duplicate acknowledgement after completion is ignored",
          "[protocol][duplicates]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>;
    hand_cluster<R> h;
    int completions = 0;
    h.replicas[0].put("k", "v", {}, h.now, [&](auto) { ++completions; });
    auto requests = h.take(0);
    h.deliver(to(requests, 1));
    auto ack = h.take(1);
    REQUIRE(ack.size() == 1);
    h.deliver(ack[0]);  // itself and node 1: W = 2
    CHECK(h.complete(0) == 1);
    for (int i = 0; i < 3; ++i) h.deliver(ack[0]);
    CHECK(h.complete(0) == 0);
    CHECK(completions == 1);
    // An acknowledgement naming another coordinator's request is not ours.
    h.replicas[0].receive(1, capkit::protocol::write_reply{{2, 1, 1}}, h.now);
    h.replicas[0].receive(1, capkit::protocol::write_reply{{0, 99, 1}}, h.now);
    CHECK(h.complete(0) == 0);
    CHECK(h.take(0).empty());
}

TEST_CASE("a duplicated read reply counts once", "[protocol][duplicates]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>;
    using read_reply = capkit::protocol::read_reply<str, R::state>;
    hand_cluster<R> h;
    std::optional<capkit::result<R::read_result>> outcome;
    int completions = 0;
    h.replicas[0].get<capkit::all>("k", h.now, [&](capkit::result<R::read_result> r) {
        ++completions;
        outcome = r;
    });
    auto requests = h.take(0);
    REQUIRE(requests.size() == 2);
    auto to1 = to(requests, 1);
    h.deliver(to1);
    h.deliver(to1);  // a duplicated request: answered twice
    auto replies = h.take(1);
    REQUIRE(replies.size() == 2);
    CHECK(count_of<read_reply>(replies) == 2);
    for (int i = 0; i < 3; ++i)
        for (const auto& r : replies) h.deliver(r);
    CHECK(h.complete(0) == 0);  // itself and node 1: two of the three asked for
    h.deliver(to(requests, 2));
    auto reply2 = h.take(2);
    REQUIRE(reply2.size() == 1);
    h.deliver(reply2[0]);
    CHECK(h.complete(0) == 1);
    h.deliver(reply2[0]);
    h.deliver(replies[0]);
    CHECK(h.complete(0) == 0);
    CHECK(completions == 1);
    REQUIRE(outcome);
    REQUIRE((*outcome).has_value());
    CHECK_FALSE((*outcome)->found());
}

TEST_CASE("ABD: a duplicated read reply does not start the write phase early",
          "[protocol][duplicates]") {
    using R = replica<str, str, capkit::quorum<3, 3, 1>, capkit::linearizable>;
    using write_request = capkit::protocol::write_request<str, R::state>;
    hand_cluster<R> h;
    int completions = 0;
    h.replicas[0].put("k", "v", {}, h.now, [&](auto r) { completions += r ? 1 : 0; });
    auto requests = h.take(0);
    REQUIRE(requests.size() == 2);
    h.deliver(to(requests, 1));
    auto reply = h.take(1);
    REQUIRE(reply.size() == 1);
    h.deliver(reply[0]);
    h.deliver(reply[0]);
    CHECK(count_of<write_request>(h.take(0)) == 0);  // two distinct replies of the three
    h.deliver(to(requests, 2));
    h.deliver(h.take(2).at(0));
    CHECK(count_of<write_request>(h.take(0)) == 2);  // now it writes (to itself locally)
    CHECK(h.complete(0) == 1);                       // W = 1: its own acknowledgement
    CHECK(completions == 1);
    CHECK(stored(h.replicas[0]) == strings{"v"});
}

TEST_CASE("a duplicated read repair changes nothing the second time", "[protocol][duplicates]") {
    using R = replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong, capkit::dvv>;
    hand_cluster<R> h;
    h.replicas[0].put("k", "v", {}, h.now, [](auto) {});
    auto requests = h.take(0);
    h.deliver(to(requests, 1));
    h.deliver(h.take(1).at(0));
    h.complete(0);
    // Node 2 never got the write; a read of all three repairs it.
    h.replicas[1].get<capkit::all>("k", h.now, [](auto) {});
    for (const auto& m : h.take(1)) {
        h.deliver(m);
        for (node_id i : {0u, 2u})
            for (const auto& reply : h.take(i)) h.deliver(reply);
    }
    auto repairs = h.take(1);
    REQUIRE(count_of<capkit::protocol::repair<str, R::state>>(repairs) == 1);
    auto repair = to(repairs, 2);
    h.deliver(repair);
    auto once = *h.replicas[2].find("k");
    h.deliver(repair);
    CHECK(*h.replicas[2].find("k") == once);
    CHECK(once == *h.replicas[0].find("k"));
    CHECK(h.take(2).empty());  // a repair has no reply
}

TEST_CASE("a completed request leaves no wake-up behind", "[protocol]") {
    // Virtual time must not jump to an old deadline once every request has completed.
    capkit::cluster<capkit::replica<std::string, std::string, capkit::quorum<3, 2, 2>>> c;
    REQUIRE(c.at(0).put("k", "v").has_value());
    REQUIRE(c.at(1).get("k").has_value());
    c.settle();
    CHECK(c.network().now() == capkit::time_point::zero());
}

namespace {
// Runs a get through node `via` and returns the shortfall its failure carried.
template <class R>
std::optional<capkit::quorum_shortfall> shortfall_of_get(capkit::cluster<R>& c, node_id via) {
    std::optional<capkit::quorum_shortfall> seen;
    c.node_at(via).async_get("k", [&](auto r) {
        if (!r.has_value()) seen = r.error().shortfall;
    });
    c.settle();
    return seen;
}

// The shortfall a failed result carries (a default one for a success, which the checks refuse).
template <class T>
capkit::quorum_shortfall shortfall(const capkit::result<T>& r) {
    return r.has_value() ? capkit::quorum_shortfall{} : r.error().shortfall;
}
}  // namespace

TEMPLATE_TEST_CASE(
    "a failed request tells which quorum fell short and how many it reached",
    "[protocol][partition]", (replica<str, str, capkit::quorum<3, 2, 2>, capkit::strong>),
    (replica<str, str, capkit::quorum<3, 2, 2>, capkit::linearizable>),
    (replica<str, str, capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>)) {
    using capkit::quorum_shortfall;
    capkit::replica_options options;
    options.request_timeout = 250ms;
    capkit::cluster<TestType> c(options);
    REQUIRE(c.at(0).put("k", "v0").has_value());
    c.settle();

    SECTION("refused at once by a minority: the reachable replicas") {
        c.partition({{0}, {1, 2}});
        CHECK(shortfall_of_get(c, 0) == quorum_shortfall{false, 2, 1});
        // ABD and Paxos writes need a read quorum too; a write names its own, W.
        auto put = c.at(0).put("k", "v1");
        CHECK(failed_with(put, capkit::errc::unavailable));
        CHECK(shortfall(put) == quorum_shortfall{true, 2, 1});
        CHECK(put.error().message() ==
              "unavailable: quorum not reached; the request took no effect (need W=2, reached 1)");
    }
    SECTION("expired with links cut unannounced: the replicas that answered") {
        c.network().cut(0, 1);
        c.network().cut(0, 2);
        CHECK(shortfall_of_get(c, 0) == quorum_shortfall{false, 2, 1});
    }
    SECTION("a write sent whose acknowledgements are lost: the replicas that acknowledged") {
        c.network().cut_one_way(1, 0);
        c.network().cut_one_way(2, 0);
        if constexpr (std::is_same_v<typename TestType::consistency, capkit::strong>) {
            auto put = c.at(0).put("k", "v1");
            CHECK(failed_with(put, capkit::errc::timeout));
            CHECK(shortfall(put) == quorum_shortfall{true, 2, 1});
        } else {  // the read phase hears only from itself: nothing was written
            auto put = c.at(0).put("k", "v1");
            CHECK(failed_with(put, capkit::errc::unavailable));
            CHECK(shortfall(put) == quorum_shortfall{false, 2, 1});
        }
    }
}

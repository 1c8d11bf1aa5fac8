// SPDX-License-Identifier: MIT
// The claim of docs/membership.md, checked as Jepsen would: on a ring of six nodes (N = 3) that
// loses and reorders messages, six clients read and write four keys through random members
// while node 4 leaves and then joins again; the history each seed makes is checked with the
// linearizability checker. linearizable (ABD) and serial (CASPaxos) must be linearizable on
// every seed, the changes must both end, and every node's reads must work afterwards. The seed
// is printed with a failure.
#include <capkit/capkit.hpp>
#include <capkit/check/history.hpp>
#include <capkit/check/linearizability.hpp>
#include <capkit/check/models.hpp>
#include <capkit/check/recorder.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/sim_cluster.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using namespace std::chrono_literals;
namespace ck = capkit::check;
using capkit::membership_change;
using capkit::node_id;

template <class... P>
using ring_replica = capkit::replica<std::string, std::int64_t, capkit::hash_ring<>, P...>;
using linearizable = ring_replica<capkit::quorum<3, 2, 2>, capkit::linearizable>;
using serial = ring_replica<capkit::quorum<3, capkit::majority, capkit::majority>, capkit::serial>;

constexpr unsigned cluster_nodes = 6;
constexpr int clients = 6;

template <class Replica>
struct run {
    capkit::sim<typename Replica::message> net;
    capkit::sim_cluster<Replica> cluster;
    ck::recorder history;
    capkit::detail::rng rng;
    std::int64_t next_value = 1;
    int changes_done = 0;
    bool stop = false;

    static capkit::replica_options options() {
        capkit::replica_options o;
        o.cluster_size = cluster_nodes;
        o.request_timeout = 100ms;
        return o;
    }
    explicit run(std::uint64_t seed) : net(seed), cluster(net, options()), rng(seed) {
        net.set_latency(capkit::latency::uniform(1ms, 3ms));
        net.set_drop(0.03);
        net.set_reorder(0.1, 2ms);
    }

    std::int64_t now() const { return net.now().count(); }

    // Client `p`'s next call, through a random node; the next one starts when it completes.
    void client(int p) {
        if (stop) return;
        const node_id via = static_cast<node_id>(rng.below(cluster_nodes));
        const std::string key = capkit::detail::cat("k", std::to_string(rng.below(4)));
        auto& node = cluster.node_at(via);
        if (rng.below(2) == 0) {
            history.invoke(p, ck::op_kind::read, key, {}, now());
            node.async_get(key, [this, p](const auto& r) {
                if (r) {
                    ck::value v;
                    if (r->found()) v = r->values.front();
                    history.complete(p, ck::event_type::ok, now(), v);
                } else {
                    history.complete(p, ck::event_type::fail, now());  // a read has no effect
                }
                again(p);
            });
        } else {
            const std::int64_t v = next_value++;
            history.invoke(p, ck::op_kind::write, key, v, now());
            node.async_put(key, v, {}, [this, p](const auto& r) {
                using capkit::errc;
                const auto type = r                            ? ck::event_type::ok
                                  : r.error() == errc::timeout ? ck::event_type::info
                                                               : ck::event_type::fail;
                history.complete(p, type, now());
                again(p);
            });
        }
    }
    void again(int p) {
        net.schedule(net.now() + std::chrono::milliseconds(1 + rng.below(5)),
                     [this, p] { client(p); });
    }

    // Begins `c` through `via` (again after a refusal: a lost answer, or no majority yet), then
    // calls `then` once the change has ended at `via`.
    void change(node_id via, membership_change c, std::function<void()> then) {
        cluster.node_at(via).async_change_members(c, [=, this](const auto& r) {
            if (!r) {
                net.schedule(net.now() + 20ms, [=, this] { change(via, c, then); });
                return;
            }
            wait_stable(via, then);
        });
    }
    void wait_stable(node_id via, std::function<void()> then) {
        if (!cluster.replica(via).configuration().joint()) return then();
        net.schedule(net.now() + 5ms, [=, this] { wait_stable(via, then); });
    }
};

template <class Replica>
void check_seed(std::uint64_t seed) {
    INFO("seed " << seed);
    run<Replica> r(seed);
    for (int p = 0; p < clients; ++p) r.client(p);
    r.net.schedule(r.net.now() + 30ms, [&] {
        r.change(0, membership_change::leave(4), [&] {
            ++r.changes_done;
            r.net.schedule(r.net.now() + 20ms, [&] {
                r.change(1, membership_change::join(4), [&] { ++r.changes_done; });
            });
        });
    });
    const bool ended =
        r.net.run_until([&] { return r.changes_done == 2 || r.now() > 20'000'000'000; });
    REQUIRE(ended);
    REQUIRE(r.changes_done == 2);
    r.net.run_for(150ms);  // the clients go on through the new ring
    r.stop = true;
    r.net.run_for(1s);  // every call completes
    auto events = r.history.take();
    auto h = ck::pair_events(events);
    REQUIRE(h.ops.size() > 40);
    auto verdict = ck::check_linearizability(h, ck::kv_model{ck::value{}});
    CHECK(verdict.result == ck::verdict::linearizable);
    // After both changes every node is a member of the first ring again and reads work there.
    for (node_id i = 0; i < cluster_nodes; ++i) {
        CHECK(r.cluster.replica(i).member());
        CHECK_FALSE(r.cluster.replica(i).configuration().joint());
    }
}

}  // namespace

TEMPLATE_TEST_CASE("membership changes under lossy clients stay linearizable on every seed",
                   "[check][membership]", linearizable, serial) {
    for (std::uint64_t seed = 1; seed <= 200; ++seed) check_seed<TestType>(seed);
}

// SPDX-License-Identifier: MIT
/// @file Defines capkit::sim_cluster: N nodes over the simulated network, each with a simulated
/// durable store, that can crash, restart, or come back with nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <capkit/node.hpp>
#include <capkit/transport/sim.hpp>

namespace capkit {

/// When a simulated node's writes become durable; a crash loses the rest.
struct sync_policy {
    enum class mode { always, interval, group, never };
    /// always: before every reply, as an fsync per write would (a crash loses nothing
    /// acknowledged); interval: every `every` of virtual time, replies not waiting for it;
    /// group: group commit (replica_options::group_commit with window `every`): writes become
    /// durable together at most `every` after the first, and the node's replies wait for that
    /// (nothing acknowledged is lost); never: nothing survives a crash.
    mode when = mode::always;
    std::chrono::nanoseconds every = std::chrono::milliseconds(100);
};

/// Nodes 0 .. N-1 of `Replica` over a capkit::sim network the caller owns (so one event loop
/// drives network, clients and nemesis). crash() destroys a node's process: its requests in
/// flight vanish unanswered and it keeps only what its sync policy made durable; restart() brings
/// it back on that, as a new incarnation; amnesia() brings it back empty. With a perfect failure
/// detector (the default) every change is told to every node at once.
template <class Replica>
class sim_cluster {
public:
    using network_type = sim<typename Replica::message>;
    using node_type = node<Replica, network_type>;
    using durable_state = typename Replica::durable_state;
    /// Nodes in the cluster: N, or replica_options::cluster_size with hash_ring placement.
    static unsigned size_of(const replica_options& o) noexcept {
        return o.cluster_size == 0 ? Replica::n : o.cluster_size;
    }

    sim_cluster(network_type& net, replica_options options, sync_policy sync = {},
                bool perfect_failure_detector = true)
        : net_(net),
          options_(options),
          size_(size_of(options)),
          sync_(sync),
          tell_(perfect_failure_detector) {
        if (sync_.when == sync_policy::mode::group) options_.group_commit.window = sync_.every;
        for (node_id i = 0; i < size_; ++i) {
            nodes_.push_back(std::make_unique<node_type>(i, net_, options_));
            durable_.emplace_back();
            incarnation_.push_back(0);
            keep_group_syncs(i);
        }
        if (sync_.when == sync_policy::mode::interval) schedule_sync();
    }

    sim_cluster(const sim_cluster&) = delete;
    sim_cluster& operator=(const sim_cluster&) = delete;

    /// How many nodes the cluster has (N, or M on a hash_ring).
    unsigned nodes() const noexcept { return size_; }
    bool up(node_id i) const { return nodes_.at(i) != nullptr; }
    /// Node `i`, which must be up.
    node_type& node_at(node_id i) { return *nodes_.at(i); }
    Replica& replica(node_id i) { return nodes_.at(i)->replica(); }
    network_type& network() noexcept { return net_; }

    /// Stops node `i`; what it had not made durable is lost.
    void crash(node_id i) {
        if (!up(i)) return;
        if (sync_.when == sync_policy::mode::always) durable_[i] = replica(i).durable();
        nodes_[i].reset();  // detaches from the network
        net_.crash(i);
        tell_reachability();
    }

    /// Brings node `i` back on its durable state (no-op if up).
    void restart(node_id i) {
        if (up(i)) return;
        if (sync_.when == sync_policy::mode::group) {
            // What it restarts on stays durable until its next group sync: a node that crashes
            // again before writing must find it again (always and interval refill it otherwise).
            bring_up(i, durable_[i] ? *durable_[i] : durable_state{});
            return;
        }
        bring_up(i, durable_[i] ? std::move(*durable_[i]) : durable_state{});
        durable_[i].reset();
    }

    /// Brings node `i` back with nothing, crashing it first if it is up: every promise it made
    /// is forgotten.
    void amnesia(node_id i) {
        crash(i);
        durable_[i].reset();
        ++amnesia_;
        bring_up(i, durable_state{});
    }

    /// Restarts with nothing so far.
    std::size_t amnesia_count() const noexcept { return amnesia_; }

    /// Tells every up node which peers it can reach both ways (when the detector is perfect).
    void tell_reachability() {
        if (!tell_) return;
        for (node_id a = 0; a < size_; ++a) {
            if (!up(a)) continue;
            for (node_id b = 0; b < size_; ++b) replica(a).set_reachable(b, reaches(a, b));
        }
    }

    /// True when `a` and `b` are up and messages pass between them both ways.
    bool reaches(node_id a, node_id b) const {
        if (a == b) return up(a);
        return up(a) && up(b) && net_.linked(a, b) && net_.linked(b, a);
    }

private:
    void bring_up(node_id i, durable_state state) {
        net_.restart(i);
        replica_options o = options_;
        o.incarnation = ++incarnation_[i];
        nodes_[i] = std::make_unique<node_type>(i, net_, o, std::move(state));
        keep_group_syncs(i);
        tell_reachability();
    }

    // Under group commit, what node `i` has at each of its syncs is what a crash leaves it.
    void keep_group_syncs(node_id i) {
        if (sync_.when != sync_policy::mode::group) return;
        node_at(i).on_group_sync([this, i] { durable_[i] = replica(i).durable(); });
    }

    void schedule_sync() {
        net_.schedule(net_.now() + sync_.every, [this] {
            for (node_id i = 0; i < size_; ++i)
                if (up(i)) durable_[i] = replica(i).durable();
            if (!stopped_) schedule_sync();
        });
    }

public:
    /// Stops the periodic syncs (so the network can run dry).
    void stop_syncing() noexcept { stopped_ = true; }

private:
    network_type& net_;
    replica_options options_;
    unsigned size_;
    sync_policy sync_;
    bool tell_;
    bool stopped_ = false;
    std::vector<std::unique_ptr<node_type>> nodes_;
    std::vector<std::optional<durable_state>> durable_;
    std::vector<std::uint32_t> incarnation_;
    std::size_t amnesia_ = 0;
};

}  // namespace capkit

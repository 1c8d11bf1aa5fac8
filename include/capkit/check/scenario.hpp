// SPDX-License-Identifier: MIT
/// @file Defines capkit::lab::scenario: a workload, a network and a nemesis schedule to run a
/// replica configuration through, in virtual time, under many seeds.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <capkit/node_id.hpp>

namespace capkit::lab {

using std::chrono::milliseconds;

/// How message latencies are drawn (see capkit::latency).
struct latency_spec {
    enum class shape { fixed, uniform, long_tailed };
    shape kind = shape::uniform;
    milliseconds min{1};  ///< fixed: the latency; uniform: the lower bound; long_tailed: the base
    milliseconds max{5};  ///< uniform: the upper bound; long_tailed: the cap
    double tail = 0.1;    ///< long_tailed: the probability that a latency doubles again
};

/// What the clients do. Every written value is unique, so a read names the write it saw.
struct workload {
    unsigned keys = 8;
    /// The mix, as weights. cas and update apply only to configurations that support them
    /// (serial); elsewhere they become writes. Under a CRDT counter a write is an increment.
    double read = 0.5, write = 0.5, cas = 0.0, update = 0.0;
    /// Keys drawn uniformly, or skewed toward key 0 (zipfian, exponent `zipf_s`).
    bool zipfian = false;
    double zipf_s = 0.99;
    /// Each client's pace: it waits a time drawn uniformly in [0, 2/rate] between its operations
    /// (so `rate` operations per second on average while its requests are fast).
    double rate = 20.0;
    milliseconds duration{10000};  ///< clients start operations from 0 up to this time
};

/// One change the nemesis makes at a point in virtual time.
struct fault {
    enum class kind {
        partition,    ///< `groups`, or else the first `minority` nodes cut off from the rest (0:
                      ///< the largest minority, (N-1)/2 nodes)
        isolate,      ///< `node` cut off from every other node
        bridge,       ///< two halves that each reach `node` but not each other
        cut_one_way,  ///< messages from `node` to `to` are lost (asymmetric)
        heal,         ///< every link restored (drop windows are separate)
        crash,        ///< `node` stops; it loses what its storage had not made durable
        restart,      ///< `node` comes back on its durable state
        amnesia,      ///< `node` comes back with nothing (reported as such)
        drop,         ///< from now on each message is lost with probability `probability`
        clock_skew,   ///< `node`'s clock runs `skew` ahead (negative: behind)
    };
    kind what = kind::heal;
    milliseconds at{0};
    std::vector<std::vector<node_id>> groups{};  ///< partition: explicit groups
    unsigned minority = 0;                       ///< partition: cut off the first k nodes instead
    node_id node = 0;
    node_id to = 0;
    double probability = 0.0;
    milliseconds skew{0};
};

/// When a node's writes become durable: a crash loses the rest.
struct durability {
    enum class sync { always, interval, group, never };
    sync policy = sync::always;  ///< always: before every reply (an fsync per write)
    /// interval: every this long, replies not waiting; group: group commit with this window
    /// (writes durable together, replies held until they are).
    milliseconds interval{100};
};

/// A whole experiment: run each configuration on `seeds` seeds, from `first_seed`.
struct scenario {
    std::string name;
    std::string description;
    /// The cluster size it was written for; a configuration of another N is refused (0: any N,
    /// for scenarios whose faults name no node beyond the smallest cluster). A hash_ring
    /// configuration runs on this many nodes (M, at least its N).
    unsigned nodes = 0;
    unsigned clients = 6;  ///< client c talks to node c mod N
    workload load;
    latency_spec latency;
    double drop = 0.0;                ///< initial per-message loss probability
    double duplicate = 0.0;           ///< per-message duplication probability
    double reorder = 0.0;             ///< probability that a message is held back ...
    milliseconds reorder_window{10};  ///< ... by up to this long
    std::vector<fault> nemesis;       ///< in time order
    /// After the workload and the last fault, time for repairs; then every key is read once
    /// through each node (Jepsen's final reads) and, after another such period, the replicas
    /// are compared.
    milliseconds quiet{2000};
    /// Merkle-tree anti-entropy every this long on each replica (0: off), so replicas can
    /// converge on keys nobody reads (replica_options::anti_entropy).
    milliseconds anti_entropy{0};
    durability storage;
    /// How a replica learns which peers it can reach: told at once, as a perfect failure
    /// detector would (`true`), or never, so requests wait for their timeout (`false`).
    bool perfect_failure_detector = true;
    milliseconds request_timeout{500};
    unsigned seeds = 200;
    std::uint64_t first_seed = 1;
};

/// The smallest cluster the scenario's faults fit: one more than the highest node they name,
/// 3 for a bridge, 2k + 1 for a partition cutting off k nodes, at least 1.
inline unsigned min_nodes(const scenario& s) {
    unsigned n = 1;
    for (const fault& f : s.nemesis) {
        switch (f.what) {
            case fault::kind::partition:
                for (const auto& g : f.groups) {
                    for (node_id x : g) n = std::max<unsigned>(n, x + 1);
                }
                if (f.groups.empty()) n = std::max(n, 2 * std::max(f.minority, 1u) + 1);
                break;
            case fault::kind::cut_one_way:
                n = std::max<unsigned>(n, std::max(f.node, f.to) + 1);
                break;
            case fault::kind::bridge:
                n = std::max<unsigned>(n, std::max<unsigned>(3, f.node + 1));
                break;
            case fault::kind::isolate:
            case fault::kind::crash:
            case fault::kind::restart:
            case fault::kind::amnesia:
            case fault::kind::clock_skew:
                n = std::max<unsigned>(n, f.node + 1);
                break;
            case fault::kind::heal:
            case fault::kind::drop:
                break;
        }
    }
    return n;
}

}  // namespace capkit::lab

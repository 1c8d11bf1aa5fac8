// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::router: which nodes hold a key, for the placement policy of a
/// replica (all_nodes: nodes 0 .. N-1; hash_ring: N of M nodes, then fallbacks).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <capkit/assert.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/placement.hpp>
#include <capkit/protocol/results.hpp>

namespace capkit::detail {

/// A key's preference list as a request uses it: the N owners first, then (hash_ring) the
/// fallbacks in ring order, where a sloppy write leaves what an unreachable owner misses.
template <unsigned MaxNodes>
struct preference {
    std::array<node_id, MaxNodes> nodes{};
    unsigned size = 0;    ///< owners and fallbacks
    unsigned owners = 0;  ///< the first `owners` of `nodes`

    bool owns(node_id who) const noexcept {
        for (unsigned i = 0; i < owners; ++i)
            if (nodes[i] == who) return true;
        return false;
    }
};

template <class Placement, unsigned N>
class router;

/// all_nodes: the cluster is nodes 0 .. N-1, and each owns every key.
template <unsigned N>
class router<all_nodes, N> {
public:
    static constexpr unsigned max_nodes = N;

    explicit router(const replica_options& o) {
        CAPKIT_ASSERT(o.cluster_size == 0 || o.cluster_size == N,
                      "all_nodes' cluster is its N nodes (options_error)");
    }

    unsigned nodes() const noexcept { return N; }

    template <class Key>
    preference<max_nodes> of(const Key&) const noexcept {
        preference<max_nodes> p;
        for (node_id i = 0; i < N; ++i) p.nodes[i] = i;
        p.size = p.owners = N;
        return p;
    }

    /// Whether node `who` owns `key`: every node of the N does.
    template <class Key>
    bool owns(node_id who, const Key&) const noexcept {
        return who < N;
    }
};

/// Most nodes a hash_ring cluster may have (a request keeps a bit per node).
inline constexpr unsigned max_ring_nodes = 64;

/// hash_ring: the cluster is nodes 0 .. M-1 (replica_options::cluster_size), each key owned by
/// the first N distinct nodes of its preference list on the ring, the rest its fallbacks.
template <unsigned VirtualNodes, unsigned N>
class router<hash_ring<VirtualNodes>, N> {
public:
    static constexpr unsigned max_nodes = max_ring_nodes;

    explicit router(const replica_options& o) : ring_(members(o), N) {}

    unsigned nodes() const noexcept { return static_cast<unsigned>(ring_.node_count()); }

    template <class Key>
    preference<max_nodes> of(const Key& key) const {
        preference<max_nodes> p;
        p.size = static_cast<unsigned>(
            ring_.preference_list(key, std::span<node_id>(p.nodes.data(), ring_.node_count())));
        p.owners = std::min(p.size, N);
        return p;
    }

    /// Whether node `who` is one of `key`'s N owners.
    template <class Key>
    bool owns(node_id who, const Key& key) const {
        return of(key).owns(who);
    }

private:
    static std::vector<node_id> members(const replica_options& o) {
        const unsigned m = o.cluster_size == 0 ? N : o.cluster_size;
        CAPKIT_ASSERT(m >= N && m <= max_ring_nodes,
                      "a ring has N to max_ring_nodes nodes (options_error)");
        std::vector<node_id> out(m);
        for (node_id i = 0; i < m; ++i) out[i] = i;
        return out;
    }

    hash_ring<VirtualNodes> ring_;
};

}  // namespace capkit::detail

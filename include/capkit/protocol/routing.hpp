// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::router: which nodes hold a key, for the placement policy of a
/// replica (all_nodes: nodes 0 .. N-1; hash_ring: N of M nodes, then fallbacks).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <capkit/assert.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/placement.hpp>
#include <capkit/protocol/membership.hpp>
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

    /// Routes by configuration `m`. all_nodes' members are always nodes 0 .. N-1 (N is part of
    /// the type; changes are refused before they reach here): nothing to do.
    void follow(const membership&) noexcept {}

    template <class Key>
    bool owns_either(node_id who, const Key& key) const noexcept {
        return owns(who, key);
    }

    /// Never during a change: all_nodes has none.
    bool joint() const noexcept { return false; }
    template <class Key>
    preference<max_nodes> next_of(const Key&) const noexcept {
        return {};
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

    /// One above the highest node id on the ring: M while the ring is nodes 0 .. M-1.
    unsigned nodes() const noexcept {
        unsigned bound = ring_.nodes().empty() ? 0 : ring_.nodes().back() + 1;
        if (next_ring_ && !next_ring_->nodes().empty())
            bound = std::max(bound, next_ring_->nodes().back() + 1);
        return bound;
    }

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

    /// Routes by configuration `m`: the ring of its members and, during a change (joint), the
    /// ring of the members after it too (docs/membership.md, "During a change").
    void follow(const membership& m) {
        auto ids = [](const std::vector<member>& list) {
            std::vector<node_id> out;
            for (const auto& x : list) out.push_back(x.id);
            return out;
        };
        if (auto now = ids(m.members); !std::ranges::equal(now, ring_.nodes()))
            ring_ = hash_ring<VirtualNodes>(now, N);
        if (!m.joint()) {
            next_ring_.reset();
        } else if (auto next = ids(m.next);
                   !next_ring_ || !std::ranges::equal(next, next_ring_->nodes())) {
            next_ring_.emplace(next, N);
        }
    }

    /// Whether `who` owns `key` on the ring or, during a change, on the ring after it.
    template <class Key>
    bool owns_either(node_id who, const Key& key) const {
        return owns(who, key) || (next_ring_ && next_of(key).owns(who));
    }

    /// True during a change: a key also has owners on the ring after it.
    bool joint() const noexcept { return next_ring_.has_value(); }

    /// During a change, `key`'s N owners on the ring after it (no fallbacks); empty otherwise.
    template <class Key>
    preference<max_nodes> next_of(const Key& key) const {
        preference<max_nodes> p;
        if (!next_ring_) return p;
        const auto count = std::min<std::size_t>(next_ring_->node_count(), N);
        p.size = p.owners = static_cast<unsigned>(
            next_ring_->preference_list(key, std::span<node_id>(p.nodes.data(), count)));
        return p;
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
    std::optional<hash_ring<VirtualNodes>> next_ring_;  // during a change: the ring after it
};

}  // namespace capkit::detail

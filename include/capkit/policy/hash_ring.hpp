// SPDX-License-Identifier: MIT
/// @file Defines capkit::hash_ring<VirtualNodes>, consistent-hash placement of N of M nodes per
/// key.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ranges>
#include <span>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <vector>

#include <capkit/detail/static_string.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/policy/key_bytes.hpp>

namespace capkit {

namespace detail {

/// Most points per node a hash_ring accepts (see the sentence below).
inline constexpr unsigned max_virtual_nodes = 65536;

// Instantiated with the count, so the compiler's "required from" note shows it.
template <unsigned VirtualNodes>
struct virtual_nodes_check {
    static_assert(VirtualNodes >= 1,
                  "capkit::hash_ring: VirtualNodes must be at least 1: a node owns keys only "
                  "through its points on the ring; use capkit::hash_ring<> (128 points per node) "
                  "or another positive count.");
    static_assert(VirtualNodes <= max_virtual_nodes,
                  "capkit::hash_ring: VirtualNodes must be at most 65536: beyond a few thousand "
                  "points per node the balance no longer improves, while every point costs 12 "
                  "bytes per node and adding a node re-sorts them all; use capkit::hash_ring<> "
                  "(128) or a few thousand at most.");
    static constexpr bool valid = true;
};

}  // namespace detail

/// Consistent-hash placement (Dynamo, Cassandra, Riak): every node has VirtualNodes points on a
/// ring of 64-bit positions, a key sits at key_hash(key), and its preference list is the distinct
/// nodes met walking clockwise from there; the first N own the key, the rest are its fallbacks.
/// Adding or removing one of M nodes moves about 1/M of the replicas, and only replicas of keys
/// that node owns (or comes to own). Nodes are known at run time (clusters grow and shrink); N,
/// replicas per key, is given at construction (the quorum's N). docs/policies.md, "hash_ring".
template <unsigned VirtualNodes = 128>
class hash_ring {
    static_assert(detail::virtual_nodes_check<VirtualNodes>::valid);

public:
    using category = placement_category;
    /// Points per node on the ring.
    static constexpr unsigned virtual_nodes = VirtualNodes;
    static constexpr auto name_storage =
        detail::fixed_string<24>{}.append("hash_ring<").append(VirtualNodes).append(">");
    /// hash_ring<V>, e.g. hash_ring<128>.
    static constexpr std::string_view name = name_storage.view();
    /// Each key on N owners among the cluster's M nodes.
    static constexpr bool spreads_keys = true;

    /// A ring of `nodes` (duplicates count once; their order does not matter) whose keys have
    /// `replicas_per_key` owners each. Throws std::invalid_argument if replicas_per_key is 0.
    template <std::ranges::input_range Nodes>
    requires std::convertible_to<std::ranges::range_reference_t<Nodes>, node_id> hash_ring(
        const Nodes& nodes, unsigned replicas_per_key)
        : replicas_(replicas_per_key) {
        if (replicas_per_key == 0) {
            throw std::invalid_argument(
                "capkit::hash_ring: replicas_per_key must be at least 1 (the quorum's N)");
        }
        for (node_id n : nodes) add_node(n);
    }
    hash_ring(std::initializer_list<node_id> nodes, unsigned replicas_per_key)
        : hash_ring(std::span<const node_id>(nodes.begin(), nodes.size()), replicas_per_key) {}

    /// The position of a node's i-th point: mix64(node << 32 | i). mix64 is a bijection, so no
    /// two points of any two nodes ever share a position and ring order is a total order.
    static constexpr std::uint64_t point_position(node_id node, unsigned i) noexcept {
        return detail::mix64((std::uint64_t{node} << 32) | i);
    }

    /// Puts `node`'s points on the ring; false (and nothing changes) if it is already there.
    bool add_node(node_id node) {
        auto at = std::ranges::lower_bound(nodes_, node);
        if (at != nodes_.end() && *at == node) return false;
        if (positions_.size() + VirtualNodes > std::numeric_limits<std::uint32_t>::max()) {
            throw std::length_error("capkit::hash_ring: a ring holds fewer than 2^32 points");
        }
        nodes_.insert(at, node);
        std::vector<point> mine(VirtualNodes);
        for (unsigned i = 0; i < VirtualNodes; ++i) mine[i] = {point_position(node, i), node};
        std::ranges::sort(mine, {}, &point::position);
        std::vector<point> merged;
        merged.reserve(positions_.size() + mine.size());
        std::size_t a = 0, b = 0;
        while (a < positions_.size() || b < mine.size()) {
            if (b == mine.size() || (a < positions_.size() && positions_[a] < mine[b].position)) {
                merged.push_back({positions_[a], owners_[a]});
                ++a;
            } else {
                merged.push_back(mine[b++]);
            }
        }
        positions_.resize(merged.size());
        owners_.resize(merged.size());
        for (std::size_t i = 0; i < merged.size(); ++i) {
            positions_[i] = merged[i].position;
            owners_[i] = merged[i].node;
        }
        reindex();
        return true;
    }

    /// Takes `node`'s points off the ring; false (and nothing changes) if it is not there.
    bool remove_node(node_id node) {
        auto at = std::ranges::lower_bound(nodes_, node);
        if (at == nodes_.end() || *at != node) return false;
        nodes_.erase(at);
        std::size_t kept = 0;
        for (std::size_t i = 0; i < positions_.size(); ++i) {
            if (owners_[i] == node) continue;
            positions_[kept] = positions_[i];
            owners_[kept] = owners_[i];
            ++kept;
        }
        positions_.resize(kept);
        owners_.resize(kept);
        reindex();
        return true;
    }

    /// Whether `node` is on the ring.
    bool contains(node_id node) const { return std::ranges::binary_search(nodes_, node); }
    /// The nodes on the ring, in increasing id order.
    const std::vector<node_id>& nodes() const noexcept { return nodes_; }
    /// M, the number of nodes on the ring.
    std::size_t node_count() const noexcept { return nodes_.size(); }
    /// N, the owners of each key (fewer while the ring has fewer than N nodes).
    unsigned replicas_per_key() const noexcept { return replicas_; }

    /// The first min(out.size(), M) distinct nodes of the preference list of the key at ring
    /// position `position`, written to `out`; returns how many. Allocates nothing. The first
    /// point is found through an index of the positions' top bits (about one point per bucket);
    /// each node met is compared with those already written, so it is meant for N and a few
    /// fallbacks, not M in the thousands.
    std::size_t preference_list_at(std::uint64_t position, std::span<node_id> out) const {
        const std::size_t want = std::min(out.size(), nodes_.size());
        if (want == 0) return 0;
        // The first point at or after the key, wrapping past the largest position to the first.
        // Bucket b of the index holds the points whose top bits are b, so the search is over
        // about one point.
        const std::size_t bucket = static_cast<std::size_t>(position >> shift_);
        std::size_t i = index_[bucket];
        const std::size_t end = index_[bucket + 1];
        while (i != end && positions_[i] < position) ++i;
        if (i == positions_.size()) i = 0;
        std::size_t found = 0;
        // Ends: every node has a point, so a full turn meets all M of them.
        while (found < want) {
            const node_id n = owners_[i];
            if (std::find(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(found), n) ==
                out.begin() + static_cast<std::ptrdiff_t>(found)) {
                out[found++] = n;
            }
            if (++i == positions_.size()) i = 0;
        }
        return found;
    }

    /// The first min(out.size(), M) distinct nodes of `key`'s preference list, written to `out`;
    /// returns how many. Allocates nothing.
    template <class Key>
    requires ring_key<std::decay_t<Key>> std::size_t preference_list(const Key& key,
                                                                     std::span<node_id> out)
    const { return preference_list_at(key_hash(key), out); }

    /// The first min(count, M) distinct nodes met walking clockwise from `key`: its N owners
    /// first, then its fallbacks in ring order (where a sloppy quorum writes when owners are
    /// down). count = node_count() gives every node.
    template <class Key>
    requires ring_key<std::decay_t<Key>> std::vector<node_id> preference_list(const Key& key,
                                                                              std::size_t count)
    const {
        std::vector<node_id> out(std::min(count, nodes_.size()));
        out.resize(preference_list(key, std::span<node_id>(out)));
        return out;
    }

    /// The N nodes that own `key`: the first N of its preference list (all M while M < N).
    template <class Key>
    requires ring_key<std::decay_t<Key>> std::vector<node_id> owners(const Key& key)
    const { return preference_list(key, replicas_); }

private:
    struct point {
        std::uint64_t position;
        node_id node;
    };

    // Rebuilds the index: 2^bits buckets for P points, 2^bits >= P, bucket b starting at the
    // first point whose position is at least b << (64 - bits); one entry more closes the last.
    void reindex() {
        unsigned bits = 1;
        while ((std::size_t{1} << bits) < positions_.size() && bits < 32) ++bits;
        shift_ = 64 - bits;
        index_.assign((std::size_t{1} << bits) + 1, 0);
        std::size_t i = 0;
        for (std::size_t b = 0; b + 1 < index_.size(); ++b) {
            const std::uint64_t start = std::uint64_t{b} << shift_;
            while (i < positions_.size() && positions_[i] < start) ++i;
            index_[b] = static_cast<std::uint32_t>(i);
        }
        index_.back() = static_cast<std::uint32_t>(positions_.size());
    }

    unsigned replicas_;
    std::vector<node_id> nodes_;  // sorted
    // The ring, sorted by position; positions apart from owners so that a search reads only them.
    std::vector<std::uint64_t> positions_;
    std::vector<node_id> owners_;
    // Where each bucket of positions starts in positions_ (reindex()).
    std::vector<std::uint32_t> index_ = {0, 0, 0};
    unsigned shift_ = 63;
};

}  // namespace capkit

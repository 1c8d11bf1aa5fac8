// SPDX-License-Identifier: MIT
/// @file Defines capkit::all_nodes, the placement where every node holds every key, and brings
/// capkit::hash_ring (policy/hash_ring.hpp), N of M nodes per key.
#pragma once

#include <string_view>

#include <capkit/policy/category.hpp>
#include <capkit/policy/hash_ring.hpp>

namespace capkit {

/// The cluster has exactly N nodes and each holds every key: the preference list of any key is
/// nodes 0 .. N-1. The default, and for now the only placement the replicas accept.
struct all_nodes {
    using category = placement_category;
    static constexpr std::string_view name = "all_nodes";
    /// Every node holds every key (hash_ring: each key on N of M nodes).
    static constexpr bool spreads_keys = false;
};

}  // namespace capkit

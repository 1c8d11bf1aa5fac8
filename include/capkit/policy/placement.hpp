// SPDX-License-Identifier: MIT
/// @file Defines capkit::all_nodes, the placement where every node holds every key.
#pragma once

#include <string_view>

#include <capkit/policy/category.hpp>

namespace capkit {

/// The cluster has exactly N nodes and each holds every key: the preference list of any key is
/// nodes 0 .. N-1. (hash_ring, N of M nodes per key, comes with the availability work.)
struct all_nodes {
    using category = placement_category;
    static constexpr std::string_view name = "all_nodes";
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::in_arrival_order: a hash map's entries in the order they came.
#pragma once

#include <algorithm>
#include <vector>

namespace capkit::detail {

/// Pointers to the entries of `map`, whose values carry an `arrival` number, ordered by it: a
/// protocol that goes through its entries this way sends the same messages in the same order
/// whatever the hash function, so a simulated run replays on every standard library and Boost.
template <class Map>
std::vector<typename Map::value_type*> in_arrival_order(Map& map) {
    std::vector<typename Map::value_type*> out;
    out.reserve(map.size());
    for (auto& entry : map) out.push_back(&entry);
    std::sort(out.begin(), out.end(),
              [](const auto* a, const auto* b) { return a->second.arrival < b->second.arrival; });
    return out;
}

}  // namespace capkit::detail

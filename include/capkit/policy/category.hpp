// SPDX-License-Identifier: MIT
/// @file Defines the policy categories that capkit::config sorts a policy pack by.
#pragma once

#include <concepts>

namespace capkit {

/// Category of quorum<N, R, W>.
struct quorum_category {};
/// Category of eventual, strong, linearizable, serial.
struct consistency_category {};
/// Category of lww<>, vector_clocks, dvv, crdt_merge.
struct resolver_category {};
/// Category of all_nodes and hash_ring<VirtualNodes>.
struct placement_category {};
/// Category of memory (and, later, durable stores).
struct storage_category {};
/// Category of strict_quorum and sloppy (hinted handoff).
struct handoff_category {};

/// A policy of category `Category`: a type whose `category` member names it.
template <class P, class Category>
concept policy_of = requires {
    typename P::category;
}
&&std::same_as<typename P::category, Category>;

namespace detail {
/// A resolver's optional `merges_concurrent_writes`, false when it has none.
template <class R>
inline constexpr bool merges_concurrent_writes = requires {
    requires R::merges_concurrent_writes;
};
}  // namespace detail

}  // namespace capkit

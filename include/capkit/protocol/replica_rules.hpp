// SPDX-License-Identifier: MIT
/// @file Defines the rules a configuration must keep given its value type: those that
/// capkit::config alone cannot check (it does not know the value), shared by capkit::replica
/// (which refuses in one sentence) and capkit::quorum_replica.
#pragma once

#include <type_traits>

#include <capkit/crdt/crdt.hpp>
#include <capkit/policy/placement.hpp>
#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/resolver.hpp>

namespace capkit::detail {

/// `Config` (a capkit::config) holding values of type `Value`: each broken rule is a sentence;
/// `ok` is false after one.
template <class Config, class Value>
struct replica_rules {
    using resolver = typename Config::resolver;
    static constexpr bool holds_crdt = detail::merges_concurrent_writes<resolver>;
    static constexpr bool ringed = Config::placement::spreads_keys;

    static constexpr bool crdt_value = !holds_crdt || crdt<Value>;
    static_assert(crdt_value,
                  "capkit::crdt_merge: the value type must model capkit::crdt (a default "
                  "constructible, equality comparable type with merge(const T&) and value()); "
                  "use a capkit CRDT such as capkit::g_counter or capkit::or_set<T>, or choose "
                  "capkit::lww<> for plain values.");
    static constexpr bool ring_stamps =
        !ringed || !std::is_same_v<typename resolver::stamp, no_stamp>;
    static_assert(ring_stamps,
                  "capkit::hash_ring: a node that does not own a key may coordinate its writes, "
                  "so the resolver must not build a write on the coordinator's own copy (dvv, "
                  "vector_clocks and crdt_merge do); use capkit::lww<> with hash_ring, or "
                  "capkit::all_nodes.");
    static constexpr bool ok = crdt_value && ring_stamps;
};

}  // namespace capkit::detail

// SPDX-License-Identifier: MIT
/// @file Defines capkit::replica<Key, Value, Policies...>, the replica type a configuration makes.
#pragma once

#include <type_traits>

#include <capkit/policy/config.hpp>
#include <capkit/protocol/paxos_replica.hpp>
#include <capkit/protocol/quorum_replica.hpp>

namespace capkit {

/// The replica a policy pack asks for: capkit::paxos_replica under serial (CASPaxos per key),
/// capkit::quorum_replica under eventual, strong and linearizable (quorum reads and writes with
/// read repair; ABD under linearizable). Both run over any transport through capkit::node.
template <class Key, class Value, class... Policies>
using replica =
    std::conditional_t<std::is_same_v<typename config<Policies...>::consistency, serial>,
                       paxos_replica<Key, Value, Policies...>,
                       quorum_replica<Key, Value, Policies...>>;

/// True for a replica type that places keys with capkit::hash_ring: N owners of each key among
/// the cluster's M nodes (replica_options::cluster_size).
template <class Replica>
inline constexpr bool on_hash_ring = requires {
    requires Replica::ringed;
};

}  // namespace capkit

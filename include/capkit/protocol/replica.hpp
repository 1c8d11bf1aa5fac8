// SPDX-License-Identifier: MIT
/// @file Defines capkit::replica<Key, Value, Policies...>, the replica type a configuration makes.
#pragma once

#include <string>
#include <type_traits>

#include <capkit/policy/config.hpp>
#include <capkit/protocol/paxos_replica.hpp>
#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/protocol/replica_machine.hpp>
#include <capkit/protocol/replica_rules.hpp>

namespace capkit {

namespace detail {

template <class Key, class Value>
struct replica_slots {
    static constexpr bool key_ok = !known_policy<Key>;
    static constexpr bool value_ok = !known_policy<Value>;
    static_assert(key_ok,
                  "capkit::replica: the first argument is the key type, but a policy was given "
                  "there; write replica<Key, Value, Policies...>, e.g. replica<std::string, "
                  "std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>.");
    static_assert(!key_ok || value_ok,
                  "capkit::replica: the second argument is the value type, but a policy was "
                  "given there; write replica<Key, Value, Policies...>, e.g. replica<std::string, "
                  "std::string, capkit::quorum<3, 2, 2>, capkit::linearizable>.");
    static constexpr bool ok = key_ok && value_ok;
};

// True when the slots hold a key and a value type and the policies make a legal configuration;
// when not, a sentence has said why.
template <class Key, class Value, class... Policies>
constexpr bool replica_valid() {
    if constexpr (!replica_slots<Key, Value>::ok)
        return false;
    else if constexpr (!config<Policies...>::ok)
        return false;
    else
        return replica_rules<config<Policies...>, Value>::ok;
}

// True when the pack asks for capkit::serial (slots holding a key and a value type).
template <class Key, class Value, class... Policies>
constexpr bool asks_serial() {
    if constexpr (!replica_slots<Key, Value>::ok)
        return false;
    else
        return config<Policies...>::consistency::protocol == consistency_protocol::paxos;
}

// What `replica<...>` names once a sentence has refused it: a legal replica of default policies
// (string keys and values when a slot held a policy; a majority-quorum paxos_replica when the
// pack asked for serial, so compare_and_set still names something), so that code using it
// compiles on and the sentence stays the only error.
template <bool Valid, class Key, class Value, class... Policies>
struct replica_for {
    using key = std::conditional_t<known_policy<Key>, std::string, Key>;
    using value = std::conditional_t<known_policy<Value>, std::string, Value>;
    using type =
        std::conditional_t<asks_serial<Key, Value, Policies...>(),
                           paxos_replica<key, value, quorum<3, majority, majority>, serial>,
                           quorum_replica<key, value>>;
};
template <class Key, class Value, class... Policies>
struct replica_for<true, Key, Value, Policies...> {
    using type = std::conditional_t<
        config<Policies...>::consistency::protocol == consistency_protocol::paxos,
        paxos_replica<Key, Value, Policies...>, quorum_replica<Key, Value, Policies...>>;
    static_assert(replica_machine<type>,
                  "capkit: this replica type no longer offers what capkit::node and the "
                  "simulator drive (protocol/replica_machine.hpp); restore the members the "
                  "concept names.");
};

}  // namespace detail

/// The replica a policy pack asks for: capkit::paxos_replica under serial (CASPaxos per key),
/// capkit::quorum_replica under eventual, strong and linearizable (quorum reads and writes with
/// read repair; ABD under linearizable). Both run over any transport through capkit::node.
/// Key and Value come first; a policy in their place is refused in a sentence.
template <class Key, class Value, class... Policies>
using replica = typename detail::replica_for<detail::replica_valid<Key, Value, Policies...>(), Key,
                                             Value, Policies...>::type;

/// True for a replica type that places keys with capkit::hash_ring: N owners of each key among
/// the cluster's M nodes (replica_options::cluster_size).
template <class Replica>
inline constexpr bool on_hash_ring = requires {
    requires Replica::ringed;
};

}  // namespace capkit

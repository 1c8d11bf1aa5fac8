// SPDX-License-Identifier: MIT
/// @file Defines the macros that compile a replica type's code once in a codebase instead of in
/// every file that uses it: CAPKIT_EXTERN_* in a header the users include, CAPKIT_INSTANTIATE_*
/// in one .cpp file (docs/compile-time.md; examples/compile_once/).
#pragma once

#include <capkit/cluster.hpp>
#include <capkit/node.hpp>
#include <capkit/protocol/basic_replica.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/transport/in_memory.hpp>

// Each macro takes the replica type as the codebase names it (a capkit::replica<...> alias) and
// is one declaration: end it with a semicolon. The EXTERN form declares what the INSTANTIATE
// form, in exactly one file of the program, defines; a file that sees the EXTERN form compiles
// its own calls and leaves the type's members to that file. A file that does not see it
// compiles them itself, as without the macros, so adopting them file by file is safe.
//
// Only the classes' own members are compiled once: the member templates a call picks a level
// with (get<capkit::one>, the configured level by default) are compiled where they are called,
// and are thin.

// The replica state machine (quorum or CASPaxos, as the type's configuration says).
#define CAPKIT_DETAIL_REPLICA_CODE(prefix, Replica)                                     \
    prefix template class capkit::basic_replica<Replica::key_type, Replica::value_type, \
                                                Replica::config>

/// The replica type's state machine, for a codebase that drives it itself (own transport).
#define CAPKIT_EXTERN_REPLICA(Replica) CAPKIT_DETAIL_REPLICA_CODE(extern, Replica)
#define CAPKIT_INSTANTIATE_REPLICA(Replica) CAPKIT_DETAIL_REPLICA_CODE(, Replica)

/// The state machine and capkit::node<Replica, Transport> (e.g. over capkit::tcp_transport).
#define CAPKIT_EXTERN_NODE(Replica, ...) \
    CAPKIT_EXTERN_REPLICA(Replica);      \
    extern template class capkit::node<Replica, __VA_ARGS__>
#define CAPKIT_INSTANTIATE_NODE(Replica, ...) \
    CAPKIT_INSTANTIATE_REPLICA(Replica);      \
    template class capkit::node<Replica, __VA_ARGS__>

/// The state machine, and capkit::cluster<Replica> with its nodes and in-memory transport.
#define CAPKIT_EXTERN_CLUSTER(Replica)                                \
    CAPKIT_EXTERN_NODE(Replica, capkit::in_memory<Replica::message>); \
    extern template class capkit::in_memory<Replica::message>;        \
    extern template class capkit::cluster<Replica>
#define CAPKIT_INSTANTIATE_CLUSTER(Replica)                                \
    CAPKIT_INSTANTIATE_NODE(Replica, capkit::in_memory<Replica::message>); \
    template class capkit::in_memory<Replica::message>;                    \
    template class capkit::cluster<Replica>

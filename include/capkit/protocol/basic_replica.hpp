// SPDX-License-Identifier: MIT
/// @file Declares capkit::basic_replica, the one class template both replica state machines are
/// (quorum_replica, paxos_replica), so a replica type can be compiled once and named extern
/// from its alias alone (compile_once.hpp).
#pragma once

#include <capkit/policy/consistency.hpp>

namespace capkit {

/// The replica of `Key`s and `Value`s a `Config` (capkit::config<Policies...>) makes: under
/// capkit::serial CASPaxos (paxos_replica.hpp), otherwise quorum reads and writes
/// (quorum_replica.hpp). Use it through capkit::replica; the name matters for explicit
/// instantiation: `template class capkit::basic_replica<R::key_type, R::value_type, R::config>`
/// compiles replica type R's code, whichever protocol it runs.
template <class Key, class Value, class Config,
          bool Serial = Config::consistency::protocol == consistency_protocol::paxos>
class basic_replica;

}  // namespace capkit

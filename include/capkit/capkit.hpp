// SPDX-License-Identifier: MIT
/// @file Defines nothing of its own: includes every public capkit header but TCP and TLS.
#pragma once

#include <capkit/error.hpp>
#include <capkit/node_id.hpp>

#include <capkit/policy/category.hpp>
#include <capkit/policy/config.hpp>
#include <capkit/policy/consistency.hpp>
#include <capkit/policy/describe.hpp>
#include <capkit/policy/handoff.hpp>
#include <capkit/policy/level.hpp>
#include <capkit/policy/placement.hpp>
#include <capkit/policy/quorum.hpp>

#include <capkit/version/causal_order.hpp>
#include <capkit/version/dvvset.hpp>
#include <capkit/version/hlc.hpp>
#include <capkit/version/vector_clock.hpp>

#include <capkit/resolve/crdt_merge.hpp>
#include <capkit/resolve/dvv.hpp>
#include <capkit/resolve/lww.hpp>
#include <capkit/resolve/resolver.hpp>
#include <capkit/resolve/vector_clocks.hpp>

#include <capkit/crdt/crdt.hpp>
#include <capkit/crdt/g_counter.hpp>
#include <capkit/crdt/lww_register.hpp>
#include <capkit/crdt/mv_register.hpp>
#include <capkit/crdt/or_set.hpp>
#include <capkit/crdt/pn_counter.hpp>

#include <capkit/storage/memory.hpp>
#include <capkit/storage/storage.hpp>

#include <capkit/protocol/anti_entropy.hpp>
#include <capkit/protocol/hints.hpp>
#include <capkit/protocol/merkle_tree.hpp>
#include <capkit/protocol/messages.hpp>
#include <capkit/protocol/paxos_messages.hpp>
#include <capkit/protocol/paxos_replica.hpp>
#include <capkit/protocol/quorum_replica.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/protocol/replica_io.hpp>
#include <capkit/protocol/request_level.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/protocol/tombstone_gc.hpp>

#include <capkit/transport/in_memory.hpp>
#include <capkit/transport/sim.hpp>
#include <capkit/transport/transport.hpp>

#include <capkit/cluster.hpp>
#include <capkit/compile_once.hpp>
#include <capkit/node.hpp>
#include <capkit/time.hpp>

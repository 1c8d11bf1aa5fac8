// SPDX-License-Identifier: MIT
/// @file Defines the consistency levels eventual, strong, linearizable and serial.
#pragma once

#include <string_view>

#include <capkit/policy/category.hpp>

namespace capkit {

/// Which replica protocol runs a consistency level's requests: quorum reads and writes with read
/// repair (quorum_replica), the same with ABD's two phases (quorum_replica), or a CASPaxos round
/// per request (paxos_replica). The one trait the replica types choose by.
enum class consistency_protocol { quorum, abd, paxos };

/// Reads and writes go to R and W replicas with no overlap required; replicas converge later
/// through read repair. Most available; a read may miss acknowledged writes.
struct eventual {
    using category = consistency_category;
    static constexpr std::string_view name = "eventual";
    static constexpr consistency_protocol protocol = consistency_protocol::quorum;
    static constexpr bool needs_overlap = false;
    static constexpr bool needs_majorities = false;
    static constexpr bool needs_total_order = false;
};

/// R + W > N: a read sees a version at least as new as every write acknowledged before it began.
/// Under LWW a later write from a coordinator with a lagging clock can still lose.
struct strong {
    using category = consistency_category;
    static constexpr std::string_view name = "strong";
    static constexpr consistency_protocol protocol = consistency_protocol::quorum;
    static constexpr bool needs_overlap = true;
    static constexpr bool needs_majorities = false;
    static constexpr bool needs_total_order = false;
};

/// ABD: a write first asks a read quorum for the highest tag, then writes a higher one; a read
/// writes back what it returns. Every operation appears to take effect at one instant.
struct linearizable {
    using category = consistency_category;
    static constexpr std::string_view name = "linearizable";
    static constexpr consistency_protocol protocol = consistency_protocol::abd;
    static constexpr bool needs_overlap = true;
    static constexpr bool needs_majorities = false;
    static constexpr bool needs_total_order = true;
};

/// CASPaxos per key: every operation, reads included, is a Paxos round, which makes
/// compare-and-set and read-modify-write (`update(key, fn)`) atomic.
struct serial {
    using category = consistency_category;
    static constexpr std::string_view name = "serial";
    static constexpr consistency_protocol protocol = consistency_protocol::paxos;
    static constexpr bool needs_overlap = true;
    static constexpr bool needs_majorities = true;
    static constexpr bool needs_total_order = true;
};

}  // namespace capkit

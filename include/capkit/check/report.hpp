// SPDX-License-Identifier: MIT
/// @file Defines capkit::lab::report: what one configuration did in one scenario, over its seeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace capkit::lab {

/// One point of a staleness profile (Bailis et al., probabilistically bounded staleness): of the
/// reads that started between `from_ms` and `to_ms` after a write was acknowledged, with no other
/// write to the key before the read returned, the share that returned that write.
struct staleness_point {
    double from_ms = 0, to_ms = 0;
    std::size_t reads = 0;  ///< probe reads in this window
    std::size_t fresh = 0;  ///< of which returned the probe write
    double probability() const noexcept { return reads ? double(fresh) / double(reads) : 1.0; }
};

/// What one seed produced.
struct seed_result {
    std::uint64_t seed = 0;
    std::size_t ops = 0, answered = 0;
    std::size_t ops_partitioned = 0, answered_partitioned = 0;
    std::size_t ops_minority = 0, answered_minority = 0;
    std::size_t ops_majority = 0, answered_majority = 0;
    std::size_t stale_reads = 0, stale_reads_minority = 0;
    std::size_t lost_writes = 0, lww_discarded = 0;
    std::size_t max_siblings = 0;
    bool converged = false;
    /// The replicas agreed already before the final reads: without read repair.
    bool converged_unread = false;
    /// "linearizable", "not linearizable" or "unknown" (the checker's bound ended the search).
    std::string verdict;
    std::string culprit;      ///< the first operation that cannot be linearized, if any
    std::size_t amnesia = 0;  ///< restarts with nothing (the scenario's amnesia faults)
};

/// One configuration over every seed of a scenario. Rates are shares in [0, 1], NaN when no
/// operation qualified (no fault, no minority side); an operation is answered when it got a
/// definite answer: ok, or a compare-and-set that definitely lost.
struct report {
    std::string preset;       ///< the catalogue name, or the name the caller gave
    std::string description;  ///< capkit::describe of the configuration
    std::string scenario;
    std::size_t seeds = 0;
    std::size_t ops = 0;
    double availability = 0;              ///< answered / ops
    double availability_partitioned = 0;  ///< the same, for ops called while a fault was active
    double availability_minority = 0;     ///< ... by a client whose node reached at most N/2 nodes
    double availability_majority = 0;     ///< ... by a client whose node reached a majority
    double p50_latency_ms = 0, p99_latency_ms = 0;  ///< of answered ops, virtual time
    std::size_t stale_reads = 0;  ///< reads that missed a write acknowledged before they began
    std::size_t stale_minority_seeds = 0;  ///< seeds with a stale read on a minority side, whose
                                           ///< history the checker rejects
    std::size_t lost_writes = 0;           ///< acknowledged, then absent and superseded by nothing
    std::size_t lww_discarded = 0;         ///< acknowledged, dropped for a concurrent write
    std::size_t max_siblings = 0;
    double converged = 0;         ///< share of seeds whose replicas agreed at the end
    double converged_unread = 0;  ///< ... and before the final reads (no read repair helped)
    std::size_t linearizable_seeds = 0;
    std::size_t unknown_seeds = 0;  ///< seeds the checker could not decide within its bound
    std::size_t amnesia_restarts = 0;
    std::vector<staleness_point> staleness_profile;
    /// Seeds worth replaying: not linearizable, or not converged, or losing writes (the first
    /// few), each rerun alone with the same seed.
    std::vector<std::uint64_t> failing_seeds;
    std::vector<seed_result> per_seed;  ///< filled when the caller asks for it
};

}  // namespace capkit::lab

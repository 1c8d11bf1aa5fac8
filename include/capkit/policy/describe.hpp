// SPDX-License-Identifier: MIT
/// @file Defines capkit::describe<Config>(): a configuration's promises in one line of prose.
#pragma once

#include <algorithm>
#include <string>
#include <type_traits>

#include <capkit/policy/config.hpp>
#include <capkit/policy/consistency.hpp>

namespace capkit {

namespace detail {
inline std::string replicas(unsigned k) {
    return std::to_string(k) + (k == 1 ? " failed replica" : " failed replicas");
}
}  // namespace detail

/// One line that says what a configuration survives and what its reads promise, e.g.
/// `N=3 R=2 W=2 linearizable lww<hlc>: tolerates 1 failed replica for reads and writes; reads
/// see the latest acknowledged write`.
template <configuration Config>
std::string describe() {
    using consistency = typename Config::consistency;
    using resolver = typename Config::resolver;
    constexpr unsigned n = Config::quorum::n, r = Config::quorum::r, w = Config::quorum::w;

    // Under ABD and CASPaxos every operation has a read phase and a write phase, so reads and
    // writes both need R and W replicas; otherwise each needs only its own quorum.
    constexpr bool two_phase = consistency::needs_total_order;
    constexpr unsigned read_tolerance = two_phase ? std::min(n - r, n - w) : n - r;
    constexpr unsigned write_tolerance = two_phase ? std::min(n - r, n - w) : n - w;

    std::string out = "N=" + std::to_string(n) + " R=" + std::to_string(r) +
                      " W=" + std::to_string(w) + " " + std::string(consistency::name) + " " +
                      std::string(resolver::name) + ": ";
    if (read_tolerance == write_tolerance) {
        out += "tolerates " + detail::replicas(read_tolerance) + " for reads and writes";
    } else {
        out += "tolerates " + detail::replicas(read_tolerance) + " for reads and " +
               std::to_string(write_tolerance) + " for writes";
    }

    std::string concurrent;
    if constexpr (resolver::totally_ordered) {
        concurrent = "of concurrent writes the latest timestamp wins and the others are lost";
    } else if constexpr (detail::merges_concurrent_writes<resolver>) {
        concurrent = "concurrent updates merge and none is lost";
    } else {
        concurrent = "concurrent writes come back as siblings";
    }

    if constexpr (std::is_same_v<consistency, eventual>) {
        out += "; reads may miss acknowledged writes until replicas converge; " + concurrent;
    } else if constexpr (std::is_same_v<consistency, strong>) {
        out += "; reads see every write acknowledged before they began";
        if constexpr (resolver::totally_ordered) {
            out +=
                ", but a later write from a coordinator with a lagging clock can still lose "
                "to an earlier one (capkit::linearizable prevents this)";
        } else {
            out += "; " + concurrent;
        }
    } else if constexpr (std::is_same_v<consistency, linearizable>) {
        out += "; reads see the latest acknowledged write";
    } else {
        out +=
            "; every operation is a Paxos round: reads see the latest write and "
            "compare-and-set is atomic";
    }
    if constexpr (requires { Config::handoff::hinted; }) {
        if constexpr (Config::handoff::hinted)
            out += "; writes a replica missed while unreachable are handed off when it is back";
    }
    return out;
}

}  // namespace capkit

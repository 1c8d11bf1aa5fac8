// SPDX-License-Identifier: MIT
/// @file Defines capkit::options_error: every run-time rule of replica_options, in one place.
/// (The compile-time rules of a configuration are policy/config.hpp's and replica_rules.hpp's.)
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include <capkit/detail/text.hpp>
#include <capkit/protocol/results.hpp>

namespace capkit {

namespace detail {

/// What the run-time rules need to know of a replica type (each replica type says it: shape()).
struct replica_shape {
    unsigned n = 0;                 ///< replicas per key
    unsigned max_ring_nodes = 0;    ///< hash_ring: the largest cluster; 0 under all_nodes
    bool hinted = false;            ///< capkit::sloppy
    bool abd = false;               ///< capkit::linearizable
    bool totally_ordered = false;   ///< the resolver keeps one value (lww)
    bool can_anti_entropy = false;  ///< keys hash alike everywhere and states have a wire form
};

/// The first rule `o` breaks for a replica of shape `s`, as a sentence; empty when none.
inline std::optional<std::string> options_error(const replica_options& o, const replica_shape& s) {
    const bool ringed = s.max_ring_nodes > 0;
    const bool collecting = o.tombstone_gc.grace.count() > 0;
    if (!ringed && o.cluster_size != 0 && o.cluster_size != s.n)
        return cat("capkit::replica_options: cluster_size ", std::to_string(o.cluster_size),
                   " with capkit::all_nodes, whose cluster is the N = ", std::to_string(s.n),
                   " nodes that each hold every key; leave it at 0, or place keys with "
                   "capkit::hash_ring to spread them over more nodes");
    if (ringed) {
        const unsigned m = o.cluster_size == 0 ? s.n : o.cluster_size;
        if (m < s.n || m > s.max_ring_nodes)
            return cat("capkit::replica_options: cluster_size ", std::to_string(m),
                       " with capkit::hash_ring must be at least N = ", std::to_string(s.n),
                       " (each key needs N owners) and at most ", std::to_string(s.max_ring_nodes));
    }
    if (o.max_pending == 0)
        return std::string(
            "capkit::replica_options: max_pending is 0, so every request would "
            "fail with errc::overloaded; the default is 65536");
    if (o.catch_up.max_entries == 0 || o.catch_up.max_bytes == 0)
        return std::string(
            "capkit::replica_options: catch_up.max_entries and catch_up.max_bytes bound a "
            "catch-up page and must be at least 1 (a page takes at least one key anyway); the "
            "defaults are 1024 and 4 MiB");
    const auto window = o.group_commit.window;
    if (window.count() < 0 || window * 4 > o.request_timeout)
        return cat("capkit::replica_options: group_commit.window (", std::to_string(window.count()),
                   " ns) must be between 0 and a quarter of request_timeout (",
                   std::to_string(o.request_timeout.count()),
                   " ns): a write waits a window at its replicas and again at its coordinator, "
                   "twice under serial; a few milliseconds is usual");
    if (o.anti_entropy.interval.count() > 0 && !s.can_anti_entropy)
        return std::string(
            "capkit: anti-entropy needs keys with a ring hash (specialise capkit::key_bytes) and "
            "keys and values with a wire encoding (capkit::wire::encodable: reflect the type "
            "with BOOST_HANA_DEFINE_STRUCT or give it wire_fields); or leave "
            "anti_entropy.interval at zero");
    if (o.anti_entropy.interval.count() > 0 && o.anti_entropy.tree_depth > 24)
        return std::string(
            "capkit::replica_options: anti_entropy.tree_depth above 24 (16 M leaves, 256 MiB of "
            "hashes); choose about log2(keys / 16)");
    if (collecting && !s.totally_ordered)
        return std::string(
            "capkit: tombstone collection needs a totally ordered resolver (capkit::lww<>): a "
            "CRDT key is never deleted, and under vector_clocks or dvv a key written again after "
            "its tombstone is erased restarts its dots, and a tombstone still in flight would "
            "then supersede the new write; keep tombstone_gc.grace at zero (tombstones kept) "
            "with these resolvers");
    // On a ring a sloppy write may be acknowledged by hints alone (fallbacks, or the
    // coordinator, hold it; no owner does), and with collection on, hints live at most grace / 2:
    // one dropped before its owners are back would take the write with it.
    if (ringed && s.hinted && collecting)
        return std::string(
            "capkit::hash_ring with capkit::sloppy: a write acknowledged by hints alone lives only "
            "in hints, which tombstone collection drops after grace / 2; keep tombstone_gc.grace "
            "at 0 (tombstones kept), or use strict quorums");
    // ABD's writer tags above what a read quorum of owners holds. After a collection whose
    // purge one owner missed, a quorum of the others holds nothing, and only their purge floors
    // (which a coordinator that owns no copy never sees) say how high the lost tombstone was: a
    // write tagged below it would be acknowledged, then lost.
    if (ringed && s.abd && collecting)
        return std::string(
            "capkit::hash_ring with capkit::linearizable: tombstone collection would let a "
            "coordinator that owns no copy of a key tag a write below a tombstone an owner still "
            "holds; keep tombstone_gc.grace at 0 (tombstones kept), or use capkit::all_nodes");
    return std::nullopt;
}

/// `o`, once it breaks no rule (std::invalid_argument with the one it breaks otherwise).
inline const replica_options& validated(const replica_options& o, const replica_shape& s) {
    if (auto why = options_error(o, s)) throw std::invalid_argument(*why);
    return o;
}

}  // namespace detail

/// The first run-time rule `options` break for a replica of type `Replica`, as a sentence; empty
/// when they are legal. Each replica's constructor throws std::invalid_argument with it; a
/// program that reads options from a user (capkit-kv's flags) can ask first.
template <class Replica>
std::optional<std::string> options_error(const replica_options& options) {
    return detail::options_error(options, Replica::shape());
}

}  // namespace capkit

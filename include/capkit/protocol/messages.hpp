// SPDX-License-Identifier: MIT
/// @file Defines the protocol's messages: plain structs, reflected with Boost.Hana for codecs.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/define_struct.hpp>

#include <capkit/node_id.hpp>
#include <capkit/protocol/membership_messages.hpp>

namespace capkit::protocol {

/// Names one client request: the node that coordinates it and that node's sequence number.
/// Replies carry it, so a duplicated or late reply is matched to its request and counted once.
/// `epoch` is the configuration the coordinator routed it by (capkit::membership): a replica at
/// another epoch does not act on it before the two agree (replica_shell::admit).
struct request_id {
    BOOST_HANA_DEFINE_STRUCT(request_id, (node_id, coordinator), (std::uint64_t, sequence),
                             (std::uint64_t, epoch));
    friend auto operator<=>(const request_id&, const request_id&) = default;
};

/// Asks a replica for its state of `key`.
template <class Key, class State>
struct read_request {
    BOOST_HANA_DEFINE_STRUCT(read_request, (request_id, id), (Key, key));
    friend bool operator==(const read_request&, const read_request&) = default;
};

/// A replica's state of the key asked for (a default state if it has never seen the key).
template <class Key, class State>
struct read_reply {
    BOOST_HANA_DEFINE_STRUCT(read_reply, (request_id, id), (State, state));
    friend bool operator==(const read_reply&, const read_reply&) = default;
};

/// Asks a replica to merge `state` into its own and acknowledge. Merging is a join, so a
/// duplicated write request changes nothing the second time.
template <class Key, class State>
struct write_request {
    BOOST_HANA_DEFINE_STRUCT(write_request, (request_id, id), (Key, key), (State, state));
    friend bool operator==(const write_request&, const write_request&) = default;
};

/// A replica merged and stored the state of a write request.
struct write_reply {
    BOOST_HANA_DEFINE_STRUCT(write_reply, (request_id, id));
    friend bool operator==(const write_reply&, const write_reply&) = default;
};

/// Read repair: a coordinator saw this replica behind and sends the merged state; no reply.
template <class Key, class State>
struct repair {
    BOOST_HANA_DEFINE_STRUCT(repair, (Key, key), (State, state));
    friend bool operator==(const repair&, const repair&) = default;
};

/// Anti-entropy: the sender's Merkle hashes of the nodes `indices` of tree level `level` of its
/// tree of depth `depth` (see capkit::merkle_tree; trees of another depth cannot be compared).
/// The receiver compares them with its own and answers with the next level under the nodes that
/// differ, or, at the leaves, with tree_entries for the differing buckets.
struct tree_probe {
    BOOST_HANA_DEFINE_STRUCT(tree_probe, (std::uint32_t, depth), (std::uint32_t, level),
                             (std::vector<std::uint64_t>, indices),
                             (std::vector<std::uint64_t>, hashes));
    friend bool operator==(const tree_probe&, const tree_probe&) = default;
};

/// Anti-entropy: the sender's states of every key it holds in `buckets` (leaf indices), to be
/// joined into the receiver's. With `reply_wanted`, the receiver answers with its own states of
/// the same buckets once joined, so both sides end equal.
template <class Key, class State>
struct tree_entries {
    BOOST_HANA_DEFINE_STRUCT(tree_entries, (std::vector<std::uint64_t>, buckets),
                             (std::vector<std::pair<Key, State>>, entries), (bool, reply_wanted));
    friend bool operator==(const tree_entries&, const tree_entries&) = default;
};

/// Tombstone collection, step 1: the collector's tombstone of `key`, to be joined by the receiver,
/// which votes whether its state is now exactly that tombstone.
template <class Key, class State>
struct purge_prepare {
    BOOST_HANA_DEFINE_STRUCT(purge_prepare, (Key, key), (State, state));
    friend bool operator==(const purge_prepare&, const purge_prepare&) = default;
};

/// Tombstone collection, step 2: a replica's vote on tombstone `state` of `key` (true: it holds
/// exactly that tombstone, durably, and has for the grace period).
template <class Key, class State>
struct purge_vote {
    BOOST_HANA_DEFINE_STRUCT(purge_vote, (Key, key), (State, state), (bool, agree));
    friend bool operator==(const purge_vote&, const purge_vote&) = default;
};

/// Tombstone collection, step 3, once all N voted for it: erase `key` if its state is still
/// exactly `state`.
template <class Key, class State>
struct purge {
    BOOST_HANA_DEFINE_STRUCT(purge, (Key, key), (State, state));
    friend bool operator==(const purge&, const purge&) = default;
};

/// Hinted handoff: a write the sender kept for this replica while it was unreachable; to be
/// joined and acknowledged with `sequence`, so the sender can drop its hint.
template <class Key, class State>
struct handoff {
    BOOST_HANA_DEFINE_STRUCT(handoff, (std::uint64_t, sequence), (Key, key), (State, state));
    friend bool operator==(const handoff&, const handoff&) = default;
};

/// Hinted handoff: the hint sent with `sequence` is stored here.
struct handoff_ack {
    BOOST_HANA_DEFINE_STRUCT(handoff_ack, (std::uint64_t, sequence));
    friend bool operator==(const handoff_ack&, const handoff_ack&) = default;
};

/// Sloppy quorum on a hash_ring (capkit::sloppy): a write for `owner`, unreachable, left with
/// the receiver, a fallback on the key's preference list, which keeps it as a hint for `owner`
/// (not as its own copy) and acknowledges it with a write_reply that counts toward W.
template <class Key, class State>
struct hinted_write {
    BOOST_HANA_DEFINE_STRUCT(hinted_write, (request_id, id), (Key, key), (State, state),
                             (node_id, owner));
    friend bool operator==(const hinted_write&, const hinted_write&) = default;
};

/// Catching up after a restart without data (detail::catch_up): asks the receiver for its states
/// of the keys the sender owns whose key hash is at least `from`, by the configuration of
/// `epoch` (answered only by a node that routes as it does). With `stream`, during a membership
/// change: of the keys the sender gains by it (docs/membership.md, "Streaming").
struct catch_up_request {
    BOOST_HANA_DEFINE_STRUCT(catch_up_request, (std::uint64_t, from), (std::uint64_t, epoch),
                             (bool, stream));
    friend bool operator==(const catch_up_request&, const catch_up_request&) = default;
};

/// The answer: the states of a page of keys from key hash `from` on, where the next page starts
/// (empty: this is the last), whether the sender is catching up itself, and whether it answers a
/// streaming request.
template <class Key, class State>
struct catch_up_page {
    BOOST_HANA_DEFINE_STRUCT(catch_up_page, (std::uint64_t, from),
                             (std::optional<std::uint64_t>, next), (bool, joining),
                             (std::vector<std::pair<Key, State>>, entries), (bool, stream));
    friend bool operator==(const catch_up_page&, const catch_up_page&) = default;
};

/// Every message of the quorum protocol. New kinds go last: a message's kind on the wire is its
/// index here.
template <class Key, class State>
using message =
    std::variant<read_request<Key, State>, read_reply<Key, State>, write_request<Key, State>,
                 write_reply, repair<Key, State>, tree_probe, tree_entries<Key, State>,
                 purge_prepare<Key, State>, purge_vote<Key, State>, purge<Key, State>,
                 handoff<Key, State>, handoff_ack, hinted_write<Key, State>, catch_up_request,
                 catch_up_page<Key, State>, membership_message>;

}  // namespace capkit::protocol

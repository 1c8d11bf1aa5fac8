// SPDX-License-Identifier: MIT
/// @file Defines the protocol's messages: plain structs, reflected with Boost.Hana for codecs.
#pragma once

#include <compare>
#include <cstdint>
#include <variant>

#include <boost/hana/define_struct.hpp>

#include <capkit/node_id.hpp>

namespace capkit::protocol {

/// Names one client request: the node that coordinates it and that node's sequence number.
/// Replies carry it, so a duplicated or late reply is matched to its request and counted once.
struct request_id {
    BOOST_HANA_DEFINE_STRUCT(request_id, (node_id, coordinator), (std::uint64_t, sequence));
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

/// Every message of the quorum protocol.
template <class Key, class State>
using message = std::variant<read_request<Key, State>, read_reply<Key, State>,
                             write_request<Key, State>, write_reply, repair<Key, State>>;

}  // namespace capkit::protocol

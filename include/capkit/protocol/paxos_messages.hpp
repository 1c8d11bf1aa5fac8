// SPDX-License-Identifier: MIT
/// @file Defines the messages of CASPaxos (Rystsov, 2018): ballots, prepare, accept, erase.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <tuple>
#include <variant>

#include <boost/hana/define_struct.hpp>

#include <capkit/node_id.hpp>
#include <capkit/protocol/ballot.hpp>
#include <capkit/protocol/messages.hpp>

namespace capkit::protocol {

/// Phase 1: asks an acceptor to promise to ignore ballots below `b`.
template <class Key, class Value>
struct prepare {
    BOOST_HANA_DEFINE_STRUCT(prepare, (request_id, id), (Key, key), (ballot, b));
    friend bool operator==(const prepare&, const prepare&) = default;
};

/// The answer to prepare: a promise with the value accepted last (and its ballot), or a refusal
/// naming the highest ballot the acceptor has seen, so the proposer can outbid it.
template <class Key, class Value>
struct promise {
    BOOST_HANA_DEFINE_STRUCT(promise, (request_id, id), (ballot, b), (bool, ok), (ballot, accepted),
                             (std::optional<Value>, value), (ballot, seen));
    friend bool operator==(const promise&, const promise&) = default;
};

/// Phase 2: asks an acceptor to accept `value` (empty: absent or deleted) under ballot `b`.
template <class Key, class Value>
struct accept {
    BOOST_HANA_DEFINE_STRUCT(accept, (request_id, id), (Key, key), (ballot, b),
                             (std::optional<Value>, value));
    friend bool operator==(const accept&, const accept&) = default;
};

/// The answer to accept: accepted, or refused with the highest ballot seen.
template <class Key, class Value>
struct accepted {
    BOOST_HANA_DEFINE_STRUCT(accepted, (request_id, id), (ballot, b), (bool, ok), (ballot, seen));
    friend bool operator==(const accepted&, const accepted&) = default;
};

/// The last step of deleting a key: drop the register if it still holds the tombstone that
/// every replica accepted under `b`.
template <class Key, class Value>
struct erase {
    BOOST_HANA_DEFINE_STRUCT(erase, (Key, key), (ballot, b));
    friend bool operator==(const erase&, const erase&) = default;
};

/// An acceptor's register for one key: what it promised, what it accepted last and that value.
template <class Value>
struct paxos_register {
    ballot promised{};
    ballot accepted{};
    std::optional<Value> value;  ///< empty: absent, or deleted (a tombstone)
    friend bool operator==(const paxos_register&, const paxos_register&) = default;
    /// The fields in wire order, so durable storage can keep a register
    /// (capkit/detail/wire_access.hpp).
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.promised, self.accepted, self.value);
    }
};

/// Every message of CASPaxos, and the configuration register's (membership_messages.hpp).
template <class Key, class Value>
using paxos_message = std::variant<prepare<Key, Value>, promise<Key, Value>, accept<Key, Value>,
                                   accepted<Key, Value>, erase<Key, Value>, catch_up_request,
                                   catch_up_page<Key, paxos_register<Value>>, membership_message>;

}  // namespace capkit::protocol

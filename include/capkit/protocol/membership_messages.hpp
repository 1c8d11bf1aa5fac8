// SPDX-License-Identifier: MIT
/// @file Defines the messages of the configuration register (capkit::membership_register) and
/// what a node keeps of it across a restart; every replica's message variant carries them.
#pragma once

#include <tuple>
#include <variant>

#include <boost/hana/define_struct.hpp>

#include <capkit/protocol/ballot.hpp>
#include <capkit/protocol/membership.hpp>

namespace capkit::protocol {

/// Phase 1 of a configuration round.
struct membership_prepare {
    BOOST_HANA_DEFINE_STRUCT(membership_prepare, (ballot, b));
    friend bool operator==(const membership_prepare&, const membership_prepare&) = default;
};
/// The answer to membership_prepare: a promise with the configuration accepted last, or a
/// refusal naming the highest ballot seen.
struct membership_promise {
    BOOST_HANA_DEFINE_STRUCT(membership_promise, (ballot, b), (bool, ok), (ballot, accepted),
                             (membership, value), (ballot, seen));
    friend bool operator==(const membership_promise&, const membership_promise&) = default;
};
/// Phase 2: accept `value` under `b`.
struct membership_accept {
    BOOST_HANA_DEFINE_STRUCT(membership_accept, (ballot, b), (membership, value));
    friend bool operator==(const membership_accept&, const membership_accept&) = default;
};
/// The answer to membership_accept.
struct membership_accepted {
    BOOST_HANA_DEFINE_STRUCT(membership_accepted, (ballot, b), (bool, ok), (ballot, seen));
    friend bool operator==(const membership_accepted&, const membership_accepted&) = default;
};
/// A configuration a quorum accepted: the nodes it names (and those it dropped) learn it.
struct membership_learn {
    BOOST_HANA_DEFINE_STRUCT(membership_learn, (membership, value));
    friend bool operator==(const membership_learn&, const membership_learn&) = default;
};

using membership_message = std::variant<membership_prepare, membership_promise, membership_accept,
                                        membership_accepted, membership_learn>;

/// What a node keeps of the register across a restart: the acceptor's promise, what it accepted
/// and the latest configuration it learned. Like any Paxos acceptor's, it must be on disk before
/// the answer that reveals it leaves the node (the driver's job: durable() after each step).
struct membership_state {
    ballot promised{};
    ballot accepted{};
    membership value;
    membership learned;
    friend bool operator==(const membership_state&, const membership_state&) = default;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.promised, self.accepted, self.value, self.learned);
    }
};

}  // namespace capkit::protocol

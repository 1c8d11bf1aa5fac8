// SPDX-License-Identifier: MIT
/// @file Defines capkit::protocol::ballot, the round number of CASPaxos, which both the keys'
/// registers (paxos_messages.hpp) and the configuration's (membership_messages.hpp) use.
#pragma once

#include <compare>
#include <cstdint>

#include <boost/hana/define_struct.hpp>

#include <capkit/node_id.hpp>

namespace capkit::protocol {

/// A proposer's round number: a counter, then the proposer's id so no two proposers share one.
struct ballot {
    BOOST_HANA_DEFINE_STRUCT(ballot, (std::uint64_t, counter), (node_id, proposer));
    friend auto operator<=>(const ballot&, const ballot&) = default;
};

}  // namespace capkit::protocol

// SPDX-License-Identifier: MIT
/// @file Defines capkit::node_id, the identity of a replica in a cluster.
#pragma once

#include <cstdint>

namespace capkit {

/// Identifies one node of a cluster; also breaks ties between equal timestamps.
using node_id = std::uint32_t;

}  // namespace capkit

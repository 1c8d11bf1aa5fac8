// SPDX-License-Identifier: MIT
/// @file Defines capkit::time_point, the time that transports give the protocol.
#pragma once

#include <chrono>

namespace capkit {

/// Time as a transport tells it: nanoseconds since an epoch every node of the cluster shares.
/// The simulator and in_memory count virtual time from zero (or a steady clock from their start,
/// one process); tcp counts from the Unix epoch (std::chrono::system_clock), because hybrid
/// logical clock stamps made on different machines are compared, and so must every transport
/// whose nodes live in different processes. The protocol only compares and adds these.
using time_point = std::chrono::nanoseconds;

}  // namespace capkit

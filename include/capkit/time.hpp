// SPDX-License-Identifier: MIT
/// @file Defines capkit::time_point, the time that transports give the protocol.
#pragma once

#include <chrono>

namespace capkit {

/// Time as a transport tells it: nanoseconds since the transport's own epoch (virtual time in the
/// simulator, a steady clock elsewhere). The protocol only compares and adds these.
using time_point = std::chrono::nanoseconds;

}  // namespace capkit

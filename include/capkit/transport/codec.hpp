// SPDX-License-Identifier: MIT
/// @file The wire codec moved to wire/ (encoding.hpp, frame.hpp), below storage, the protocol and
/// the transports that all use it; this header remains for code that includes it.
#pragma once

#include <capkit/wire/encoding.hpp>
#include <capkit/wire/frame.hpp>

// SPDX-License-Identifier: MIT
/// @file The preset catalogue moved to <capkit/presets.hpp>, shared by the lab and capkit-kv (which
/// includes nothing from check/); this header remains for code that includes it.
#pragma once

#include <capkit/presets.hpp>

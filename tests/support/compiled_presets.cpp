// SPDX-License-Identifier: MIT
// Compiles the catalogue's presets once for the test binary (see compiled_presets.hpp).
#define CAPKIT_TEST_COMPILING_PRESETS
#include "support/compiled_presets.hpp"

CAPKIT_TEST_PRESETS();

// SPDX-License-Identifier: MIT
// The one file that compiles the code of the codebase's replica types (replicas.hpp).
#include "replicas.hpp"

CAPKIT_INSTANTIATE_CLUSTER(shop::orders);
CAPKIT_INSTANTIATE_CLUSTER(shop::sessions);

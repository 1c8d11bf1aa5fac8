// SPDX-License-Identifier: MIT
// The replica types of a codebase, in one header every file that uses them includes. Each
// CAPKIT_EXTERN_* line tells those files that the type's code is compiled in one place
// (replicas.cpp), so each file compiles only its own calls: docs/compile-time.md.
#pragma once

#include <capkit/capkit.hpp>

#include <string>

namespace shop {

/// Orders: compare-and-set, a majority on each side.
using orders =
    capkit::replica<std::string, std::string, capkit::quorum<3, capkit::majority, capkit::majority>,
                    capkit::serial>;
/// Sessions: always writable, last writer wins.
using sessions = capkit::replica<std::string, std::string,
                                 capkit::quorum<3, capkit::one, capkit::one>, capkit::eventual>;

}  // namespace shop

CAPKIT_EXTERN_CLUSTER(shop::orders);
CAPKIT_EXTERN_CLUSTER(shop::sessions);

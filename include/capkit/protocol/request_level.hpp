// SPDX-License-Identifier: MIT
/// @file Defines capkit::configured and the per-request choice of R or W.
#pragma once

#include <type_traits>

#include <capkit/policy/level.hpp>

namespace capkit {

/// The replica count the configuration gives; the default of per-request overrides such as
/// `get<capkit::one>(key)`.
struct configured_level {
    friend constexpr bool operator==(configured_level, configured_level) = default;
};
/// Use the configuration's R or W for this request.
inline constexpr configured_level configured{};

namespace detail {
/// The replica count a request asks for: the configured one, or the level given for this call.
template <unsigned N, auto Level, unsigned Configured>
inline constexpr unsigned request_level = [] {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(Level)>, configured_level>) {
        return Configured;
    } else {
        static_assert(level<decltype(Level)>,
                      "capkit: a per-request replica count must be a number or a named level "
                      "(capkit::one, two, three, majority, all).");
        return static_cast<unsigned>(replica_count<N, Level>);
    }
}();
}  // namespace detail

}  // namespace capkit

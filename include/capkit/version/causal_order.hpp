// SPDX-License-Identifier: MIT
/// @file Defines capkit::causal_order, how two versions relate in causal history.
#pragma once

#include <compare>
#include <string_view>

namespace capkit {

/// How version a relates to version b: it happened before, after, is the same, or neither.
enum class causal_order { equal, before, after, concurrent };

/// Names a causal_order for messages and test output.
constexpr std::string_view to_string(causal_order o) noexcept {
    switch (o) {
        case causal_order::equal:
            return "equal";
        case causal_order::before:
            return "before";
        case causal_order::after:
            return "after";
        case causal_order::concurrent:
            return "concurrent";
    }
    return "?";
}

/// Reads a partial ordering as causal order (unordered means concurrent).
constexpr causal_order to_causal_order(std::partial_ordering p) noexcept {
    if (p == std::partial_ordering::less) return causal_order::before;
    if (p == std::partial_ordering::greater) return causal_order::after;
    if (p == std::partial_ordering::equivalent) return causal_order::equal;
    return causal_order::concurrent;
}

}  // namespace capkit

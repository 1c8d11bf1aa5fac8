// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::dot, the name of one update: (node, its n-th update).
#pragma once

#include <compare>
#include <cstdint>

#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>

namespace capkit::detail {

/// Names one update: the `counter`-th update made by node `node` (counters start at 1).
struct dot {
    node_id node = 0;
    std::uint64_t counter = 0;
    friend auto operator<=>(const dot&, const dot&) = default;
    /// The fields in wire order (capkit/detail/wire_access.hpp).
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.node, self.counter);
    }
};

}  // namespace capkit::detail

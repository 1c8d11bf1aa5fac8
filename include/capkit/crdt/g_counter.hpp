// SPDX-License-Identifier: MIT
/// @file Defines capkit::g_counter, a grow-only counter CRDT.
#pragma once

#include <cstdint>

#include <capkit/crdt/crdt.hpp>
#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>
#include <capkit/version/counter_map.hpp>

namespace capkit {

/// A counter that only grows: each node counts its own increments, and the value is their sum.
/// Merge takes each node's larger count, so an increment is never counted twice nor lost.
class g_counter {
public:
    /// Adds `by` on behalf of node `self`; only `self` may increment its own count.
    void increment(node_id self, std::uint64_t by = 1) { counts_.increment(self, by); }

    /// The sum of every node's count.
    std::uint64_t value() const noexcept { return counts_.sum(); }

    /// Joins `other` in: each node's count becomes the larger of the two.
    void merge(const g_counter& other) { counts_.merge(other.counts_); }

    /// The count of each node (what a codec sends).
    const detail::counter_map& counts() const noexcept { return counts_; }

    friend bool operator==(const g_counter&, const g_counter&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.counts_);
    }

    detail::counter_map counts_;
};

static_assert(crdt<g_counter>);

}  // namespace capkit

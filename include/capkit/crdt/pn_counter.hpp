// SPDX-License-Identifier: MIT
/// @file Defines capkit::pn_counter, a counter CRDT that goes up and down.
#pragma once

#include <cstdint>

#include <capkit/crdt/crdt.hpp>
#include <capkit/crdt/g_counter.hpp>
#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>

namespace capkit {

/// A counter that goes up and down: one grow-only counter of increments, one of decrements.
/// A single counter per node could not merge: a lower count would be either an older state or a
/// decrement, and the maximum cannot tell which.
class pn_counter {
public:
    /// Adds `by` on behalf of node `self`.
    void increment(node_id self, std::uint64_t by = 1) { up_.increment(self, by); }

    /// Subtracts `by` on behalf of node `self`.
    void decrement(node_id self, std::uint64_t by = 1) { down_.increment(self, by); }

    /// Increments minus decrements.
    std::int64_t value() const noexcept {
        // Unsigned subtraction wraps and the conversion is modular (C++20), so a negative
        // difference comes out right even when both sums are beyond INT64_MAX.
        return static_cast<std::int64_t>(up_.value() - down_.value());
    }

    /// Joins `other` in, increments and decrements separately.
    void merge(const pn_counter& other) {
        up_.merge(other.up_);
        down_.merge(other.down_);
    }

    /// The increments of each node.
    const g_counter& increments() const noexcept { return up_; }
    /// The decrements of each node.
    const g_counter& decrements() const noexcept { return down_; }

    friend bool operator==(const pn_counter&, const pn_counter&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.up_, self.down_);
    }

    g_counter up_;
    g_counter down_;
};

static_assert(crdt<pn_counter>);

}  // namespace capkit

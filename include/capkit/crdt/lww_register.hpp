// SPDX-License-Identifier: MIT
/// @file Defines capkit::lww_register, a last-writer-wins register CRDT.
#pragma once

#include <concepts>
#include <string>
#include <tuple>
#include <utility>

#include <capkit/crdt/crdt.hpp>
#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>
#include <capkit/version/hlc.hpp>

namespace capkit {

/// A register holding the write with the greatest (hybrid timestamp, origin node): ties in time go
/// to the higher node id, and a concurrent write with a lower stamp is silently discarded.
/// A (stamp, origin) pair names one write, since a node's hlc never gives the same timestamp
/// twice; merge relies on it, so stamp every assign with the assigning node's own clock.
/// Before the first assign the register holds T{} at stamp {}, which no hlc gives out.
template <class T>
class lww_register {
    static_assert(std::copyable<T> && std::default_initializable<T> && std::equality_comparable<T>,
                  "capkit::lww_register: the value type must be default constructible, copyable "
                  "and equality comparable.");

public:
    /// Writes `v` stamped `at` by node `self`; returns false, changing nothing, when the register
    /// already holds a later write (as after merging one from a node whose clock runs ahead).
    bool assign(T v, hlc::timestamp at, node_id self) {
        if (std::tie(at, self) <= std::tie(stamp_, origin_)) return false;
        value_ = std::move(v);
        stamp_ = at;
        origin_ = self;
        return true;
    }

    /// The value of the winning write.
    const T& value() const noexcept { return value_; }

    /// The timestamp of the winning write.
    hlc::timestamp stamp() const noexcept { return stamp_; }

    /// The node that made the winning write.
    node_id origin() const noexcept { return origin_; }

    /// Joins `other` in: keeps whichever write has the greater (stamp, origin).
    void merge(const lww_register& other) {
        if (std::tie(other.stamp_, other.origin_) > std::tie(stamp_, origin_)) *this = other;
    }

    friend bool operator==(const lww_register&, const lww_register&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.value_, self.stamp_, self.origin_);
    }

    T value_{};
    hlc::timestamp stamp_{};
    node_id origin_{};
};

static_assert(crdt<lww_register<std::string>>);

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::mv_register, a multi-value register CRDT.
#pragma once

#include <concepts>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <capkit/crdt/crdt.hpp>
#include <capkit/crdt/dot_kernel.hpp>
#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>

namespace capkit {

/// A register that keeps every value assigned concurrently, as Dynamo's siblings: nothing is lost
/// to a clock, and the next assign that has seen them all replaces them with one value.
template <class T>
class mv_register {
    static_assert(std::totally_ordered<T> && std::copyable<T>,
                  "capkit::mv_register: the value type must be copyable and totally ordered (==, "
                  "<, <=, >, >=), since siblings are kept sorted; give it an operator<=>.");

public:
    /// Assigns `v` on behalf of node `self`, replacing every value this replica has seen.
    /// Values assigned elsewhere that it has not seen stay beside `v` after the next merge.
    void assign(node_id self, T v) {
        kernel_.remove_all();
        kernel_.add(kernel_.next_dot(self), std::move(v));
    }

    /// The concurrently assigned values, sorted, each once (none before the first assign).
    std::vector<T> value() const {
        std::vector<T> out;
        for (const auto& e : kernel_.entries()) {
            // Concurrent assigns of an equal value are one value to a reader.
            if (out.empty() || out.back() != e.element) out.push_back(e.element);
        }
        return out;
    }

    /// Joins `other` in: a value stays unless the other side has seen it and overwritten it.
    void merge(const mv_register& other) { kernel_.merge(other.kernel_); }

    /// The dotted state (what a codec sends).
    const detail::dot_kernel<T>& kernel() const noexcept { return kernel_; }

    friend bool operator==(const mv_register&, const mv_register&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.kernel_);
    }

    detail::dot_kernel<T> kernel_;
};

static_assert(crdt<mv_register<std::string>>);

}  // namespace capkit

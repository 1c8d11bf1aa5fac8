// SPDX-License-Identifier: MIT
/// @file Defines capkit::or_set, an add-wins observed-remove set CRDT.
#pragma once

#include <concepts>
#include <cstddef>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <capkit/crdt/crdt.hpp>
#include <capkit/crdt/dot_kernel.hpp>
#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>

namespace capkit {

/// A set where an add concurrent with a remove of the same element wins.
/// Each add tags the element with a new dot; a remove drops only the dots it has observed, so an
/// add it has not seen survives the merge. Removed elements leave no tombstone: their dots stay
/// in a version vector.
template <class T>
class or_set {
    static_assert(std::totally_ordered<T> && std::copyable<T>,
                  "capkit::or_set: the element type must be copyable and totally ordered (==, <, "
                  "<=, >, >=), since elements are kept sorted; give it an operator<=>.");

public:
    /// Adds `element` on behalf of node `self`; the element's earlier adds are superseded.
    void add(node_id self, T element) {
        kernel_.remove(element);
        kernel_.add(kernel_.next_dot(self), std::move(element));
    }

    /// Removes `element` as this replica sees it; returns whether it was present. An add made
    /// elsewhere that this replica has not yet seen survives the next merge (add wins).
    bool remove(const T& element) { return kernel_.remove(element) != 0; }

    /// True when `element` is in the set.
    bool contains(const T& element) const { return kernel_.contains(element); }

    /// The elements, sorted, each once.
    std::vector<T> value() const {
        std::vector<T> out;
        for (const auto& e : kernel_.entries()) {
            // Concurrent adds of one element keep one entry each, next to each other.
            if (out.empty() || out.back() != e.element) out.push_back(e.element);
        }
        return out;
    }

    /// The number of elements.
    std::size_t size() const {
        std::size_t n = 0;
        const T* last = nullptr;
        for (const auto& e : kernel_.entries()) {
            if (last == nullptr || *last != e.element) ++n;
            last = &e.element;
        }
        return n;
    }

    /// True when the set has no element.
    bool empty() const noexcept { return kernel_.entries().empty(); }

    /// Joins `other` in: an element stays if either side added it after the other last saw it.
    void merge(const or_set& other) { kernel_.merge(other.kernel_); }

    /// The dotted state (what a codec sends).
    const detail::dot_kernel<T>& kernel() const noexcept { return kernel_; }

    friend bool operator==(const or_set&, const or_set&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.kernel_);
    }

    detail::dot_kernel<T> kernel_;
};

static_assert(crdt<or_set<std::string>>);

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::counter_map, a node-to-counter map (vector clocks, counters).
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>

namespace capkit::detail {

/// Maps node ids to counters; a missing node counts as zero.
/// Kept as a vector sorted by node id with no zero entries, so equal maps compare equal
/// member-wise and merge and compare are one linear pass over a few cache lines.
class counter_map {
public:
    using entry = std::pair<node_id, std::uint64_t>;

    /// The counter of `n` (zero when absent).
    std::uint64_t get(node_id n) const noexcept {
        auto it = find(n);
        return it != entries_.end() && it->first == n ? it->second : 0;
    }

    /// Sets the counter of `n`; zero removes it.
    void set(node_id n, std::uint64_t value) {
        auto it = find(n);
        bool present = it != entries_.end() && it->first == n;
        if (value == 0) {
            if (present) entries_.erase(it);
        } else if (present) {
            it->second = value;
        } else {
            entries_.insert(it, entry{n, value});
        }
    }

    /// Adds `by` to the counter of `n` and returns the new value. A counter saturates at the
    /// largest uint64 rather than wrap to zero: wrapping would move a state back down its order.
    std::uint64_t increment(node_id n, std::uint64_t by = 1) {
        auto it = find(n);
        if (it != entries_.end() && it->first == n) {
            constexpr auto top = std::numeric_limits<std::uint64_t>::max();
            return it->second = by > top - it->second ? top : it->second + by;
        }
        if (by == 0) return 0;
        entries_.insert(it, entry{n, by});
        return by;
    }

    /// Raises every counter to at least the other map's (pointwise maximum: a join).
    void merge(const counter_map& other) {
        if (other.entries_.empty()) return;
        std::vector<entry> out;
        out.reserve(entries_.size() + other.entries_.size());
        auto a = entries_.cbegin(), b = other.entries_.cbegin();
        while (a != entries_.end() || b != other.entries_.end()) {
            if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
                out.push_back(*a++);
            } else if (a == entries_.end() || b->first < a->first) {
                out.push_back(*b++);
            } else {
                out.push_back({a->first, std::max(a->second, b->second)});
                ++a, ++b;
            }
        }
        entries_ = std::move(out);
    }

    /// Compares pointwise: less when every counter is <= and one is <; unordered when mixed.
    friend std::partial_ordering compare(const counter_map& x, const counter_map& y) noexcept {
        bool x_ahead = false, y_ahead = false;
        auto a = x.entries_.begin(), b = y.entries_.begin();
        while (a != x.entries_.end() || b != y.entries_.end()) {
            if (b == y.entries_.end() || (a != x.entries_.end() && a->first < b->first)) {
                x_ahead = true, ++a;
            } else if (a == x.entries_.end() || b->first < a->first) {
                y_ahead = true, ++b;
            } else {
                x_ahead |= a->second > b->second;
                y_ahead |= a->second < b->second;
                ++a, ++b;
            }
            if (x_ahead && y_ahead) return std::partial_ordering::unordered;
        }
        if (x_ahead) return std::partial_ordering::greater;
        if (y_ahead) return std::partial_ordering::less;
        return std::partial_ordering::equivalent;
    }

    /// True when every counter here is at least the other's (this has seen all of it).
    bool descends(const counter_map& other) const noexcept {
        auto c = compare(*this, other);
        return c == std::partial_ordering::greater || c == std::partial_ordering::equivalent;
    }

    /// The sum of all counters.
    std::uint64_t sum() const noexcept {
        return std::accumulate(entries_.begin(), entries_.end(), std::uint64_t{0},
                               [](std::uint64_t s, const entry& e) { return s + e.second; });
    }

    std::span<const entry> entries() const noexcept { return entries_; }
    std::size_t size() const noexcept { return entries_.size(); }
    bool empty() const noexcept { return entries_.empty(); }

    friend bool operator==(const counter_map&, const counter_map&) = default;

private:
    std::vector<entry>::iterator find(node_id n) noexcept {
        return std::ranges::lower_bound(entries_, n, {}, &entry::first);
    }
    std::vector<entry>::const_iterator find(node_id n) const noexcept {
        return std::ranges::lower_bound(entries_, n, {}, &entry::first);
    }
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.entries_);
    }

    std::vector<entry> entries_;
};

}  // namespace capkit::detail

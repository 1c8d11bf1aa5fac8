// SPDX-License-Identifier: MIT
/// @file Defines capkit::vector_clock, per-node event counters that order versions causally.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <utility>

#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>
#include <capkit/version/causal_order.hpp>
#include <capkit/version/counter_map.hpp>

namespace capkit {

/// A vector clock with one entry per coordinating node (as Riak's vnode vclocks): the number of
/// writes each node coordinated that this version has seen. A missing node counts as zero.
/// capkit never prunes: pruning can make a newer version look older and silently drop it. A clock
/// is bounded by the number of nodes that ever coordinated a write for the key.
class vector_clock {
public:
    /// A (node, counter) pair: the node's counter in this clock.
    using entry = detail::counter_map::entry;

    /// The empty clock: has seen nothing.
    vector_clock() = default;

    /// A clock holding the given counters (a node named twice keeps the larger one).
    vector_clock(std::initializer_list<entry> entries) {
        for (auto [node, counter] : entries) {
            if (counter > counters_.get(node)) counters_.set(node, counter);
        }
    }

    /// Wraps existing counters.
    explicit vector_clock(detail::counter_map counters) noexcept : counters_(std::move(counters)) {}

    /// Records one more event coordinated by `node`; returns its new counter.
    std::uint64_t increment(node_id node) { return counters_.increment(node); }

    /// The number of events of `node` this clock has seen (zero when absent).
    std::uint64_t get(node_id node) const noexcept { return counters_.get(node); }

    /// Takes the pointwise maximum with `other`: afterwards this has seen both histories.
    void merge(const vector_clock& other) { counters_.merge(other.counters_); }

    /// How `a` relates to `b`: before, after, equal, or concurrent.
    friend causal_order compare(const vector_clock& a, const vector_clock& b) noexcept {
        return to_causal_order(compare(a.counters_, b.counters_));
    }

    /// True when this clock has seen everything `other` has (after or equal).
    bool descends(const vector_clock& other) const noexcept {
        return counters_.descends(other.counters_);
    }

    /// The number of nodes with a non-zero counter.
    std::size_t size() const noexcept { return counters_.size(); }
    /// True for the clock that has seen nothing.
    bool empty() const noexcept { return counters_.empty(); }
    /// The non-zero counters, sorted by node id.
    std::span<const entry> entries() const& noexcept { return counters_.entries(); }
    // A span into a temporary clock would dangle, as in `for (auto e : context_of(s).entries())`.
    void entries() const&& = delete;
    /// The underlying counters.
    const detail::counter_map& counters() const& noexcept { return counters_; }
    void counters() const&& = delete;

    friend bool operator==(const vector_clock&, const vector_clock&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.counters_);
    }

    detail::counter_map counters_;
};

}  // namespace capkit

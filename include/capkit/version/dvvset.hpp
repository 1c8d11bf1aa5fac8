// SPDX-License-Identifier: MIT
/// @file Defines capkit::dvvset, a dotted version vector set (Preguiça, Baquero et al.).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>
#include <capkit/version/causal_order.hpp>
#include <capkit/version/counter_map.hpp>
#include <capkit/version/vector_clock.hpp>

namespace capkit {

/// The causal context of a dvvset: per node, how many of its writes a client has seen.
/// It is a vector clock in all but name, so a client handles one context type for both resolvers.
using version_vector = vector_clock;

/// Siblings of one key, each tagged by the write (dot) that made it, with the causal history they
/// share: Riak's dvvset.erl. Per coordinating node, a counter n (its writes seen) and the values of
/// its last writes still live, newest first: value i holds dot (node, n - i). A write supersedes
/// exactly the values its context covers, so concurrent writes through one coordinator never
/// create false siblings (no sibling explosion) and none is lost.
/// dvvset.erl also keeps "anonymous" values with no dot, made by clocks created outside update
/// (new/1, new/2, client side). capkit creates clocks only by update, which gives the new value a
/// dot at once, so that list would always be empty; it is dropped.
template <class T>
class dvvset {
public:
    /// One coordinating node: its counter and the values of its live writes, newest first.
    struct entry {
        node_id node = 0;
        std::uint64_t counter = 0;
        std::vector<T> values;  ///< values[i] was written by the node's write number counter - i
        friend bool operator==(const entry&, const entry&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.node, self.counter, self.values);
        }
    };

    /// The empty set: never written.
    dvvset() = default;

    /// The join: both sides' histories, and the values live on both or unseen by the other side.
    friend dvvset sync(const dvvset& a, const dvvset& b) {
        dvvset out;
        out.entries_.reserve(a.entries_.size() + b.entries_.size());
        auto x = a.entries_.begin(), y = b.entries_.begin();
        // (x->node) is parenthesised: capkit::node is a class template, and clang 16 reads
        // "x->node <" as the start of a template argument list.
        while (x != a.entries_.end() || y != b.entries_.end()) {
            if (y == b.entries_.end() || (x != a.entries_.end() && (x->node) < (y->node))) {
                out.entries_.push_back(*x++);
            } else if (x == a.entries_.end() || (y->node) < (x->node)) {
                out.entries_.push_back(*y++);
            } else {
                out.entries_.push_back(x->counter >= y->counter ? merge_entry(*x, *y)
                                                                : merge_entry(*y, *x));
                ++x, ++y;
            }
        }
        return out;
    }

    /// The causal context: for each node, how many of its writes this set has seen.
    friend version_vector join(const dvvset& c) {
        detail::counter_map counters;
        for (const auto& e : c.entries_) counters.set(e.node, e.counter);
        return version_vector(std::move(counters));
    }

    /// The write coordinated by `self`: the values `context` covers are discarded, concurrent
    /// ones stay, and `new_value` is added under self's next dot.
    /// `stored` must be self's own replica, so that it holds self's latest dot.
    friend dvvset update(T new_value, const version_vector& context, const dvvset& stored,
                         node_id self) {
        dvvset seen;
        seen.entries_.reserve(context.size());
        for (auto [node, counter] : context.entries()) seen.entries_.push_back({node, counter, {}});
        dvvset out = sync(seen, stored);
        out.event(self, std::move(new_value));
        return out;
    }

    /// Every sibling, node by node, newest first within a node (a view into `c`).
    friend auto values(const dvvset& c) { return std::views::join(c.entries_values()); }
    // The view would dangle: keep the set in a variable first.
    friend void values(const dvvset&&) = delete;

    /// How the histories of `a` and `b` relate (their values are not compared).
    friend causal_order compare(const dvvset& a, const dvvset& b) noexcept {
        return compare(join(a), join(b));
    }

    /// The number of siblings.
    std::size_t size() const noexcept {
        std::size_t n = 0;
        for (const auto& e : entries_) n += e.values.size();
        return n;
    }

    /// True when never written.
    bool empty() const noexcept { return entries_.empty(); }

    /// The entries, sorted by node id.
    std::span<const entry> entries() const& noexcept { return entries_; }
    void entries() const&& = delete;  // the span would dangle

    friend bool operator==(const dvvset&, const dvvset&) = default;

private:
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.entries_);
    }

    auto entries_values() const {
        return std::views::transform(
            entries_, [](const entry& e) -> const std::vector<T>& { return e.values; });
    }

    // dvvset.erl's merge/5, given hi.counter >= lo.counter. Of hi's values, keep those lo has not
    // seen (dot > lo.counter) and those still live on lo (dot > lo.counter - lo's count): a value
    // lo has seen but no longer holds was superseded there. Values only lo holds are all seen by
    // hi.
    static entry merge_entry(const entry& hi, const entry& lo) {
        auto hi_oldest = hi.counter - hi.values.size();
        auto lo_oldest = lo.counter - lo.values.size();
        if (hi_oldest >= lo_oldest) return hi;
        auto keep = static_cast<std::ptrdiff_t>(hi.counter - lo_oldest);
        return {hi.node, hi.counter, {hi.values.begin(), hi.values.begin() + keep}};
    }

    // Adds one write by `self` holding `v`: the next counter, and its value newest.
    void event(node_id self, T v) {
        auto it = std::ranges::lower_bound(entries_, self, {}, &entry::node);
        if (it != entries_.end() && it->node == self) {
            ++it->counter;
            it->values.insert(it->values.begin(), std::move(v));
        } else {
            std::vector<T> vs;
            vs.push_back(std::move(v));
            entries_.insert(it, entry{self, 1, std::move(vs)});
        }
    }

    std::vector<entry> entries_;
};

}  // namespace capkit

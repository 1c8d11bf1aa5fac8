// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::dot_kernel, the dotted core of or_set and mv_register.
#pragma once

#include <algorithm>
#include <cassert>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include <capkit/detail/wire_access.hpp>
#include <capkit/node_id.hpp>
#include <capkit/version/counter_map.hpp>
#include <capkit/version/dot.hpp>

namespace capkit::detail {

/// Elements tagged with the dot of the update that added them, plus the causal context: every
/// dot this state has seen. Removing drops entries but keeps their dots in the context, so a merge
/// tells "removed here" (seen, gone) from "not arrived here" (unseen): no tombstones are kept.
/// Entries are sorted by (element, dot), so equal states are equal member-wise.
template <class T>
class dot_kernel {
    static_assert(std::totally_ordered<T>,
                  "capkit::detail::dot_kernel: the element type must be totally ordered (==, <, "
                  "<=, >, >=), since entries are kept sorted; give it an operator<=>.");

public:
    /// One element and the dot of the update that added it.
    struct entry {
        T element;
        dot tag;
        friend bool operator==(const entry&, const entry&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.element, self.tag);
        }
    };

    /// Makes node `self`'s next dot and records it in the context.
    dot next_dot(node_id self) { return {self, context_.increment(self)}; }

    /// Adds `element` under `d`, a dot just made by next_dot (so no entry has it yet).
    void add(dot d, T element) {
        assert(seen(d) && "capkit::detail::dot_kernel::add: the dot must come from next_dot");
        entry e{std::move(element), d};
        auto it = std::ranges::upper_bound(entries_, e, &dot_kernel::less);
        entries_.insert(it, std::move(e));
    }

    /// Removes every entry of `element` (their dots stay seen); returns how many there were.
    std::size_t remove(const T& element) {
        auto [first, last] = std::ranges::equal_range(entries_, element, {}, &entry::element);
        auto n = static_cast<std::size_t>(last - first);
        entries_.erase(first, last);
        return n;
    }

    /// Removes every entry (their dots stay seen).
    void remove_all() noexcept { entries_.clear(); }

    /// True when some entry holds `element`.
    bool contains(const T& element) const {
        return std::ranges::binary_search(entries_, element, {}, &entry::element);
    }

    /// True when this state has seen dot `d`: it holds d's entry, or held it and removed it.
    bool seen(dot d) const noexcept { return context_.get(d.node) >= d.counter; }

    /// Joins `other` in: an entry stays if both sides have it, or if the side without it has
    /// never seen its dot (it was added there later); an entry one side has and the other has
    /// seen was removed, and stays removed. The contexts take their pointwise maximum.
    void merge(const dot_kernel& other) {
        if (this == &other) return;
        std::vector<entry> out;
        out.reserve(entries_.size() + other.entries_.size());
        auto a = entries_.begin();
        auto b = other.entries_.begin();
        while (a != entries_.end() || b != other.entries_.end()) {
            if (b == other.entries_.end() || (a != entries_.end() && less(*a, *b))) {
                if (!other.seen(a->tag)) out.push_back(std::move(*a));
                ++a;
            } else if (a == entries_.end() || less(*b, *a)) {
                if (!seen(b->tag)) out.push_back(*b);
                ++b;
            } else {
                out.push_back(std::move(*a));
                ++a, ++b;
            }
        }
        entries_ = std::move(out);
        context_.merge(other.context_);
    }

    /// The entries, sorted by element and then dot.
    std::span<const entry> entries() const noexcept { return entries_; }

    /// The causal context: for each node, the highest of its dots this state has seen.
    const counter_map& context() const noexcept { return context_; }

    friend bool operator==(const dot_kernel&, const dot_kernel&) = default;

private:
    // By element, then dot; `<` alone, since T need not have <=>.
    static bool less(const entry& x, const entry& y) {
        if (x.element < y.element) return true;
        if (y.element < x.element) return false;
        return x.tag < y.tag;
    }
    // The wire codec's view of the private state (capkit/detail/wire_access.hpp).
    friend struct wire::access;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.entries_, self.context_);
    }

    std::vector<entry> entries_;
    // The context is a version vector, with no dot cloud: states are replicated whole, and a
    // state that has seen a node's dot got it, through merges, from that node's own state at or
    // after the dot was made, whose context held all the node's earlier dots too. So the dots seen
    // from each node are always 1..n, and n says it all. Shipping deltas would break this, and so
    // would a node restarting without its state (it would hand out its dots again). The merge rule
    // is that of Almeida et al., "Delta State Replicated Data Types" (2018).
    counter_map context_;
};

}  // namespace capkit::detail

// SPDX-License-Identifier: MIT
/// @file Defines capkit::wire::invariant<T>, what a decoded value must satisfy before a replica
/// may see it, and the invariants of capkit's own version and CRDT types.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <capkit/crdt/dot_kernel.hpp>
#include <capkit/resolve/vector_clocks.hpp>
#include <capkit/version/counter_map.hpp>
#include <capkit/version/dot.hpp>
#include <capkit/version/dvvset.hpp>

namespace capkit::wire {

/// The invariants a decoded T must satisfy before a replica may see it, beyond its fields'
/// own: specialise with `static std::string check(const T&)` returning what is wrong (empty when
/// the value is sound). The codec checks counter maps, dotted states, dvvsets and vector clock
/// siblings; a user type with such invariants adds its own specialisation.
template <class T>
struct invariant {};

// The invariants of capkit's own types: states a replica could misbehave on are refused.

/// Sorted by node id, each node once, no zero counter (equal maps are equal member-wise).
template <>
struct invariant<capkit::detail::counter_map> {
    static std::string check(const capkit::detail::counter_map& m) {
        auto entries = m.entries();
        for (std::size_t i = 0; i < entries.size(); ++i) {
            if (entries[i].second == 0)
                return "counter map: node " + std::to_string(entries[i].first) +
                       " has a zero counter (zero counters are left out)";
            if (i > 0 && entries[i - 1].first >= entries[i].first)
                return "counter map: node " + std::to_string(entries[i].first) + " after node " +
                       std::to_string(entries[i - 1].first) +
                       " (entries are sorted by node id, each node once)";
        }
        return {};
    }
};

/// Entries sorted by node id, each once; counters from 1; at most `counter` live values per node
/// (merging relies on counter - values >= 0).
template <class T>
struct invariant<dvvset<T>> {
    static std::string check(const dvvset<T>& s) {
        auto entries = s.entries();
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const auto& e = entries[i];
            if (i > 0 && entries[i - 1].node >= e.node)
                return "dvvset: node " + std::to_string(e.node) + " after node " +
                       std::to_string(entries[i - 1].node) +
                       " (entries are sorted by node id, each node once)";
            if (e.counter == 0)
                return "dvvset: node " + std::to_string(e.node) +
                       " has counter 0 (counters start at 1)";
            if (e.values.size() > e.counter)
                return "dvvset: node " + std::to_string(e.node) + " holds " +
                       std::to_string(e.values.size()) + " values but made only " +
                       std::to_string(e.counter) + " writes";
        }
        return {};
    }
};

namespace detail {
inline std::string dot_name(capkit::detail::dot d) {
    return "(node " + std::to_string(d.node) + ", " + std::to_string(d.counter) + ")";
}
}  // namespace detail

/// Entries sorted by (element, dot), each once; every dot numbered from 1, seen by the context,
/// and naming one entry only.
template <class T>
struct invariant<capkit::detail::dot_kernel<T>> {
    static std::string check(const capkit::detail::dot_kernel<T>& k) {
        auto entries = k.entries();
        std::vector<capkit::detail::dot> dots;
        dots.reserve(entries.size());
        for (std::size_t i = 0; i < entries.size(); ++i) {
            const auto& e = entries[i];
            if (i > 0) {
                const auto& p = entries[i - 1];
                bool ascending =
                    p.element < e.element || (!(e.element < p.element) && p.tag < e.tag);
                if (!ascending)
                    return "dotted state: entry " + std::to_string(i) +
                           " is out of order or repeated (entries are sorted by element, then "
                           "dot)";
            }
            if (e.tag.counter == 0)
                return "dotted state: entry " + std::to_string(i) + " has dot " +
                       detail::dot_name(e.tag) + " (dots count from 1)";
            if (!k.seen(e.tag))
                return "dotted state: entry " + std::to_string(i) + " has dot " +
                       detail::dot_name(e.tag) + ", beyond the causal context (" +
                       std::to_string(k.context().get(e.tag.node)) + " for that node)";
            dots.push_back(e.tag);
        }
        std::sort(dots.begin(), dots.end());
        if (auto it = std::adjacent_find(dots.begin(), dots.end()); it != dots.end())
            return "dotted state: dot " + detail::dot_name(*it) +
                   " tags two entries (a dot names one update)";
        return {};
    }
};

/// As many siblings as dots; dots ascending, each once, numbered from 1 and seen by the clock
/// (merge indexes siblings by their dots).
template <class T>
struct invariant<vector_clocks::state<T>> {
    static std::string check(const vector_clocks::state<T>& s) {
        if (s.siblings.size() != s.dots.size())
            return "vector_clocks state: " + std::to_string(s.siblings.size()) + " siblings but " +
                   std::to_string(s.dots.size()) + " dots (one dot per sibling)";
        for (std::size_t i = 0; i < s.dots.size(); ++i) {
            auto d = s.dots[i];
            if (i > 0 && !(s.dots[i - 1] < d))
                return "vector_clocks state: dot " + detail::dot_name(d) +
                       " is out of order or repeated (dots ascend, each once)";
            if (d.counter == 0)
                return "vector_clocks state: dot " + detail::dot_name(d) + " (dots count from 1)";
            if (s.clock.get(d.node) < d.counter)
                return "vector_clocks state: dot " + detail::dot_name(d) +
                       " is beyond the clock (" + std::to_string(s.clock.get(d.node)) +
                       " for that node)";
        }
        return {};
    }
};

}  // namespace capkit::wire

// SPDX-License-Identifier: MIT
/// @file Defines capkit::vector_clocks, the resolver that keeps concurrent writes as siblings.
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/resolve/resolver.hpp>
#include <capkit/version/dot.hpp>
#include <capkit/version/vector_clock.hpp>

namespace capkit {

/// Riak's classic object: one vector clock for all siblings. A write whose context has seen the
/// whole stored clock replaces every sibling; any other write cannot tell which siblings its client
/// saw, so it keeps them all and adds its value. Stale read-modify-writes through one coordinator
/// therefore pile up siblings without bound (sibling explosion); capkit::dvv does not.
struct vector_clocks {
    using category = resolver_category;
    static constexpr std::string_view name = "vector_clocks";
    static constexpr bool totally_ordered = false;

    using stamp = no_stamp;
    /// What a client read: the clock it hands back to supersede what it saw.
    using context = vector_clock;

    /// The siblings and the one clock they share; an empty clock means "never written".
    /// Each sibling also carries the dot of the write that made it. Writes never look at dots
    /// (classic behaviour, explosion included); merge does, so that it is a join: a plain union of
    /// concurrent siblings cannot tell a value the other side superseded from one it never saw, and
    /// resurrects it or not depending on the order replicas happen to merge in.
    template <class T>
    struct state {
        static_assert(
            !std::is_same_v<T, bool>,
            "capkit::vector_clocks: siblings live in a std::vector, and std::vector<bool> "
            "has no contiguous storage for values() to view; wrap the bool in a struct.");
        vector_clock clock;             ///< every write this version has seen
        std::vector<T> siblings;        ///< the values, ordered by their dots
        std::vector<detail::dot> dots;  ///< dots[i] names the write that made siblings[i]
        friend bool operator==(const state&, const state&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.clock, self.siblings, self.dots);
        }
    };

    /// The descendant's siblings win; between concurrent versions, the union of their siblings
    /// minus any that one side has seen (its clock covers the dot) and no longer holds. A value
    /// written twice by concurrent writes is two siblings: they are two writes.
    template <class T>
    static state<T> merge(const state<T>& a, const state<T>& b) {
        state<T> out;
        out.clock = a.clock;
        out.clock.merge(b.clock);
        out.siblings.reserve(a.siblings.size() + b.siblings.size());
        out.dots.reserve(a.dots.size() + b.dots.size());
        auto keep = [&out](detail::dot d, const T& v) {
            out.dots.push_back(d);
            out.siblings.push_back(v);
        };
        std::size_t i = 0, j = 0;
        while (i < a.dots.size() || j < b.dots.size()) {
            if (j == b.dots.size() || (i < a.dots.size() && a.dots[i] < b.dots[j])) {
                if (!seen(b.clock, a.dots[i])) keep(a.dots[i], a.siblings[i]);
                ++i;
            } else if (i == a.dots.size() || b.dots[j] < a.dots[i]) {
                if (!seen(a.clock, b.dots[j])) keep(b.dots[j], b.siblings[j]);
                ++j;
            } else {
                keep(a.dots[i], a.siblings[i]);
                ++i, ++j;
            }
        }
        return out;
    }

    /// The write coordinated by `self` (on self's own replica, which holds self's latest write).
    /// The new clock has seen both `ctx` and the stored clock, plus this write.
    template <class T>
    static state<T> write(const state<T>& stored, const context& ctx, node_id self, stamp, T v) {
        state<T> out;
        out.clock = ctx;
        out.clock.merge(stored.clock);
        detail::dot d{self, out.clock.increment(self)};
        // One clock for all siblings says whether the client saw all of them, never which: unless
        // it saw everything, every sibling may be one it never saw, and dropping it would lose an
        // acknowledged write. So all stay, including those the client did see.
        if (!ctx.descends(stored.clock)) {
            out.siblings = stored.siblings;
            out.dots = stored.dots;
        }
        auto at = std::ranges::upper_bound(out.dots, d) - out.dots.begin();
        out.dots.insert(out.dots.begin() + at, d);
        out.siblings.insert(out.siblings.begin() + at, std::move(v));
        return out;
    }

    /// The siblings (a view into `s`).
    template <class T>
    static std::span<const T> values(const state<T>& s) noexcept {
        return s.siblings;
    }
    template <class T>
    static void values(const state<T>&&) = delete;  // the span would dangle

    template <class T>
    static context context_of(const state<T>& s) {
        return s.clock;
    }

private:
    static bool seen(const vector_clock& c, detail::dot d) noexcept {
        return c.get(d.node) >= d.counter;
    }
};

}  // namespace capkit

static_assert(capkit::resolver<capkit::vector_clocks, std::string>);

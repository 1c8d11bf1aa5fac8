// SPDX-License-Identifier: MIT
/// @file Defines capkit::dvv, the resolver that keeps siblings in a dotted version vector set.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/resolve/resolver.hpp>
#include <capkit/version/dvvset.hpp>

namespace capkit {

namespace detail {
// Calls dvvset's hidden friend from outside a class with a member of the same name, since finding
// a member by ordinary lookup turns off argument-dependent lookup.
template <class T>
auto dvvset_values(const dvvset<T>& s) {
    return values(s);
}
}  // namespace detail

/// Concurrent writes are kept as siblings, each tagged with the dot of its write, so a write
/// supersedes exactly the siblings its client saw: at most one sibling per client writing
/// concurrently, never an explosion, and no acknowledged write lost (Riak 2.0's dvv_enabled).
struct dvv {
    using category = resolver_category;
    static constexpr std::string_view name = "dvv";
    static constexpr bool totally_ordered = false;

    using stamp = no_stamp;
    /// What a client read: the version vector it hands back to supersede what it saw.
    using context = version_vector;

    /// The siblings with their dots and shared history; an empty set means "never written".
    template <class T>
    using state = dvvset<T>;

    template <class T>
    static state<T> merge(const state<T>& a, const state<T>& b) {
        return sync(a, b);
    }

    /// The write coordinated by `self`, on self's own replica.
    template <class T>
    static state<T> write(const state<T>& stored, const context& ctx, node_id self, stamp, T v) {
        return update(std::move(v), ctx, stored, self);
    }

    /// The siblings (a view into `s`).
    template <class T>
    static auto values(const state<T>& s) {
        return detail::dvvset_values(s);
    }
    template <class T>
    static void values(const state<T>&&) = delete;  // the view would dangle

    template <class T>
    static context context_of(const state<T>& s) {
        return join(s);
    }
};

}  // namespace capkit

static_assert(capkit::resolver<capkit::dvv, std::string>);

// SPDX-License-Identifier: MIT
/// @file Defines the capkit::resolver concept: what a replica keeps when versions of a key meet.
#pragma once

#include <concepts>
#include <ranges>
#include <string_view>
#include <utility>

#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>

namespace capkit {

/// Decides what a replica keeps for one key (`state<T>`) when versions meet.
/// `write(stored, ctx, self, stamp, v)` is a write coordinated by node `self`: `ctx` is the causal
/// context the client read (what it saw, so what it supersedes), `stamp` the coordinator's
/// timestamp. `merge` joins two replicas' states; `values` is one value, or the siblings;
/// `context_of` is what a read hands back for a later write. A default state means "never written".
/// Optional: `merges_concurrent_writes` (true when concurrent writes merge into one value and none
/// is lost, as CRDTs do; siblings otherwise).
/// Laws: merge is commutative, associative and idempotent; merge(s, write(s, ...)) ==
/// write(s, ...); a totally_ordered resolver keeps at most one value.
/// Models: lww, vector_clocks, dvv, crdt_merge.
template <class R, class T = int>
concept resolver = policy_of<R, resolver_category> &&
    std::default_initializable<typename R::template state<T>> &&
    std::equality_comparable<typename R::template state<T>> &&
    requires(const typename R::template state<T>& s, const typename R::context& ctx, node_id self,
             typename R::stamp stamp, T v) {
    { R::name } -> std::convertible_to<std::string_view>;
    { R::totally_ordered } -> std::convertible_to<bool>;
    { R::write(s, ctx, self, stamp, std::move(v)) } -> std::same_as<typename R::template state<T>>;
    { R::merge(s, s) } -> std::same_as<typename R::template state<T>>;
    { R::values(s) } -> std::ranges::forward_range;
    { R::context_of(s) } -> std::same_as<typename R::context>;
};

/// Joins `from` into `into` and says whether `into` changed: the resolver's own `join_into` when
/// it has one (lww: assign only if `from` wins, no copy otherwise), else through merge().
template <class R, class State, class From>
bool join_into(State& into, From&& from) {
    if constexpr (requires { R::join_into(into, std::forward<From>(from)); }) {
        return R::join_into(into, std::forward<From>(from));
    } else {
        State joined = R::merge(into, from);
        if (joined == into) return false;
        into = std::move(joined);
        return true;
    }
}

/// The stamp of resolvers that order versions causally rather than by time.
struct no_stamp {
    friend bool operator==(no_stamp, no_stamp) = default;
};

}  // namespace capkit

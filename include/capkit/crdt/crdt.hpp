// SPDX-License-Identifier: MIT
/// @file Defines the capkit::crdt concept: a state-based conflict-free replicated data type.
#pragma once

#include <concepts>

namespace capkit {

/// A state-based CRDT: replicas that exchange states and merge them converge, whatever the order.
/// `a.merge(b)` joins b into a; `value()` reads what a user sees.
/// Laws: merge is commutative, associative and idempotent (the states form a join-semilattice),
/// and every update only moves a state up in that order.
/// Models: g_counter, pn_counter, or_set, lww_register, mv_register.
template <class C>
concept crdt = std::default_initializable<C> && std::copyable<C> && std::equality_comparable<C> &&
    requires(C& c, const C& other) {
    c.merge(other);
    other.value();
};

}  // namespace capkit

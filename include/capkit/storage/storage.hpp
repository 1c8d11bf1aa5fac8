// SPDX-License-Identifier: MIT
/// @file Defines the capkit::storage concept: where a replica keeps each key's resolver state.
#pragma once

#include <concepts>
#include <cstddef>
#include <utility>

#include <capkit/policy/category.hpp>

namespace capkit {

/// A storage policy makes, for a key type and a per-key state type, a `table` that keeps the
/// state of every key a replica holds. `find` returns null for a key never stored;
/// `update(k, f)` calls `f(state&, bool fresh)` on k's state (default-made when fresh) in one
/// lookup, so a replica joins an incoming state in place.
/// Laws: after put(k, s), find(k) points to a state equal to s until the next put, update or
/// erase of k.
/// Models: memory, rocksdb_storage (capkit/storage/rocksdb.hpp, linked as capkit::rocksdb).
template <class S, class Key = int, class State = int>
concept storage = policy_of<S, storage_category> &&
    requires(typename S::template table<Key, State>& t,
             const typename S::template table<Key, State>& ct, const Key& k, State s) {
    { ct.find(k) } -> std::same_as<const State*>;
    t.put(k, std::move(s));
    t.update(k, [](State&, bool) {});
    { t.erase(k) } -> std::same_as<bool>;
    { ct.size() } -> std::convertible_to<std::size_t>;
    ct.for_each([](const Key&, const State&) {});
};

}  // namespace capkit

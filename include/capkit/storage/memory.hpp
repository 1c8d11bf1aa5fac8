// SPDX-License-Identifier: MIT
/// @file Defines capkit::memory, storage in a boost::unordered_flat_map.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>

#include <boost/unordered/unordered_flat_map.hpp>

#include <capkit/policy/category.hpp>
#include <capkit/storage/storage.hpp>

namespace capkit {

/// Keeps every key's state in memory, in an open-addressing hash map: fastest, lost on restart.
struct memory {
    using category = storage_category;
    static constexpr std::string_view name = "memory";

    /// The states of one replica's keys.
    template <class Key, class State>
    class table {
    public:
        const State* find(const Key& k) const {
            auto it = map_.find(k);
            return it == map_.end() ? nullptr : &it->second;
        }
        void put(const Key& k, State s) { map_.insert_or_assign(k, std::move(s)); }
        template <class F>
        void update(const Key& k, F&& f) {
            auto [it, fresh] = map_.try_emplace(k);
            f(it->second, fresh);
        }
        bool erase(const Key& k) { return map_.erase(k) != 0; }
        std::size_t size() const noexcept { return map_.size(); }
        template <class F>
        void for_each(F&& f) const {
            for (const auto& [k, s] : map_) f(k, s);
        }

    private:
        boost::unordered_flat_map<Key, State> map_;
    };
};

static_assert(storage<memory>);

}  // namespace capkit

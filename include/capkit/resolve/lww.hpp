// SPDX-License-Identifier: MIT
/// @file Defines capkit::lww, the last-writer-wins resolver.
#pragma once

#include <concepts>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <capkit/detail/static_string.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/resolve/resolver.hpp>
#include <capkit/version/hlc.hpp>

namespace capkit {

/// Last writer wins on a hybrid logical clock; ties go to the higher node id.
/// Concurrent writes are decided by timestamp, so one of them is silently discarded: the price
/// of never showing siblings. A (stamp, origin) pair names one write, since a node's clock never
/// gives the same timestamp twice.
template <class Clock = hlc>
struct lww {
    using category = resolver_category;
    static constexpr auto name_storage =
        detail::fixed_string<32>{}.append("lww<").append(Clock::name).append(">");
    static constexpr std::string_view name = name_storage.view();
    static constexpr bool totally_ordered = true;

    using stamp = typename Clock::timestamp;
    /// The version a read saw: its stamp and origin, totally ordered (as an ETag). A write does
    /// not need it, since the stamp alone orders writes; clients may compare versions with it.
    struct context {
        stamp at{};
        node_id origin{};
        friend auto operator<=>(const context&, const context&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.at, self.origin);
        }
    };

    /// One stamped value; `value` is empty until the key is written.
    template <class T>
    struct state {
        std::optional<T> value;
        typename Clock::timestamp stamp{};
        node_id origin{};
        friend bool operator==(const state&, const state&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.value, self.stamp, self.origin);
        }
    };

    /// True when `a` wins over `b`: a later stamp, or the same stamp from a higher node id.
    template <class T>
    static bool wins(const state<T>& a, const state<T>& b) noexcept {
        return std::tie(a.stamp, a.origin) > std::tie(b.stamp, b.origin);
    }

    template <class T>
    static state<T> merge(const state<T>& a, const state<T>& b) {
        return wins(b, a) ? b : a;
    }

    /// merge() in place: `into` takes `from` only if `from` wins, so a losing state costs nothing.
    template <class T, class From>
    requires std::same_as<std::remove_cvref_t<From>, state<T>>
    static bool join_into(state<T>& into, From&& from) {
        if (!wins(from, into)) return false;
        into = std::forward<From>(from);
        return true;
    }

    /// The write replaces the stored value only if its stamp is later: LWW can drop a write.
    template <class T>
    static state<T> write(const state<T>& stored, const context&, node_id self, stamp at, T v) {
        state<T> written{std::move(v), at, self};
        if (wins(stored, written)) return stored;
        return written;
    }

    template <class T>
    static std::span<const T> values(const state<T>& s) noexcept {
        return s.value ? std::span<const T>(&*s.value, 1) : std::span<const T>();
    }
    template <class T>
    static void values(const state<T>&&) = delete;  // the span would dangle

    template <class T>
    static context context_of(const state<T>& s) noexcept {
        return {s.stamp, s.origin};
    }
};

static_assert(resolver<lww<>, int>);

}  // namespace capkit

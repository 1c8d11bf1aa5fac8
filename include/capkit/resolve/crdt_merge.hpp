// SPDX-License-Identifier: MIT
/// @file Defines capkit::crdt_merge, the resolver whose values are CRDTs that replicas merge.
#pragma once

#include <span>
#include <string_view>
#include <tuple>
#include <utility>

#include <capkit/crdt/crdt.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/resolve/resolver.hpp>

namespace capkit {

/// The value is a CRDT: a write merges the coordinator's updated CRDT state into the stored one,
/// and replicas merge states. Nothing is ever discarded and no sibling is shown.
struct crdt_merge {
    using category = resolver_category;
    static constexpr std::string_view name = "crdt_merge";
    static constexpr bool totally_ordered = false;
    /// Concurrent updates merge into one value and none is lost (what describe() says).
    static constexpr bool merges_concurrent_writes = true;

    using stamp = no_stamp;
    /// The CRDT's own state carries its causality, so a read hands back no extra context.
    struct context {
        friend bool operator==(const context&, const context&) = default;
        /// No fields on the wire (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self&) noexcept {
            return std::tie();
        }
    };

    /// The CRDT itself; a default one means "never written". Constrained rather than asserted,
    /// so `resolver<crdt_merge, int>` answers false; replicas assert with a sentence.
    template <crdt T>
    struct state {
        T value{};
        friend bool operator==(const state&, const state&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.value);
        }
    };

    template <class T>
    static state<T> merge(const state<T>& a, const state<T>& b) {
        state<T> out = a;
        out.value.merge(b.value);
        return out;
    }

    /// `v` is the coordinator's CRDT after applying the user's operation; it joins the stored one.
    template <class T>
    static state<T> write(const state<T>& stored, const context&, node_id, stamp, T v) {
        return merge(stored, state<T>{std::move(v)});
    }

    template <class T>
    static std::span<const T> values(const state<T>& s) noexcept {
        return {&s.value, 1};
    }
    template <class T>
    static void values(const state<T>&&) = delete;  // the span would dangle

    template <class T>
    static context context_of(const state<T>&) noexcept {
        return {};
    }
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines the named replica counts capkit::one, two, three, majority and all, and the
/// write level capkit::any.
#pragma once

#include <concepts>
#include <string_view>
#include <type_traits>

namespace capkit {

/// A replica count named by its role rather than a number, as Cassandra's consistency levels:
/// `quorum<5, majority, all>` or, per request, `client.get<capkit::one>(key)`.
struct named_level {
    enum class kind : unsigned char { one, two, three, majority, all, any };
    kind k;

    /// How many of `n` replicas this level asks for.
    constexpr long long count(unsigned n) const noexcept {
        switch (k) {
            case kind::one:
                return 1;
            case kind::two:
                return 2;
            case kind::three:
                return 3;
            case kind::majority:
                return n / 2 + 1;
            case kind::all:
                return n;
            case kind::any:
                return 1;
        }
        return 0;
    }
    friend constexpr bool operator==(named_level, named_level) = default;
};

/// One replica.
inline constexpr named_level one{named_level::kind::one};
/// Two replicas.
inline constexpr named_level two{named_level::kind::two};
/// Three replicas.
inline constexpr named_level three{named_level::kind::three};
/// floor(N/2) + 1 replicas, Cassandra's QUORUM: any two majorities share a replica.
inline constexpr named_level majority{named_level::kind::majority};
/// Every one of the N replicas.
inline constexpr named_level all{named_level::kind::all};
/// Cassandra's ANY, a write level given per request (`put<capkit::any>`) with capkit::sloppy:
/// the write is acknowledged once stored anywhere, a hint included, so it succeeds even when
/// every replica of the key is away (the coordinator keeps the hints). No read can find a write
/// that only a hint holds: R + W > N promises nothing for it.
inline constexpr named_level any{named_level::kind::any};

namespace detail {
/// True when level L is capkit::any.
template <auto L>
inline constexpr bool is_any_level = [] {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(L)>, named_level>) {
        return L == any;
    } else {
        return false;
    }
}();
}  // namespace detail

/// A replica count: a number or a named level.
/// (A class-type template argument's decltype is const-qualified, hence remove_cv.)
template <class L>
concept level =
    std::integral<std::remove_cv_t<L>> || std::same_as<std::remove_cv_t<L>, named_level>;

/// The number of replicas that level `L` asks for out of `N`.
template <unsigned N, auto L>
requires level<decltype(L)>
inline constexpr long long replica_count = [] {
    if constexpr (std::integral<std::remove_cv_t<decltype(L)>>) {
        return static_cast<long long>(L);
    } else {
        return L.count(N);
    }
}();

}  // namespace capkit

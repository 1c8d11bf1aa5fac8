// SPDX-License-Identifier: MIT
/// @file Defines capkit::quorum<N, R, W>: replicas per key, and how many answer reads and writes.
#pragma once

#include <string_view>

#include <capkit/detail/static_string.hpp>
#include <capkit/policy/category.hpp>
#include <capkit/policy/level.hpp>

namespace capkit {

namespace detail {
// Instantiated with the resolved sizes, so the compiler's "required from" note shows the
// actual N, R and W next to the sentence.
template <unsigned N, long long R, long long W>
struct quorum_sizes {
    static_assert(N >= 1, "capkit::quorum: N (replicas per key) must be at least 1.");
    static_assert(R >= 1 && R <= N,
                  "capkit::quorum: R must be between 1 and N: a read must ask at least one "
                  "replica and cannot ask more than the N that hold the key; lower R or raise N.");
    static_assert(
        W >= 1 && W <= N,
        "capkit::quorum: W must be between 1 and N: a write must reach at least one "
        "replica and cannot reach more than the N that hold the key; lower W or raise N.");
    static constexpr bool valid = true;
};
}  // namespace detail

/// N replicas hold each key; a read waits for R of them, a write for W.
/// R and W are numbers or named levels (one, two, three, majority, all).
template <unsigned N, auto R = majority, auto W = majority>
struct quorum {
    static_assert(level<decltype(R)>,
                  "capkit::quorum: R must be a number or a named level (capkit::one, two, three, "
                  "majority, all).");
    static_assert(level<decltype(W)>,
                  "capkit::quorum: W must be a number or a named level (capkit::one, two, three, "
                  "majority, all).");
    static_assert(!detail::is_any_level<R> && !detail::is_any_level<W>,
                  "capkit::any is a write level given per request with capkit::sloppy "
                  "(put<capkit::any>(...)), not a quorum size: a configured R or W counts "
                  "replicas; use capkit::one here.");
    static_assert(detail::quorum_sizes<N, replica_count<N, R>, replica_count<N, W>>::valid);

    using category = quorum_category;
    static constexpr unsigned n = N;
    static constexpr unsigned r = static_cast<unsigned>(replica_count<N, R>);
    static constexpr unsigned w = static_cast<unsigned>(replica_count<N, W>);
    static constexpr unsigned majority_size = N / 2 + 1;
    /// Every read quorum shares a replica with every write quorum.
    static constexpr bool overlapping = r + w > n;

    static constexpr auto name_storage = detail::fixed_string<40>{}
                                             .append("quorum_")
                                             .append(n)
                                             .append("_")
                                             .append(r)
                                             .append("_")
                                             .append(w);
    /// `quorum_N_R_W` with the resolved sizes, e.g. quorum_3_2_2.
    static constexpr std::string_view name = name_storage.view();
};

}  // namespace capkit

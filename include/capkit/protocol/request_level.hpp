// SPDX-License-Identifier: MIT
/// @file Defines capkit::configured and the per-request choice of R or W.
#pragma once

#include <type_traits>

#include <capkit/policy/level.hpp>

namespace capkit {

/// The replica count the configuration gives; the default of per-request overrides such as
/// `get<capkit::one>(key)`.
struct configured_level {
    friend constexpr bool operator==(configured_level, configured_level) = default;
};
/// Use the configuration's R or W for this request.
inline constexpr configured_level configured{};

namespace detail {
/// The replica count a request asks for: the configured one, or the level given for this call.
template <unsigned N, auto Level, unsigned Configured>
inline constexpr unsigned request_level = [] {
    if constexpr (std::is_same_v<std::remove_cv_t<decltype(Level)>, configured_level>) {
        return Configured;
    } else {
        static_assert(level<decltype(Level)>,
                      "capkit: a per-request replica count must be a number or a named level "
                      "(capkit::one, two, three, majority, all).");
        return static_cast<unsigned>(replica_count<N, Level>);
    }
}();

/// The rule a per-request level must keep (`get<capkit::one>(key)`, `put<capkit::all>(...)`):
/// where the consistency level needs overlapping quorums, the replicas this request asks and the
/// configured other side must still overlap. Its own sentence, so that the fix named is the
/// per-request level, not the configuration. `Given` and `Other` are this request's count and
/// the configured count of the other side.
template <class Consistency, unsigned N, unsigned Given, unsigned Other, bool IsRead>
struct request_level_rules {
    static constexpr bool valid = !Consistency::needs_overlap || Given + Other > N;
    static_assert(valid || !IsRead,
                  "capkit: this per-request read level asks too few replicas: with the "
                  "configured W they do not overlap (R + W <= N), so under this consistency "
                  "level the read could miss an acknowledged write; drop the per-request level "
                  "(read with the configured R) or ask at least N - W + 1 replicas.");
    static_assert(valid || IsRead,
                  "capkit: this per-request write level asks too few replicas: with the "
                  "configured R they do not overlap (R + W <= N), so under this consistency "
                  "level a read could miss this write once acknowledged; drop the per-request "
                  "level (write with the configured W) or ask at least N - R + 1 replicas.");
};

/// True when the read level R given for one request keeps `Config`'s promise; when it does not,
/// request_level_rules has said why. Entry points (node, cluster) test it first, so the sentence
/// comes right under the user's call and nothing deeper is instantiated.
template <class Config, auto R>
inline constexpr bool read_level_ok =
    request_level_rules<typename Config::consistency, Config::n,
                        request_level<Config::n, R, Config::r>, Config::w, true>::valid;
/// The same for the write level W of one request.
template <class Config, auto W>
inline constexpr bool write_level_ok =
    request_level_rules<typename Config::consistency, Config::n,
                        request_level<Config::n, W, Config::w>, Config::r, false>::valid;
}  // namespace detail

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::reconnect_backoff: when to dial a peer again after a failed attempt, on
/// no clock of its own (sans-I/O, so tests and the simulator drive it as the TCP transport does).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include <capkit/detail/random.hpp>

namespace capkit {

/// Exponential backoff between attempts to reach one peer: the first wait is `min`, each failure
/// doubles it up to `max`, and each wait adds up to a quarter of itself drawn from `jitter`, so
/// that nodes cut off together do not redial in lockstep. A connection, or any sign the peer is
/// back, starts again from `min` (reset()). It computes waits; the transport arms its timer.
class reconnect_backoff {
public:
    using duration = std::chrono::milliseconds;

    reconnect_backoff() = default;
    reconnect_backoff(duration min, duration max)
        : min_(min), max_(std::max(min, max)), next_(min) {}

    /// Connected, or the peer was heard from: the next failure waits `min` again.
    void reset() noexcept { next_ = min_; }

    /// The wait the next failure starts from, before jitter.
    duration current() const noexcept { return next_; }

    /// An attempt failed: how long to wait before the next one (current() plus jitter), and the
    /// backoff doubles, up to `max`.
    duration after_failure(detail::rng& jitter) noexcept {
        const auto spread = static_cast<std::uint64_t>(next_.count()) / 4 + 1;
        const duration wait = next_ + duration(jitter.below(spread));
        next_ = std::min(next_ * 2, max_);
        return wait;
    }

private:
    duration min_{20}, max_{1000}, next_{20};
};

}  // namespace capkit

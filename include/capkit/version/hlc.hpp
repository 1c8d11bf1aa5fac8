// SPDX-License-Identifier: MIT
/// @file Defines capkit::hlc, a hybrid logical clock (Kulkarni et al., 2014).
#pragma once

#include <algorithm>
#include <chrono>
#include <compare>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string_view>
#include <tuple>

#include <capkit/error.hpp>

namespace capkit {

/// A hybrid logical clock: timestamps that follow physical time when it moves forward, never go
/// backwards when it does not, and order every send before its receive.
/// The clock never reads time itself: each call is given the physical time, so the protocol stays
/// sans-I/O and a test or the simulator injects skewed or jumping clocks by passing other values.
class hlc {
public:
    static constexpr std::string_view name = "hlc";

    /// Physical time as given by the caller's time source (nanoseconds since its epoch).
    using physical_time = std::chrono::nanoseconds;

    /// A point in hybrid time: the largest physical time seen, then a logical counter.
    struct timestamp {
        std::uint64_t wall = 0;     ///< nanoseconds, the largest physical time observed
        std::uint32_t logical = 0;  ///< orders events that share `wall`
        friend auto operator<=>(const timestamp&, const timestamp&) = default;
        /// The fields in wire order (capkit/detail/wire_access.hpp).
        template <class Self>
        static constexpr auto wire_fields(Self& self) noexcept {
            return std::tie(self.wall, self.logical);
        }
        /// Prints `wall.logical`; a template on the stream so this header needs only <iosfwd>.
        template <class Char, class Traits>
        friend std::basic_ostream<Char, Traits>& operator<<(std::basic_ostream<Char, Traits>& os,
                                                            const timestamp& t) {
            os << t.wall << '.' << t.logical;
            return os;
        }
    };

    /// A clock that refuses remote timestamps more than 500 ms ahead of physical time.
    hlc() noexcept = default;
    /// A clock that refuses remote timestamps more than `max_offset` ahead of physical time.
    /// A negative offset counts as zero.
    explicit hlc(physical_time max_offset) noexcept
        : max_offset_(std::max(max_offset, physical_time::zero())) {}

    /// Stamps a local event or a send at physical time `pt`; strictly greater than any earlier.
    timestamp now(physical_time pt) noexcept {
        auto p = wall_of(pt);
        last_ = p > last_.wall ? timestamp{p, 0} : successor(last_);
        return last_;
    }

    /// Takes in a remote timestamp at physical time `pt` and returns the receive's timestamp,
    /// greater than both. A remote wall time more than the maximum offset ahead of `pt` is
    /// refused with errc::clock_offset_exceeded and leaves the clock unchanged: one node with a
    /// runaway clock must not drag every other clock into the future (as CockroachDB refuses).
    result<timestamp> update(timestamp remote, physical_time pt) noexcept {
        auto p = wall_of(pt);
        auto limit = static_cast<std::uint64_t>(max_offset_.count());
        if (remote.wall > p && remote.wall - p > limit) return errc::clock_offset_exceeded;
        auto wall = std::max({last_.wall, remote.wall, p});
        if (wall == last_.wall && wall == remote.wall) {
            last_ = successor({wall, std::max(last_.logical, remote.logical)});
        } else if (wall == last_.wall) {
            last_ = successor(last_);
        } else if (wall == remote.wall) {
            last_ = successor(remote);
        } else {
            last_ = {p, 0};
        }
        return last_;
    }

    /// The smallest timestamp after `t`. Were the logical part ever to overflow, the wall part
    /// moves one nanosecond ahead instead: still monotonic, and drift grows by 1 ns.
    static constexpr timestamp successor(timestamp t) noexcept {
        if (t.logical == std::numeric_limits<std::uint32_t>::max()) return {t.wall + 1, 0};
        return {t.wall, t.logical + 1};
    }

    /// The last timestamp this clock gave out.
    timestamp last() const noexcept { return last_; }

    /// The largest offset a remote timestamp may be ahead of local physical time.
    physical_time max_offset() const noexcept { return max_offset_; }

private:
    static std::uint64_t wall_of(physical_time pt) noexcept {
        return pt.count() < 0 ? 0 : static_cast<std::uint64_t>(pt.count());
    }

    timestamp last_{};
    physical_time max_offset_ = std::chrono::milliseconds(500);
};

}  // namespace capkit

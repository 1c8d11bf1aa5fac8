// SPDX-License-Identifier: MIT
/// @file Defines capkit::failure_detector: which peers are up, from when each was last heard, on
/// time it is given (sans-I/O, so it runs the same over any transport and in the simulator).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include <capkit/assert.hpp>
#include <capkit/node_id.hpp>
#include <capkit/time.hpp>

namespace capkit {

/// A timeout failure detector: a peer is up once heard from and down once nothing has been heard
/// from it for `timeout`. Feed it every sign of life (any message or heartbeat: heard()) and the
/// time (tick()); it answers with the changes, which the application passes to each replica
/// (`replica.set_reachable(change.peer, change.up)`) and may log. It never reads a clock: the
/// TCP transport gives it the steady clock, a simulation its virtual time, your own transport
/// whatever it keeps. Changes come in order of peer id, so a replay is deterministic.
/// With heartbeats every `timeout / 3` or so, a live peer is never reported down unless the
/// network loses or delays three heartbeats in a row.
class failure_detector {
public:
    /// A peer that came up or went down; `silent` is how long nothing was heard (down only).
    struct change {
        node_id peer;
        bool up;
        std::chrono::nanoseconds silent{0};
        friend bool operator==(const change&, const change&) = default;
    };

    explicit failure_detector(std::chrono::nanoseconds timeout) : timeout_(timeout) {
        CAPKIT_ASSERT(timeout.count() > 0, "a failure detector's timeout is positive");
    }

    /// Starts watching `peer`, believed down until it is heard from.
    void watch(node_id peer) { peers_.try_emplace(peer); }
    /// Stops watching `peer` (it left the cluster).
    void forget(node_id peer) { peers_.erase(peer); }

    /// Something arrived from `peer` at `now`: the change to up if it was believed down.
    std::optional<change> heard(node_id peer, time_point now) {
        auto it = peers_.find(peer);
        if (it == peers_.end()) return std::nullopt;
        it->second.last_heard = now;
        if (it->second.up) return std::nullopt;
        it->second.up = true;
        return change{peer, true};
    }

    /// The peers silent for the timeout or more at `now`, now believed down.
    std::vector<change> tick(time_point now) {
        std::vector<change> out;
        for (auto& [id, p] : peers_) {
            if (!p.up || now - p.last_heard < timeout_) continue;
            p.up = false;
            out.push_back({id, false, now - p.last_heard});
        }
        return out;
    }

    /// True while `peer` is believed up.
    bool up(node_id peer) const {
        auto it = peers_.find(peer);
        return it != peers_.end() && it->second.up;
    }
    /// Peers believed up.
    std::size_t up_count() const {
        std::size_t n = 0;
        for (const auto& [id, p] : peers_) n += p.up ? 1 : 0;
        return n;
    }
    /// When the next peer would go down if nothing more is heard (time_point::max() if none is
    /// up): the time to call tick() at the latest.
    time_point next_deadline() const {
        time_point next = time_point::max();
        for (const auto& [id, p] : peers_)
            if (p.up && p.last_heard + timeout_ < next) next = p.last_heard + timeout_;
        return next;
    }
    std::chrono::nanoseconds timeout() const noexcept { return timeout_; }

private:
    struct peer_state {
        bool up = false;
        time_point last_heard{};
    };
    std::chrono::nanoseconds timeout_;
    std::map<node_id, peer_state> peers_;
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::hint_store, the writes a coordinator keeps for replicas it could
/// not reach, and hands off when they are back (hinted handoff, capkit::sloppy).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include <capkit/assert.hpp>
#include <capkit/node_id.hpp>
#include <capkit/protocol/arrival_order.hpp>
#include <capkit/protocol/messages.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/resolve/resolver.hpp>
#include <capkit/time.hpp>

namespace capkit::detail {

/// Hints of one node: for each (replica, key), the join of the states written while that replica
/// was unreachable, with the time of the first. tick() sends each hint whose replica is
/// reachable (`handoff`, at most max_per_round per tick, again after `retry` while unanswered)
/// and drops those older than max_age; the replica's handoff_ack drops it, unless a newer write
/// was joined into it since it went out. A hint beyond max_hints is dropped. Drops are counted:
/// that replica then needs read repair or anti-entropy for the key.
template <class Key, class State, class Resolver>
class hint_store {
public:
    /// Handoffs sent per tick at most, so a replica back after a long outage is not flooded.
    static constexpr std::size_t max_per_round = 1024;

    explicit hint_store(const hint_options& options = {}) : options_(options) {}

    /// The bounds, for hints recovered from storage by a node that may be configured anew.
    void set_options(const hint_options& options) { options_ = options; }

    /// Keeps `s`, written at `now`, for unreachable `owner`; false (and counted) when full.
    bool add(node_id owner, const Key& key, const State& s, time_point now) {
        auto it = hints_.find(std::pair{owner, key});
        if (it != hints_.end()) {
            join_into<Resolver>(it->second.state, s);
            unsend(it->second);  // the replica must get the join, not the older state
            changed(it->first);
            return true;
        }
        if (hints_.size() >= options_.max_hints) {
            ++dropped_;
            return false;
        }
        auto [at, _] = hints_.emplace(std::pair{owner, key}, hint{s, now, ++last_arrival_});
        ++stored_;
        changed(at->first);
        return true;
    }

    /// Takes back a hint a restarted node found in its storage: its age counts from the next
    /// tick (the clock of the run that wrote it is gone). False (counted as dropped) when full.
    bool restore(node_id owner, const Key& key, const State& s) {
        if (!add(owner, key, s, unknown_age)) return false;
        restored_ = true;
        return true;
    }

    /// Counts a hint a restarted node found in its storage and would not take back.
    void dropped_on_restore() noexcept { ++dropped_; }

    /// From now on, records which hints change, for a node that writes them through to storage
    /// (take_changed()).
    void journal() { journal_ = true; }

    /// The (owner, key) of each hint added, joined or dropped since the last call.
    std::vector<std::pair<node_id, Key>> take_changed() { return std::exchange(changed_, {}); }

    /// The state kept for `owner` under `key`, or null.
    const State* find(node_id owner, const Key& key) const {
        auto it = hints_.find(std::pair{owner, key});
        return it == hints_.end() ? nullptr : &it->second.state;
    }

    /// Drops the hints past max_age and sends, to each reachable replica, the hints not sent
    /// within `retry`: send(owner, handoff).
    template <class Reachable, class Send>
    void tick(time_point now, Reachable&& reachable, Send&& send) {
        if (next_ && now < *next_) return;
        next_ = now + options_.retry;
        if (std::exchange(restored_, false))
            for (auto& [where, h] : hints_)
                if (h.since == unknown_age) h.since = now;
        std::vector<std::pair<node_id, Key>> old;
        std::size_t sent = 0;
        for (auto* e : in_arrival_order(hints_)) {  // not the hash map's order
            auto& [where, h] = *e;
            if (now - h.since > options_.max_age) {
                if (h.sequence) in_flight_.erase(h.sequence);
                changed(where);
                old.push_back(where);
                continue;
            }
            if (sent == max_per_round) continue;
            if (!reachable(where.first)) continue;
            if (h.sequence && now - h.sent < options_.retry) continue;
            unsend(h);
            h.sequence = ++last_sequence_;
            h.sent = now;
            in_flight_.emplace(h.sequence, where);
            send(where.first, protocol::handoff<Key, State>{h.sequence, where.second, h.state});
            ++sent;
        }
        for (const auto& where : old) hints_.erase(where);
        dropped_ += old.size();
    }

    /// `from` stored the hint sent with `sequence`: it is dropped, unless a newer write joined it.
    void acked(node_id from, std::uint64_t sequence) {
        auto f = in_flight_.find(sequence);
        if (f == in_flight_.end() || f->second.first != from) return;
        auto h = hints_.find(f->second);
        CAPKIT_ASSERT(h != hints_.end() && h->second.sequence == sequence,
                      "a handoff in flight names a hint kept and last sent with its sequence");
        changed(f->second);
        hints_.erase(h);
        in_flight_.erase(f);
        ++delivered_;
    }

    /// When tick() must next run: while hints wait.
    std::optional<time_point> next_round() const {
        if (hints_.empty()) return std::nullopt;
        return next_ ? *next_ : time_point{0};
    }

    std::size_t size() const noexcept { return hints_.size(); }
    std::uint64_t stored() const noexcept { return stored_; }
    std::uint64_t delivered() const noexcept { return delivered_; }
    std::uint64_t dropped() const noexcept { return dropped_; }

private:
    struct hint {
        State state;
        time_point since;
        std::uint64_t arrival = 0;   // the hints' order: tick() goes through them in it
        std::uint64_t sequence = 0;  // of the handoff in flight; 0: none
        time_point sent{};
    };

    static constexpr time_point unknown_age = time_point::min();

    void changed(const std::pair<node_id, Key>& where) {
        if (journal_) changed_.push_back(where);
    }

    void unsend(hint& h) {
        if (h.sequence) in_flight_.erase(h.sequence);
        h.sequence = 0;
    }

    hint_options options_;
    boost::unordered_flat_map<std::pair<node_id, Key>, hint> hints_;
    boost::unordered_flat_map<std::uint64_t, std::pair<node_id, Key>> in_flight_;
    std::optional<time_point> next_;
    std::uint64_t last_sequence_ = 0;
    std::uint64_t last_arrival_ = 0;
    std::uint64_t stored_ = 0, delivered_ = 0, dropped_ = 0;
    bool restored_ = false;
    bool journal_ = false;
    std::vector<std::pair<node_id, Key>> changed_;  // while journal_
};

}  // namespace capkit::detail

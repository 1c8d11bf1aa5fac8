// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::tombstone_gc, which collects a deleted key's tombstones once
/// every replica holds them and a grace period has passed, so no replica can revive the value.
#pragma once

#include <algorithm>
#include <bitset>
#include <chrono>
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
#include <capkit/time.hpp>

namespace capkit::detail {

/// True when `s` holds only deletions: one tombstone, or sibling tombstones.
template <class Resolver, class State>
bool is_tombstone(const State& s) {
    bool any = false;
    for (const auto& v : Resolver::values(s)) {
        if (v) return false;
        any = true;
    }
    return any;
}

/// One replica's side of tombstone collection among the N owners of each key (all_nodes: the
/// nodes 0 .. N-1; hash_ring: the key's first N nodes, never the fallbacks that hold hints). A
/// tombstone must outlive every copy of the value it deletes, or a replica that missed the
/// delete brings the value back the next time it is read or compared (the resurrection bug).
/// So a tombstone older than `grace` here is collected only by a round that reaches all N:
///   1. this node sends every other owner purge_prepare(key, tombstone);
///   2. each joins it into its own state (a replica that missed the delete takes it now) and
///      votes yes if its state is now exactly that tombstone and it has held it for the grace
///      period itself (one that took it just now may have sent the old value somewhere, in a
///      read repair or an anti-entropy round, still in flight);
///   3. when all N agree, this node sends purge(key, tombstone), and each replica, this one
///      included, erases the key if its state is still exactly that tombstone.
/// A peer unreachable, a vote against (a newer write, a tombstone not yet held for the grace) or
/// a lost message leaves the tombstone for a later round. The grace period covers what no vote
/// can see: a write, repair or hint of the old value still in flight, which must be older than
/// `grace` when it arrives (Cassandra's gc_grace_seconds): so grace must exceed the request
/// timeout plus the longest message delay, and hints are dropped at half of it. A vote is a promise
/// that the tombstone is durable, so collection is safe when acknowledged writes are
/// (docs/protocol.md, Tombstone collection).
template <class Key, class State, class Resolver, unsigned MaxNodes>
class tombstone_gc {
public:
    tombstone_gc(node_id self, const tombstone_gc_options& options)
        : self_(self), options_(options) {
        CAPKIT_ASSERT(!enabled() || Resolver::totally_ordered,
                      "tombstone collection runs on a totally ordered resolver (options_error)");
    }

    bool enabled() const noexcept { return options_.grace.count() > 0; }

    /// Notes `key`'s new state, stored at `now`: a new tombstone (or one joined with another)
    /// starts its grace period here.
    void stored(const Key& key, const State& s, time_point now) {
        if (!enabled()) return;
        if (is_tombstone<Resolver>(s)) {
            since_.insert_or_assign(key, held{now, ++last_arrival_});
        } else {
            since_.erase(key);
        }
    }

    /// True when this node has held its tombstone of `key` for the grace period: only then may
    /// it vote for collecting it. A replica that has just taken the tombstone may still have
    /// sent the old value somewhere (a read's repair, an anti-entropy round) that is in flight.
    bool ripe(const Key& key, time_point now) const {
        if (!enabled()) return false;
        auto it = since_.find(key);
        return it != since_.end() && it->second.since != unknown_since &&
               now - it->second.since >= options_.grace;
    }

    /// Notes the tombstones of a recovered table: their grace periods start at the next tick
    /// (the time they were first stored was not kept).
    template <class Table>
    void rebuild(const Table& table) {
        if (!enabled()) return;
        table.for_each([&](const Key& k, const State& s) {
            if (is_tombstone<Resolver>(s))
                since_.try_emplace(k, held{unknown_since, ++last_arrival_});
        });
    }

    /// Forgets `key` (collected).
    void erased(const Key& key) {
        since_.erase(key);
        pending_.erase(key);
    }

    /// When tick() must next run for collection, while tombstones wait.
    std::optional<time_point> next_round() const {
        if (!enabled() || since_.empty()) return std::nullopt;
        return next_ ? *next_ : time_point{0};
    }

    /// Every grace / 4: starts a round for each tombstone past its grace period (at most
    /// max_keys_per_round) whose owners are all reachable. `find(key)` gives this node's state;
    /// `eligible(state)` may refuse one (a stamp from a clock running far ahead); `owners(key)`
    /// gives the key's preference (its first `owners` nodes own it).
    template <class Find, class Eligible, class Owners, class Reachable, class Send>
    void tick(time_point now, Find&& find, Eligible&& eligible, Owners&& owners,
              Reachable&& reachable, Send&& send) {
        if (!enabled()) return;
        if (next_ && now < *next_) return;
        auto period = std::max(options_.grace / 4, std::chrono::nanoseconds(1));
        next_ = now + period;
        pending_.clear();  // a round older than a period lost a message: start again
        std::size_t started = 0;
        for (auto* e : in_arrival_order(since_)) {  // not the hash map's order
            const Key& key = e->first;
            time_point& since = e->second.since;
            if (since == unknown_since) since = now;
            if (started == options_.max_keys_per_round) continue;
            if (now - since < options_.grace) continue;
            const State* s = find(key);
            if (!s || !eligible(*s)) continue;
            const auto pref = owners(key);
            std::bitset<MaxNodes> needed;
            bool all_up = true;
            for (unsigned i = 0; i < pref.owners; ++i) {
                node_id o = pref.nodes[i];
                if (o >= MaxNodes) continue;
                needed.set(o);
                if (o != self_ && !reachable(o)) all_up = false;
            }
            if (!all_up || !needed[self_]) continue;  // an owner away; or not ours to collect
            auto& round = pending_[key];
            round.tombstone = *s;
            round.needed = needed;
            round.agreed.set(self_);
            ++started;
            for (node_id peer = 0; peer < MaxNodes; ++peer)
                if (needed[peer] && peer != self_)
                    send(peer, protocol::purge_prepare<Key, State>{key, *s});
        }
    }

    /// A peer's vote on this node's round for `key`: at the last agreeing vote, sends the
    /// purge to every peer and calls erase(key, tombstone) here. A vote on another tombstone of
    /// the key (from an earlier round) does not count.
    template <class Send, class Erase>
    void on_vote(node_id from, const protocol::purge_vote<Key, State>& v, Send&& send,
                 Erase&& erase) {
        if (from >= MaxNodes) return;
        auto it = pending_.find(v.key);
        if (it == pending_.end() || !(it->second.tombstone == v.state) || !it->second.needed[from])
            return;
        if (!v.agree) {
            pending_.erase(it);
            return;
        }
        it->second.agreed.set(from);
        if (it->second.agreed != it->second.needed) return;
        auto tombstone = std::move(it->second.tombstone);
        auto needed = it->second.needed;
        pending_.erase(it);
        for (node_id peer = 0; peer < MaxNodes; ++peer)
            if (needed[peer] && peer != self_)
                send(peer, protocol::purge<Key, State>{v.key, tombstone});
        erase(v.key, tombstone);
    }

    /// Tombstones waiting for their grace period or a round.
    std::size_t waiting() const noexcept { return since_.size(); }

private:
    struct round {
        State tombstone{};
        std::bitset<MaxNodes> needed{};  // the key's owners
        std::bitset<MaxNodes> agreed{};
    };

    static constexpr time_point unknown_since = time_point::max();

    struct held {
        time_point since;       // from when this node has held the tombstone
        std::uint64_t arrival;  // the tombstones' order: tick() goes through them in it
    };

    node_id self_;
    tombstone_gc_options options_;
    boost::unordered_flat_map<Key, held> since_;  // tombstones held
    std::uint64_t last_arrival_ = 0;
    boost::unordered_flat_map<Key, round> pending_;  // rounds started by this node
    std::optional<time_point> next_;
};

}  // namespace capkit::detail

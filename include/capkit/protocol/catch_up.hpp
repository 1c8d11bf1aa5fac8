// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::catch_up, how a replica that restarted without its data
/// (amnesia) gets back what it had acknowledged before it counts toward a quorum again, and
/// detail::catch_up_page_of, the serving side's page of states.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <capkit/node_id.hpp>
#include <capkit/policy/key_bytes.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/time.hpp>
#include <capkit/wire/encoding.hpp>

namespace capkit::detail {

/// How many other nodes a replica that lost its data must catch up from, among the `nodes` - 1
/// others, so that every write quorum of `w` replicas that may have counted it holds a copy in
/// what it fetched: such a quorum has w - 1 other members, and any nodes - w + 1 of the others
/// meet every w - 1 of them. All of them when w is 1 (nothing then guarantees a copy).
constexpr unsigned catch_up_need(unsigned nodes, unsigned w) noexcept {
    if (nodes <= 1) return 0;
    return w <= 1 ? nodes - 1 : std::min(nodes - 1, nodes - w + 1);
}

/// The requester's side of catching up (docs/protocol.md, "Amnesia"). A replica that starts with
/// an empty store after a restart forgot what it acknowledged: counted in a read quorum, it could
/// hide a write it had helped to acknowledge (a stale read), and as a Paxos acceptor it could
/// break a promise. Until it is done it answers no replica request and coordinates nothing:
///
/// 1. Pull: it asks each other node for the states of the keys it owns, page by page in key-hash
///    order, and joins them into its own (a page's entries are joined like repairs).
/// 2. Quarantine: a pass over a peer that is not catching up itself counts only if it began
///    `quarantine` (the request timeout) after this replica started: every message sent before
///    its crash has then arrived or is lost, so what the peer holds includes every write and
///    promise this replica took part in. An earlier pass is started again then.
/// 3. Done: once `need` such passes are complete (catch_up_need), or every other node has
///    completed a pass (it then holds all the cluster holds; peers that were catching up too,
///    having acknowledged nothing, need no quarantine: this is how a cluster whose nodes all
///    start empty begins to serve as soon as all of them have started).
class catch_up {
public:
    catch_up() = default;
    /// `members`: the cluster's nodes (this one among them); `need`: catch_up_need; `joining`:
    /// whether this replica must catch up at all; `retry`: how long to wait for a page before
    /// asking again.
    catch_up(node_id self, const std::vector<node_id>& members, unsigned need, bool joining,
             std::chrono::nanoseconds quarantine, std::chrono::nanoseconds retry)
        : self_(self),
          need_(need),
          quarantine_(quarantine),
          retry_(std::max(retry, std::chrono::nanoseconds(std::chrono::milliseconds(1)))) {
        for (node_id m : members)
            if (m != self) {
                peers_.emplace_back();
                peers_.back().id = m;
            }
        joining_ = joining && !peers_.empty();
    }

    /// True until this replica may count toward quorums again.
    bool joining() const noexcept { return joining_; }

    /// When tick() must next run while joining (at once, before the first step).
    std::optional<time_point> next_deadline() const {
        if (!joining_) return std::nullopt;
        if (!started_) return time_point{};
        return next_;
    }

    /// Asks, through `send(to, from_hash)`, every reachable node not done yet for its next page;
    /// again after `retry` when a page did not come. A peer known not to be catching up is
    /// asked only once the quarantine is over.
    template <class Reachable, class Send>
    void tick(time_point now, Reachable&& reachable, Send&& send) {
        if (!joining_) return;
        if (!started_) {
            started_ = true;
            quarantine_end_ = now + quarantine_;
        }
        if (now < next_) return;
        const bool quarantined = now < quarantine_end_;
        for (auto& peer : peers_) {
            if (peer.done || !reachable(peer.id) || (quarantined && peer.ready)) continue;
            if (peer.from == 0 && !peer.pass_start) peer.pass_start = now;
            send(peer.id, peer.from);
        }
        next_ = now + retry_;
        if (quarantined && quarantine_end_ < next_) next_ = quarantine_end_;
    }

    /// A page from `peer` that started at `from`: `next` where the following one starts (empty:
    /// it was the last), `peer_joining` whether the peer is catching up too. Asks for the next
    /// page through `send(to, from_hash)`. Returns whether this replica is now done.
    template <class Send>
    bool on_page(node_id peer, std::uint64_t from, std::optional<std::uint64_t> next,
                 bool peer_joining, Send&& send) {
        auto it = std::ranges::find(peers_, peer, &peer_state::id);
        if (!joining_ || !started_ || it == peers_.end()) return false;
        auto& p = *it;
        if (p.done || from != p.from) return false;  // a duplicate or a page answered twice
        p.ready = !peer_joining;
        if (p.ready && (!p.pass_start || *p.pass_start < quarantine_end_)) {
            // Begun too early to count: again from the start once the quarantine is over.
            p.from = 0;
            p.pass_start.reset();
            return false;
        }
        if (next) {
            p.from = *next;
            send(peer, p.from);
            return false;
        }
        p.done = true;
        unsigned done = 0, ready = 0;
        for (const auto& q : peers_) {
            if (!q.done) continue;
            ++done;
            if (q.ready) ++ready;
        }
        if (ready >= need_ || done == peers_.size()) joining_ = false;
        return !joining_;
    }

private:
    struct peer_state {
        node_id id = 0;
        std::uint64_t from = 0;                // the next page's first key hash
        std::optional<time_point> pass_start;  // when this pass's first page was asked for
        bool ready = false;                    // its last page said it was not catching up
        bool done = false;                     // a pass that counts is complete
    };

    node_id self_ = 0;
    unsigned need_ = 0;
    bool joining_ = false;
    std::chrono::nanoseconds quarantine_{0};
    std::chrono::nanoseconds retry_{0};
    std::vector<peer_state> peers_;
    bool started_ = false;
    time_point quarantine_end_{};
    time_point next_{};
};

/// The serving side: `table`'s states of the keys `wanted(key)` selects whose key_hash is at
/// least `from`, in hash order, whole hashes at a time up to `max_entries` states and about
/// `max_bytes` encoded (at least one hash, so every page makes progress). Returns the entries
/// and where the next page starts (empty: none is left).
template <class Key, class State, class Table, class Wanted>
std::pair<std::vector<std::pair<Key, State>>, std::optional<std::uint64_t>> catch_up_page_of(
    const Table& table, std::uint64_t from, Wanted&& wanted, std::size_t max_entries,
    std::size_t max_bytes) {
    std::vector<std::pair<std::uint64_t, Key>> keys;
    table.for_each([&](const Key& key, const State&) {
        auto h = key_hash(key);
        if (h >= from && wanted(key)) keys.emplace_back(h, key);
    });
    std::sort(keys.begin(), keys.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::pair<Key, State>> entries;
    std::size_t bytes = 0;
    std::vector<std::byte> scratch;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const auto& [h, key] = keys[i];
        bool new_hash = i == 0 || keys[i - 1].first != h;
        // Full: stop at a hash boundary, so the next page starts at a hash not yet sent.
        if (new_hash && !entries.empty() && (entries.size() >= max_entries || bytes >= max_bytes))
            return {std::move(entries), h};
        const State* s = table.find(key);
        if (!s) continue;
        scratch.clear();
        wire::encode(key, scratch);
        wire::encode(*s, scratch);
        bytes += scratch.size();
        entries.emplace_back(key, *s);
    }
    return {std::move(entries), std::nullopt};
}

}  // namespace capkit::detail

// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::anti_entropy, the Merkle-tree exchange by which replicas repair
/// the keys nobody reads (Dynamo's and Cassandra's anti-entropy, Riak's active anti-entropy).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include <capkit/assert.hpp>
#include <capkit/node_id.hpp>
#include <capkit/policy/key_bytes.hpp>
#include <capkit/protocol/merkle_tree.hpp>
#include <capkit/protocol/messages.hpp>
#include <capkit/protocol/results.hpp>
#include <capkit/time.hpp>
#include <capkit/wire/encoding.hpp>

namespace capkit::detail {

/// Keys and states whose Merkle hashes replicas can compare: keys with a fixed ring hash, and
/// both with a wire encoding that equal values share (a state's hash is the hash of its bytes,
/// the same in every process).
template <class Key, class State>
concept anti_entropy_ready =
    ring_key<Key> && wire::canonically_encodable<Key> && wire::canonically_encodable<State>;

/// One replica's side of anti-entropy among the nodes 0 .. M-1.
///
/// Which tree a pair of nodes compares: where every node holds every key (all_nodes), each node
/// keeps one tree over its keys. On a hash_ring two nodes share only the keys they both own, so
/// each node keeps a tree per peer over exactly those keys (a key is in the trees of its other
/// N - 1 owners); the two sides' trees then cover the same keys, and hold the same states once
/// they agree. Peers' trees are made on first use.
///
/// A round: every `interval` this node sends the next reachable peer its hashes of the tree's
/// 16 nodes of level 4. Each side answers a probe with its own hashes of the children (4 levels
/// down) of the nodes that differ, at most max_ranges of them, so the exchange narrows 16-fold a
/// message; at the leaves, the side that finds differing buckets streams its states of those
/// buckets (at most about max_entries) and asks for the other's, which answers once it has
/// joined them. Both then hold the join of the two. No round state is kept: a lost message ends
/// the round, and the next round finds what is still different.
template <class Key, class State>
class anti_entropy {
public:
    /// Tree levels descended per probe: 16 children per differing node.
    static constexpr unsigned step = 4;

    static_assert(anti_entropy_ready<Key, State>);

    /// `nodes`: M, the cluster's size. `per_peer`: a tree per peer (hash_ring) rather than one.
    anti_entropy(node_id self, unsigned nodes, const anti_entropy_options& options,
                 bool per_peer = false)
        : self_(self), n_(nodes), options_(options), per_peer_(per_peer) {
        if (!enabled()) return;
        trees_.resize(per_peer ? nodes : 1);
        if (!per_peer) trees_[0].emplace(options.tree_depth);
    }

    bool enabled() const noexcept { return options_.interval.count() > 0; }

    /// Records `key`'s new state (a join changed it, or it is new): in the one tree, or in the
    /// tree of each peer in `sharing` (per peer: the key's other owners).
    void stored(const Key& key, const State& s, std::span<const node_id> sharing = {}) {
        if (!enabled()) return;
        auto kh = key_hash(key);
        auto h = digest(kh, s);
        if (!per_peer_) {
            trees_[0]->set(key, kh, h);
            return;
        }
        for (node_id peer : sharing)
            if (peer != self_ && peer < n_) tree_of(peer).set(key, kh, h);
    }

    /// Takes `key` out of the tree, or out of the trees of `sharing` (its state was erased).
    void erased(const Key& key, std::span<const node_id> sharing = {}) {
        if (!enabled()) return;
        auto kh = key_hash(key);
        if (!per_peer_) {
            trees_[0]->erase(key, kh);
            return;
        }
        for (node_id peer : sharing)
            if (peer != self_ && peer < n_ && trees_[peer]) trees_[peer]->erase(key, kh);
    }

    /// When tick() must next run for anti-entropy: at once until the first round is planned.
    std::optional<time_point> next_round() const {
        if (!enabled()) return std::nullopt;
        return next_ ? *next_ : time_point{0};
    }

    /// Starts a round if one is due: send(peer, probe) to the next reachable peer. The first
    /// round of node i waits (i + 1) / N of an interval, so nodes do not all start at once.
    template <class Reachable, class Send>
    void tick(time_point now, Reachable&& reachable, Send&& send) {
        if (!enabled()) return;
        if (!next_) {
            next_ = now + options_.interval * (self_ + 1) / n_;
            return;
        }
        if (now < *next_) return;
        next_ = now + options_.interval;
        for (unsigned k = 0; k < n_; ++k) {  // the next reachable peer after the last one
            node_id peer = next_peer_;
            next_peer_ = (next_peer_ + 1) % n_;
            if (peer == self_ || !reachable(peer)) continue;
            ++rounds_;
            const auto& tree = tree_of(peer);
            unsigned level = std::min(step, tree.depth());
            std::vector<std::uint64_t> all(std::size_t{1} << level);
            for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
            send(peer, probe_of(tree, level, std::move(all)));
            return;
        }
    }

    /// A peer's hashes: answers with the next level under the nodes that differ, or with this
    /// node's states of the differing buckets. `table` is this node's.
    template <class Table, class Send>
    void on_probe(node_id from, const protocol::tree_probe& p, const Table& table, Send&& send) {
        if (!enabled() || from >= n_ || from == self_) return;
        if (p.depth != options_.tree_depth || p.level > p.depth ||
            p.indices.size() != p.hashes.size())
            return;  // another tree shape (tree_depth differs between nodes), or malformed
        const auto& tree = tree_of(from);
        std::vector<std::uint64_t> differing;
        for (std::size_t i = 0; i < p.indices.size(); ++i) {
            if (p.indices[i] >= (std::uint64_t{1} << p.level)) return;  // not a node of that level
            if (tree.hash(p.level, p.indices[i]) != p.hashes[i]) differing.push_back(p.indices[i]);
        }
        if (differing.empty()) return;
        if (p.level == tree.depth()) {
            send(from, entries_of(from, differing, table, true));
            return;
        }
        truncate(differing, std::max(options_.max_ranges, 1u));
        unsigned down = std::min(step, tree.depth() - p.level);
        std::vector<std::uint64_t> next;
        for (auto d : differing)
            for (auto c = d << down, end = (d + 1) << down; c < end; ++c) next.push_back(c);
        send(from, probe_of(tree, p.level + down, std::move(next)));
    }

    /// This node's states of every key in `buckets` of the tree shared with `peer`, whole
    /// buckets up to about max_entries
    /// states and max_bytes encoded (the first bucket always, so a round makes progress),
    /// starting at a bucket that moves from round to round, so a range that never fits or never
    /// settles does not starve the others.
    template <class Table>
    protocol::tree_entries<Key, State> entries_of(node_id peer, std::vector<std::uint64_t> buckets,
                                                  const Table& table, bool reply_wanted) {
        protocol::tree_entries<Key, State> out;
        out.reply_wanted = reply_wanted;
        if (!enabled() || peer >= n_ || peer == self_) return out;
        const auto& tree = tree_of(peer);
        rotate(buckets);
        std::size_t bytes = 0;
        static thread_local std::vector<std::byte> scratch;
        for (auto b : buckets) {
            if (b >= tree.leaves()) continue;
            const auto& keys = tree.bucket(b);
            std::size_t size = 0;
            for (const auto& e : keys)
                if (const State* s = table.find(e.key)) {
                    scratch.clear();
                    wire::encode(e.key, scratch);
                    wire::encode(*s, scratch);
                    size += scratch.size();
                }
            if (!out.buckets.empty() && (out.entries.size() + keys.size() > options_.max_entries ||
                                         bytes + size > options_.max_bytes))
                break;
            bytes += size;
            out.buckets.push_back(b);
            for (const auto& e : keys)
                if (const State* s = table.find(e.key)) out.entries.emplace_back(e.key, *s);
        }
        return out;
    }

    /// Rounds this node started.
    std::uint64_t rounds() const noexcept { return rounds_; }

    /// The tree compared with `peer` (the one tree unless per peer), if any yet.
    const merkle_tree<Key>* tree(node_id peer) const noexcept {
        if (trees_.empty() || (per_peer_ && (peer >= n_ || peer == self_))) return nullptr;
        const auto& t = trees_[per_peer_ ? peer : 0];
        return t ? &*t : nullptr;
    }

private:
    merkle_tree<Key>& tree_of(node_id peer) {
        auto& t = trees_[per_peer_ ? peer : 0];
        if (!t) t.emplace(options_.tree_depth);
        return *t;
    }

    // Starts `v` at an offset that moves every call (see entries_of).
    void rotate(std::vector<std::uint64_t>& v) {
        if (v.size() > 1)
            std::rotate(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(rotation_ % v.size()),
                        v.end());
        ++rotation_;
    }
    void truncate(std::vector<std::uint64_t>& v, std::size_t most) {
        if (v.size() <= most) return;
        rotate(v);
        v.resize(most);
        std::sort(v.begin(), v.end());
    }

    static protocol::tree_probe probe_of(const merkle_tree<Key>& tree, unsigned level,
                                         std::vector<std::uint64_t> indices) {
        protocol::tree_probe p;
        p.depth = tree.depth();
        p.level = level;
        p.hashes.reserve(indices.size());
        for (auto i : indices) p.hashes.push_back(tree.hash(level, i));
        p.indices = std::move(indices);
        return p;
    }

    static std::uint64_t digest(std::uint64_t kh, const State& s) {
        static thread_local std::vector<std::byte> bytes;
        bytes.clear();
        wire::encode(s, bytes);
        return item_hash(kh, bytes.data(), bytes.size());
    }

    node_id self_;
    unsigned n_;
    anti_entropy_options options_;
    bool per_peer_;
    std::vector<std::optional<merkle_tree<Key>>> trees_;  // one, or one per peer (index: peer)
    std::optional<time_point> next_;
    node_id next_peer_ = 0;
    std::uint64_t rounds_ = 0;
    std::uint64_t rotation_ = 0;
};

/// Stands in for anti_entropy where keys or states cannot be hashed alike in every process:
/// refuses to be switched on, and does nothing.
template <class Key, class State>
class no_anti_entropy {
public:
    no_anti_entropy(node_id, unsigned, const anti_entropy_options& options, bool = false) {
        CAPKIT_ASSERT(options.interval.count() == 0,
                      "anti-entropy is off where keys cannot hash alike (options_error)");
    }
    static constexpr bool enabled() noexcept { return false; }
    void stored(const Key&, const State&, std::span<const node_id> = {}) noexcept {}
    void erased(const Key&, std::span<const node_id> = {}) noexcept {}
    std::optional<time_point> next_round() const noexcept { return std::nullopt; }
    template <class Reachable, class Send>
    void tick(time_point, Reachable&&, Send&&) noexcept {}
    template <class Table, class Send>
    void on_probe(node_id, const protocol::tree_probe&, const Table&, Send&&) noexcept {}
    template <class Table>
    protocol::tree_entries<Key, State> entries_of(node_id, const std::vector<std::uint64_t>&,
                                                  const Table&, bool) {
        return {};
    }
    std::uint64_t rounds() const noexcept { return 0; }
};

/// anti_entropy where the types allow it, else no_anti_entropy.
template <class Key, class State>
using anti_entropy_for = std::conditional_t<anti_entropy_ready<Key, State>,
                                            anti_entropy<Key, State>, no_anti_entropy<Key, State>>;

}  // namespace capkit::detail

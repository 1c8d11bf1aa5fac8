// SPDX-License-Identifier: MIT
/// @file Defines capkit::merkle_tree, a hash tree over a replica's keys that two replicas compare
/// to find, in a few small messages, the key ranges where they differ (anti-entropy).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include <capkit/policy/key_bytes.hpp>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace capkit {

/// The hash of one key's stored state, as the tree keeps it: XXH3-64 of the state's bytes seeded
/// with the key's ring hash, so the same state under two keys hashes apart.
inline std::uint64_t item_hash(std::uint64_t key_hash, const void* state_bytes,
                               std::size_t size) noexcept {
    return XXH3_64bits_withSeed(state_bytes, size, key_hash);
}

/// A Merkle tree of fixed depth D over keys: 2^D leaves ("buckets"), a key in the bucket given by
/// the top D bits of key_hash(key). A leaf's hash is the sum (mod 2^64) of its keys' item hashes,
/// so one key's change updates it in O(1) without the other keys; an inner node's hash is XXH3
/// of its two children, recomputed lazily when read. Two replicas holding the same states have
/// equal trees; a differing subtree names the buckets to stream. Positions are the same in every
/// process (key_hash is fixed), which the comparison needs.
///
/// Level 0 is the root, level D the leaves; node i of level l covers buckets
/// [i << (D - l), (i + 1) << (D - l)).
template <class Key>
requires ring_key<Key>
class merkle_tree {
public:
    struct entry {
        Key key;
        std::uint64_t hash;
    };

    /// A tree of 2^depth leaves (depth at most 24: 16 M leaves is already 256 MiB of hashes).
    explicit merkle_tree(unsigned depth = 10)
        : depth_(depth),
          nodes_(std::size_t{2} << check(depth), 0),
          dirty_(std::size_t{1} << depth, 0),
          buckets_(std::size_t{1} << depth) {}

    unsigned depth() const noexcept { return depth_; }
    std::size_t leaves() const noexcept { return buckets_.size(); }
    /// How many keys the tree holds.
    std::size_t size() const noexcept { return size_; }

    /// The bucket of a key hash: its top `depth` bits.
    std::size_t bucket_of(std::uint64_t key_hash) const noexcept {
        return depth_ == 0 ? 0 : static_cast<std::size_t>(key_hash >> (64 - depth_));
    }

    /// Sets `key`'s item hash (its ring hash is `kh`), adding the key if new.
    void set(const Key& key, std::uint64_t kh, std::uint64_t hash) {
        auto b = bucket_of(kh);
        auto& bucket = buckets_[b];
        for (auto& e : bucket)
            if (e.key == key) {
                if (e.hash == hash) return;
                adjust(b, hash - e.hash);
                e.hash = hash;
                return;
            }
        bucket.push_back({key, hash});
        ++size_;
        adjust(b, hash);
    }

    /// Removes `key` (its ring hash is `kh`); false if it was not there.
    bool erase(const Key& key, std::uint64_t kh) {
        auto b = bucket_of(kh);
        auto& bucket = buckets_[b];
        for (auto& e : bucket)
            if (e.key == key) {
                adjust(b, std::uint64_t{0} - e.hash);
                e = std::move(bucket.back());
                bucket.pop_back();
                --size_;
                return true;
            }
        return false;
    }

    /// The hash of node `index` of `level` (0: root, depth(): a leaf); 0 for an empty subtree.
    std::uint64_t hash(unsigned level, std::size_t index) const {
        if (level > depth_ || index >= (std::size_t{1} << level))
            throw std::out_of_range("capkit::merkle_tree::hash: no such node");
        return refresh((std::size_t{1} << level) + index);
    }

    /// The keys of bucket `b`, with their item hashes.
    const std::vector<entry>& bucket(std::size_t b) const { return buckets_.at(b); }

    /// Every key whose bucket lies under node `index` of `level`: f(entry).
    template <class F>
    void for_each_under(unsigned level, std::size_t index, F&& f) const {
        if (level > depth_ || index >= (std::size_t{1} << level))
            throw std::out_of_range("capkit::merkle_tree::for_each_under: no such node");
        auto shift = depth_ - level;
        for (auto b = index << shift, end = (index + 1) << shift; b < end; ++b)
            for (const auto& e : buckets_[b]) f(e);
    }

    /// The indices at `level + step` of the children of node `index` at `level`.
    static std::pair<std::size_t, std::size_t> children(std::size_t index, unsigned step) noexcept {
        return {index << step, (index + 1) << step};
    }

private:
    static unsigned check(unsigned depth) {
        if (depth > 24)
            throw std::invalid_argument(
                "capkit::merkle_tree: depth above 24 (16 M leaves, 256 MiB of hashes); choose "
                "about log2(keys / 16)");
        return depth;
    }

    // Adds `delta` to leaf b's sum and marks its ancestors for recomputation.
    void adjust(std::size_t b, std::uint64_t delta) {
        std::size_t at = (std::size_t{1} << depth_) + b;
        nodes_[at] += delta;
        for (at >>= 1; at >= 1 && !dirty_[at]; at >>= 1) dirty_[at] = 1;
    }

    // Heap order: node 1 is the root, node i's children are 2i and 2i + 1, leaves from 2^D.
    std::uint64_t refresh(std::size_t at) const {
        if (at >= buckets_.size() || !dirty_[at]) return nodes_[at];
        std::uint64_t kids[2] = {refresh(2 * at), refresh(2 * at + 1)};
        nodes_[at] = kids[0] == 0 && kids[1] == 0 ? 0 : XXH3_64bits(kids, sizeof kids);
        dirty_[at] = 0;
        return nodes_[at];
    }

    unsigned depth_;
    mutable std::vector<std::uint64_t> nodes_;  // 2^(D+1): index 0 unused
    mutable std::vector<std::uint8_t> dirty_;   // inner nodes 1 .. 2^D - 1
    std::vector<std::vector<entry>> buckets_;
    std::size_t size_ = 0;
};

}  // namespace capkit

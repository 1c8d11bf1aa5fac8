// SPDX-License-Identifier: MIT
/// @file Defines what replicas return to clients, their options and their counters.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <capkit/error.hpp>

namespace capkit {

/// What a read returns: the values (none when the key is absent or deleted; several siblings
/// under vector_clocks and dvv) and the causal context a later write passes back.
template <class Value, class Context>
struct read_result {
    std::vector<Value> values;
    Context context{};
    bool found() const noexcept { return !values.empty(); }
};

/// What an acknowledged write returns: the causal context that covers it.
template <class Context>
struct write_result {
    Context context{};
};

/// Settings of a replica that are not part of its type.
/// Anti-entropy: every `interval`, a replica compares its Merkle tree (capkit::merkle_tree) with
/// the next reachable peer's and the two exchange the states of the keys in the buckets where
/// they differ, joined through the resolver, so replicas converge on keys nobody reads. Eventual,
/// strong and linearizable replicas; a serial (Paxos) replica ignores it (docs/protocol.md).
struct anti_entropy_options {
    /// Time between two rounds started by one replica; zero turns anti-entropy off (no tree is
    /// kept, nothing is hashed).
    std::chrono::nanoseconds interval{0};
    /// 2^depth buckets: about log2(keys / 16) keeps buckets small. On a hash_ring a node keeps
    /// a tree per peer, over the keys the two own together (fewer keys, more trees).
    unsigned tree_depth = 10;
    /// Bandwidth bound per message: differing subtrees followed further (each brings 16 hashes).
    unsigned max_ranges = 64;
    /// Bandwidth bound per message: key states streamed (whole buckets; at least one bucket).
    std::size_t max_entries = 1024;
    /// Bandwidth bound per message: encoded bytes of the states streamed, well under the TCP
    /// transport's queue (8 MiB) and frame (16 MiB) limits. A round is one chain of at most
    /// ceil(depth / 4) probes and two entries messages, so it moves at most
    /// ceil(depth / 4) * max_ranges * 256 bytes of hashes and 2 * max_bytes of states.
    std::size_t max_bytes = std::size_t{4} << 20;
};

/// Tombstone collection (eventual, strong, linearizable replicas): a deletion's tombstone is
/// erased once it is older than `grace` on the collecting node and every one of the key's N
/// owners has voted that it holds exactly that tombstone (protocol/tombstone_gc.hpp).
struct tombstone_gc_options {
    /// Zero keeps tombstones for ever (the default). Must exceed the longest a message, hint or
    /// retried write of the deleted value can stay in flight (Cassandra's gc_grace_seconds).
    std::chrono::nanoseconds grace{0};
    /// Collection rounds one node starts per period (grace / 4).
    std::size_t max_keys_per_round = 256;
};

/// Hinted handoff (capkit::sloppy): how many hints a coordinator keeps and for how long. A hint
/// beyond either bound is dropped and counted (replica_stats::hints_dropped); the replica it was
/// for then catches up through read repair and anti-entropy instead.
struct hint_options {
    std::size_t max_hints = 100'000;                                  ///< per node, all replicas
    std::chrono::nanoseconds max_age = std::chrono::hours(3);         ///< Cassandra's hint window
    std::chrono::nanoseconds retry = std::chrono::milliseconds(200);  ///< between handoff tries
};

/// Group commit: a replica's writes are made durable together (its table's sync(), one fsync),
/// and nothing the replica says meanwhile (replies, acknowledgements, client completions) leaves
/// it before, so no acknowledgement promises what a crash could take back. The replica only
/// holds its output back; its driver (capkit::node) runs the sync, outside the replica's steps,
/// and then lets the output go (docs/storage.md). Off by default: the table's own sync policy
/// then decides.
struct group_commit_options {
    /// How long a group gathers writes after its first before the driver syncs it. Setting it
    /// turns group commit on.
    std::chrono::nanoseconds window{0};
    /// Group commit with no window: the driver syncs once the step that wrote is over, and
    /// the writes of the steps run meanwhile form the next group (etcd's Ready and Advance).
    bool on = false;

    bool active() const noexcept { return on || window.count() > 0; }
};

/// When a replica that starts on an empty store catches up from its peers before it counts
/// toward a quorum (docs/protocol.md, "Amnesia"). Only under the levels that promise overlapping
/// quorums (strong, linearizable, serial); eventual replicas serve at once.
enum class catch_up_when : std::uint8_t {
    /// When its incarnation is above 0: a restart that kept nothing (the default).
    after_restart,
    /// Whenever it starts empty: for a process that cannot tell its first start from a restart
    /// without its data (capkit-kv). A new cluster then serves once every node has started.
    always,
    /// Never: it serves at once, whatever it forgot.
    never,
};

/// Catching up after a restart without data.
struct catch_up_options {
    catch_up_when when = catch_up_when::after_restart;
    /// Bandwidth bound per page: states (whole key hashes; at least one).
    std::size_t max_entries = 1024;
    /// Bandwidth bound per page: encoded bytes of the states, as anti-entropy's.
    std::size_t max_bytes = std::size_t{4} << 20;
};

struct replica_options {
    /// How long a request may wait for its quorum before it fails.
    std::chrono::nanoseconds request_timeout = std::chrono::seconds(1);
    /// How far ahead of local time a peer's timestamp may be before the clock ignores it.
    std::chrono::nanoseconds max_clock_offset = std::chrono::milliseconds(500);
    /// serial: Paxos rounds a request may start when other proposers keep winning. With the
    /// doubling backoff below, eight rounds wait up to about 254 ms in all: three proposers
    /// retrying one hot key together (a cluster healing, say) rarely lose eight in a row, while
    /// five (30 ms of backoff) lost on loopback under capkit-kv's partition test.
    unsigned max_attempts = 8;
    /// serial: the first retry waits a random time below this; each retry doubles it.
    std::chrono::nanoseconds backoff = std::chrono::milliseconds(2);
    /// serial: seeds the random backoff (mixed with the node id), so runs replay exactly.
    std::uint64_t seed = 0;
    /// How many times this node has restarted. Request ids of each incarnation start above every
    /// id an earlier one used, so a reply addressed to a request of the crashed process cannot be
    /// taken for one of the new.
    std::uint32_t incarnation = 0;
    /// Periodic Merkle-tree anti-entropy; off unless its interval is set.
    anti_entropy_options anti_entropy{};
    /// Collection of tombstones; off (kept for ever) unless its grace period is set.
    tombstone_gc_options tombstone_gc{};
    /// Hinted handoff's bounds (configurations with capkit::sloppy).
    hint_options hints{};
    /// Group commit (off unless its window is set).
    group_commit_options group_commit{};
    /// capkit::hash_ring placement: M, the cluster's nodes 0 .. M-1 (0: N). With all_nodes it
    /// must stay 0 (or N).
    unsigned cluster_size = 0;
    /// Client requests a node coordinates at once, waiting for their quorum; one more fails at
    /// once with errc::overloaded (no effect, nothing sent). Bounds the memory a burst of
    /// requests to an unreachable or slow quorum can take. Internal rounds are not counted.
    std::size_t max_pending = 65536;
    /// What a replica that restarts without its data does before it serves.
    catch_up_options catch_up{};
};

namespace detail {
/// The first request sequence number of an incarnation: 2^40 ids apiece.
constexpr std::uint64_t first_sequence(std::uint32_t incarnation) noexcept {
    return (std::uint64_t{incarnation} << 40) + 1;
}
}  // namespace detail

/// Counters a replica keeps about itself.
struct replica_stats {
    std::uint64_t requests = 0;             ///< client requests coordinated here
    std::uint64_t unavailable = 0;          ///< refused: too few replicas reachable or answering
    std::uint64_t overloaded = 0;           ///< refused: max_pending requests were waiting
    std::uint64_t timeouts = 0;             ///< writes whose quorum was not confirmed in time
    std::uint64_t read_repairs = 0;         ///< repair messages sent to stale replicas
    std::uint64_t clock_refusals = 0;       ///< peer timestamps too far ahead to follow
    std::uint64_t anti_entropy_rounds = 0;  ///< Merkle comparisons this replica started
    std::uint64_t anti_entropy_keys = 0;    ///< keys whose state anti-entropy changed here
    std::uint64_t tombstones_purged = 0;    ///< tombstones this replica erased
    std::uint64_t hints_stored = 0;         ///< writes kept for an unreachable replica
    std::uint64_t hints_delivered = 0;      ///< hints the replica acknowledged
    std::uint64_t hints_dropped = 0;        ///< hints beyond max_hints or max_age
    std::uint64_t retries = 0;         ///< serial: rounds restarted after losing to a higher ballot
    std::uint64_t erased = 0;          ///< serial: deleted keys whose registers were collected
    std::uint64_t group_syncs = 0;     ///< group commit: syncs, each releasing what waited for it
    std::uint64_t recovering = 0;      ///< refused: this node was catching up after an amnesia
    std::uint64_t catch_up_keys = 0;   ///< states fetched from peers while catching up
    std::uint64_t epoch_refusals = 0;  ///< requests from an older configuration, answered with ours
    std::uint64_t epoch_waits = 0;     ///< requests from a newer configuration, held until learned
    std::uint64_t not_a_member = 0;    ///< refused: this node is not in its configuration
    std::uint64_t stream_keys = 0;     ///< states fetched for the keys a change gave this node
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines the capkit::replica_machine concept: what a driver (capkit::node, a simulated
/// cluster, capkit-kv) needs of a replica state machine, and the laws both replicas keep.
#pragma once

#include <concepts>
#include <cstdint>
#include <functional>
#include <optional>
#include <ranges>

#include <capkit/node_id.hpp>
#include <capkit/time.hpp>

namespace capkit {

/// A replica state machine in the manner of etcd's raft package: fed messages, reachability and
/// the time; it hands back the messages to send, the client completions to run and when it next
/// needs a tick. Models: quorum_replica, paxos_replica (checked where each is defined).
/// Laws, which the drivers rely on and the tests check:
/// - Sans-I/O: no call reads a clock, blocks, sleeps, touches a socket or a disk outside its
///   storage table, or starts a thread; time comes only as `now`.
/// - Deterministic: the same calls with the same arguments, from the same state, give the same
///   messages (in the same order), completions and deadlines. Nothing depends on hash-map order
///   or on addresses.
/// - Not re-entrant: no call runs a completion or delivers a message. A driver takes messages
///   and completions after each call and runs the completions itself, so a completion may call
///   the replica again.
/// - Every message type is handled: each alternative of `message` has its own handler, so a new
///   type without one does not compile (detail::dispatch).
/// - Bounded: at most replica_options::max_pending client requests wait at once; one more fails
///   at once with errc::overloaded.
/// - next_deadline() is when tick() must next be called (none: nothing waits on time); ticking
///   earlier is harmless, later only delays timeouts.
/// - Persistence is the driver's (etcd's Ready and Advance): under replica_options::group_commit
///   nothing queued after a write leaves until the driver has synced storage() for the ticket
///   begin_persist() gave and called persisted() with it; messages queued before the write, and
///   messages to itself, are not held. Without group commit must_persist() stays false.
template <class R>
concept replica_machine = requires(R& r, const R& cr, node_id peer, typename R::message m,
                                   time_point now) {
    typename R::message;
    typename R::config;
    { cr.id() } -> std::same_as<node_id>;
    r.receive(peer, std::move(m), now);
    r.tick(now);
    { cr.next_deadline() } -> std::same_as<std::optional<time_point>>;
    { r.take_messages() } -> std::ranges::range;
    { r.take_completions() } -> std::ranges::range;
    r.set_reachable(peer, true);
    { cr.reachable(peer) } -> std::convertible_to<bool>;
    { cr.must_persist() } -> std::same_as<bool>;
    { r.begin_persist() } -> std::same_as<std::optional<std::uint64_t>>;
    r.persisted(std::uint64_t{});
    r.storage();
};

}  // namespace capkit

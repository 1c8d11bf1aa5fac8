// SPDX-License-Identifier: MIT
/// @file Defines the capkit::transport concept: how nodes exchange messages and learn the time.
#pragma once

#include <concepts>
#include <functional>
#include <utility>

#include <capkit/node_id.hpp>

namespace capkit {

/// What became of a message handed to a transport. Sending never blocks: a full queue is
/// reported, not hidden. `sent` promises nothing about delivery (a cut link drops silently, as a
/// real network does).
enum class send_status { sent, queue_full, unknown_node };

/// Carries protocol messages between nodes, tells them the time, and wakes them at a deadline.
/// A node attaches a receiver (called with the sender and the message) and a waker (called once
/// the time it asked for has come); `wake(node, at)` asks for a call at `at`, replacing the
/// node's earlier request, and `time_point::max()` cancels it.
/// Models: in_memory (moves Message objects in one process), sim (a deterministic simulated
/// network on virtual time, with faults); tcp to come.
template <class T, class Message>
concept transport = requires(T& t, node_id from, node_id to, Message m, typename T::time_point at,
                             std::function<void(node_id, Message&&)> receiver,
                             std::function<void()> waker) {
    { t.send(from, to, std::move(m)) } -> std::same_as<send_status>;  // never blocks
    { t.now() } -> std::same_as<typename T::time_point>;
    t.wake(to, at);
    t.attach(to, std::move(receiver), std::move(waker));
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines the capkit::transport concept: how nodes exchange messages and learn the time.
#pragma once

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

#include <capkit/node_id.hpp>
#include <capkit/time.hpp>

namespace capkit {

/// What became of a message handed to a transport. Sending never blocks: a full queue is
/// reported, not hidden. `sent` promises nothing about delivery (a cut link drops silently, as a
/// real network does).
enum class send_status { sent, queue_full, unknown_node };

/// Carries protocol messages between nodes, tells them the time, and wakes them at a deadline.
/// What capkit::node relies on (docs/transport.md shows a transport written from scratch):
/// - `attach(node, receiver, waker)`: from then on, messages for `node` go to
///   `receiver(from, message)` and its wake-ups to `waker()`, both called on the thread (or
///   strand) that drives the node, never inside a call the node is making.
/// - `send(from, to, message)` never blocks and never delivers before it returns: the receiver
///   runs later, from the transport's own loop (a node sends from inside its own handlers).
///   It reports queue_full or unknown_node instead of waiting; `sent` promises no delivery.
/// - `now()` is a capkit::time_point: nanoseconds since an epoch all nodes share (the Unix
///   epoch when they run in different processes: hybrid logical clocks compare stamps across
///   machines). Optional `now(node)`: a clock per node (the simulator's skew); node prefers it.
/// - `wake(node, at)` asks for one waker call once `now()` reaches `at`, replacing the node's
///   earlier request; `time_point::max()` cancels it.
/// - Optional `detach(node)`: forgets the node's callbacks. A node calls it from its destructor
///   so that nothing reaches a destroyed object. Without it, no node may be destroyed while the
///   transport can still call it (every transport of capkit's has it).
/// Models: in_memory (moves Message objects in one process), sim (a deterministic simulated
/// network on virtual time, with faults), tcp_transport and its TLS form (Boost.Asio, encodes
/// messages with capkit::wire).
template <class T, class Message>
concept transport = requires(T& t, node_id from, node_id to, Message m, typename T::time_point at,
                             std::function<void(node_id, Message&&)> receiver,
                             std::function<void()> waker) {
    requires std::same_as<typename T::time_point, capkit::time_point>;
    { t.send(from, to, std::move(m)) } -> std::same_as<send_status>;  // never blocks
    { t.now() } -> std::same_as<typename T::time_point>;
    t.wake(to, at);
    t.attach(to, std::move(receiver), std::move(waker));
};

namespace detail {

/// True once every requirement of capkit::transport holds; each one missed is its own sentence,
/// so a class template taking a transport (capkit::node) fails on ours first, not 50 KB into its
/// body. A wrong time_point is reported alone: the checks of now() and wake() would only repeat it.
/// `Replica` is the node's replica type (its `message` is what travels); named instead of the
/// message so that the diagnostics stay short.
template <class T, class Replica>
constexpr bool check_transport() {
    using Message = typename Replica::message;
    constexpr bool has_time_point = requires {
        typename T::time_point;
    };
    static_assert(has_time_point,
                  "capkit::transport: the transport has no time_point type; declare "
                  "`using time_point = capkit::time_point;` (nanoseconds since an epoch every "
                  "node shares)");
    if constexpr (has_time_point) {
        constexpr bool right_time = std::is_same_v<typename T::time_point, capkit::time_point>;
        static_assert(right_time,
                      "capkit::transport: the transport's time_point must be capkit::time_point "
                      "(std::chrono::nanoseconds since an epoch every node shares); convert your "
                      "clock's time, e.g. duration_cast<capkit::time_point>(clock::now()."
                      "time_since_epoch())");
        if constexpr (right_time) {
            constexpr bool sends = requires(T & t, node_id a, Message m) {
                { t.send(a, a, std::move(m)) } -> std::same_as<send_status>;
            };
            static_assert(sends,
                          "capkit::transport: the transport needs `capkit::send_status "
                          "send(node_id from, node_id to, Message m)`, which never blocks and "
                          "never delivers before it returns");
            constexpr bool tells_time = requires(T & t) {
                { t.now() } -> std::same_as<capkit::time_point>;
            };
            static_assert(tells_time,
                          "capkit::transport: the transport needs `capkit::time_point now()`");
            constexpr bool wakes = requires(T & t, node_id a, capkit::time_point at) {
                t.wake(a, at);
            };
            static_assert(wakes,
                          "capkit::transport: the transport needs `void wake(node_id node, "
                          "capkit::time_point at)`: one waker call at `at`, time_point::max() "
                          "cancels");
            constexpr bool attaches =
                requires(T & t, node_id a, std::function<void(node_id, Message &&)> receiver,
                         std::function<void()> waker) {
                t.attach(a, std::move(receiver), std::move(waker));
            };
            static_assert(attaches,
                          "capkit::transport: the transport needs `void attach(node_id node, "
                          "std::function<void(node_id, Message&&)> receiver, "
                          "std::function<void()> waker)`");
        }
    }
    return transport<T, Message>;
}

}  // namespace detail
}  // namespace capkit

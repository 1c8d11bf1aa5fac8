// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::dispatch: a message variant handed to the one handler of its type,
/// with a handler required for every type at compile time.
#pragma once

#include <type_traits>
#include <utility>
#include <variant>

#include <capkit/node_id.hpp>
#include <capkit/time.hpp>

namespace capkit::detail {

// Instantiated with the message type that has no handler, so the compiler's "required from" note
// names it right under the sentence.
template <class Message, bool Handled>
struct message_handler_check {
    static_assert(Handled,
                  "capkit: a message type of the replica's message variant has no handler (its "
                  "type is named below); give the replica an on(node_id, M&&, time_point) "
                  "overload for it, as every message a peer can send must be handled.");
    static constexpr bool valid = true;
};

/// Calls `handle(from, std::move(alternative), now)` for the alternative `m` holds. `handle` is a
/// set of overloads, one per message type, with no catch-all: every alternative must have one,
/// or the code does not compile (a new message type cannot be silently dropped or mistaken for
/// another).
template <class Handle, class... Messages>
void dispatch(Handle&& handle, node_id from, std::variant<Messages...>&& m, time_point now) {
    static_assert(
        (message_handler_check<
             Messages, std::is_invocable_v<Handle&, node_id, Messages&&, time_point>>::valid &&
         ...));
    if constexpr ((std::is_invocable_v<Handle&, node_id, Messages&&, time_point> && ...)) {
        std::visit([&](auto&& msg) { handle(from, std::move(msg), now); }, std::move(m));
    }
}

}  // namespace capkit::detail

// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::replica_io, the input and output every replica type shares.
#pragma once

#include <array>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include <capkit/node_id.hpp>

namespace capkit::detail {

/// What a sans-I/O replica hands out and keeps about its peers: messages for other nodes,
/// messages to itself (queued, and handed back after the step that made them, never
/// re-entrantly), client completions to run, and which of the N peers it believes reachable.
template <class Message, unsigned N>
class replica_io {
public:
    /// A message for node `to`.
    struct outgoing {
        node_id to;
        Message m;
    };

    explicit replica_io(node_id self) : self_(self) { reachable_.fill(true); }

    node_id self() const noexcept { return self_; }

    /// Queues `m` for `to`; a message to this node stays here for drain_local.
    void send(node_id to, Message m) {
        if (to == self_) {
            local_.emplace_back(std::move(m));
        } else {
            outbox_.push_back({to, std::move(m)});
        }
    }

    /// Hands every message this node sent itself to `handle(from, message&&)`, including those
    /// that handling sends.
    template <class Handle>
    void drain_local(Handle&& handle) {
        while (!local_.empty()) {
            Message m = std::move(local_.front());
            local_.pop_front();
            handle(self_, std::move(m));
        }
    }

    std::vector<outgoing> take_messages() { return std::exchange(outbox_, {}); }

    /// Hands each message to `f(to, message&&)`, keeping the buffer's capacity. `f` must not
    /// feed this replica (transports queue, never deliver inside send).
    template <class F>
    void drain_messages(F&& f) {
        for (auto& out : outbox_) f(out.to, std::move(out.m));
        outbox_.clear();
    }

    /// Owes the client `done` (run later by whoever drives the replica).
    void complete(std::function<void()> done) { done_.push_back(std::move(done)); }
    std::vector<std::function<void()>> take_completions() { return std::exchange(done_, {}); }

    void set_reachable(node_id peer, bool reachable) {
        if (peer < N) reachable_[peer] = reachable;
    }
    bool reachable(node_id peer) const { return peer == self_ || (peer < N && reachable_[peer]); }

private:
    node_id self_;
    std::vector<outgoing> outbox_;
    std::deque<Message> local_;
    std::vector<std::function<void()>> done_;
    std::array<bool, N> reachable_{};
};

}  // namespace capkit::detail

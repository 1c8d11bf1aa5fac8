// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::replica_io, the input and output every replica type shares.
#pragma once

#include <array>
#include <cstddef>
#include <deque>
#include <functional>
#include <iterator>
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

    std::vector<outgoing> take_messages() {
        if (!held_) {
            free_messages_ = 0;
            return std::exchange(outbox_, {});
        }
        std::vector<outgoing> out(std::make_move_iterator(outbox_.begin()),
                                  std::make_move_iterator(outbox_.begin() + free_messages_));
        outbox_.erase(outbox_.begin(), outbox_.begin() + free_messages_);
        free_messages_ = 0;
        return out;
    }

    /// Hands each message to `f(to, message&&)`, keeping the buffer's capacity. `f` must not
    /// feed this replica (transports queue, never deliver inside send).
    template <class F>
    void drain_messages(F&& f) {
        if (held_) {
            for (std::size_t i = 0; i < free_messages_; ++i)
                f(outbox_[i].to, std::move(outbox_[i].m));
            outbox_.erase(outbox_.begin(), outbox_.begin() + free_messages_);
            free_messages_ = 0;
            return;
        }
        for (auto& out : outbox_) f(out.to, std::move(out.m));
        outbox_.clear();
        free_messages_ = 0;
    }

    /// Owes the client `done` (run later by whoever drives the replica).
    void complete(std::function<void()> done) { done_.push_back(std::move(done)); }
    std::vector<std::function<void()>> take_completions() {
        if (!held_) {
            free_completions_ = 0;
            return std::exchange(done_, {});
        }
        std::vector<std::function<void()>> out(
            std::make_move_iterator(done_.begin()),
            std::make_move_iterator(done_.begin() + free_completions_));
        done_.erase(done_.begin(), done_.begin() + free_completions_);
        free_completions_ = 0;
        return out;
    }

    /// Keeps the messages and completions queued from now on (and those queued since the last
    /// take) in this node until release() (group commit: until what they acknowledge is
    /// durable). Messages to itself still go round.
    void hold() noexcept { held_ = true; }
    /// Lets out everything queued so far, even if the same step holds again afterwards.
    void release() noexcept {
        held_ = false;
        free_messages_ = outbox_.size();
        free_completions_ = done_.size();
    }

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
    bool held_ = false;
    // While held: how many of the first messages and completions a release let out already.
    std::size_t free_messages_ = 0, free_completions_ = 0;
};

}  // namespace capkit::detail

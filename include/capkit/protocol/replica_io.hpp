// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::replica_io, the input and output every replica type shares.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include <capkit/assert.hpp>

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
        const std::size_t n = free_messages();
        std::vector<outgoing> out(std::make_move_iterator(outbox_.begin()),
                                  std::make_move_iterator(outbox_.begin() + n));
        outbox_.erase(outbox_.begin(), outbox_.begin() + n);
        taken_messages_ += n;
        return out;
    }

    /// Hands each message to `f(to, message&&)`, keeping the buffer's capacity. `f` must not
    /// feed this replica (transports queue, never deliver inside send).
    template <class F>
    void drain_messages(F&& f) {
        const std::size_t n = free_messages();
        for (std::size_t i = 0; i < n; ++i) f(outbox_[i].to, std::move(outbox_[i].m));
        outbox_.erase(outbox_.begin(), outbox_.begin() + n);
        taken_messages_ += n;
    }

    /// Owes the client `done` (run later by whoever drives the replica).
    void complete(std::function<void()> done) { done_.push_back(std::move(done)); }
    std::vector<std::function<void()>> take_completions() {
        const std::size_t n = free_completions();
        std::vector<std::function<void()>> out(std::make_move_iterator(done_.begin()),
                                               std::make_move_iterator(done_.begin() + n));
        done_.erase(done_.begin(), done_.begin() + n);
        taken_completions_ += n;
        return out;
    }

    // Persistence by the driver (etcd/raft's Ready and Advance). A write to the table joins the
    // open group; the driver takes the group (begin_persist), makes the table durable, and says
    // so (persisted). Everything queued from a group's first write on (replies, acknowledgements,
    // completions, and what later steps queue: a read could show the write) waits until that
    // group is persisted, so nothing leaves the node that a crash could take back. Messages to
    // itself still go round.

    /// The step wrote to the table: the write joins the open group (opening one).
    void wrote() {
        if (!groups_.empty() && groups_.back().ticket == 0) return;
        groups_.push_back({0, taken_messages_ + outbox_.size(), taken_completions_ + done_.size()});
    }
    /// True when writes wait for a begin_persist().
    bool must_persist() const noexcept { return !groups_.empty() && groups_.back().ticket == 0; }
    /// Closes the open group and names it: the driver syncs the table, then calls persisted()
    /// with the ticket. Empty when no write waits.
    std::optional<std::uint64_t> begin_persist() {
        if (!must_persist()) return std::nullopt;
        groups_.back().ticket = ++last_ticket_;
        return last_ticket_;
    }
    /// Everything the groups up to `ticket` hold back may leave.
    void persisted(std::uint64_t ticket) {
        CAPKIT_ASSERT(ticket <= last_ticket_, "persisted() names a ticket begin_persist() gave");
        while (!groups_.empty() && groups_.front().ticket != 0 && groups_.front().ticket <= ticket)
            groups_.pop_front();
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
    // A group of writes not yet persisted: its ticket (0 while open) and where, counted from the
    // replica's first message and completion, the output it holds back starts.
    struct group {
        std::uint64_t ticket;
        std::uint64_t first_message, first_completion;
    };
    std::deque<group> groups_;
    std::uint64_t last_ticket_ = 0;
    std::uint64_t taken_messages_ = 0, taken_completions_ = 0;

    std::size_t free_messages() const noexcept {
        if (groups_.empty()) return outbox_.size();
        return static_cast<std::size_t>(groups_.front().first_message - taken_messages_);
    }
    std::size_t free_completions() const noexcept {
        if (groups_.empty()) return done_.size();
        return static_cast<std::size_t>(groups_.front().first_completion - taken_completions_);
    }
};

}  // namespace capkit::detail

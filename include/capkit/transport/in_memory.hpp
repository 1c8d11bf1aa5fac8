// SPDX-License-Identifier: MIT
/// @file Defines capkit::in_memory, a transport between nodes of one process.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <capkit/detail/random.hpp>
#include <capkit/node_id.hpp>
#include <capkit/time.hpp>
#include <capkit/transport/transport.hpp>

namespace capkit {

/// How an in_memory transport tells time.
enum class time_source {
    /// Time stands still while messages flow and jumps to the next wake-up when none are left:
    /// deterministic, and a timeout costs no waiting. The default.
    virtual_time,
    /// std::chrono::steady_clock; idle waits really sleep.
    steady,
};

/// Moves messages between nodes of one process in FIFO order, with no serialization. Links can
/// be cut (one way or both) to partition the cluster without the simulator; a message on a cut
/// link is dropped, as a real network would lose it. Delivery order is FIFO, or drawn from a seed
/// (reorder). Single-threaded: step() and run() deliver.
template <class Message>
class in_memory {
public:
    using time_point = capkit::time_point;

    explicit in_memory(time_source source = time_source::virtual_time,
                       std::size_t max_queue = 1 << 20)
        : source_(source), max_queue_(max_queue), start_(std::chrono::steady_clock::now()) {}

    /// Delivers `node`'s messages to `receiver` and its wake-ups to `waker` until it detaches.
    void attach(node_id node, std::function<void(node_id, Message&&)> receiver,
                std::function<void()> waker) {
        nodes_[node] = endpoint{std::move(receiver), std::move(waker), std::nullopt};
    }

    /// Forgets `node`'s receiver and waker (the object behind them is gone): its wake-up is
    /// cancelled, sends to it are refused as unknown_node, and messages on their way to it are
    /// dropped when their turn comes, until something attaches under its id again (a restart:
    /// what is still on its way then reaches the new process, as on a real network).
    /// Call it between steps, not from inside that node's own receiver or waker.
    void detach(node_id node) { nodes_.erase(node); }

    send_status send(node_id from, node_id to, Message m) {
        if (!nodes_.contains(to)) return send_status::unknown_node;
        if (queue_.size() >= max_queue_) return send_status::queue_full;
        if (is_cut(from, to)) {
            ++dropped_;
            return send_status::sent;  // lost on the way, unknown to the sender
        }
        queue_.push_back({from, to, std::move(m)});
        return send_status::sent;
    }

    time_point now() const {
        if (source_ == time_source::virtual_time) return virtual_now_;
        return std::chrono::duration_cast<time_point>(std::chrono::steady_clock::now() - start_);
    }

    void wake(node_id node, time_point at) {
        auto it = nodes_.find(node);
        if (it == nodes_.end()) return;
        if (at == time_point::max()) {
            it->second.wake_at.reset();
        } else {
            it->second.wake_at = at;
        }
    }

    /// Delivers one message, or else fires the earliest due wake-up (advancing virtual time to
    /// it, or sleeping until it on the steady clock). False when there is nothing left to do.
    bool step() {
        if (!queue_.empty()) {
            if (order_) {  // bring the drawn message to the front
                auto pick = static_cast<std::size_t>(order_->below(queue_.size()));
                if (pick != 0) std::swap(queue_.front(), queue_[pick]);
            }
            auto env = std::move(queue_.front());
            queue_.pop_front();
            // A link cut while the message was in flight loses it too, and so does a receiver
            // that detached since it was sent.
            auto to = nodes_.find(env.to);
            if (is_cut(env.from, env.to) || to == nodes_.end()) {
                ++dropped_;
                return true;
            }
            ++delivered_;
            to->second.receiver(env.from, std::move(env.m));
            return true;
        }
        auto next = std::ranges::min_element(nodes_, {}, [](const auto& kv) {
            return kv.second.wake_at.value_or(time_point::max());
        });
        if (next == nodes_.end() || !next->second.wake_at) return false;
        auto at = *next->second.wake_at;
        if (source_ == time_source::virtual_time) {
            virtual_now_ = std::max(virtual_now_, at);
        } else if (at > now()) {
            std::this_thread::sleep_for(at - now());
        }
        next->second.wake_at.reset();
        next->second.waker();
        return true;
    }

    /// Steps until `done()` holds or nothing is left to do; returns done().
    template <class Pred>
    bool run_until(Pred done) {
        while (!done())
            if (!step()) return done();
        return true;
    }

    /// Steps until no message and no wake-up is left.
    void run() {
        while (step()) {
        }
    }

    /// Moves virtual time forward by `d` (no-op on the steady clock).
    void advance(std::chrono::nanoseconds d) {
        if (source_ == time_source::virtual_time) virtual_now_ += d;
    }

    /// Delivers queued messages in an order drawn from `seed` instead of FIFO, so a test can
    /// explore interleavings; the same seed gives the same order.
    void reorder(std::uint64_t seed) { order_.emplace(seed); }

    /// Stops messages from `from` reaching `to` (one way).
    void cut_one_way(node_id from, node_id to) { cut_.insert({from, to}); }
    /// Stops messages between `a` and `b` both ways.
    void cut(node_id a, node_id b) {
        cut_one_way(a, b);
        cut_one_way(b, a);
    }
    /// Splits the attached nodes into groups that cannot reach each other.
    void partition(const std::vector<std::vector<node_id>>& groups) {
        auto group_of = [&](node_id n) -> std::ptrdiff_t {
            for (std::size_t g = 0; g < groups.size(); ++g)
                if (std::ranges::find(groups[g], n) != groups[g].end()) return std::ptrdiff_t(g);
            return -1;  // a node in no group is isolated
        };
        for (const auto& [a, ea] : nodes_)
            for (const auto& [b, eb] : nodes_)
                if (a != b && (group_of(a) != group_of(b) || group_of(a) < 0)) cut_one_way(a, b);
    }
    /// Restores every link.
    void heal() { cut_.clear(); }
    /// True when messages from `from` reach `to`.
    bool linked(node_id from, node_id to) const { return !is_cut(from, to); }

    std::size_t delivered() const noexcept { return delivered_; }
    std::size_t dropped() const noexcept { return dropped_; }
    std::size_t in_flight() const noexcept { return queue_.size(); }

private:
    bool is_cut(node_id from, node_id to) const {
        return !cut_.empty() && cut_.contains({from, to});
    }

    struct endpoint {
        std::function<void(node_id, Message&&)> receiver;
        std::function<void()> waker;
        std::optional<time_point> wake_at;
    };
    struct envelope {
        node_id from, to;
        Message m;
    };

    time_source source_;
    std::size_t max_queue_;
    std::chrono::steady_clock::time_point start_;
    time_point virtual_now_{};
    std::map<node_id, endpoint> nodes_;
    std::deque<envelope> queue_;
    std::set<std::pair<node_id, node_id>> cut_;
    std::size_t delivered_ = 0, dropped_ = 0;
    std::optional<detail::rng> order_;
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::sim, a deterministic simulated network on virtual time, and the
/// capkit::latency distributions it draws from.
#pragma once

#include <algorithm>
#include <cassert>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include <capkit/detail/random.hpp>
#include <capkit/node_id.hpp>
#include <capkit/time.hpp>
#include <capkit/transport/transport.hpp>

namespace capkit {

/// How long a message spends on a link: a distribution capkit::sim draws from. Every draw is
/// integer arithmetic on the project PRNG, so a seed gives the same delays on every compiler.
class latency {
public:
    /// Always `d`.
    static constexpr latency fixed(std::chrono::nanoseconds d) noexcept {
        assert(d.count() >= 0 && "capkit::latency::fixed: a delay cannot be negative");
        return latency(kind::fixed, d.count(), d.count(), 0);
    }

    /// Uniform in [lo, hi], to the nanosecond.
    static constexpr latency uniform(std::chrono::nanoseconds lo,
                                     std::chrono::nanoseconds hi) noexcept {
        assert(0 <= lo.count() && lo <= hi && "capkit::latency::uniform: needs 0 <= lo <= hi");
        return latency(kind::uniform, lo.count(), hi.count(), 0);
    }

    /// Uniform within 50% either side of `base`, then doubled again and again, each time with
    /// probability `tail`, up to `cap`: a Pareto-like tail with alpha = -log2(tail) (0.5 gives
    /// alpha 1, 0.25 gives alpha 2) above a body around `base`.
    static constexpr latency long_tailed(std::chrono::nanoseconds base, double tail,
                                         std::chrono::nanoseconds cap) noexcept {
        assert(0 <= base.count() && base <= cap && 0 <= tail && tail < 1 &&
               "capkit::latency::long_tailed: needs 0 <= base <= cap and 0 <= tail < 1");
        return latency(kind::long_tailed, base.count(), cap.count(), tail);
    }

    /// Zero: the message arrives at once, after those already due.
    constexpr latency() noexcept = default;

    /// One delay drawn from `g`.
    constexpr std::chrono::nanoseconds draw(detail::rng& g) const noexcept {
        switch (kind_) {
            case kind::fixed:
                return std::chrono::nanoseconds(lo_);
            case kind::uniform:
                return std::chrono::nanoseconds(lo_ + span(g, lo_, hi_));
            case kind::long_tailed: {
                std::int64_t low = lo_ - lo_ / 2, high = lo_ + lo_ / 2;
                std::int64_t d = low + span(g, low, high);
                while (d > 0 && d < hi_ && g.chance(tail_)) d = d > hi_ / 2 ? hi_ : 2 * d;
                return std::chrono::nanoseconds(std::min(d, hi_));
            }
        }
        return std::chrono::nanoseconds(lo_);
    }

    /// The shortest delay this distribution can give.
    constexpr std::chrono::nanoseconds min() const noexcept {
        return std::chrono::nanoseconds(kind_ == kind::long_tailed ? lo_ - lo_ / 2 : lo_);
    }
    /// The longest delay this distribution can give.
    constexpr std::chrono::nanoseconds max() const noexcept {
        return std::chrono::nanoseconds(hi_);
    }

    friend constexpr bool operator==(const latency&, const latency&) = default;

private:
    enum class kind : std::uint8_t { fixed, uniform, long_tailed };

    constexpr latency(kind k, std::int64_t lo, std::int64_t hi, double tail) noexcept
        : kind_(k), lo_(lo), hi_(hi), tail_(tail) {}

    // A draw in [0, high - low]; no draw at all when the range is one value.
    static constexpr std::int64_t span(detail::rng& g, std::int64_t low, std::int64_t high) {
        auto width = static_cast<std::uint64_t>(high - low);
        if (width == 0) return 0;
        return static_cast<std::int64_t>(g.below(width + 1));
    }

    kind kind_ = kind::fixed;
    std::int64_t lo_ = 0;  // fixed and uniform: the least delay; long_tailed: the base
    std::int64_t hi_ = 0;  // fixed and uniform: the greatest delay; long_tailed: the cap
    double tail_ = 0;      // long_tailed: the chance of each further doubling
};

/// A deterministic discrete-event network on virtual time: every delivery, wake-up and scheduled
/// action is an event at a virtual instant, events run in time order (ties in the order they were
/// created), and every random choice (drops, delays, duplicates) comes from one seed, so the
/// same seed and the same calls give the same history, byte for byte, on every compiler. Faults
/// are a nemesis's controls: partitions in any grouping, one-way cuts, Jepsen's bridge, drop and
/// duplication rates, latency distributions per link, reordering, crashes and restarts, and
/// clock skew per node. A new network has zero latency and no faults; with a fixed latency and no
/// reordering each link is FIFO. docs/sim.md records the semantics.
/// Single-threaded: step() and the run functions advance time and deliver.
template <class Message>
class sim {
public:
    /// Virtual time since the simulation began.
    using time_point = capkit::time_point;
    /// What the nodes exchange.
    using message_type = Message;
    /// Takes a message and its sender.
    using receiver = std::function<void(node_id, Message&&)>;
    /// Called when a node's wake-up time has come.
    using waker = std::function<void()>;
    /// Sees each delivery before the receiver does: the time, sender, addressee and message.
    using delivery_hook = std::function<void(time_point, node_id, node_id, const Message&)>;

    /// An empty network at time zero whose random choices all come from `seed`; at most
    /// `max_in_flight` messages travel at once (send reports queue_full beyond).
    explicit sim(std::uint64_t seed, std::size_t max_in_flight = std::size_t{1} << 20)
        : rng_(seed), max_in_flight_(max_in_flight) {
        heap_.reserve(1024);
    }

    // The network holds its nodes' callbacks, and they hold the network.
    sim(const sim&) = delete;
    sim& operator=(const sim&) = delete;

    // --- Transport ------------------------------------------------------------------------

    /// Makes `node` reachable, replacing an earlier endpoint of that id (a restarted node attaches
    /// again) and cancelling its wake-up. Whether the node is up stays as it was; links, faults
    /// and clock skew belong to the id and survive.
    void attach(node_id node, receiver on_message, waker on_wake) {
        auto& n = endpoint_of(node);
        n.on_message = std::move(on_message);
        n.on_wake = std::move(on_wake);
        n.known = n.attached = true;
        n.cancel_wake();
    }

    /// Forgets `node`'s callbacks (its object is gone): messages reaching it are dropped and its
    /// wake-up is cancelled. It may attach again.
    void detach(node_id node) {
        if (node >= nodes_.size()) return;
        auto& n = nodes_[node];
        n.attached = false;
        n.on_message = nullptr;
        n.on_wake = nullptr;
        n.cancel_wake();
    }

    /// Puts `m` on the link from `from` to `to`; never blocks. unknown_node if either end never
    /// attached, queue_full when `max_in_flight` messages travel already. A message from a
    /// crashed node, over a cut link, or lost to the drop rate is reported sent and counted
    /// dropped, as a real network loses it silently.
    send_status send(node_id from, node_id to, Message m) {
        if (from >= nodes_.size() || to >= nodes_.size() || !nodes_[from].known ||
            !nodes_[to].known)
            return send_status::unknown_node;
        if (in_flight_ >= max_in_flight_) return send_status::queue_full;
        const std::size_t l = link(from, to);
        if (!nodes_[from].up || cut_[l]) {
            ++dropped_;
            return send_status::sent;
        }
        const auto& f = faults_[l];
        if (double p = f.own_drop ? f.drop : drop_; p > 0 && rng_.chance(p)) {
            ++dropped_;
            return send_status::sent;
        }
        const latency& delay = f.own_latency ? f.delay : latency_;
        if constexpr (std::copy_constructible<Message>) {
            double p = f.own_duplicate ? f.duplicate : duplicate_;
            if (p > 0 && in_flight_ + 1 < max_in_flight_ && rng_.chance(p)) {
                ++duplicated_;
                put_in_flight(from, to, Message(m), delay);
            }
        }
        put_in_flight(from, to, std::move(m), delay);
        return send_status::sent;
    }

    /// The true virtual time.
    time_point now() const noexcept { return now_; }

    /// `node`'s own clock: the true time plus its skew, never below zero.
    time_point now(node_id node) const noexcept {
        auto t = now_ + skew_of(node);
        return t < time_point::zero() ? time_point::zero() : t;
    }

    /// Wakes `node` once its own clock (now(node)) reads `at`, replacing its earlier request;
    /// time_point::max() cancels. A time already past wakes it at once. Ignored while the node
    /// is down or detached.
    void wake(node_id node, time_point at) {
        if (node >= nodes_.size()) return;
        auto& n = nodes_[node];
        if (!n.attached || !n.up) return;
        auto skew = n.skew;
        // True time = at - skew, saturating: a deadline beyond the end of time is never.
        if (at == time_point::max() || (skew.count() < 0 && at > time_point::max() + skew)) {
            n.cancel_wake();
            return;
        }
        time_point when = (skew.count() > 0 && at < time_point::min() + skew) ? now_ : at - skew;
        when = std::max(when, now_);
        if (n.wake_seq != 0 && n.wake_at == when) return;  // already asked for
        n.wake_at = when;
        n.wake_seq = push(when, kind::wake, node, node, 0);
    }

    // --- Running --------------------------------------------------------------------------

    /// Runs the next event (a delivery, a wake-up or a scheduled action), moving time to it.
    /// False when no event is left.
    bool step() {
        while (!heap_.empty()) {
            event e = pop();
            if (stale(e)) continue;
            run_event(e);
            return true;
        }
        return false;
    }

    /// Runs every event due at or before `t`, then moves time to `t` (never back).
    void run_until(time_point t) {
        while (!heap_.empty() && heap_.front().at <= t.count()) {
            event e = pop();
            if (!stale(e)) run_event(e);
        }
        now_ = std::max(now_, t);
    }

    /// Steps until `done()` holds or no event is left; returns done().
    template <class Pred>
    requires std::predicate<Pred&>
    bool run_until(Pred done) {
        while (!done())
            if (!step()) return done();
        return true;
    }

    /// Runs every event due in the next `d`, then moves time by `d`.
    void run_for(std::chrono::nanoseconds d) { run_until(now_ + d); }

    /// Steps until no event is left.
    void run() {
        while (step()) {
        }
    }

    /// Calls `action` at true time `at` (at once if already past), in the same event order as
    /// deliveries and wake-ups: how a lab drives clients and a nemesis.
    void schedule(time_point at, std::function<void()> action) {
        std::uint32_t slot;
        if (free_actions_.empty()) {
            slot = static_cast<std::uint32_t>(actions_.size());
            actions_.push_back(std::move(action));
        } else {
            slot = free_actions_.back();
            free_actions_.pop_back();
            actions_[slot] = std::move(action);
        }
        push(std::max(at, now_), kind::action, 0, 0, slot);
    }

    // --- Nemesis: links ---------------------------------------------------------------------

    /// Splits the nodes into groups that reach each other only within a group; a node in no group
    /// is isolated. Replaces every earlier cut; nodes attached later start linked to all.
    void partition(const std::vector<std::vector<node_id>>& groups) {
        for (const auto& g : groups)
            for (node_id n : g) grow(n);
        std::vector<std::ptrdiff_t> group_of(size_, -1);
        for (std::size_t g = 0; g < groups.size(); ++g)
            for (node_id n : groups[g]) group_of[n] = static_cast<std::ptrdiff_t>(g);
        for (std::size_t a = 0; a < size_; ++a)
            for (std::size_t b = 0; b < size_; ++b)
                cut_[a * size_ + b] = a != b && (group_of[a] < 0 || group_of[a] != group_of[b]);
    }

    /// Jepsen's bridge: `left` and `right` cannot reach each other, but both reach
    /// `bridge_node`. Replaces every earlier cut.
    void bridge(const std::vector<node_id>& left, node_id bridge_node,
                const std::vector<node_id>& right) {
        heal();
        for (node_id a : left)
            for (node_id b : right)
                if (a != bridge_node && b != bridge_node) cut(a, b);
    }

    /// Stops messages from `from` reaching `to` (one way).
    void cut_one_way(node_id from, node_id to) {
        grow(std::max(from, to));
        if (from != to) cut_[link(from, to)] = 1;
    }

    /// Stops messages between `a` and `b` both ways.
    void cut(node_id a, node_id b) {
        cut_one_way(a, b);
        cut_one_way(b, a);
    }

    /// Restores every link (drop rates, latencies and crashes stay).
    void heal() { std::ranges::fill(cut_, std::uint8_t{0}); }

    /// True when the link from `from` to `to` is not cut (it may still drop messages).
    bool linked(node_id from, node_id to) const {
        return from == to || from >= size_ || to >= size_ || !cut_[link(from, to)];
    }

    // --- Nemesis: faults on every link, or one -----------------------------------------------

    /// Loses each message with probability `p`, on every link without a rate of its own.
    void set_drop(double p) {
        assert(0 <= p && p <= 1 && "capkit::sim::set_drop: p is a probability");
        drop_ = p;
    }
    /// Loses each message from `from` to `to` with probability `p`.
    void set_drop(node_id from, node_id to, double p) {
        assert(0 <= p && p <= 1 && "capkit::sim::set_drop: p is a probability");
        auto& f = faults_of(from, to);
        f.drop = p;
        f.own_drop = true;
    }

    /// Delivers each message twice with probability `p` (the copy draws its own delay), on every
    /// link without a rate of its own. Needs a copyable Message.
    void set_duplicate(double p) {
        assert(0 <= p && p <= 1 && "capkit::sim::set_duplicate: p is a probability");
        duplicate_ = p;
    }
    /// Delivers each message from `from` to `to` twice with probability `p`.
    void set_duplicate(node_id from, node_id to, double p) {
        assert(0 <= p && p <= 1 && "capkit::sim::set_duplicate: p is a probability");
        auto& f = faults_of(from, to);
        f.duplicate = p;
        f.own_duplicate = true;
    }

    /// Delays messages by draws from `d` on every link without a latency of its own.
    void set_latency(latency d) { latency_ = d; }
    /// Delays messages from `from` to `to` by draws from `d`.
    void set_latency(node_id from, node_id to, latency d) {
        auto& f = faults_of(from, to);
        f.delay = d;
        f.own_latency = true;
    }

    /// With probability `p` holds a message back by a further delay drawn from [0, window], so
    /// it may overtake or be overtaken by others on its link.
    void set_reorder(double p, std::chrono::nanoseconds window) {
        assert(0 <= p && p <= 1 && window.count() >= 0 &&
               "capkit::sim::set_reorder: p is a probability and the window not negative");
        reorder_ = p;
        reorder_window_ = window.count();
    }

    /// Gives every link the global drop rate, duplication rate and latency again.
    void clear_link_faults() { std::ranges::fill(faults_, link_faults{}); }

    // --- Nemesis: nodes -----------------------------------------------------------------------

    /// Stops `node`: nothing is delivered to it, its wake-up is cancelled and it cannot send;
    /// messages it sent before may still arrive.
    void crash(node_id node) {
        auto& n = endpoint_of(node);
        n.up = false;
        n.cancel_wake();
    }

    /// Brings `node` up again (the lab re-creates its object, which attaches again).
    void restart(node_id node) { endpoint_of(node).up = true; }

    /// True when `node` has attached and has not crashed since (or has restarted).
    bool up(node_id node) const noexcept {
        return node < nodes_.size() && nodes_[node].known && nodes_[node].up;
    }

    /// Sets how far `node`'s clock runs ahead of true time (behind, if negative).
    void set_clock_skew(node_id node, std::chrono::nanoseconds skew) {
        endpoint_of(node).skew = skew;
    }
    /// How far `node`'s clock runs ahead of true time.
    std::chrono::nanoseconds clock_skew(node_id node) const noexcept { return skew_of(node); }

    // --- Observing --------------------------------------------------------------------------

    /// Calls `hook` on every delivery, before the receiver; an empty function removes it.
    void on_deliver(delivery_hook hook) { on_deliver_ = std::move(hook); }

    /// Messages handed to receivers.
    std::size_t delivered() const noexcept { return delivered_; }
    /// Messages lost: dropped, cut at sending or at delivery, or sent to or from a down node.
    std::size_t dropped() const noexcept { return dropped_; }
    /// Extra copies the duplication rate made (each also counts as delivered or dropped).
    std::size_t duplicated() const noexcept { return duplicated_; }
    /// Messages sent and not yet delivered or dropped.
    std::size_t in_flight() const noexcept { return in_flight_; }

private:
    enum class kind : std::uint8_t { deliver, wake, action };

    // What the heap moves: messages and actions stay in their slabs.
    struct event {
        std::int64_t at;
        std::uint64_t seq;
        node_id from, to;
        std::uint32_t slot;
        kind what;
    };
    // Event order: time, then creation. A total order, so any heap pops the same sequence.
    static bool before(const event& a, const event& b) noexcept {
        return a.at != b.at ? a.at < b.at : a.seq < b.seq;
    }

    struct endpoint {
        receiver on_message;
        waker on_wake;
        bool known = false;  // attached at least once: an address the network knows
        bool attached = false;
        bool up = true;
        std::chrono::nanoseconds skew{0};
        std::uint64_t wake_seq = 0;  // the sequence number of the live wake-up event; 0: none
        time_point wake_at = time_point::max();
        void cancel_wake() noexcept {
            wake_seq = 0;
            wake_at = time_point::max();
        }
    };

    struct link_faults {
        bool own_drop = false, own_duplicate = false, own_latency = false;
        double drop = 0, duplicate = 0;
        latency delay;
        friend bool operator==(const link_faults&, const link_faults&) = default;
    };

    std::size_t link(node_id from, node_id to) const noexcept {
        return std::size_t{from} * size_ + to;
    }

    // Makes room for ids up to `node` in the per-node and per-link tables.
    void grow(node_id node) {
        std::size_t n = std::size_t{node} + 1;
        if (nodes_.size() < n) nodes_.resize(n);  // a deque: callbacks running stay in place
        if (size_ >= n) return;
        std::size_t size = std::max<std::size_t>(n, 2 * size_);
        std::vector<std::uint8_t> cut(size * size, 0);
        std::vector<link_faults> faults(size * size);
        for (std::size_t a = 0; a < size_; ++a)
            for (std::size_t b = 0; b < size_; ++b) {
                cut[a * size + b] = cut_[a * size_ + b];
                faults[a * size + b] = std::move(faults_[a * size_ + b]);
            }
        cut_ = std::move(cut);
        faults_ = std::move(faults);
        size_ = size;
    }

    endpoint& endpoint_of(node_id node) {
        grow(node);
        return nodes_[node];
    }

    link_faults& faults_of(node_id from, node_id to) {
        grow(std::max(from, to));
        return faults_[link(from, to)];
    }

    std::chrono::nanoseconds skew_of(node_id node) const noexcept {
        return node < nodes_.size() ? nodes_[node].skew : std::chrono::nanoseconds(0);
    }

    // A 4-ary min-heap in heap_: half the depth of a binary one, and a node's children share a
    // cache line.
    std::uint64_t push(time_point at, kind what, node_id from, node_id to, std::uint32_t slot) {
        std::uint64_t seq = ++seq_;
        event e{at.count(), seq, from, to, slot, what};
        std::size_t i = heap_.size();
        heap_.push_back(e);
        while (i > 0) {
            std::size_t parent = (i - 1) / 4;
            if (!before(e, heap_[parent])) break;
            heap_[i] = heap_[parent];
            i = parent;
        }
        heap_[i] = e;
        return seq;
    }

    event pop() {
        event top = heap_.front();
        event last = heap_.back();
        heap_.pop_back();
        const std::size_t n = heap_.size();
        if (n == 0) return top;
        std::size_t i = 0;
        for (;;) {
            std::size_t first = 4 * i + 1;
            if (first >= n) break;
            std::size_t best = first, end = std::min(first + 4, n);
            for (std::size_t c = first + 1; c < end; ++c)
                if (before(heap_[c], heap_[best])) best = c;
            if (!before(heap_[best], last)) break;
            heap_[i] = heap_[best];
            i = best;
        }
        heap_[i] = last;
        return top;
    }

    // A wake-up that was replaced or cancelled after it was pushed.
    bool stale(const event& e) const noexcept {
        return e.what == kind::wake && nodes_[e.to].wake_seq != e.seq;
    }

    void put_in_flight(node_id from, node_id to, Message&& m, const latency& delay) {
        std::int64_t d = delay.draw(rng_).count();
        if (reorder_ > 0 && rng_.chance(reorder_))
            d += static_cast<std::int64_t>(rng_.below(std::uint64_t(reorder_window_) + 1));
        std::uint32_t slot;
        if (free_slots_.empty()) {
            slot = static_cast<std::uint32_t>(slab_.size());
            slab_.emplace_back(std::move(m));
        } else {
            slot = free_slots_.back();
            free_slots_.pop_back();
            slab_[slot].emplace(std::move(m));
        }
        ++in_flight_;
        push(now_ + std::chrono::nanoseconds(d), kind::deliver, from, to, slot);
    }

    void run_event(const event& e) {
        now_ = time_point(e.at);
        switch (e.what) {
            case kind::deliver: {
                // Out of the slab first: the receiver may send, and the slab grow.
                Message m = std::move(*slab_[e.slot]);
                slab_[e.slot].reset();
                free_slots_.push_back(e.slot);
                --in_flight_;
                auto& n = nodes_[e.to];
                // A link cut while the message was in flight loses it too.
                if (!n.attached || !n.up || cut_[link(e.from, e.to)]) {
                    ++dropped_;
                    return;
                }
                ++delivered_;
                if (on_deliver_) on_deliver_(now_, e.from, e.to, m);
                n.on_message(e.from, std::move(m));
                return;
            }
            case kind::wake: {
                auto& n = nodes_[e.to];
                n.cancel_wake();
                n.on_wake();
                return;
            }
            case kind::action: {
                auto action = std::move(actions_[e.slot]);
                actions_[e.slot] = nullptr;
                free_actions_.push_back(e.slot);
                action();
                return;
            }
        }
    }

    detail::rng rng_;
    std::size_t max_in_flight_;
    time_point now_{};
    std::uint64_t seq_ = 0;
    std::vector<event> heap_;
    std::vector<std::optional<Message>> slab_;
    std::vector<std::uint32_t> free_slots_;
    std::vector<std::function<void()>> actions_;
    std::vector<std::uint32_t> free_actions_;

    std::deque<endpoint> nodes_;     // by id
    std::size_t size_ = 0;           // the per-link tables are size_ x size_
    std::vector<std::uint8_t> cut_;  // 1: the link from a to b is cut
    std::vector<link_faults> faults_;

    double drop_ = 0, duplicate_ = 0, reorder_ = 0;
    std::int64_t reorder_window_ = 0;
    latency latency_;

    delivery_hook on_deliver_;
    std::size_t delivered_ = 0, dropped_ = 0, duplicated_ = 0, in_flight_ = 0;
};

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::membership_register: how the members agree on the cluster's
/// configuration (capkit::membership), one compare-and-set at a time, as a CASPaxos register
/// whose acceptors are the members the register itself names (docs/membership.md).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <capkit/error.hpp>
#include <capkit/node_id.hpp>
#include <capkit/protocol/membership.hpp>
#include <capkit/protocol/membership_messages.hpp>
#include <capkit/time.hpp>

namespace capkit {

/// The configuration register of one node: its acceptor, and a proposer that changes the
/// configuration for the node's operator. Sans-I/O like the replicas: it is fed requests,
/// messages and the time, and hands out messages and completions.
///
/// A change is two agreed steps: begin (stable -> joint, decided by a majority of the members)
/// and finish (joint -> stable, decided by a majority of the members before and of the members
/// after the change). A round's quorums are those of the configuration it starts from (its
/// base), so a minority cannot decide anything, and a round that finds a newer configuration
/// than it knew finishes that one first: two operators' changes are ordered, never forked.
class membership_register {
public:
    using message = protocol::membership_message;
    using ballot = protocol::ballot;
    template <class T>
    using callback = std::function<void(result<T>)>;
    /// What a round does to the configuration it finds: the next one, the same one (nothing to
    /// do), or a refusal.
    using step = std::function<result<membership>(const membership&)>;

    /// A member of `known` (its configuration: the first one, or what it stored), or a node
    /// that is about to join (known.epoch == 0: it learns the configuration from the round that
    /// adds it). `min_members`: the fewest members a change may leave (N, the copies of a key).
    membership_register(node_id self, membership known, unsigned min_members,
                        std::chrono::nanoseconds timeout = std::chrono::seconds(1))
        : self_(self), min_members_(min_members), timeout_(timeout) {
        state_.value = known;
        state_.learned = std::move(known);
    }

    node_id self() const noexcept { return self_; }
    /// The latest configuration this node knows was agreed.
    const membership& current() const noexcept { return state_.learned; }
    /// What must survive a restart (see membership_state); restore with from_state().
    const protocol::membership_state& durable() const noexcept { return state_; }
    static membership_register from_state(node_id self, protocol::membership_state s,
                                          unsigned min_members, std::chrono::nanoseconds timeout) {
        membership_register r(self, {}, min_members, timeout);
        r.state_ = std::move(s);
        r.counter_ = std::max(r.state_.promised.counter, r.state_.accepted.counter);
        return r;
    }

    /// Begins `change` (stable -> joint). Completes with the joint configuration, or refuses:
    /// change_in_progress, invalid_change, too_few_members, unavailable (no majority), timeout.
    void change(membership_change c, time_point now, callback<membership> done) {
        unsigned min = min_members_;
        propose([c, min](const membership& m) { return begin_change(m, c, min); }, now,
                std::move(done));
    }
    /// Ends the change in progress (joint -> stable), when its data has moved.
    void finish(time_point now, callback<membership> done) {
        propose([](const membership& m) { return finish_change(m); }, now, std::move(done));
    }
    /// Reads the configuration with a full round: the latest agreed one, finishing a step that a
    /// proposer left half done.
    void read(time_point now, callback<membership> done) {
        propose([](const membership& m) -> result<membership> { return m; }, now, std::move(done));
    }
    /// Any step: `fn` gets the latest agreed configuration and returns the next (epoch + 1),
    /// the same one, or a refusal.
    void propose(step fn, time_point now, callback<membership> done) {
        ops_.push_back({std::move(fn), std::move(done), now + timeout_, false});
        if (ops_.size() == 1) start_round(now);
    }

    void receive(node_id from, message m, time_point now) {
        std::visit([&](auto& msg) { on(from, std::move(msg), now); }, m);
    }

    void tick(time_point now) {
        if (ops_.empty()) return;
        if (now >= ops_.front().deadline) {
            give_up(now);
        } else if (retry_at_ && now >= *retry_at_) {
            // Outbid, or a round whose messages or answers were lost: a new round, higher.
            retry_at_.reset();
            start_round(now);
        }
    }
    std::optional<time_point> next_deadline() const {
        if (ops_.empty()) return std::nullopt;
        auto t = ops_.front().deadline;
        if (retry_at_) t = std::min(t, *retry_at_);
        return t;
    }

    std::vector<std::pair<node_id, message>> take_messages() { return std::exchange(outbox_, {}); }

private:
    struct operation {
        step fn;
        callback<membership> done;
        time_point deadline;
        bool sent = false;  ///< its own step was sent to be accepted
    };
    enum class phase { idle, prepare, accept };

    // ---- acceptor -------------------------------------------------------------------------

    void on(node_id from, protocol::membership_prepare&& p, time_point now) {
        protocol::membership_promise out{p.b, false, {}, {}, state_.promised};
        if (p.b > state_.promised) {
            state_.promised = p.b;
            out = {p.b, true, state_.accepted, state_.value, p.b};
        }
        reply(from, std::move(out), now);
    }
    void on(node_id from, protocol::membership_accept&& a, time_point now) {
        protocol::membership_accepted out{a.b, false, state_.promised};
        if (a.b >= state_.promised) {
            state_.promised = a.b;
            // An acceptor keeps one configuration, the latest it accepted, and never goes back:
            // holding a later one, it knows this epoch was agreed (a step is only proposed on an
            // agreed base), and a proposer finishing it proposes what was agreed.
            if (a.value.epoch >= state_.value.epoch) {
                state_.accepted = a.b;
                state_.value = std::move(a.value);
            }
            out = {a.b, true, a.b};
        }
        reply(from, out, now);
    }
    void on(node_id, protocol::membership_learn&& l, time_point) { learn(l.value); }

    // ---- proposer -------------------------------------------------------------------------

    void start_round(time_point now) {
        if (ops_.empty()) return;
        if (view_.epoch < state_.learned.epoch) view_ = state_.learned;
        if (view_.epoch == 0) {
            // A node that never learned a configuration cannot know whom to ask.
            return end_front(errc::unavailable, now);
        }
        round_ = ballot{++counter_, self_};
        phase_ = phase::prepare;
        retry_at_ = now + round_timeout();
        votes_.clear();
        highest_ = {};
        found_.reset();
        send_to_voters(protocol::membership_prepare{round_}, now);
    }

    void on(node_id from, protocol::membership_promise&& p, time_point now) {
        if (phase_ != phase::prepare || p.b != round_) return;
        if (!p.ok) return outbid(p.seen, now);
        if (!counts(from)) return;
        // Latest epoch first (acceptors keep only their latest), then the highest ballot among
        // that epoch's values, as Paxos picks within one instance.
        if (p.value.epoch > 0 && (!found_ || p.value.epoch > found_->epoch ||
                                  (p.value.epoch == found_->epoch && p.accepted > highest_))) {
            highest_ = p.accepted;
            found_ = std::move(p.value);
        }
        if (!view_.is_quorum(votes_)) return;
        // The newest configuration a quorum of the base holds: the base itself, the step after
        // it (accepted somewhere, maybe not agreed: finish it), or further on (this node missed
        // epochs: start again from that one's base, which was agreed).
        const membership found = found_ && found_->epoch > view_.epoch ? *found_ : view_;
        if (found.epoch > view_.epoch + 1) {
            view_ = found.base();
            return start_round(now);
        }
        if (found.epoch == view_.epoch + 1) {
            finishing_ = true;
            return send_accept(found, now);
        }
        auto next = ops_.front().fn(view_);
        if (!next) return end_front(next.error(), now);
        if (next->epoch == view_.epoch) return end_front(view_, now);  // nothing to do
        finishing_ = false;
        ops_.front().sent = true;
        send_accept(std::move(*next), now);
    }

    void send_accept(membership value, time_point now) {
        phase_ = phase::accept;
        retry_at_ = now + round_timeout();
        votes_.clear();
        proposal_ = std::move(value);
        send_to_voters(protocol::membership_accept{round_, proposal_}, now);
    }

    void on(node_id from, protocol::membership_accepted&& a, time_point now) {
        if (phase_ != phase::accept || a.b != round_) return;
        if (!a.ok) return outbid(a.seen, now);
        if (!counts(from) || !view_.is_quorum(votes_)) return;
        // Agreed: tell every node the base or the new configuration names (a node removed
        // learns it is out), then move the base on.
        const membership agreed = proposal_;
        std::vector<node_id> told = view_.voters();
        for (node_id n : agreed.voters())
            if (std::find(told.begin(), told.end(), n) == told.end()) told.push_back(n);
        for (node_id n : told)
            if (n != self_) outbox_.emplace_back(n, protocol::membership_learn{agreed});
        learn(agreed);
        view_ = agreed;
        phase_ = phase::idle;
        if (finishing_) return start_round(now);  // now the front operation's own step
        end_front(agreed, now);
    }

    // A vote from a node of the base's quorum (a removed or unknown node's does not count).
    bool counts(node_id from) {
        if (!view_.has(from)) return false;
        if (std::find(votes_.begin(), votes_.end(), from) == votes_.end()) votes_.push_back(from);
        return true;
    }

    // Another proposer holds a higher ballot: try again above it, after a pause that differs
    // per node so two proposers do not keep outbidding each other.
    void outbid(ballot seen, time_point now) {
        counter_ = std::max(counter_, seen.counter);
        phase_ = phase::idle;
        retry_at_ = now + timeout_ / 32 * (1 + self_ % 4);
    }
    // A round that has not gathered its quorum by then starts again: a message or an answer
    // may have been lost. An operation gets several rounds before its own timeout.
    std::chrono::nanoseconds round_timeout() const { return timeout_ / 5; }

    void give_up(time_point now) {
        // Once this operation's own step went out to be accepted, a later round may still find
        // and finish it: the caller must not assume either outcome.
        const bool maybe = ops_.front().sent;
        const bool write = phase_ == phase::accept;
        end_front(failure(maybe ? errc::timeout : errc::unavailable, shortfall_of(write)), now);
    }
    quorum_shortfall shortfall_of(bool write) const {
        // The side of the base that fell short (the members before a change, or after it).
        const auto& side =
            membership::count_in(view_.members, votes_) < membership::majority(view_.members) ||
                    !view_.joint()
                ? view_.members
                : view_.next;
        return {write, membership::majority(side), membership::count_in(side, votes_)};
    }

    void end_front(result<membership> r, time_point now) {
        phase_ = phase::idle;
        retry_at_.reset();
        auto op = std::move(ops_.front());
        ops_.pop_front();
        op.done(std::move(r));  // may propose again: that starts its own round
        if (!ops_.empty() && phase_ == phase::idle) start_round(now);
    }

    void learn(const membership& m) {
        if (m.epoch > state_.learned.epoch) state_.learned = m;
    }

    template <class M>
    void send_to_voters(const M& m, time_point now) {
        bool self_votes = false;
        for (node_id n : view_.voters()) {
            if (n == self_)
                self_votes = true;
            else
                outbox_.emplace_back(n, m);
        }
        // Last: this node's own acceptor answers at once, and its answer may end the phase.
        if (self_votes) receive(self_, m, now);
    }
    template <class M>
    void reply(node_id to, M&& m, time_point now) {
        if (to == self_) return receive(self_, std::forward<M>(m), now);
        outbox_.emplace_back(to, std::forward<M>(m));
    }

    node_id self_;
    unsigned min_members_;
    std::chrono::nanoseconds timeout_;
    protocol::membership_state state_;
    std::uint64_t counter_ = 0;
    std::vector<std::pair<node_id, message>> outbox_;

    std::deque<operation> ops_;
    membership view_;  // the base of the current round: the latest agreed configuration known
    ballot round_{};
    phase phase_ = phase::idle;
    std::vector<node_id> votes_;
    ballot highest_{};
    std::optional<membership> found_;
    membership proposal_;
    bool finishing_ = false;
    std::optional<time_point> retry_at_;
};

}  // namespace capkit

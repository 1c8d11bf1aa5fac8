// SPDX-License-Identifier: MIT
/// @file Defines capkit::membership, a cluster's configuration as data (epoch, members, and
/// during a change the members after it), capkit::membership_change, and the rules a change
/// must keep (docs/membership.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <capkit/detail/text.hpp>
#include <capkit/error.hpp>
#include <capkit/node_id.hpp>

namespace capkit {

/// A node of the cluster and where its peers reach it ("host:port"; empty in one process).
struct member {
    node_id id = 0;
    std::string address;
    friend bool operator==(const member&, const member&) = default;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.id, self.address);
    }
};

/// What an operator asks of the member list.
enum class change_kind : std::uint8_t {
    join,     ///< a new node takes its share
    leave,    ///< a live member hands its share over, then leaves
    replace,  ///< a new node takes the place of `replaced` (dead or alive)
    remove,   ///< a dead member's share is copied again from the survivors
};

/// One change of the member list: `node` joins (join, replace) or goes (leave, remove); a
/// replace also names the member it replaces.
struct membership_change {
    change_kind kind = change_kind::join;
    node_id node = 0;
    std::string address;  ///< where the joining node is reached
    node_id replaced = 0;
    friend bool operator==(const membership_change&, const membership_change&) = default;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.kind, self.node, self.address, self.replaced);
    }

    static membership_change join(node_id n, std::string address = {}) {
        return {change_kind::join, n, std::move(address), 0};
    }
    static membership_change leave(node_id n) { return {change_kind::leave, n, {}, 0}; }
    static membership_change remove(node_id n) { return {change_kind::remove, n, {}, 0}; }
    static membership_change replace(node_id old_node, node_id new_node, std::string address = {}) {
        return {change_kind::replace, new_node, std::move(address), old_node};
    }
};

/// The cluster's configuration. Epochs count the configurations a cluster went through: each
/// agreed change makes two, joint then stable (docs/membership.md):
///
/// - stable: `members` alone decide; `next` is empty.
/// - joint: a change is in progress; `members` are the nodes before it, `next` the nodes after
///   it, and every decision needs a majority of each.
///
/// `previous` is, in a stable configuration made by a change, the members before that change:
/// with it a configuration names the one it replaced (base()), which is what a node that missed
/// some epochs needs to finish a change it finds half done.
///
/// `ready` lists, during a change, the members after it that have fetched the data they gain
/// (in the order they said so, each an agreed step: mark_ready); the change ends when all have.
struct membership {
    std::uint64_t epoch = 0;  ///< 0: none known (a node about to join)
    std::vector<member> members;
    std::vector<member> next;
    std::vector<member> previous;
    std::vector<node_id> ready;
    friend bool operator==(const membership&, const membership&) = default;
    template <class Self>
    static constexpr auto wire_fields(Self& self) noexcept {
        return std::tie(self.epoch, self.members, self.next, self.previous, self.ready);
    }

    /// The first configuration of a cluster: nodes 0 .. n-1 at epoch 1, without addresses.
    static membership first(unsigned n) {
        membership m;
        m.epoch = 1;
        for (node_id i = 0; i < n; ++i) m.members.push_back({i, {}});
        return m;
    }
    /// The first configuration from a member list (ids need not be 0 .. n-1).
    static membership first(std::vector<member> members) {
        membership m;
        m.epoch = 1;
        m.members = std::move(members);
        sort(m.members);
        return m;
    }

    /// Whether a change is in progress (members and next both decide).
    bool joint() const noexcept { return !next.empty(); }
    /// Whether `other` routes keys as this one does: the same members, and the same next.
    bool same_layout(const membership& other) const {
        return ids(members) == ids(other.members) && ids(next) == ids(other.next);
    }
    /// The ids of a member list.
    static std::vector<node_id> ids(const std::vector<member>& list) {
        std::vector<node_id> out;
        for (const auto& m : list) out.push_back(m.id);
        return out;
    }
    /// Whether `n` is a member now or after the change in progress.
    bool has(node_id n) const noexcept { return find(members, n) || find(next, n); }
    /// The nodes whose votes count: members, and during a change the members after it.
    std::vector<node_id> voters() const {
        std::vector<node_id> out;
        for (const auto& m : members) out.push_back(m.id);
        for (const auto& m : next)
            if (!find(members, m.id)) out.push_back(m.id);
        std::sort(out.begin(), out.end());
        return out;
    }
    /// The nodes joining and leaving in the change in progress (empty when stable).
    std::vector<node_id> joining() const { return difference(next, members); }
    std::vector<node_id> leaving() const {
        if (!joint()) return {};
        return difference(members, next);
    }

    /// The configuration this one replaced (epoch - 1), as far as a quorum needs it: the members
    /// before a change for a joint one, the joint one for a stable one made by a change. Empty
    /// (epoch 0) for a first configuration.
    membership base() const {
        membership b;
        if (epoch <= 1) return b;
        b.epoch = epoch - 1;
        if (joint() && !ready.empty()) {
            // The same change with one node fewer ready: the same quorums.
            b.members = members;
            b.next = next;
            b.ready.assign(ready.begin(), ready.end() - 1);
        } else if (joint()) {
            b.members = members;
        } else {
            b.members = previous;
            b.next = members;
        }
        return b;
    }

    /// Whether `votes` (node ids, any order, duplicates ignored) hold a majority of the members
    /// and, during a change, a majority of the members after it.
    bool is_quorum(const std::vector<node_id>& votes) const {
        return majority_of(members, votes) && (!joint() || majority_of(next, votes));
    }

    static const member* find(const std::vector<member>& list, node_id n) noexcept {
        for (const auto& m : list)
            if (m.id == n) return &m;
        return nullptr;
    }
    static void sort(std::vector<member>& list) {
        std::sort(list.begin(), list.end(),
                  [](const member& a, const member& b) { return a.id < b.id; });
    }
    static unsigned majority(const std::vector<member>& list) noexcept {
        return static_cast<unsigned>(list.size()) / 2 + 1;
    }
    static unsigned count_in(const std::vector<member>& list, const std::vector<node_id>& votes) {
        unsigned n = 0;
        for (const auto& m : list)
            if (std::find(votes.begin(), votes.end(), m.id) != votes.end()) ++n;
        return n;
    }

private:
    static bool majority_of(const std::vector<member>& list, const std::vector<node_id>& votes) {
        return count_in(list, votes) >= majority(list);
    }
    static std::vector<node_id> difference(const std::vector<member>& a,
                                           const std::vector<member>& b) {
        std::vector<node_id> out;
        for (const auto& m : a)
            if (!find(b, m.id)) out.push_back(m.id);
        return out;
    }
};

/// "epoch 2: 0 1 2 -> 0 1 2 3" (joint), "epoch 3: 0 1 2 3" (stable), for logs and tests.
inline std::string to_string(const membership& m) {
    std::string out = detail::cat("epoch ", std::to_string(m.epoch), ":");
    for (const auto& n : m.members) out += detail::cat(" ", std::to_string(n.id));
    if (m.joint()) {
        out += " ->";
        for (const auto& n : m.next) out += detail::cat(" ", std::to_string(n.id));
        if (!m.ready.empty()) {
            out += " (ready";
            for (node_id n : m.ready) out += detail::cat(" ", std::to_string(n));
            out += ")";
        }
    }
    return out;
}
inline std::ostream& operator<<(std::ostream& os, const membership& m) {
    return os << to_string(m);
}

/// The members after `change` is applied to `members`, or why the change is refused:
/// `change_in_progress` is the caller's to check (begin_change does); this checks that the
/// change names members that exist (or do not yet) and leaves at least `min_members`.
inline result<std::vector<member>> apply(const std::vector<member>& members,
                                         const membership_change& change, unsigned min_members) {
    std::vector<member> out = members;
    const bool has_node = membership::find(members, change.node) != nullptr;
    switch (change.kind) {
        case change_kind::join:
            if (has_node) return errc::invalid_change;
            out.push_back({change.node, change.address});
            break;
        case change_kind::leave:
        case change_kind::remove:
            if (!has_node) return errc::invalid_change;
            std::erase_if(out, [&](const member& m) { return m.id == change.node; });
            break;
        case change_kind::replace:
            if (has_node || !membership::find(members, change.replaced))
                return errc::invalid_change;
            std::erase_if(out, [&](const member& m) { return m.id == change.replaced; });
            out.push_back({change.node, change.address});
            break;
        default:
            return errc::invalid_change;
    }
    if (out.size() < min_members) return errc::too_few_members;
    membership::sort(out);
    return out;
}

/// The joint configuration that starts `change` on the stable `m` (epoch + 1), or why not:
/// `change_in_progress` while `m` is joint, else apply()'s refusals. Asking again for the change
/// already in progress is not a refusal: it answers `m`, so a client may retry a change.
inline result<membership> begin_change(const membership& m, const membership_change& change,
                                       unsigned min_members) {
    if (m.joint()) {
        // The same change, asked again (a lost answer): the base of m is where it started.
        auto again = apply(m.members, change, min_members);
        if (again && *again == m.next) return m;
        return errc::change_in_progress;
    }
    auto next = apply(m.members, change, min_members);
    if (!next) return next.error();
    membership out;
    out.epoch = m.epoch + 1;
    out.members = m.members;
    out.next = std::move(*next);
    return out;
}

/// The stable configuration that ends the change in progress on `m` (epoch + 1): the members
/// after it decide alone. `no_change_in_progress` when `m` is stable.
inline result<membership> finish_change(const membership& m) {
    if (!m.joint()) return errc::no_change_in_progress;
    membership out;
    out.epoch = m.epoch + 1;
    out.members = m.next;
    out.previous = m.members;
    return out;
}

/// During the change from `members` to `next` (the one `m` holds, else nothing to do), `node`
/// has fetched the data it gains: recorded in `m.ready` (epoch + 1); when it was the last member
/// after the change to say so, the change ends instead (finish_change). Answers `m` itself when
/// there is nothing to do (another change, none, or `node` already ready), so a retry is safe.
inline result<membership> mark_ready(const membership& m, node_id node, const membership& layout) {
    if (!m.joint() || !m.same_layout(layout) || !membership::find(m.next, node) ||
        std::find(m.ready.begin(), m.ready.end(), node) != m.ready.end())
        return m;
    membership out = m;
    out.epoch = m.epoch + 1;
    out.ready.push_back(node);
    for (const auto& n : m.next)
        if (std::find(out.ready.begin(), out.ready.end(), n.id) == out.ready.end()) return out;
    return finish_change(m);
}

}  // namespace capkit

// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::group_commit, the driver's side of group commit: when to make a
/// replica's writes durable (replica_options::group_commit).
#pragma once

#include <optional>

#include <capkit/protocol/results.hpp>
#include <capkit/time.hpp>

namespace capkit::detail {

/// Group commit as its driver sees it. Under replica_options::group_commit the replica holds
/// back everything that could reveal a write until the write is durable (replica_io's groups),
/// and its driver decides when to sync: `window` after the first write of a group, so one fsync
/// serves every write of the window (Cassandra's commitlog group mode), or, with no window, as
/// soon as the step that wrote is over, the next group gathering while that sync runs (etcd's
/// Ready and Advance). The sync never runs inside a replica's step.
class group_commit {
public:
    explicit group_commit(const replica_options& options)
        : window_(options.group_commit.window), on_(options.group_commit.active()) {}

    bool enabled() const noexcept { return on_; }

    /// After a step: true when the replica's open group is due for its sync now; otherwise, when
    /// one waits, next_round() says when.
    bool due(time_point now, bool must_persist) {
        if (!on_ || !must_persist) return false;
        if (!due_) due_ = now + window_;
        if (now < *due_) return false;
        due_.reset();
        return true;
    }

    /// When the driver must next look: while a group gathers.
    std::optional<time_point> next_round() const noexcept { return due_; }

private:
    std::chrono::nanoseconds window_;
    bool on_;
    std::optional<time_point> due_;
};

}  // namespace capkit::detail

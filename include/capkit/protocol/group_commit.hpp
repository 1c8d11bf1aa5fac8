// SPDX-License-Identifier: MIT
/// @file Defines capkit::detail::group_commit: a replica's writes made durable together, and
/// its output held until they are (replica_options::group_commit).
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <capkit/protocol/results.hpp>
#include <capkit/time.hpp>

namespace capkit::detail {

/// Group commit for one replica. A step that wrote to the table (wrote()) opens a group, due
/// `window` later, and holds the replica's output (settle()); tick() at the due time syncs the
/// table, when it has a sync(), and releases everything held. Writes of later steps join the
/// open group. So one fsync serves every write of a window, and what a crash can take back was
/// never acknowledged (Cassandra's commitlog group mode; Raft implementations send a step's
/// messages after its entries are on disk for the same reason).
class group_commit {
public:
    /// Throws std::invalid_argument when the window leaves requests no time: a write waits for
    /// a window at each replica and again at its coordinator, and a serial one twice over.
    explicit group_commit(const replica_options& options) : window_(options.group_commit.window) {
        if (window_.count() < 0 || window_ * 4 > options.request_timeout)
            throw std::invalid_argument(
                "capkit::replica_options: group_commit.window (" + std::to_string(window_.count()) +
                " ns) must be between 0 and a quarter of "
                "request_timeout (" +
                std::to_string(options.request_timeout.count()) +
                " ns): a write waits a window at its replicas and again at its coordinator, "
                "twice under serial; a few milliseconds is usual");
    }

    bool enabled() const noexcept { return window_.count() > 0; }

    /// The step being run changed what the table holds.
    void wrote() noexcept { dirty_ = enabled(); }

    /// At the end of a step: a write opens a group, and the output waits for it.
    template <class Io>
    void settle(time_point now, Io& io) {
        if (!dirty_ || due_) return;
        due_ = now + window_;
        io.hold();
    }

    /// Syncs `table` and releases `io` once the open group is due. A failed sync throws (the
    /// table's own error): the node must stop rather than acknowledge what is not durable.
    /// True when it synced.
    template <class Table, class Io>
    bool tick(time_point now, Table& table, Io& io) {
        if (!due_ || now < *due_) return false;
        if constexpr (requires { table.sync().value(); }) table.sync().value();
        if (on_sync_) on_sync_();
        due_.reset();
        dirty_ = false;
        io.release();
        ++syncs_;
        return true;
    }

    /// When tick() must next run: while a group is open.
    std::optional<time_point> next_round() const noexcept { return due_; }

    /// Called at each sync, after the table's (the simulator copies the durable state there).
    void on_sync(std::function<void()> f) { on_sync_ = std::move(f); }

    std::uint64_t syncs() const noexcept { return syncs_; }

private:
    std::chrono::nanoseconds window_;
    bool dirty_ = false;
    std::optional<time_point> due_;
    std::function<void()> on_sync_;
    std::uint64_t syncs_ = 0;
};

}  // namespace capkit::detail

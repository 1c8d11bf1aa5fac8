// SPDX-License-Identifier: MIT
/// @file Defines the lab's consistency measures over a run's operations: stale reads, lost and
/// discarded writes, and the staleness profile.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <vector>

#include <capkit/check/report.hpp>
#include <capkit/time.hpp>

namespace capkit::lab {

/// One client operation of a lab run, as the measures need it. Written values are unique, so a
/// value read names the write that wrote it.
struct op_record {
    enum class kind { read, write, add };  // cas and update count as writes of their new value
    enum class outcome {
        ok,       ///< happened (for a cas that lost: answered, and wrote nothing)
        fail,     ///< certainly did not happen
        unknown,  ///< may happen at any time after the call, or never
    };
    enum class side { whole, minority, majority };  ///< where its client stood at the call

    kind what = kind::read;
    outcome result = outcome::unknown;
    side at = side::whole;
    bool in_fault = false;  ///< called while a fault was active
    bool answered = false;  ///< got a definite answer (ok, or a cas that definitely lost)
    bool wrote = true;      ///< false for a cas that lost: it wrote nothing
    std::uint32_t key = 0;
    std::int64_t value = 0;          ///< written; for add, the increment
    std::vector<std::int64_t> seen;  ///< read: the values returned (siblings; none: absent)
    time_point call{}, ret = time_point::max();  ///< ret is max while unknown

    bool is_write() const noexcept { return what != kind::read && wrote; }
    /// Might have taken effect: acknowledged, or unknown.
    bool may_have_written() const noexcept { return is_write() && result != outcome::fail; }
};

namespace detail {
// The writes of each key that may have taken effect, with the value each wrote.
struct writes_by_key {
    std::map<std::uint32_t, std::vector<const op_record*>> writes;
    std::map<std::pair<std::uint32_t, std::int64_t>, const op_record*> by_value;

    explicit writes_by_key(const std::vector<op_record>& ops) {
        for (const op_record& op : ops) {
            if (!op.may_have_written() || op.what == op_record::kind::add) continue;
            writes[op.key].push_back(&op);
            by_value[{op.key, op.value}] = &op;
        }
    }
    const std::vector<const op_record*>& of(std::uint32_t key) const {
        static const std::vector<const op_record*> none;
        auto it = writes.find(key);
        return it == writes.end() ? none : it->second;
    }
};
}  // namespace detail

/// Counts the acknowledged reads that missed a write acknowledged before they began: what they
/// returned was written by writes that all completed before that write was even called, or the
/// key read as absent. Under a counter, a read below the sum of the increments acknowledged
/// before it began. `minority` (if given) counts those of clients on a minority side.
inline std::size_t count_stale_reads(const std::vector<op_record>& ops, bool counter,
                                     std::size_t* minority = nullptr) {
    std::size_t stale = 0;
    detail::writes_by_key w(ops);
    std::map<std::uint32_t, std::vector<const op_record*>> adds;
    if (counter)
        for (const op_record& op : ops)
            if (op.what == op_record::kind::add && op.result == op_record::outcome::ok)
                adds[op.key].push_back(&op);
    for (const op_record& r : ops) {
        if (r.what != op_record::kind::read || r.result != op_record::outcome::ok) continue;
        bool is_stale = false;
        if (counter) {
            std::int64_t before = 0;
            for (const op_record* a : adds[r.key])
                if (a->ret < r.call) before += a->value;
            is_stale = (r.seen.empty() ? 0 : r.seen.front()) < before;
        } else {
            // The latest completion among the writes it returned (max: one may still be open).
            time_point newest_seen = time_point::min();
            bool phantom = false;
            for (std::int64_t v : r.seen) {
                auto it = w.by_value.find({r.key, v});
                if (it == w.by_value.end()) {
                    phantom = true;  // a value nobody may have written
                } else {
                    newest_seen = std::max(newest_seen, it->second->ret);
                }
            }
            for (const op_record* x : w.of(r.key)) {
                if (x->result != op_record::outcome::ok || !(x->ret < r.call)) continue;
                if (x->call > newest_seen) is_stale = true;
            }
            is_stale = is_stale || phantom;
        }
        if (is_stale) {
            ++stale;
            if (minority && r.at == op_record::side::minority) ++*minority;
        }
    }
    return stale;
}

/// What became of the acknowledged writes, given each key's final values (the union of what
/// the replicas hold at the end).
struct write_fate {
    /// Absent at the end, and no other write that may have taken effect could be ordered after
    /// it (every other write of the key completed before it was called).
    std::size_t lost = 0;
    /// Absent at the end, superseded only by writes concurrent with it: a last-write-wins
    /// resolver dropped it for another.
    std::size_t discarded = 0;
};

/// Sorts each acknowledged write into present, superseded by a later write, discarded for a
/// concurrent one, or lost. Under a counter, every acknowledged increment not counted in the
/// final value is lost.
inline write_fate write_fates(const std::vector<op_record>& ops,
                              const std::map<std::uint32_t, std::set<std::int64_t>>& final_values,
                              bool counter) {
    write_fate fate;
    if (counter) {
        std::map<std::uint32_t, std::int64_t> acknowledged;
        for (const op_record& op : ops)
            if (op.what == op_record::kind::add && op.result == op_record::outcome::ok)
                acknowledged[op.key] += op.value;
        for (const auto& [key, sum] : acknowledged) {
            auto it = final_values.find(key);
            std::int64_t final_value =
                it == final_values.end() || it->second.empty() ? 0 : *it->second.rbegin();
            if (final_value < sum) fate.lost += static_cast<std::size_t>(sum - final_value);
        }
        return fate;
    }
    detail::writes_by_key w(ops);
    for (const op_record& op : ops) {
        if (!op.is_write() || op.result != op_record::outcome::ok) continue;
        auto it = final_values.find(op.key);
        if (it != final_values.end() && it->second.contains(op.value)) continue;
        bool later = false, concurrent = false;
        for (const op_record* x : w.of(op.key)) {
            if (x == &op || x->ret < op.call) continue;  // itself, or surely before it
            (x->call > op.ret ? later : concurrent) = true;
        }
        if (later) continue;
        ++(concurrent ? fate.discarded : fate.lost);
    }
    return fate;
}

/// Window edges of the staleness profile, in milliseconds after the acknowledgement.
inline const std::vector<double>& staleness_edges() {
    static const std::vector<double> edges{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 1e9};
    return edges;
}

/// Adds the probe reads of a run to `profile` (made on staleness_edges() if empty): a read of
/// key k is a probe of write w if it began after w was acknowledged and every other write of k
/// called before the read returned had completed before w was called, so w is the only answer
/// that is not stale. It counts as fresh if it returned w.
inline void add_staleness(std::vector<staleness_point>& profile,
                          const std::vector<op_record>& ops) {
    const auto& edges = staleness_edges();
    if (profile.empty())
        for (std::size_t i = 0; i + 1 < edges.size(); ++i)
            profile.push_back({edges[i], edges[i + 1], 0, 0});
    detail::writes_by_key w(ops);
    for (const op_record& r : ops) {
        if (r.what != op_record::kind::read || r.result != op_record::outcome::ok) continue;
        const auto& writes = w.of(r.key);
        const op_record* probe = nullptr;
        for (const op_record* x : writes)
            if (x->result == op_record::outcome::ok && x->ret <= r.call &&
                (!probe || x->call > probe->call))
                probe = x;
        if (!probe) continue;
        bool alone = std::ranges::all_of(writes, [&](const op_record* x) {
            return x == probe || !(x->call < r.ret) || x->ret < probe->call;
        });
        if (!alone) continue;
        double since = std::chrono::duration<double, std::milli>(r.call - probe->ret).count();
        for (auto& point : profile) {
            if (since >= point.from_ms && since < point.to_ms) {
                ++point.reads;
                if (std::ranges::find(r.seen, probe->value) != r.seen.end()) ++point.fresh;
                break;
            }
        }
    }
}

}  // namespace capkit::lab

// SPDX-License-Identifier: MIT
/// @file Defines capkit::lab::run: one replica configuration through a scenario, seed by seed,
/// over the simulated network; the history of every seed is checked and measured.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <capkit/check/analysis.hpp>
#include <capkit/check/linearizability.hpp>
#include <capkit/check/models.hpp>
#include <capkit/check/recorder.hpp>
#include <capkit/check/report.hpp>
#include <capkit/check/scenario.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/detail/text.hpp>
#include <capkit/policy/describe.hpp>
#include <capkit/protocol/replica.hpp>
#include <capkit/sim_cluster.hpp>
#include <capkit/transport/sim.hpp>

namespace capkit::lab {

/// How run() goes about it.
struct run_options {
    bool keep_per_seed = false;  ///< fill report::per_seed
    /// Called after each seed with (seeds done, seeds in all).
    std::function<void(std::size_t, std::size_t)> progress;
    std::optional<std::uint64_t> only_seed;  ///< run this seed alone
    /// A bound on each seed's linearizability check; past it the seed counts as unknown.
    std::chrono::milliseconds check_time_limit{2000};
};

/// What kind of data a replica type holds, as the lab's workload sees it.
template <class Replica>
struct workload_traits {
    using value_type = typename Replica::value_type;
    static constexpr bool serial = std::is_same_v<typename Replica::consistency, capkit::serial>;
    static constexpr bool counter = requires(value_type v) {
        { v.value() } -> std::convertible_to<std::int64_t>;
        v.increment(node_id{}, 1);
    };
    static constexpr bool integer = std::is_integral_v<value_type>;
    static_assert(counter || integer,
                  "capkit::lab::run: the lab's clients write unique integers, or increment a "
                  "counter; give the replica an integral value type (e.g. std::int64_t) or a "
                  "counter CRDT (capkit::g_counter, capkit::pn_counter) under crdt_merge.");
};

namespace detail {

inline std::string history_key(std::uint32_t i) {
    return capkit::detail::cat("k", std::to_string(i));
}

template <class Key>
Key lab_key(std::uint32_t i) {
    if constexpr (std::is_constructible_v<Key, std::string>) {
        return Key(history_key(i));
    } else {
        return static_cast<Key>(i);
    }
}

inline time_point at(milliseconds ms) {
    return std::chrono::duration_cast<time_point>(ms);
}

// What a replica holds for `key`, as the workload's integers.
template <class Replica>
std::set<std::int64_t> stored_values(const Replica& r, const typename Replica::key_type& key) {
    std::set<std::int64_t> out;
    const auto* s = r.find(key);
    if (!s) return out;
    if constexpr (workload_traits<Replica>::serial) {
        if (s->value) out.insert(static_cast<std::int64_t>(*s->value));
    } else if constexpr (workload_traits<Replica>::counter) {
        out.insert(static_cast<std::int64_t>(s->value.value()));
    } else {
        for (const auto& v : Replica::resolver::values(*s))
            if (v) out.insert(static_cast<std::int64_t>(*v));
    }
    return out;
}

// Keys drawn uniformly or by a Zipf law, from the seed's own generator.
class key_chooser {
public:
    key_chooser(const workload& w) : keys_(std::max(1u, w.keys)) {
        if (!w.zipfian) return;
        double total = 0;
        for (unsigned k = 1; k <= keys_; ++k) total += 1.0 / std::pow(double(k), w.zipf_s);
        double acc = 0;
        for (unsigned k = 1; k <= keys_; ++k) {
            acc += 1.0 / std::pow(double(k), w.zipf_s) / total;
            cdf_.push_back(acc);
        }
    }
    std::uint32_t operator()(capkit::detail::rng& g) const {
        if (cdf_.empty()) return static_cast<std::uint32_t>(g.below(keys_));
        double u = double(g.next() >> 11) * 0x1.0p-53;
        auto it = std::ranges::lower_bound(cdf_, u);
        return static_cast<std::uint32_t>(std::min<std::size_t>(it - cdf_.begin(), keys_ - 1));
    }

private:
    unsigned keys_;
    std::vector<double> cdf_;
};

}  // namespace detail

/// How many nodes `Replica` runs `sc` on: its N, or on a hash_ring the scenario's `nodes` (M; the
/// fewest its faults fit, at least N, when it gives none).
template <class Replica>
unsigned cluster_nodes(const scenario& sc) {
    if constexpr (on_hash_ring<Replica>) {
        return sc.nodes != 0 ? sc.nodes : std::max(Replica::n, min_nodes(sc));
    } else {
        return Replica::n;
    }
}

namespace detail {

// One seed of one scenario: the network, the cluster, the clients and the nemesis, driven by one
// event loop; afterwards the measures.
template <class Replica>
class seed_run {
    using traits = workload_traits<Replica>;
    using key_type = typename Replica::key_type;
    using value_type = typename Replica::value_type;
    using context = typename Replica::context;
    using network = sim<typename Replica::message>;
    const unsigned n;  // nodes in the cluster: N, or M on a hash_ring

public:
    seed_run(const scenario& sc, std::uint64_t seed)
        : n(cluster_nodes<Replica>(sc)),
          sc_(sc),
          seed_(seed),
          net_(seed),
          cluster_(net_, options(sc, seed), sync(sc.storage), sc.perfect_failure_detector),
          choose_(sc.load),
          drop_(sc.drop) {
        configure_network();
        for (unsigned c = 0; c < sc_.clients; ++c) {
            clients_.push_back(client{c % n, capkit::detail::rng(seed * 0x100000001b3ULL + c)});
        }
    }

    /// Runs the seed; checks its history for linearizability unless `check` is false.
    seed_result operator()(bool check = true) {
        for (unsigned c = 0; c < sc_.clients; ++c) schedule_next(c);
        milliseconds last_fault{0};
        for (const fault& f : sc_.nemesis) {
            last_fault = std::max(last_fault, f.at);
            net_.schedule(at(f.at), [this, f] { apply(f); });
        }
        auto workload_end = std::max(sc_.load.duration, last_fault);
        auto finals = at(workload_end + sc_.quiet);
        auto end = finals + at(sc_.quiet) + 2 * at(sc_.request_timeout);
        net_.schedule(finals, [this] {
            converged_unread_ = replicas_agree();
            final_reads();
        });
        net_.run_until(end);
        cluster_.stop_syncing();
        return measure(check);
    }

    std::vector<check::event> take_history() { return history_.take(); }
    std::vector<op_record> take_ops() { return std::move(ops_); }

private:
    struct client {
        node_id via;
        capkit::detail::rng rng;
        std::optional<std::size_t> open{};            // index in ops_ of its call
        std::map<std::uint32_t, context> contexts{};  // from its last read of each key
        std::map<std::uint32_t, std::optional<std::int64_t>> last_seen{};
    };

    static replica_options options(const scenario& sc, std::uint64_t seed) {
        replica_options o;
        o.request_timeout = sc.request_timeout;
        o.seed = seed;
        // serial: a retry waits about a round trip, or dueling proposers keep colliding.
        o.backoff = std::max<std::chrono::nanoseconds>(o.backoff, 2 * sc.latency.max);
        o.anti_entropy.interval = sc.anti_entropy;
        if constexpr (on_hash_ring<Replica>) o.cluster_size = cluster_nodes<Replica>(sc);
        return o;
    }
    static sync_policy sync(const durability& d) {
        sync_policy s;
        s.when = d.policy == durability::sync::always     ? sync_policy::mode::always
                 : d.policy == durability::sync::interval ? sync_policy::mode::interval
                 : d.policy == durability::sync::group    ? sync_policy::mode::group
                                                          : sync_policy::mode::never;
        s.every = d.interval;
        return s;
    }

    void configure_network() {
        const auto& l = sc_.latency;
        switch (l.kind) {
            case latency_spec::shape::fixed:
                net_.set_latency(latency::fixed(l.min));
                break;
            case latency_spec::shape::uniform:
                net_.set_latency(latency::uniform(l.min, l.max));
                break;
            case latency_spec::shape::long_tailed:
                net_.set_latency(latency::long_tailed(l.min, l.tail, l.max));
                break;
        }
        net_.set_drop(sc_.drop);
        net_.set_duplicate(sc_.duplicate);
        net_.set_reorder(sc_.reorder, sc_.reorder_window);
    }

    // ---- the nemesis ----

    void apply(const fault& f) {
        auto groups_for = [&](unsigned minority) {
            std::vector<std::vector<node_id>> g(2);
            for (node_id i = 0; i < n; ++i) g[i < minority ? 0 : 1].push_back(i);
            return g;
        };
        switch (f.what) {
            case fault::kind::partition:
                net_.heal();
                net_.partition(!f.groups.empty()
                                   ? f.groups
                                   : groups_for(f.minority ? f.minority : (n - 1) / 2));
                cut_ = true;
                break;
            case fault::kind::isolate: {
                std::vector<node_id> rest;
                for (node_id i = 0; i < n; ++i)
                    if (i != f.node) rest.push_back(i);
                net_.heal();
                net_.partition({{f.node}, rest});
                cut_ = true;
                break;
            }
            case fault::kind::bridge: {
                std::vector<node_id> left, right;
                for (node_id i = 0; i < n; ++i)
                    if (i != f.node) (left.size() < (n - 1) / 2 ? left : right).push_back(i);
                net_.heal();
                net_.bridge(left, f.node, right);
                cut_ = true;
                break;
            }
            case fault::kind::cut_one_way:
                net_.cut_one_way(f.node, f.to);
                cut_ = true;
                break;
            case fault::kind::heal:
                net_.heal();
                cut_ = false;
                break;
            case fault::kind::crash:
                cluster_.crash(f.node);
                break;
            case fault::kind::restart:
                cluster_.restart(f.node);
                break;
            case fault::kind::amnesia:
                cluster_.amnesia(f.node);
                break;
            case fault::kind::drop:
                drop_ = f.probability;
                net_.set_drop(drop_);
                break;
            case fault::kind::clock_skew:
                net_.set_clock_skew(f.node, f.skew);
                break;
        }
        cluster_.tell_reachability();
    }

    bool in_fault() const {
        if (cut_ || drop_ > 0) return true;
        for (node_id i = 0; i < n; ++i)
            if (!cluster_.up(i)) return true;
        return false;
    }

    op_record::side side_of(node_id via) const {
        unsigned reach = 0;
        for (node_id j = 0; j < n; ++j)
            if (cluster_.reaches(via, j)) ++reach;
        return 2 * reach > n ? op_record::side::majority : op_record::side::minority;
    }

    // ---- the clients ----

    void schedule_next(unsigned c) {
        auto& cl = clients_[c];
        double mean_gap_ns = sc_.load.rate > 0 ? 1e9 / sc_.load.rate : 1e9;
        auto gap =
            std::chrono::nanoseconds(cl.rng.below(static_cast<std::uint64_t>(2 * mean_gap_ns) + 1));
        auto when = net_.now() + gap;
        if (when >= at(sc_.load.duration)) return;
        net_.schedule(when, [this, c] { call(c); });
    }

    enum class choice { read, write, cas, update };

    choice pick(capkit::detail::rng& g) const {
        const workload& w = sc_.load;
        double cas = traits::serial ? w.cas : 0, update = traits::serial ? w.update : 0;
        double write = w.write + (traits::serial ? 0 : w.cas + w.update);
        double total = w.read + write + cas + update;
        double u = double(g.next() >> 11) * 0x1.0p-53 * total;
        if ((u -= w.read) < 0) return choice::read;
        if ((u -= write) < 0) return choice::write;
        if ((u -= cas) < 0) return choice::cas;
        return choice::update;
    }

    void call(unsigned c) {
        auto& cl = clients_[c];
        std::uint32_t k = choose_(cl.rng);
        choice what = pick(cl.rng);
        op_record op;
        op.key = k;
        op.call = net_.now();
        op.in_fault = in_fault();
        op.at = op.in_fault ? side_of(cl.via) : op_record::side::whole;
        op.what = what == choice::read ? op_record::kind::read
                  : traits::counter    ? op_record::kind::add
                                       : op_record::kind::write;
        op.value = traits::counter ? 1 : next_value_++;
        std::size_t index = ops_.size();
        ops_.push_back(op);
        cl.open = index;
        auto key = history_key(k);
        auto now_ns = static_cast<std::int64_t>(op.call.count());
        std::optional<std::int64_t> expected;
        if (what == choice::cas) expected = cl.last_seen[k];
        if (op.what == op_record::kind::read) {
            history_.invoke(c, check::op_kind::read, key, {}, now_ns);
        } else if (op.what == op_record::kind::add) {
            history_.invoke(c, check::op_kind::add, key, op.value, now_ns);
        } else if (what == choice::cas) {
            history_.invoke(c, check::op_kind::cas, key, op.value, now_ns,
                            expected ? check::value(*expected) : check::value());
        } else {
            history_.invoke(c, check::op_kind::write, key, op.value, now_ns);
        }
        if (!cluster_.up(cl.via)) {  // connection refused: certainly nothing happened
            finish(c, index, op_record::outcome::fail, false);
            return;
        }
        // A coordinator that crashes takes its callbacks with it: the client gives up then.
        net_.schedule(net_.now() + 2 * at(sc_.request_timeout) + std::chrono::milliseconds(1),
                      [this, c, index] {
                          if (clients_[c].open == index)
                              finish(c, index, op_record::outcome::unknown, false);
                      });
        auto& node = cluster_.node_at(cl.via);
        const key_type rk = lab_key<key_type>(k);
        auto done = [this, c, index](auto&& r, auto&& on_ok) {
            if (clients_[c].open != index) return;  // given up on
            if (r) {
                on_ok(*r);
                finish(c, index, op_record::outcome::ok, true);
            } else if (r.error() == errc::precondition_failed) {
                ops_[index].wrote = false;
                finish(c, index, op_record::outcome::fail, true);
            } else if (r.error() == errc::timeout) {
                finish(c, index, op_record::outcome::unknown, false);
            } else {
                finish(c, index, op_record::outcome::fail, false);
            }
        };
        if (op.what == op_record::kind::read) {
            node.async_get(rk, [this, c, index, k, done](result<typename Replica::read_result> r) {
                done(r, [&](const auto& out) {
                    auto& rec = ops_[index];
                    if constexpr (traits::counter) {
                        rec.seen.push_back(
                            out.found() ? static_cast<std::int64_t>(out.values[0].value()) : 0);
                    } else {
                        for (const auto& v : out.values)
                            rec.seen.push_back(static_cast<std::int64_t>(v));
                    }
                    clients_[c].contexts[k] = out.context;
                    clients_[c].last_seen[k] = rec.seen.size() == 1
                                                   ? std::optional<std::int64_t>(rec.seen[0])
                                                   : std::nullopt;
                });
            });
        } else if constexpr (traits::counter) {
            node.async_update(
                rk, [](value_type& v, node_id self) { v.increment(self, 1); },
                [done](result<value_type> r) { done(r, [](const auto&) {}); });
        } else if (what == choice::write) {
            auto ctx = cl.contexts.contains(k) ? cl.contexts[k] : context{};
            node.async_put(
                rk, static_cast<value_type>(op.value), ctx,
                [done](result<typename Replica::write_result> r) { done(r, [](const auto&) {}); });
        } else if constexpr (traits::serial) {
            if (what == choice::cas) {
                std::optional<value_type> exp;
                if (expected) exp = static_cast<value_type>(*expected);
                node.async_compare_and_set(rk, exp, static_cast<value_type>(op.value),
                                           [done](result<typename Replica::write_result> r) {
                                               done(r, [](const auto&) {});
                                           });
            } else {
                // An atomic read-modify-write; as a register operation it is a write of its
                // new value.
                auto v = static_cast<value_type>(op.value);
                node.async_update(
                    rk, [v](const std::optional<value_type>&) { return std::optional(v); },
                    [done](result<typename Replica::update_result> r) {
                        done(r, [](const auto&) {});
                    });
            }
        }
    }

    void finish(unsigned c, std::size_t index, op_record::outcome how, bool answered) {
        auto& op = ops_[index];
        op.result = how;
        op.answered = answered;
        if (how != op_record::outcome::unknown) op.ret = net_.now();
        auto now_ns = static_cast<std::int64_t>(net_.now().count());
        if (how == op_record::outcome::ok && op.what == op_record::kind::read) {
            history_.complete(c, check::event_type::ok, now_ns, read_value(op.seen));
        } else {
            history_.complete(c,
                              how == op_record::outcome::ok     ? check::event_type::ok
                              : how == op_record::outcome::fail ? check::event_type::fail
                                                                : check::event_type::info,
                              now_ns);
        }
        clients_[c].open.reset();
        schedule_next(c);
    }

    // A read's value in the history; siblings, which no register can return at once, are a
    // string that names them (so the checker rejects the read, as it must).
    static check::value read_value(const std::vector<std::int64_t>& seen) {
        if (seen.empty()) return {};
        if (seen.size() == 1) return seen.front();
        std::string s = "siblings";
        for (auto v : seen) s += " " + std::to_string(v);
        return s;
    }

    // True when every node that is up holds the same values of every key; collects each key's
    // values over all nodes into `finals`, and raises `most` to the most one node holds, if given.
    bool replicas_agree(std::map<std::uint32_t, std::set<std::int64_t>>* finals = nullptr,
                        std::size_t* most = nullptr) {
        bool agree = true;
        for (std::uint32_t k = 0; k < std::max(1u, sc_.load.keys); ++k) {
            std::optional<std::set<std::int64_t>> first;
            for (node_id i = 0; i < n; ++i) {
                if (!cluster_.up(i)) continue;
                if constexpr (on_hash_ring<Replica>) {  // only the key's owners hold it
                    if (!cluster_.replica(i).owns(i, lab_key<key_type>(k))) {
                        if (cluster_.replica(i).find(lab_key<key_type>(k))) agree = false;
                        continue;
                    }
                }
                auto held = stored_values(cluster_.replica(i), lab_key<key_type>(k));
                if (!first) {
                    first = held;
                } else if (*first != held) {
                    agree = false;
                }
                if (finals) (*finals)[k].insert(held.begin(), held.end());
                if (most) *most = std::max(*most, held.size());
            }
        }
        return agree;
    }

    // Jepsen's final reads: after the quiet period, every key once through every node that is up.
    void final_reads() {
        for (node_id i = 0; i < n; ++i) {
            if (!cluster_.up(i)) continue;
            for (std::uint32_t k = 0; k < std::max(1u, sc_.load.keys); ++k) {
                std::int64_t process = sc_.clients + i * sc_.load.keys + k;
                auto key = history_key(k);
                history_.invoke(process, check::op_kind::read, key, {},
                                static_cast<std::int64_t>(net_.now().count()));
                cluster_.node_at(i).async_get(
                    lab_key<key_type>(k), [this, process](result<typename Replica::read_result> r) {
                        auto t = static_cast<std::int64_t>(net_.now().count());
                        if (!r) {
                            history_.complete(process, check::event_type::fail, t);
                            return;
                        }
                        std::vector<std::int64_t> seen;
                        for (const auto& v : r->values) {
                            if constexpr (traits::counter) {
                                seen.push_back(static_cast<std::int64_t>(v.value()));
                            } else {
                                seen.push_back(static_cast<std::int64_t>(v));
                            }
                        }
                        if constexpr (traits::counter) {
                            if (seen.empty()) seen.push_back(0);
                        }
                        history_.complete(process, check::event_type::ok, t, read_value(seen));
                    });
            }
        }
    }

    // ---- the measures ----

    seed_result measure(bool check) {
        seed_result out;
        out.seed = seed_;
        out.amnesia = cluster_.amnesia_count();
        for (const op_record& op : ops_) {
            ++out.ops;
            out.answered += op.answered;
            if (op.in_fault) {
                ++out.ops_partitioned;
                out.answered_partitioned += op.answered;
            }
            if (op.at == op_record::side::minority) {
                ++out.ops_minority;
                out.answered_minority += op.answered;
            } else if (op.at == op_record::side::majority) {
                ++out.ops_majority;
                out.answered_majority += op.answered;
            }
            out.max_siblings = std::max(out.max_siblings, op.seen.size());
        }
        out.stale_reads = count_stale_reads(ops_, traits::counter, &out.stale_reads_minority);

        std::map<std::uint32_t, std::set<std::int64_t>> finals;
        out.converged = replicas_agree(&finals, &out.max_siblings);
        out.converged_unread = converged_unread_;
        auto fate = write_fates(ops_, finals, traits::counter);
        out.lost_writes = fate.lost;
        out.lww_discarded = fate.discarded;

        if (!check) return out;
        check::check_options opt;
        opt.time_limit = check_time_limit_;
        auto h = check::pair_events(history_.events());
        auto verdict = check::check_linearizability(h, check::kv_model{}, opt);
        out.verdict = check::name(verdict.result);
        if (verdict.culprit) out.culprit = check::describe(h.ops[*verdict.culprit]);
        return out;
    }

public:
    void set_check_time_limit(std::chrono::milliseconds d) { check_time_limit_ = d; }

private:
    const scenario& sc_;
    std::uint64_t seed_;
    network net_;
    sim_cluster<Replica> cluster_;
    key_chooser choose_;
    double drop_;
    bool cut_ = false;
    std::vector<client> clients_;
    std::vector<op_record> ops_;
    check::recorder history_;
    std::int64_t next_value_ = 1;
    std::chrono::milliseconds check_time_limit_{2000};
    bool converged_unread_ = false;  // measured just before the final reads
};

// A share of nothing is not a number: a table prints it as n/a, JSON as null.
inline double share(std::size_t part, std::size_t whole) {
    return whole ? double(part) / double(whole) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace detail

/// Why `Replica` cannot run `sc`, if it cannot: the scenario is written for another cluster size
/// (on a hash_ring: fewer nodes than N, or more than a ring takes), or its faults name nodes or
/// cut off more nodes than the cluster has.
template <class Replica>
std::optional<std::string> refuses(const scenario& sc) {
    const unsigned m = cluster_nodes<Replica>(sc);
    std::string has = on_hash_ring<Replica> ? "M=" + std::to_string(m) + " nodes on a hash_ring"
                                            : "N=" + std::to_string(m);
    if constexpr (on_hash_ring<Replica>) {
        if (m < Replica::n || m > Replica::max_nodes)
            return "scenario " + sc.name + " is written for " + std::to_string(m) +
                   " nodes; this configuration places N=" + std::to_string(Replica::n) +
                   " copies on a hash_ring of " + std::to_string(Replica::n) + " to " +
                   std::to_string(Replica::max_nodes) + " nodes";
    } else {
        if (sc.nodes != 0 && sc.nodes != Replica::n)
            return "scenario " + sc.name + " is written for " + std::to_string(sc.nodes) +
                   " nodes; this configuration has N=" + std::to_string(Replica::n);
    }
    for (const fault& f : sc.nemesis) {
        bool names_node = f.what != fault::kind::heal && f.what != fault::kind::drop &&
                          f.what != fault::kind::partition;
        if ((names_node && (f.node >= m || f.to >= m)))
            return "scenario " + sc.name + " names node " + std::to_string(std::max(f.node, f.to)) +
                   ", beyond " + has;
        for (const auto& g : f.groups)
            for (node_id i : g)
                if (i >= m)
                    return "scenario " + sc.name + " puts node " + std::to_string(i) +
                           " in a partition, beyond " + has;
    }
    if (min_nodes(sc) > m)
        return "scenario " + sc.name + " needs at least " + std::to_string(min_nodes(sc)) +
               " nodes; this configuration has " + has;
    return std::nullopt;
}

/// The history one seed of `sc` records with `Replica` (to replay and inspect it).
template <class Replica>
std::vector<check::event> record(const scenario& sc, std::uint64_t seed) {
    detail::seed_run<Replica> run(sc, seed);
    run(false);
    return run.take_history();
}

/// Runs `Replica` through every seed of `sc` and reports what it did. Throws
/// std::invalid_argument if the scenario names nodes the configuration does not have.
template <class Replica>
report run(const scenario& sc, const run_options& opt = {}, std::string preset_name = "") {
    if (auto why = refuses<Replica>(sc)) throw std::invalid_argument(*why);
    report rep;
    rep.preset = std::move(preset_name);
    rep.description = describe<typename Replica::config>();
    rep.scenario = sc.name;
    std::vector<std::uint64_t> seeds;
    if (opt.only_seed) {
        seeds.push_back(*opt.only_seed);
    } else {
        for (unsigned i = 0; i < sc.seeds; ++i) seeds.push_back(sc.first_seed + i);
    }
    std::size_t answered = 0, ops_f = 0, ans_f = 0, ops_min = 0, ans_min = 0, ops_maj = 0,
                ans_maj = 0, converged = 0, converged_unread = 0;
    std::vector<std::int64_t> latencies;
    for (std::size_t s = 0; s < seeds.size(); ++s) {
        detail::seed_run<Replica> run(sc, seeds[s]);
        run.set_check_time_limit(opt.check_time_limit);
        seed_result r = run();
        auto ops = run.take_ops();
        for (const op_record& op : ops)
            if (op.answered) latencies.push_back((op.ret - op.call).count());
        if (!workload_traits<Replica>::counter) add_staleness(rep.staleness_profile, ops);
        rep.ops += r.ops;
        answered += r.answered;
        ops_f += r.ops_partitioned;
        ans_f += r.answered_partitioned;
        ops_min += r.ops_minority;
        ans_min += r.answered_minority;
        ops_maj += r.ops_majority;
        ans_maj += r.answered_majority;
        rep.stale_reads += r.stale_reads;
        rep.lost_writes += r.lost_writes;
        rep.lww_discarded += r.lww_discarded;
        rep.max_siblings = std::max(rep.max_siblings, r.max_siblings);
        converged += r.converged;
        converged_unread += r.converged_unread;
        rep.amnesia_restarts += r.amnesia;
        bool linearizable = r.verdict == check::name(check::verdict::linearizable);
        rep.linearizable_seeds += linearizable;
        rep.unknown_seeds += r.verdict == check::name(check::verdict::unknown);
        if (r.stale_reads_minority > 0 &&
            r.verdict == check::name(check::verdict::not_linearizable))
            ++rep.stale_minority_seeds;
        if ((!linearizable || !r.converged || r.lost_writes > 0) && rep.failing_seeds.size() < 10)
            rep.failing_seeds.push_back(r.seed);
        if (opt.keep_per_seed) rep.per_seed.push_back(std::move(r));
        ++rep.seeds;
        if (opt.progress) opt.progress(s + 1, seeds.size());
    }
    rep.availability = detail::share(answered, rep.ops);
    rep.availability_partitioned = detail::share(ans_f, ops_f);
    rep.availability_minority = detail::share(ans_min, ops_min);
    rep.availability_majority = detail::share(ans_maj, ops_maj);
    rep.converged = detail::share(converged, rep.seeds);
    rep.converged_unread = detail::share(converged_unread, rep.seeds);
    if (!latencies.empty()) {
        std::ranges::sort(latencies);
        auto pct = [&](double p) {
            auto i = static_cast<std::size_t>(p * double(latencies.size() - 1));
            return double(latencies[i]) / 1e6;
        };
        rep.p50_latency_ms = pct(0.50);
        rep.p99_latency_ms = pct(0.99);
    }
    return rep;
}

}  // namespace capkit::lab

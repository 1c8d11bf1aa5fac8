// SPDX-License-Identifier: MIT
// ABD (capkit::linearizable over lww) under interleavings drawn from many seeds: concurrent
// clients on every node, messages delivered in a seeded random order, links cut mid-run. A
// checker holds each history to what linearizability implies for versions; the same harness
// over capkit::eventual must catch a violation, which proves the checker can fail.
#include <capkit/capkit.hpp>
#include <capkit/cluster.hpp>
#include <capkit/detail/random.hpp>
#include <capkit/detail/text.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include <catch2/catch.hpp>

namespace {

using capkit::node_id;
using str = std::string;
using abd_3 =
    capkit::replica<str, str, capkit::linearizable, capkit::quorum<3, 2, 2>, capkit::lww<>>;
using abd_5 = capkit::replica<str, str, capkit::quorum<5, 3, 3>, capkit::linearizable>;
using eventual_3 = capkit::replica<str, str, capkit::eventual, capkit::quorum<3, 1, 1>>;
using version = capkit::lww<>::context;

std::string show(const version& v) {
    return std::to_string(v.at.wall) + "." + std::to_string(v.at.logical) + "@" +
           std::to_string(v.origin);
}

// One client operation as the harness saw it. Times are event numbers: every invocation and
// every completion takes the next one, so a < b means "a happened before b" in real time.
struct operation {
    bool is_write = false;
    node_id via = 0;
    str value;           // written, or read (empty when the read found nothing)
    bool found = false;  // reads: a value came back
    version v{};         // the version written or read
    bool done = false, ok = false;
    capkit::errc error{};
    std::uint64_t invoked = 0, completed = 0;
    std::size_t invoked_step = 0, completed_step = 0;  // network steps, for the report

    std::string describe() const {
        std::ostringstream os;
        os << (is_write ? "write " : "read ") << (found || is_write ? value : "<absent>") << " via "
           << via << " [steps " << invoked_step << ".." << completed_step << "] ";
        if (ok) {
            os << "version " << show(v);
        } else if (done) {
            os << "failed: " << capkit::make_error_code(error).message();
        } else {
            os << "never completed";
        }
        return os.str();
    }
};

struct schedule {
    unsigned clients_per_node = 1;
    unsigned ops_per_client = 4;
    bool cut_a_node = false;  // cut one node's links mid-run, without telling anyone
};

// Runs one seeded history of reads and writes of one key on a fresh cluster.
template <class R>
std::vector<operation> run_history(std::uint64_t seed, const schedule& plan) {
    capkit::cluster<R> c;
    c.network().reorder(seed);
    capkit::detail::rng rng(seed * 0x9e3779b97f4a7c15ULL + 1);

    struct client {
        node_id via;
        unsigned remaining;
        bool busy = false;
    };
    std::vector<client> clients;
    for (node_id i = 0; i < R::n; ++i)
        for (unsigned k = 0; k < plan.clients_per_node; ++k)
            clients.push_back({i, plan.ops_per_client});

    std::vector<operation> ops;
    std::uint64_t event = 0;
    std::size_t step = 0;
    int writes = 0;
    auto finish = [&](std::size_t index, client& cl) -> operation& {
        auto& op = ops[index];
        op.done = true;
        op.completed = ++event;
        op.completed_step = step;
        cl.busy = false;
        return op;
    };
    auto start = [&](client& cl) {
        cl.busy = true;
        --cl.remaining;
        std::size_t index = ops.size();
        client* owner = &cl;
        operation op;
        op.via = cl.via;
        op.invoked = ++event;
        op.invoked_step = step;
        op.is_write = rng.chance(0.5);
        if (op.is_write) op.value = capkit::detail::cat("w", std::to_string(++writes));
        ops.push_back(op);
        auto& n = c.node_at(cl.via);
        if (op.is_write) {
            n.async_put("k", op.value, {},
                        [&, index, owner](capkit::result<typename R::write_result> r) {
                            auto& done = finish(index, *owner);
                            done.ok = r.has_value();
                            if (r)
                                done.v = r->context;
                            else
                                done.error = r.error().code;
                        });
        } else {
            n.async_get("k", [&, index, owner](capkit::result<typename R::read_result> r) {
                auto& done = finish(index, *owner);
                done.ok = r.has_value();
                if (r) {
                    done.v = r->context;
                    done.found = r->found();
                    if (done.found) done.value = r->values.at(0);
                } else {
                    done.error = r.error().code;
                }
            });
        }
    };

    std::optional<std::size_t> cut_at, heal_at;
    node_id victim = 0;
    if (plan.cut_a_node) {
        cut_at = rng.below(30);
        heal_at = *cut_at + 1 + rng.below(150);
        victim = node_id(rng.below(R::n));
    }
    for (auto& cl : clients) start(cl);
    for (;;) {
        if (cut_at == step)
            for (node_id other = 0; other < R::n; ++other)
                if (other != victim) c.network().cut(victim, other);
        if (heal_at == step) c.network().heal();
        for (auto& cl : clients)
            if (!cl.busy && cl.remaining > 0 && rng.chance(0.25)) start(cl);
        ++step;
        if (c.network().step()) continue;
        bool started = false;
        for (auto& cl : clients)
            if (!cl.busy && cl.remaining > 0) {
                start(cl);
                started = true;
            }
        if (!started) break;
    }
    return ops;
}

// What linearizability implies for a history of one key under a totally ordered resolver:
// (a) reads never go back in version, (b) a read sees every write acknowledged before it began,
// (c) a read returns what some write wrote, under that write's version, and (d) a version names
// one write. Returns the violations found, described.
std::vector<std::string> check(const std::vector<operation>& ops) {
    std::vector<std::string> bad;
    auto flag = [&bad](const std::string& what, const operation& a, const operation* b = nullptr) {
        bad.push_back(what + ": " + a.describe() + (b ? " / " + b->describe() : ""));
    };
    std::map<str, const operation*> writer;  // value -> its write
    std::map<version, const operation*> by_version;
    for (const auto& op : ops) {
        if (!op.done) flag("an operation never completed", op);
        if (!op.is_write) continue;
        writer[op.value] = &op;
        if (!op.ok) continue;
        auto [it, fresh] = by_version.emplace(op.v, &op);
        if (!fresh) flag("(d) two acknowledged writes share a version", op, it->second);
    }
    for (const auto& r : ops) {
        if (r.is_write || !r.ok) continue;
        // (c)
        if (!r.found) {
            if (!(r.v == version{})) flag("(c) an absent value with a version", r);
        } else if (auto w = writer.find(r.value); w == writer.end()) {
            flag("(c) a read returned a value nobody wrote", r);
        } else {
            const operation& wr = *w->second;
            if (wr.invoked > r.completed) flag("(c) a read returned a later write", r, &wr);
            if (wr.ok && !(wr.v == r.v)) flag("(c) a read's version is not its write's", r, &wr);
            if (auto same = by_version.find(r.v); same != by_version.end() && same->second != &wr)
                flag("(d) a version read names another write", r, same->second);
        }
        for (const auto& other : ops) {
            if (!other.ok || other.completed >= r.invoked) continue;
            // (a) and (b): everything acknowledged before r began is at or below r's version.
            if (other.v > r.v)
                flag(other.is_write ? "(b) a read missed a write acknowledged before it began"
                                    : "(a) a read went back in version",
                     r, &other);
        }
    }
    return bad;
}

// The seeds whose histories break linearizability, with the first violation of each.
template <class R>
std::vector<std::pair<std::uint64_t, std::string>> violations(std::uint64_t seeds,
                                                              const schedule& plan) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
        schedule s = plan;
        s.cut_a_node = plan.cut_a_node && seed % 3 == 0;
        auto ops = run_history<R>(seed, s);
        auto bad = check(ops);
        if (!bad.empty()) out.emplace_back(seed, bad.front());
    }
    return out;
}

std::size_t count_if_ok(const std::vector<operation>& ops, bool writes) {
    std::size_t n = 0;
    for (const auto& op : ops) n += op.ok && op.is_write == writes;
    return n;
}

}  // namespace

TEST_CASE("ABD histories stay linearizable over 300 seeded interleavings", "[protocol][abd]") {
    schedule plan;
    plan.cut_a_node = true;  // every third seed
    std::size_t reads = 0, writes = 0, failed = 0;
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
        schedule s = plan;
        s.cut_a_node = seed % 3 == 0;
        auto ops = run_history<abd_3>(seed, s);
        auto bad = check(ops);
        reads += count_if_ok(ops, false);
        writes += count_if_ok(ops, true);
        for (const auto& op : ops) failed += !op.ok;
        std::string history;
        for (const auto& op : ops) history += "\n  " + op.describe();
        INFO("seed " << seed << (s.cut_a_node ? " (a node cut mid-run)" : "") << history);
        CHECK(bad == std::vector<std::string>{});
        if (!bad.empty()) break;  // one seed's report is enough to debug
    }
    // The harness exercised something: many reads and writes, and the cuts made some fail.
    CHECK(reads > 500);
    CHECK(writes > 500);
    CHECK(failed > 0);
}

TEST_CASE("ABD over five replicas stays linearizable", "[protocol][abd]") {
    schedule plan;
    plan.ops_per_client = 3;
    plan.cut_a_node = true;
    auto found = violations<abd_5>(100, plan);
    INFO("first failing seed " << (found.empty() ? 0 : found.front().first) << ": "
                               << (found.empty() ? "" : found.front().second));
    CHECK(found.empty());
}

TEST_CASE("the checker catches eventual consistency (the control experiment)", "[protocol][abd]") {
    schedule plan;
    plan.cut_a_node = true;
    auto found = violations<eventual_3>(100, plan);
    // R = W = 1: a write is acknowledged by its coordinator alone, and a read elsewhere that
    // begins right after can miss it. The harness must see that, or it proves nothing above.
    REQUIRE_FALSE(found.empty());
    bool stale_read = false;
    for (const auto& [seed, what] : found)
        stale_read = stale_read || what.starts_with("(a)") || what.starts_with("(b)");
    INFO(found.size() << " of 100 seeds violate; first: seed " << found.front().first << ": "
                      << found.front().second);
    CHECK(stale_read);
}

// Found while writing this suite: two concurrent ABD writes coordinated by one node read the same
// highest tag and both write tag (counter + 1, that node): two values under one version. lww's
// merge keeps whichever a replica saw first, so replicas disagree for good, and reads after both
// writes completed flip between the two values.
TEST_CASE("ABD: two concurrent writes through one coordinator get distinct versions",
          "[protocol][abd]") {
    using R = abd_3;
    std::vector<R> rs;
    for (node_id i = 0; i < 3; ++i) rs.emplace_back(i);
    capkit::time_point now{};
    using envelope = std::pair<node_id, R::outgoing>;
    auto take = [&](node_id from) {
        std::vector<envelope> out;
        for (auto& m : rs[from].take_messages()) out.emplace_back(from, std::move(m));
        return out;
    };
    auto deliver = [&](const envelope& e) { rs[e.second.to].receive(e.first, e.second.m, now); };
    auto to = [](const std::vector<envelope>& es, node_id dest) {
        for (const auto& e : es)
            if (e.second.to == dest) return e;
        FAIL("no message for node " << dest);
        return es.front();
    };
    // Delivers every message in FIFO order until the cluster is quiet; runs completions.
    auto pump = [&] {
        for (bool moved = true; moved;) {
            moved = false;
            for (node_id i = 0; i < 3; ++i) {
                for (const auto& e : take(i)) {
                    deliver(e);
                    moved = true;
                }
                for (auto& f : rs[i].take_completions()) f();
            }
        }
    };

    std::optional<version> x_version, y_version;
    rs[0].put("k", "x", {}, now, [&](capkit::result<R::write_result> r) {
        if (r) x_version = r->context;
    });
    auto x_reads = take(0);
    rs[0].put("k", "y", {}, now, [&](capkit::result<R::write_result> r) {
        if (r) y_version = r->context;
    });
    auto y_reads = take(0);

    // x's read phase ends first: node 1 answers, x writes (itself included).
    deliver(to(x_reads, 1));
    deliver(take(1).at(0));
    auto x_writes = take(0);
    // y's read phase: node 1 has not stored x yet, so y learns the same highest tag.
    deliver(to(y_reads, 1));
    deliver(take(1).at(0));
    auto y_writes = take(0);
    REQUIRE(x_writes.size() == 2);
    REQUIRE(y_writes.size() == 2);
    // Node 2 gets y first, node 1 gets x first.
    deliver(to(y_writes, 2));
    deliver(to(x_writes, 2));
    deliver(to(x_writes, 1));
    deliver(to(y_writes, 1));
    deliver(to(x_reads, 2));
    deliver(to(y_reads, 2));
    pump();
    REQUIRE(x_version);
    REQUIRE(y_version);
    INFO("x written as " << show(*x_version) << ", y as " << show(*y_version));
    CHECK_FALSE(*x_version == *y_version);

    // Both writes are acknowledged; now three reads, one after another, must agree.
    std::vector<str> seen;
    for (node_id via : {2u, 1u, 2u}) {
        rs[via].get("k", now, [&](capkit::result<R::read_result> r) {
            REQUIRE(r.has_value());
            REQUIRE(r->found());
            seen.push_back(r->values.at(0));
        });
        pump();
    }
    REQUIRE(seen.size() == 3);
    INFO("reads through nodes 2, 1, 2 returned " << seen[0] << ", " << seen[1] << ", " << seen[2]);
    CHECK(seen[0] == seen[1]);
    CHECK(seen[1] == seen[2]);
}

TEST_CASE("ABD with two clients per node stays linearizable", "[protocol][abd]") {
    schedule plan;
    plan.clients_per_node = 2;
    plan.ops_per_client = 3;
    auto found = violations<abd_3>(200, plan);
    INFO(found.size() << " seeds violate; first: seed " << (found.empty() ? 0 : found.front().first)
                      << ": " << (found.empty() ? "" : found.front().second));
    CHECK(found.empty());
}
